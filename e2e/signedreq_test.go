package e2e_test

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/jose/josetest"
)

// TestSignedRequestOBIE: a tenant of the obie profile whose clients manage
// their registrations with client_credentials tokens. The directory's
// and the software's keys are served over https by a loopback server,
// which the registrars reach through --fetch-allow-hosts and trust
// through SSL_CERT_FILE. A signed request in the OBIE shape registers on
// one replica; the client gets a token with private_key_jwt (its keys
// are software_jwks_endpoint's) on the other, and reads and updates its
// registration with it; the request's jti is spent for both replicas.
func TestSignedRequestOBIE(t *testing.T) {
	addr := startRedis(t)
	dir, sw := josetest.NewKey(t, "PS256", "dir-1"), josetest.NewKey(t, "PS256", "sw-key-1")
	keys := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/directory.jwks":
			w.Write(josetest.JWKS(t, dir))
		case "/org-1/sw-1.jwks":
			w.Write(josetest.JWKS(t, sw))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(keys.Close)
	ca := filepath.Join(t.TempDir(), "keys-ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: keys.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SSL_CERT_FILE", ca)
	host := strings.TrimPrefix(keys.URL, "https://")
	a := startProcess(t, "--redis-url", "redis://"+addr, "--fetch-allow-hosts", host)
	b := startProcess(t, "--redis-url", "redis://"+addr, "--fetch-allow-hosts", host)

	c := client{t: t, h: http.DefaultClient}
	const tenant = "obie"
	settings := `{"initial_access_token":"none","registration_management_auth":"client_credentials",
		"software_statement":{"profile":"obie","require_jti":true,"max_age":"PT10M",
		"issuers":[{"issuer":"https://directory.example","jwks_uri":"` + keys.URL + `/directory.jwks"}]}}`
	if r := c.do(http.MethodPut, a.admin+"/admin/tenants/"+tenant, adminToken, "application/json", []byte(settings)); r.status != 201 && r.status != 200 {
		t.Fatalf("create tenant: %d %s", r.status, r.raw)
	}
	tc := tokenClient{c: c, prefix: "/tenants/" + tenant}
	waitTenant(t, c, b, tc.prefix)
	ea, eb := tc.endpoints(a), tc.endpoints(b)
	d := c.do(http.MethodGet, b.public+tc.prefix+"/.well-known/openid-configuration", "", "", nil)
	if algs, _ := d.body["registration_request_signing_alg_values_supported"].([]any); len(algs) == 0 {
		t.Errorf("discovery does not advertise signed requests: %s", d.raw)
	}

	swKeys := keys.URL + "/org-1/sw-1.jwks"
	newSSA := func() string {
		return dir.Sign(t, nil, map[string]any{
			"iss": "https://directory.example", "iat": time.Now().Unix(), "jti": randomID(),
			"software_id": "sw-1", "org_id": "org-1", "software_roles": []string{"AISP"},
			"software_client_name": "TPP", "software_redirect_uris": []string{"https://tpp.example/cb"},
			"software_jwks_endpoint": swKeys,
		})
	}
	ssa := newSSA()
	request := func(changes map[string]any) []byte {
		claims := map[string]any{
			"iss": "sw-1", "aud": issuer + tc.prefix, "iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix(), "jti": randomID(),
			"redirect_uris": []string{"https://tpp.example/cb"}, "token_endpoint_auth_method": "private_key_jwt",
			"grant_types": []string{"authorization_code", "client_credentials", "refresh_token"}, "response_types": []string{"code id_token"},
			"scope": "openid accounts", "software_statement": ssa,
		}
		for k, v := range changes {
			claims[k] = v
		}
		return []byte(sw.Sign(t, nil, claims))
	}

	jti := randomID()
	reg := c.do(http.MethodPost, a.public+ea["registration_endpoint"], "", "application/jose", request(map[string]any{"jti": jti}))
	if reg.status != http.StatusCreated || reg.str("jwks_uri") != swKeys || reg.str("software_statement") != ssa {
		t.Fatalf("register: %d %s", reg.status, reg.raw)
	}
	if ct := reg.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("response Content-Type %q", ct)
	}
	id := reg.str("client_id")
	// The request's jti is spent for every replica (the replay carries a
	// fresh statement: the first one's jti is spent too).
	replay := request(map[string]any{"jti": jti, "software_statement": newSSA()})
	if r := c.do(http.MethodPost, b.public+eb["registration_endpoint"], "", "application/jose", replay); r.status != http.StatusBadRequest || r.str("error") != "invalid_client_metadata" {
		t.Errorf("replay on the other replica: %d %s", r.status, r.raw)
	}

	auth := secretAuth{method: "private_key_jwt", id: id, key: sw, t: t}
	tok := auth.send(tc, b.public+eb["token_endpoint"], url.Values{"grant_type": {"client_credentials"}})
	if tok.status != http.StatusOK {
		t.Fatalf("token: %d %s", tok.status, tok.raw)
	}
	at := tok.str("access_token")
	uri := path(reg.str("registration_client_uri"))
	if r := c.do(http.MethodGet, b.public+uri, at, "", nil); r.status != http.StatusOK || r.str("client_id") != id || r.str("scope") != "openid accounts" {
		t.Fatalf("read with the access token: %d %s", r.status, r.raw)
	}
	// A signed update, without client_id (the path names the client).
	if r := c.do(http.MethodPut, b.public+uri, at, "application/jose", request(map[string]any{"scope": "openid"})); r.status != http.StatusOK || r.str("scope") != "openid" {
		t.Fatalf("signed update with the access token: %d %s", r.status, r.raw)
	}
	if r := c.do(http.MethodGet, a.public+uri, at, "", nil); r.status != http.StatusOK || r.str("scope") != "openid" {
		t.Errorf("read after the update: %d %s", r.status, r.raw)
	}
	// A dead token is a 401 whatever the body.
	if r := c.do(http.MethodPut, a.public+uri, "not-a-live-token", "text/plain", []byte("junk")); r.status != http.StatusUnauthorized {
		t.Errorf("dead token: %d %s", r.status, r.raw)
	}
	// Plain JSON is refused under obie.
	if r := c.do(http.MethodPost, a.public+ea["registration_endpoint"], "", "application/json", []byte(`{"redirect_uris":["https://tpp.example/cb"],"software_statement":"`+ssa+`"}`)); r.status != http.StatusBadRequest || r.str("error") != "invalid_request" {
		t.Errorf("plain JSON: %d %s", r.status, r.raw)
	}
}
