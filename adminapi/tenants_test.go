package adminapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/engine"
)

// do sends a request with extra headers and returns the response's status,
// headers and decoded JSON object.
func (e *env) do(srv string, method, path, bearer, body string, header map[string]string) (int, http.Header, map[string]any) {
	e.t.Helper()
	s := e.admin
	if srv == "public" {
		s = e.public
	}
	r := e.send(s, method, path, bearer, body, header)
	return r.StatusCode, r.Header, r.Object(e.t)
}

func (e *env) mint(tenant string) (token, id string) {
	e.t.Helper()
	status, m := e.adm("POST", "/admin/tenants/"+tenant+"/initial-access-tokens", `{}`)
	if status != http.StatusCreated {
		e.t.Fatalf("mint for %s: %d %v", tenant, status, m)
	}
	return m["initial_access_token"].(string), m["id"].(string)
}

func TestTenantLifecycle(t *testing.T) {
	e := setup(t)
	status, h, m := e.do("admin", "PUT", "/admin/tenants/team-a", token, `{"max_clients": 5}`, nil)
	if status != http.StatusCreated || h.Get("ETag") != `"1"` || m["source"] != "admin-api" || h.Get("Location") != "/admin/tenants/team-a" {
		t.Fatalf("create: %d %v %v", status, h, m)
	}
	// Served at once: discovery, registration, listing.
	if status, m := e.call(e.public, "GET", "/tenants/team-a/.well-known/openid-configuration", "", ""); status != 200 || m["issuer"] != "https://id.example/tenants/team-a" {
		t.Fatalf("discovery of a new tenant: %d %v", status, m)
	}
	iat, _ := e.mint("team-a")
	c := e.registerWith(iat, "/tenants/team-a")

	status, h, m = e.do("admin", "PUT", "/admin/tenants/team-a", token, `{"max_clients": 6}`, map[string]string{"If-Match": `"1"`})
	if status != http.StatusOK || h.Get("ETag") != `"2"` || m["revision"] != 2.0 {
		t.Fatalf("conditional replace: %d %v %v", status, h, m)
	}
	status, _, m = e.do("admin", "PUT", "/admin/tenants/team-a", token, `{}`, map[string]string{"If-Match": `"1"`})
	if status != http.StatusPreconditionFailed || m["error"] != "precondition_failed" {
		t.Errorf("stale If-Match: %d %v", status, m)
	}
	if _, h, _ := e.do("admin", "GET", "/admin/tenants/team-a", token, "", nil); h.Get("ETag") != `"2"` {
		t.Errorf("GET ETag = %q, want \"2\"", h.Get("ETag"))
	}

	// Delete: immediate, with clients and tokens.
	if status, m := e.adm("DELETE", "/admin/tenants/team-a", ""); status != http.StatusNoContent {
		t.Fatalf("delete: %d %v", status, m)
	}
	if status, _ := e.adm("GET", "/admin/tenants/team-a", ""); status != http.StatusNotFound {
		t.Errorf("GET after delete: %d", status)
	}
	if status, _ := e.call(e.public, "GET", "/tenants/team-a/.well-known/openid-configuration", "", ""); status != http.StatusNotFound {
		t.Errorf("discovery after delete: %d", status)
	}
	uri := strings.TrimPrefix(c["registration_client_uri"].(string), "https://id.example")
	if status, _ := e.call(e.public, "GET", uri, c["registration_access_token"].(string), ""); status != http.StatusNotFound {
		t.Errorf("read of a deleted tenant's client: %d", status)
	}
	if _, err := e.store.Client(context.Background(), "team-a", c["client_id"].(string)); err == nil {
		t.Error("the client survived its tenant's deletion in the store")
	}
	if status, _ := e.adm("DELETE", "/admin/tenants/team-a", ""); status != http.StatusNotFound {
		t.Errorf("second delete: %d", status)
	}
	// The name can be used again, for a fresh, empty tenant.
	status, _, m = e.do("admin", "PUT", "/admin/tenants/team-a", token, `{}`, nil)
	if status != http.StatusCreated || m["revision"] != 1.0 {
		t.Fatalf("re-create: %d %v", status, m)
	}
	if _, m := e.adm("GET", "/admin/tenants/team-a/clients", ""); fmt.Sprint(m["clients"]) != "[]" {
		t.Errorf("re-created tenant has clients: %v", m)
	}
	if status, _ := e.call(e.public, "POST", "/tenants/team-a/reg", iat, `{"redirect_uris":["https://app.example/cb"]}`); status != http.StatusUnauthorized {
		t.Errorf("a token of the deleted tenant works in the re-created one: %d", status)
	}
	if status, _ := e.adm("GET", "/admin/tenants/team-a/audit?cursor=not-a-cursor", ""); status != http.StatusBadRequest {
		t.Errorf("audit page with a bad cursor: %d", status)
	}
	// The audit log outlives the deletion.
	_, m = e.adm("GET", "/admin/tenants/team-a/audit?limit=100", "")
	for _, want := range []string{"tenant.created", "tenant.updated", "tenant.deleted", "client.registered"} {
		if !strings.Contains(fmt.Sprint(m["events"]), want) {
			t.Errorf("audit log lacks %s: %v", want, m)
		}
	}
}

func TestTenantRefusals(t *testing.T) {
	e := setup(t)
	for _, tt := range []struct {
		method, path, body string
		status             int
		code, contains     string
	}{
		{"PUT", "/admin/tenants/acme", `{}`, 409, "conflict", "configuration file"},
		{"DELETE", "/admin/tenants/acme", ``, 409, "conflict", "configuration file"},
		{"DELETE", "/admin/tenants/default", ``, 409, "conflict", "always exists"},
		{"PUT", "/admin/tenants/Bad_Name", `{}`, 400, "invalid_request", "tenant name"},
		{"PUT", "/admin/tenants/-x", `{}`, 400, "invalid_request", "tenant name"},
		{"PUT", "/admin/tenants/t1", `{"max_clientz": 3}`, 400, "invalid_request", "max_clientz"},
		{"PUT", "/admin/tenants/t1", `{"initial_access_token": "maybe"}`, 400, "invalid_request", "want stored, static or none"},
		{"PUT", "/admin/tenants/t1", `{"default_policies": ["nope"]}`, 400, "invalid_request", `no policy module "nope"`},
		{"PUT", "/admin/tenants/t1", `{"id_factory": "nope"}`, 400, "invalid_request", "id_factory"},
		{"PUT", "/admin/tenants/t1", `{"registration_rate_limit": {"per_ip": "lots"}}`, 400, "invalid_request", "rate"},
		{"PUT", "/admin/tenants/t1", `{"max_clients": -1}`, 400, "invalid_request", "max_clients"},
		{"PUT", "/admin/tenants/t1", `{"client_defaults": {"token_endpoint_auth_method": "bogus"}}`, 400, "invalid_request", "client_defaults: token_endpoint_auth_method"},
		{"PUT", "/admin/tenants/t1", `[]`, 400, "invalid_request", ""},
		{"DELETE", "/admin/tenants/never", ``, 404, "not_found", "never"},
	} {
		status, _, m := e.do("admin", tt.method, tt.path, token, tt.body, nil)
		if status != tt.status || m["error"] != tt.code || !strings.Contains(fmt.Sprint(m["error_description"]), tt.contains) {
			t.Errorf("%s %s %s: %d %v, want %d %s containing %q", tt.method, tt.path, tt.body, status, m, tt.status, tt.code, tt.contains)
		}
	}
	if status, _ := e.adm("GET", "/admin/tenants/t1", ""); status != 404 {
		t.Errorf("a refused PUT created the tenant: %d", status)
	}
}

// A static token given through the API is kept only as its digest, and
// still admits registrations.
func TestStoredStaticToken(t *testing.T) {
	e := setup(t)
	const static = "a-static-token-of-team-b-0123456789"
	status, _, m := e.do("admin", "PUT", "/admin/tenants/team-b", token, `{"initial_access_token":"static","static_initial_access_token":"`+static+`"}`, nil)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, m)
	}
	if strings.Contains(fmt.Sprint(m), static) {
		t.Errorf("the response shows the static token: %v", m)
	}
	rec, err := e.store.Tenant(context.Background(), "team-b")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Settings.StaticInitialAccessToken != "" || rec.Settings.StaticInitialAccessTokenSHA256 != engine.HashToken(static) {
		t.Errorf("stored settings: %+v", rec.Settings)
	}
	e.registerWith(static, "/tenants/team-b")
	// GET and PUT back: the digest round-trips.
	_, _, m = e.do("admin", "GET", "/admin/tenants/team-b", token, "", nil)
	body := fmt.Sprintf(`{"initial_access_token":"static","static_initial_access_token_sha256":%q}`, m["settings"].(map[string]any)["static_initial_access_token_sha256"])
	if status, _, m := e.do("admin", "PUT", "/admin/tenants/team-b", token, body, nil); status != http.StatusOK {
		t.Fatalf("put back: %d %v", status, m)
	}
	e.registerWith(static, "/tenants/team-b")
}

func TestQuota(t *testing.T) {
	e := setup(t)
	if status, _, m := e.do("admin", "PUT", "/admin/tenants/small", token, `{"max_clients": 2}`, nil); status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, m)
	}
	iat, _ := e.mint("small")
	e.registerWith(iat, "/tenants/small")
	c := e.registerWith(iat, "/tenants/small")
	status, m := e.call(e.public, "POST", "/tenants/small/reg", iat, `{"redirect_uris":["https://app.example/cb"]}`)
	if status != http.StatusForbidden || m["error"] != "access_denied" || !strings.Contains(m["error_description"].(string), "limit of 2 clients") {
		t.Fatalf("third registration: %d %v", status, m)
	}
	if status, _ := e.adm("DELETE", "/admin/tenants/small/clients/"+c["client_id"].(string), ""); status != http.StatusNoContent {
		t.Fatal("delete failed")
	}
	e.registerWith(iat, "/tenants/small")
	_, m = e.adm("GET", "/admin/tenants/small/audit", "")
	if !strings.Contains(fmt.Sprint(m["events"]), "client.rejected") {
		t.Errorf("the refused registration is not in the audit log: %v", m)
	}
}

func TestRateLimit(t *testing.T) {
	e := setup(t)
	if status, _, m := e.do("admin", "PUT", "/admin/tenants/open", token, `{"initial_access_token":"none","registration_rate_limit":{"per_ip":"3/m"}}`, nil); status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, m)
	}
	for i := 0; i < 3; i++ {
		e.registerWith("", "/tenants/open")
	}
	status, h, m := e.do("public", "POST", "/tenants/open/reg", "", `{"redirect_uris":["https://app.example/cb"]}`, nil)
	if status != http.StatusTooManyRequests || m["error"] != "too_many_requests" || h.Get("Retry-After") == "" {
		t.Fatalf("fourth registration: %d %v %v", status, h, m)
	}
	// Behind a proxy that is not trusted, X-Forwarded-For changes nothing.
	status, _, _ = e.do("public", "POST", "/tenants/open/reg", "", `{"redirect_uris":["https://app.example/cb"]}`, map[string]string{"X-Forwarded-For": "203.0.113.9"})
	if status != http.StatusTooManyRequests {
		t.Errorf("a forged X-Forwarded-For escaped the limit: %d", status)
	}
	// Other tenants have budgets of their own.
	iat, _ := e.mint("acme")
	e.registerWith(iat, "/tenants/acme")
}
