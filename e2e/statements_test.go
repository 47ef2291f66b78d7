package e2e_test

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/jose/josetest"
)

// TestStatementsAndURIsAcrossReplicas runs two processes sharing Redis
// against a directory whose keys, a client's sector_identifier_uri and a
// client's jwks_uri are served over https by a loopback test server,
// exempted from the outbound guard with --fetch-allow-hosts (and trusted
// through SSL_CERT_FILE): a statement signed by the trusted issuer
// registers; replayed on the other replica it is refused; a second
// client with the same software_id is refused under software_id_policy
// "unique"; sector_identifier_uri and jwks_uri are fetched and checked;
// a URI at a private address is refused and counted.
func TestStatementsAndURIsAcrossReplicas(t *testing.T) {
	addr := startRedis(t)
	issuerKey := josetest.NewKey(t, "PS256", "dir-1")
	clientKey := josetest.NewKey(t, "ES256", "c-1")
	mux := http.NewServeMux()
	mux.HandleFunc("/directory/jwks", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "max-age=300")
		w.Write(josetest.JWKS(t, josetest.NewKey(t, "PS256", "dir-0"), issuerKey))
	})
	mux.HandleFunc("/client/sector.json", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `["https://app.example/cb","https://app2.example/cb"]`)
	})
	mux.HandleFunc("/client/jwks", func(w http.ResponseWriter, _ *http.Request) { w.Write(josetest.JWKS(t, clientKey)) })
	keys := httptest.NewTLSServer(mux)
	t.Cleanup(keys.Close)
	roots := filepath.Join(t.TempDir(), "roots.pem")
	if err := os.WriteFile(roots, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: keys.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SSL_CERT_FILE", roots) // the processes inherit it
	keyHost := strings.TrimPrefix(keys.URL, "https://")

	args := []string{"--redis-url", "redis://" + addr, "--fetch-allow-hosts", keyHost}
	a, b := startProcess(t, args...), startProcess(t, args...)
	c := client{t: t, h: http.DefaultClient}
	settings := `{"initial_access_token":"none","subject_types_supported":["public","pairwise"],
		"check_jwks_uri":true,"software_id_policy":"unique",
		"software_statement":{"issuers":[{"issuer":"https://directory.example","jwks_uri":"` + keys.URL + `/directory/jwks"}],
			"algorithms":["PS256"],"max_age":"PT5M","require_jti":true}}`
	if r := c.do(http.MethodPut, a.admin+"/admin/tenants/fed", adminToken, "application/json", []byte(settings)); r.status != 201 && r.status != 200 {
		t.Fatalf("create tenant: %d %s", r.status, r.raw)
	}
	const prefix = "/tenants/fed"
	waitTenant(t, c, b, prefix)
	reg := func(p *process, body map[string]any) response {
		t.Helper()
		raw, _ := json.Marshal(body)
		return c.do(http.MethodPost, p.public+prefix+"/reg", "", "application/json", raw)
	}
	statement := func(softwareID string) string {
		return issuerKey.Sign(t, nil, map[string]any{
			"iss": "https://directory.example", "iat": time.Now().Unix(), "jti": randomID(),
			"software_id": softwareID, "client_name": "Vouched " + softwareID,
		})
	}
	wantError := func(what string, r response, status int, code string) {
		t.Helper()
		if r.status != status || r.str("error") != code {
			t.Errorf("%s: %d %s, want %d %s", what, r.status, r.raw, status, code)
		}
	}

	// A statement signed by the trusted issuer (its second key) registers.
	st := statement("sw-one")
	first := reg(a, map[string]any{"redirect_uris": []string{"https://app.example/cb"}, "software_statement": st})
	if first.status != http.StatusCreated || first.str("client_name") != "Vouched sw-one" || first.str("software_statement") != st {
		t.Fatalf("register with a statement: %d %s", first.status, first.raw)
	}
	// Replayed on the other replica, it is refused.
	wantError("replay on the second replica", reg(b, map[string]any{"redirect_uris": []string{"https://app.example/cb"}, "software_statement": st}),
		http.StatusBadRequest, "invalid_software_statement")
	// A fresh statement for the same software_id is refused too.
	wantError("second client of a software_id", reg(b, map[string]any{"redirect_uris": []string{"https://app.example/cb"}, "software_statement": statement("sw-one")}),
		http.StatusBadRequest, "unapproved_software_statement")

	// sector_identifier_uri, fetched over https from the exempt host.
	sector := keys.URL + "/client/sector.json"
	pairwise := func(p *process, redirects ...string) response {
		return reg(p, map[string]any{"redirect_uris": redirects, "subject_type": "pairwise", "sector_identifier_uri": sector,
			"software_statement": statement("sw-" + randomID())})
	}
	if r := pairwise(b, "https://app.example/cb", "https://app2.example/cb"); r.status != http.StatusCreated || r.str("sector_identifier_uri") != sector {
		t.Errorf("listed redirect URIs: %d %s", r.status, r.raw)
	}
	r := pairwise(a, "https://app.example/cb", "https://elsewhere.example/cb")
	wantError("unlisted redirect URI", r, http.StatusBadRequest, "invalid_client_metadata")
	if !strings.Contains(r.str("error_description"), "https://elsewhere.example/cb") {
		t.Errorf("unlisted redirect URI: %s", r.raw)
	}

	// jwks_uri, checked at registration (check_jwks_uri).
	withKeys := func(uri string) response {
		return reg(a, map[string]any{"redirect_uris": []string{"https://app.example/cb"}, "jwks_uri": uri,
			"token_endpoint_auth_method": "private_key_jwt", "token_endpoint_auth_signing_alg": "ES256",
			"software_statement": statement("sw-" + randomID())})
	}
	if r := withKeys(keys.URL + "/client/jwks"); r.status != http.StatusCreated {
		t.Errorf("a usable jwks_uri: %d %s", r.status, r.raw)
	}
	wantError("a jwks_uri that is no key set", withKeys(keys.URL+"/client/sector.json"), http.StatusBadRequest, "invalid_client_metadata")

	// A URI at a private address is refused by the guard, and counted.
	r = reg(b, map[string]any{"redirect_uris": []string{"https://app.example/cb"}, "sector_identifier_uri": "https://10.0.0.1/sector.json",
		"software_statement": statement("sw-" + randomID())})
	wantError("sector_identifier_uri at a private address", r, http.StatusBadRequest, "invalid_client_metadata")
	m := c.do(http.MethodGet, b.admin+"/metrics", adminToken, "", nil)
	for _, want := range []string{
		`registrar_client_uri_checks_total{member="sector_identifier_uri",outcome="refused",tenant="fed"} 1`,
		`registrar_outbound_fetches_total{outcome="refused"} 1`,
	} {
		if !strings.Contains(m.raw, want) {
			t.Errorf("metrics of the second replica lack %s", want)
		}
	}
}
