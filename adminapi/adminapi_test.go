package adminapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/adminapi"
	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/httpapi"
	"github.com/registrar-dev/registrar/idn"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/memstore"
)

const token = "admin-token-for-tests-0123456789"

type env struct {
	t             *testing.T
	store         *memstore.Store
	admin, public *httptest.Server
}

func setup(t *testing.T) *env {
	t.Helper()
	return serve(t, memstore.New(memstore.Config{}), engine.Config{
		Tenants: map[string]engine.Settings{"acme": {}, "globex-2": {}, "acme-2": {}, "globex": {InitialAccessToken: engine.TokenStatic, StaticInitialAccessToken: "static-secret-value-123"}},
	}, nil, nil)
}

// serve builds a Registrar from cfg over store, with a silent logger, and
// serves its admin API, with policies and checked against the OpenAPI
// document (see checked), and its public API.
func serve(t *testing.T, store *memstore.Store, cfg engine.Config, policies adminapi.Policies, answered func(string)) *env {
	t.Helper()
	log := testkit.DiscardLogger()
	cfg.Store, cfg.AuditLog, cfg.Limiter, cfg.Keys, cfg.Hosts, cfg.Logger = store, store, store, jose.KeySetChecker{}, idn.Normalizer{}, log
	reg, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	adm, err := adminapi.New(adminapi.Config{Registrar: reg, Token: token, Issuer: "https://id.example", Policies: policies, SigningKeys: signingKeys(t, reg, store), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := httpapi.New(httpapi.Config{Registrar: reg, Issuer: "https://id.example", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, store: store, admin: testkit.NewServer(t, checked(t, adm, answered)), public: testkit.NewServer(t, pub)}
}

// checked wraps the admin handler so that every response it writes is
// checked against the OpenAPI document; answered, when set, is told the
// operation and status of each.
func checked(t *testing.T, h http.Handler, answered func(string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		op := adminapi.CheckResponse(t, r.Method, r.URL.Path, rec.Code, rec.Header(), rec.Body.Bytes())
		if answered != nil && op != "" {
			answered(op)
		}
		maps.Copy(w.Header(), rec.Header())
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	})
}

// send sends a request to srv with a bearer token (none when empty) and
// extra headers, each replacing any the request has, and reads the
// response completely.
func (e *env) send(srv *httptest.Server, method, path, bearer, body string, header map[string]string) testkit.Response {
	e.t.Helper()
	headers := []string{testkit.Bearer(bearer)}
	for k, v := range header {
		headers = append(headers, k+":", k+": "+v)
	}
	return testkit.Do(e.t, srv, method, path, body, headers...)
}

// call sends a request and decodes a JSON object answer (nil for none).
func (e *env) call(srv *httptest.Server, method, path, bearer, body string) (int, map[string]any) {
	e.t.Helper()
	r := e.send(srv, method, path, bearer, body, nil)
	m := r.Object(e.t)
	if r.StatusCode >= 400 && (m["error"] == nil || m["error_description"] == nil) {
		e.t.Errorf("%s %s: error without error JSON: %s", method, path, r.Bytes)
	}
	return r.StatusCode, m
}

// adminTime parses a time of an admin response: RFC 3339 in UTC, to the
// second, failing the test for any other form.
func adminTime(t *testing.T, v any) time.Time {
	t.Helper()
	s, _ := v.(string)
	at, err := time.Parse(time.RFC3339, s)
	if err != nil || !strings.HasSuffix(s, "Z") || strings.Contains(s, ".") {
		t.Fatalf("time %#v: want RFC 3339 in UTC to the second, such as 2026-12-04T12:15:00Z", v)
	}
	return at
}

func (e *env) adm(method, path, body string) (int, map[string]any) {
	return e.call(e.admin, method, path, token, body)
}

func (e *env) registerWith(iat, tenantPrefix string) map[string]any {
	e.t.Helper()
	status, m := e.call(e.public, "POST", tenantPrefix+"/reg", iat, `{"redirect_uris":["https://app.example/cb"]}`)
	if status != http.StatusCreated {
		e.t.Fatalf("register: %d %v", status, m)
	}
	return m
}

func TestAuthentication(t *testing.T) {
	e := setup(t)
	for _, bearer := range []string{"", "wrong-token-0123456789", token + "x"} {
		for _, path := range []string{"/admin/tenants", "/admin/nope", "/admin/tenants/acme/clients"} {
			if status, m := e.call(e.admin, "GET", path, bearer, ""); status != http.StatusUnauthorized || m["error"] != "invalid_token" {
				t.Errorf("GET %s with %q: %d %v, want 401 invalid_token", path, bearer, status, m)
			}
		}
	}
	if status, _ := e.adm("GET", "/admin/tenants", ""); status != http.StatusOK {
		t.Errorf("with the admin token: %d", status)
	}
	if _, err := adminapi.New(adminapi.Config{Registrar: nil, Token: token, Issuer: "https://x"}); err == nil {
		t.Error("New accepted a nil Registrar")
	}
}

func TestTenants(t *testing.T) {
	e := setup(t)
	_, m := e.adm("GET", "/admin/tenants", "")
	got := fmt.Sprint(m["tenants"])
	for _, want := range []string{"acme", "default", "globex", "https://id.example/tenants/acme"} {
		if !strings.Contains(got, want) {
			t.Errorf("tenant list %s lacks %s", got, want)
		}
	}
	status, m := e.adm("GET", "/admin/tenants/globex", "")
	settings, _ := m["settings"].(map[string]any)
	if status != 200 || settings["static_initial_access_token_sha256"] == nil || m["source"] != "config" {
		t.Fatalf("GET tenant: %d %v", status, m)
	}
	if strings.Contains(fmt.Sprint(m), "static-secret-value-123") {
		t.Errorf("tenant view leaks the static initial access token: %v", m)
	}
	if status, m := e.adm("GET", "/admin/tenants/nope", ""); status != 404 || m["error"] != "not_found" {
		t.Errorf("unknown tenant: %d %v", status, m)
	}
}

func TestMintInitialAccessToken(t *testing.T) {
	e := setup(t)
	cases := []struct {
		body   string
		status int
	}{
		{`{}`, 201},
		{`{"expires_in":3600,"max_uses":2}`, 201},
		{`{"expires_in":"PT2H"}`, 201},
		{`{"client_id":"my-client","replacement":true}`, 201},
		{`{"policies":["missing"]}`, 400},
		{`{"replacement":true}`, 400},
		{`{"max_uses":-1}`, 400},
		{`{"expires_in":"forever"}`, 400},
		{`{"client_id":"bad id"}`, 400},
		{`{"unknown":1}`, 400},
		{`[]`, 400},
		{`not json`, 400},
	}
	for _, tc := range cases {
		status, m := e.adm("POST", "/admin/tenants/acme/initial-access-tokens", tc.body)
		if status != tc.status {
			t.Errorf("%s: %d %v, want %d", tc.body, status, m, tc.status)
		}
	}
	status, m := e.adm("POST", "/admin/tenants/acme/initial-access-tokens", `{"expires_in":"PT2H","max_uses":1}`)
	if status != 201 {
		t.Fatal(status, m)
	}
	iat, id := m["initial_access_token"].(string), m["id"].(string)
	if adminTime(t, m["expires_at"]).Sub(adminTime(t, m["created_at"])) != 2*time.Hour || m["max_uses"] != 1.0 || m["uses"] != 0.0 {
		t.Errorf("mint response: %v", m)
	}
	if id != engine.HashToken(iat) {
		t.Errorf("token ID is not the token's digest")
	}
	// The stored record never shows the token.
	status, m = e.adm("GET", "/admin/tenants/acme/initial-access-tokens/"+id, "")
	if status != 200 || m["initial_access_token"] != nil {
		t.Fatalf("GET token: %d %v", status, m)
	}
	// It registers once at its own tenant, nowhere else.
	if status, _ := e.call(e.public, "POST", "/reg", iat, `{"redirect_uris":["https://app.example/cb"]}`); status != 401 {
		t.Errorf("acme token at default tenant: %d", status)
	}
	e.registerWith(iat, "/tenants/acme")
	if status, _ := e.call(e.public, "POST", "/tenants/acme/reg", iat, `{"redirect_uris":["https://app.example/cb"]}`); status != 401 {
		t.Errorf("used-up token: %d", status)
	}
	_, m = e.adm("GET", "/admin/tenants/acme/initial-access-tokens/"+id, "")
	if m["uses"] != 1.0 {
		t.Errorf("uses %v, want 1", m["uses"])
	}
	// Revocation.
	_, m = e.adm("POST", "/admin/tenants/acme/initial-access-tokens", `{}`)
	iat2, id2 := m["initial_access_token"].(string), m["id"].(string)
	if status, _ := e.adm("DELETE", "/admin/tenants/acme/initial-access-tokens/"+id2, ""); status != 204 {
		t.Fatalf("revoke: %d", status)
	}
	if status, _ := e.call(e.public, "POST", "/tenants/acme/reg", iat2, `{"redirect_uris":["https://app.example/cb"]}`); status != 401 {
		t.Errorf("revoked token still registers: %d", status)
	}
	if status, _ := e.adm("DELETE", "/admin/tenants/acme/initial-access-tokens/"+id2, ""); status != 404 {
		t.Errorf("second revoke: %d", status)
	}
}

func TestReservedClientID(t *testing.T) {
	e := setup(t)
	_, m := e.adm("POST", "/admin/tenants/acme/initial-access-tokens", `{"client_id":"partner-app","replacement":true}`)
	iat := m["initial_access_token"].(string)
	first := e.registerWith(iat, "/tenants/acme")
	second := e.registerWith(iat, "/tenants/acme")
	if first["client_id"] != "partner-app" || second["client_id"] != "partner-app" {
		t.Fatalf("reserved client_id not used: %v %v", first["client_id"], second["client_id"])
	}
	if status, _ := e.call(e.public, "GET", "/tenants/acme/reg/partner-app", first["registration_access_token"].(string), ""); status != 401 {
		t.Errorf("the replaced registration's token still works: %d", status)
	}
	// Without replacement, a taken ID cannot be reserved.
	if status, m := e.adm("POST", "/admin/tenants/acme/initial-access-tokens", `{"client_id":"partner-app"}`); status != 409 {
		t.Errorf("reserving a registered client_id: %d %v", status, m)
	}
}

func TestClients(t *testing.T) {
	e := setup(t)
	_, m := e.adm("POST", "/admin/tenants/acme/initial-access-tokens", `{}`)
	iat := m["initial_access_token"].(string)
	ids := map[string]bool{}
	for range 5 {
		ids[e.registerWith(iat, "/tenants/acme")["client_id"].(string)] = true
	}
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		status, m := e.adm("GET", "/admin/tenants/acme/clients?limit=2&cursor="+cursor, "")
		if status != 200 {
			t.Fatal(status, m)
		}
		list := m["clients"].([]any)
		if len(list) > 2 {
			t.Fatalf("page of %d, limit 2", len(list))
		}
		for _, c := range list {
			c := c.(map[string]any)
			seen[c["client_id"].(string)] = true
			if c["initial_access_token"] != engine.HashToken(iat) || c["has_client_secret"] != true {
				t.Errorf("client view: %v", c)
			}
		}
		next, _ := m["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seen) != len(ids) {
		t.Errorf("listed %d clients, registered %d", len(seen), len(ids))
	}
	for _, bad := range []string{"limit=0", "limit=501", "limit=x"} {
		if status, _ := e.adm("GET", "/admin/tenants/acme/clients?"+bad, ""); status != 400 {
			t.Errorf("%s: %d", bad, status)
		}
	}
	// Other tenants list nothing of acme's.
	if _, m := e.adm("GET", "/admin/tenants/default/clients", ""); len(m["clients"].([]any)) != 0 {
		t.Errorf("default tenant lists acme's clients: %v", m)
	}

	// Mint a fresh registration access token: the old one dies.
	c := e.registerWith(iat, "/tenants/acme")
	id, old := c["client_id"].(string), c["registration_access_token"].(string)
	status, m := e.adm("POST", "/admin/tenants/acme/clients/"+id+"/registration-access-token", "")
	if status != 201 || m["registration_client_uri"] != "https://id.example/tenants/acme/reg/"+id {
		t.Fatalf("mint RAT: %d %v", status, m)
	}
	fresh := m["registration_access_token"].(string)
	if status, _ := e.call(e.public, "GET", "/tenants/acme/reg/"+id, old, ""); status != 401 {
		t.Errorf("old RAT after re-mint: %d", status)
	}
	if status, _ := e.call(e.public, "GET", "/tenants/acme/reg/"+id, fresh, ""); status != 200 {
		t.Errorf("new RAT: %d", status)
	}
	if status, _ := e.adm("POST", "/admin/tenants/acme/clients/nope/registration-access-token", ""); status != 404 {
		t.Errorf("mint RAT for unknown client: %d", status)
	}

	// Delete: gone for the admin API and for its own token.
	if status, _ := e.adm("DELETE", "/admin/tenants/acme/clients/"+id, ""); status != 204 {
		t.Fatalf("delete: %d", status)
	}
	if status, _ := e.adm("GET", "/admin/tenants/acme/clients/"+id, ""); status != 404 {
		t.Errorf("deleted client: %d", status)
	}
	if status, _ := e.call(e.public, "GET", "/tenants/acme/reg/"+id, fresh, ""); status != 401 {
		t.Errorf("deleted client's RAT: %d", status)
	}
	if status, _ := e.adm("DELETE", "/admin/tenants/acme/clients/"+id, ""); status != 404 {
		t.Errorf("second delete: %d", status)
	}
}

func TestErrorsAreJSON(t *testing.T) {
	e := setup(t)
	for _, tc := range []struct{ method, path string }{
		{"GET", "/admin/nope"}, {"PATCH", "/admin/tenants"}, {"GET", "/admin/tenants/acme/clients/nope"},
	} {
		status, m := e.adm(tc.method, tc.path, "")
		if status < 400 || m["error"] == nil {
			t.Errorf("%s %s: %d %v", tc.method, tc.path, status, m)
		}
	}
}

// TestNonCanonicalPaths: on the admin listener too, a path that is not in
// canonical form is a JSON error, never a redirect: 404 for an admin token,
// 401 without one (as every unknown route).
func TestNonCanonicalPaths(t *testing.T) {
	e := setup(t)
	client := e.admin.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, path := range []string{
		"//admin/tenants",
		"/admin/./tenants",
		"/admin/tenants/acme/../globex",
		"/admin/tenants/acme%2fclients",
		"/admin/tenants/..%2f..%2fhealthz",
		"/admin/tenants/%2e%2e",
		"/admin/tenants/",
		"/admin/../admin/tenants",
	} {
		for _, bearer := range []string{token, ""} {
			req, err := http.NewRequest("GET", e.admin.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if bearer != "" {
				req.Header.Set("Authorization", "Bearer "+bearer)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			want := http.StatusNotFound
			if bearer == "" {
				want = http.StatusUnauthorized
			}
			var m map[string]any
			if resp.StatusCode != want || resp.Header.Get("Location") != "" ||
				resp.Header.Get("Content-Type") != "application/json" || json.Unmarshal(b, &m) != nil || m["error"] == nil {
				t.Errorf("GET %s (token %v): %d %q %s, want a JSON %d", path, bearer != "", resp.StatusCode, resp.Header.Get("Location"), b, want)
			}
		}
	}
}
