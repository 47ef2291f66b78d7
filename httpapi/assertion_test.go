package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/adminapi"
	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/httpapi"
	"github.com/registrar-dev/registrar/idn"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/jose/josetest"
	"github.com/registrar-dev/registrar/memstore"
	"github.com/registrar-dev/registrar/oauth"
)

// newAssertionServer is newServer with client assertions verified
// (registered jwks only: it fetches no jwks_uri).
func newAssertionServer(t *testing.T) *server {
	t.Helper()
	log := testkit.DiscardLogger()
	now := func() time.Time { return epoch }
	store := memstore.New(memstore.Config{Now: now})
	reg, err := engine.New(engine.Config{Store: store, Keys: jose.KeySetChecker{}, Hosts: idn.Normalizer{}, Tenants: tokenTenants(), Now: now, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	assertions, err := jose.NewAssertions(jose.AssertionsConfig{})
	if err != nil {
		t.Fatal(err)
	}
	const issuer = "https://registrar.example"
	tokens, err := oauth.New(oauth.Config{Registrar: reg, Clients: store, Store: store, Assertions: assertions, Now: now, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := httpapi.New(httpapi.Config{Registrar: reg, Tokens: tokens, Issuer: issuer, Logger: log, MaxBodyBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	adm, err := adminapi.New(adminapi.Config{Registrar: reg, Token: adminToken, Issuer: issuer, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return &server{t: t, public: testkit.NewServer(t, pub), admin: testkit.NewServer(t, adm), issuer: issuer}
}

// assertionForm is the form of a client assertion (RFC 7521 §4.2).
func assertionForm(assertion string) string {
	return "client_assertion_type=" + url.QueryEscape("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") + "&client_assertion=" + assertion
}

func TestPrivateKeyJWTOverHTTP(t *testing.T) {
	s := newAssertionServer(t)
	for _, prefix := range []string{"", "/tenants/api"} {
		d := s.get(prefix + "/.well-known/openid-configuration").json(t)
		for _, member := range []string{"token_endpoint_auth_methods_supported", "introspection_endpoint_auth_methods_supported", "revocation_endpoint_auth_methods_supported"} {
			if m, _ := d[member].([]any); !slices.Contains(m, any("private_key_jwt")) {
				t.Errorf("%s: %s = %v, want private_key_jwt in it", prefix, member, m)
			}
		}
	}
	// A server without jose.Assertions does not advertise it.
	plain := newServer(t, tokenTenants())
	if m, _ := plain.get("/.well-known/openid-configuration").json(t)["token_endpoint_auth_methods_supported"].([]any); slices.Contains(m, any("private_key_jwt")) {
		t.Errorf("advertised without Assertions: %v", m)
	}

	k := josetest.NewKey(t, "ES256", "k1")
	jwks, _ := json.Marshal(josetest.JWKS(t, k))
	c := s.register("", "", `{"grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],"scope":"read","token_endpoint_auth_method":"private_key_jwt","jwks":`+string(jwks)+`}`)
	id := c["client_id"].(string)
	if _, ok := c["client_secret"]; ok {
		t.Errorf("a private_key_jwt client got a secret: %v", c)
	}
	n := 0
	sign := func(aud string) string {
		n++
		return k.Sign(t, nil, map[string]any{"iss": id, "sub": id, "aud": aud, "exp": epoch.Unix() + 60, "iat": epoch.Unix(), "jti": "jti-" + strconv.Itoa(n)})
	}
	a := sign(s.issuer + "/token")
	tok := s.token("/token", "grant_type=client_credentials&"+assertionForm(a))
	at := tok["access_token"].(string)
	if tok["scope"] != "read" {
		t.Errorf("token response %v", tok)
	}
	// The same assertion again is a replay.
	wantError(t, s.post("/token", "grant_type=client_credentials&"+assertionForm(a)), http.StatusUnauthorized, engine.CodeInvalidClient)
	// Introspection and revocation accept an assertion whose aud is the
	// issuer or their own URL.
	r := s.post("/introspect", "token="+url.QueryEscape(at)+"&"+assertionForm(sign(s.issuer)))
	if r.StatusCode != http.StatusOK || r.json(t)["active"] != true {
		t.Fatalf("introspection: %d %s", r.StatusCode, r.body)
	}
	if r := s.post("/revoke", "token="+url.QueryEscape(at)+"&"+assertionForm(sign(s.issuer+"/revoke"))); r.StatusCode != http.StatusOK {
		t.Fatalf("revocation: %d %s", r.StatusCode, r.body)
	}
	r = s.post("/introspect", "token="+url.QueryEscape(at)+"&"+assertionForm(sign(s.issuer+"/introspect")))
	if r.StatusCode != http.StatusOK || r.json(t)["active"] != false {
		t.Fatalf("introspection after revocation: %d %s", r.StatusCode, r.body)
	}
	// Refusals.
	wantError(t, s.post("/token", "grant_type=client_credentials&"+assertionForm(sign(s.issuer+"/introspect"))), http.StatusUnauthorized, engine.CodeInvalidClient)
	wantError(t, s.post("/token", "grant_type=client_credentials&client_id=someone&"+assertionForm(sign(s.issuer))), http.StatusUnauthorized, engine.CodeInvalidClient)
	wantError(t, s.post("/token", "grant_type=client_credentials&client_assertion_type=urn%3Aother&client_assertion="+sign(s.issuer)), http.StatusBadRequest, engine.CodeInvalidRequest)
	wantError(t, s.post("/token", "grant_type=client_credentials&"+assertionForm("not.a.jwt")), http.StatusUnauthorized, engine.CodeInvalidClient)
	// The client_id parameter may name the client too.
	s.token("/token", "grant_type=client_credentials&client_id="+url.QueryEscape(id)+"&"+assertionForm(sign(s.issuer)))
}
