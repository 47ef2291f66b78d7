package httpapi_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/jose/josetest"
)

func TestClientSecretJWTOverHTTP(t *testing.T) {
	s := newServer(t, map[string]engine.Settings{
		engine.DefaultTenant: {InitialAccessToken: engine.TokenNone},
		"enc":                {InitialAccessToken: engine.TokenNone, ClientSecretStorage: engine.SecretEncrypted},
	})
	// Discovery advertises client_secret_jwt and the HMAC algs only where
	// secrets are encrypted.
	for prefix, offers := range map[string]bool{"": false, "/tenants/enc": true} {
		d := s.get(prefix + "/.well-known/openid-configuration").json(t)
		for _, member := range []string{"token_endpoint_auth_methods_supported", "introspection_endpoint_auth_methods_supported", "revocation_endpoint_auth_methods_supported"} {
			if m, _ := d[member].([]any); slices.Contains(m, any("client_secret_jwt")) != offers {
				t.Errorf("%q: %s = %v", prefix, member, m)
			}
		}
		algs, _ := d["token_endpoint_auth_signing_alg_values_supported"].([]any)
		if slices.Contains(algs, any("HS256")) != offers || !slices.Contains(algs, any("ES256")) {
			t.Errorf("%q: token_endpoint_auth_signing_alg_values_supported = %v", prefix, algs)
		}
		if idAlgs, _ := d["id_token_signing_alg_values_supported"].([]any); slices.Contains(idAlgs, any("HS256")) {
			t.Errorf("%q: id_token_signing_alg_values_supported = %v", prefix, idAlgs)
		}
	}

	const body = `{"grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],"scope":"read","token_endpoint_auth_method":"client_secret_jwt","token_endpoint_auth_signing_alg":"HS256"}`
	r := s.do(s.public, http.MethodPost, "/reg", body)
	wantError(t, r, http.StatusBadRequest, engine.CodeInvalidClientMetadata)
	if !strings.Contains(string(r.body), "client_secret_storage") {
		t.Errorf("the refusal does not say why: %s", r.body)
	}

	c := s.register("/tenants/enc", "", body)
	id, secret := c["client_id"].(string), c["client_secret"].(string)
	if secret == "" || c["client_secret_expires_at"] != float64(0) {
		t.Fatalf("registration: %v", c)
	}
	n := 0
	sign := func(secret, aud string) string {
		n++
		return josetest.SignHS256(t, []byte(secret), map[string]any{"iss": id, "sub": id, "aud": aud, "exp": epoch.Unix() + 60, "iat": epoch.Unix(), "jti": "jti-" + strconv.Itoa(n)})
	}
	iss := s.issuer + "/tenants/enc"
	a := sign(secret, iss+"/token")
	tok := s.token("/tenants/enc/token", "grant_type=client_credentials&"+assertionForm(a))
	at := tok["access_token"].(string)
	// Replayed, a wrong secret, the secret presented in the clear, an
	// assertion for another endpoint: all invalid_client.
	wantError(t, s.post("/tenants/enc/token", "grant_type=client_credentials&"+assertionForm(a)), http.StatusUnauthorized, engine.CodeInvalidClient)
	wantError(t, s.post("/tenants/enc/token", "grant_type=client_credentials&"+assertionForm(sign(secret+"x", iss))), http.StatusUnauthorized, engine.CodeInvalidClient)
	wantError(t, s.post("/tenants/enc/token", "grant_type=client_credentials", basicAuth(id, secret)), http.StatusUnauthorized, engine.CodeInvalidClient)
	wantError(t, s.post("/tenants/enc/token", "grant_type=client_credentials&"+assertionForm(sign(secret, iss+"/revoke"))), http.StatusUnauthorized, engine.CodeInvalidClient)
	// Introspection and revocation authenticate the same way.
	in := s.post("/tenants/enc/introspect", "token="+url.QueryEscape(at)+"&"+assertionForm(sign(secret, iss)))
	if in.StatusCode != http.StatusOK || in.json(t)["active"] != true {
		t.Fatalf("introspection: %d %s", in.StatusCode, in.body)
	}
	if r := s.post("/tenants/enc/revoke", "token="+url.QueryEscape(at)+"&"+assertionForm(sign(secret, iss+"/revoke"))); r.StatusCode != http.StatusOK {
		t.Fatalf("revocation: %d %s", r.StatusCode, r.body)
	}

	// Neither RFC 7592 read nor the admin API shows the secret or its
	// sealed form.
	read := s.get("/tenants/enc/reg/"+id, bearer(c["registration_access_token"].(string)))
	admin := s.adminDo(http.MethodGet, "/admin/tenants/enc/clients/"+id, "")
	// The admin API names the key that seals it, for KEK rotations.
	if kek, _ := admin.json(t)["client_secret_kek"].(string); !strings.HasPrefix(kek, "ephemeral-") {
		t.Errorf("admin API client_secret_kek = %q", kek)
	}
	for name, r := range map[string]response{"RFC 7592 read": read, "admin API": admin} {
		if r.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", name, r.StatusCode, r.body)
		}
		if b := string(r.body); strings.Contains(b, secret) || strings.Contains(b, "seal1.") || strings.Contains(b, "sealed") {
			t.Errorf("%s shows the secret: %s", name, b)
		}
	}
}
