package adminapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func (e *env) adminToken(tenant string) (tok, id string) {
	e.t.Helper()
	status, m := e.adm("POST", "/admin/tenants/"+tenant+"/admin-tokens", `{"description":"team `+tenant+`","expires_in":"PT1H"}`)
	if status != http.StatusCreated || m["admin_token"] == nil {
		e.t.Fatalf("mint admin token: %d %v", status, m)
	}
	return m["admin_token"].(string), m["id"].(string)
}

// A tenant admin token manages its tenant and nothing else: every route of
// another tenant answers 401 invalid_token, global routes too, and the
// routes that change the tenant itself or mint admin tokens answer 403.
func TestTenantAdminToken(t *testing.T) {
	e := setup(t)
	acme, id := e.adminToken("acme")
	ok := []struct{ method, path, body string }{
		{"GET", "/admin/tenants/acme", ""},
		{"POST", "/admin/tenants/acme/initial-access-tokens", `{"max_uses":1}`},
		{"GET", "/admin/tenants/acme/initial-access-tokens", ""},
		{"GET", "/admin/tenants/acme/clients", ""},
		{"GET", "/admin/tenants/acme/policies", ""},
		{"GET", "/admin/tenants/acme/audit", ""},
	}
	for _, r := range ok {
		if status, m := e.call(e.admin, r.method, r.path, acme, r.body); status >= 300 {
			t.Errorf("tenant admin %s %s: %d %v", r.method, r.path, status, m)
		}
	}
	for _, r := range []struct{ method, path, body string }{
		{"PUT", "/admin/tenants/acme", `{}`},
		{"DELETE", "/admin/tenants/acme", ""},
		{"POST", "/admin/tenants/acme/admin-tokens", `{}`},
		{"GET", "/admin/tenants/acme/admin-tokens", ""},
		{"DELETE", "/admin/tenants/acme/admin-tokens/" + id, ""},
	} {
		if status, m := e.call(e.admin, r.method, r.path, acme, r.body); status != http.StatusForbidden || m["error"] != "access_denied" {
			t.Errorf("tenant admin %s %s: %d %v, want 403 access_denied", r.method, r.path, status, m)
		}
	}
	// Every route of another tenant, and the global ones: 401.
	iat, iatID := e.mint("globex-2")
	_ = iat
	for _, r := range []struct{ method, path string }{
		{"GET", "/admin/tenants"},
		{"GET", "/admin/audit"},
		{"GET", "/admin/tenants/globex"},
		{"GET", "/admin/tenants/globex/clients"},
		{"GET", "/admin/tenants/globex/audit"},
		{"POST", "/admin/tenants/globex/initial-access-tokens"},
		{"GET", "/admin/tenants/globex-2/initial-access-tokens/" + iatID},
		{"DELETE", "/admin/tenants/globex-2/initial-access-tokens/" + iatID},
		{"GET", "/admin/tenants/acme-2/clients"},
		{"GET", "/admin/tenants/nope/clients"},
		{"GET", "/admin/nothing-here"},
	} {
		status, m := e.call(e.admin, r.method, r.path, acme, `{}`)
		if status != http.StatusUnauthorized || m["error"] != "invalid_token" {
			t.Errorf("acme's admin token at %s %s: %d %v, want 401", r.method, r.path, status, m)
		}
	}
	// Under its own tenant it learns that a route does not exist.
	if status, m := e.call(e.admin, "GET", "/admin/tenants/acme/nothing-here", acme, ""); status != http.StatusNotFound {
		t.Errorf("tenant admin at an unknown route of its tenant: %d %v", status, m)
	}
	if status, _ := e.call(e.admin, "HEAD", "/admin/openapi.json", "", ""); status != http.StatusOK {
		t.Errorf("HEAD of the OpenAPI document: %d", status)
	}
	// It is not an initial access token either.
	if status, _ := e.call(e.public, "POST", "/tenants/acme/reg", acme, `{"redirect_uris":["https://app.example/cb"]}`); status != http.StatusUnauthorized {
		t.Errorf("admin token used as an initial access token: %d", status)
	}
	// Listed (without the token), then revoked.
	_, m := e.adm("GET", "/admin/tenants/acme/admin-tokens", "")
	if !strings.Contains(fmt.Sprint(m), id) || strings.Contains(fmt.Sprint(m), acme) {
		t.Errorf("admin token list: %v", m)
	}
	if status, _ := e.adm("DELETE", "/admin/tenants/acme/admin-tokens/"+id, ""); status != http.StatusNoContent {
		t.Fatalf("revoke: %d", status)
	}
	if status, _ := e.call(e.admin, "GET", "/admin/tenants/acme/clients", acme, ""); status != http.StatusUnauthorized {
		t.Errorf("revoked admin token still works: %d", status)
	}
	_, m = e.adm("GET", "/admin/tenants/acme/audit", "")
	for _, want := range []string{"admin_token.minted", "admin_token.revoked", "tenant-admin:" + id} {
		if !strings.Contains(fmt.Sprint(m), want) {
			t.Errorf("audit log lacks %q", want)
		}
	}
}

// Clients record the token that admitted them; an operator can list them
// by token and delete them in bulk.
func TestProvenanceAndBulkDelete(t *testing.T) {
	e := setup(t)
	bad, badID := e.mint("acme")
	good, _ := e.mint("acme")
	var badClients []string
	for i := 0; i < 3; i++ {
		badClients = append(badClients, e.registerWith(bad, "/tenants/acme")["client_id"].(string))
	}
	keep := e.registerWith(good, "/tenants/acme")["client_id"].(string)

	status, m := e.adm("GET", "/admin/tenants/acme/clients/"+keep, "")
	history, _ := m["history"].([]any)
	if status != 200 || len(history) != 1 || history[0].(map[string]any)["event"] != "register" {
		t.Fatalf("client view: %d %v", status, m)
	}
	_, m = e.adm("GET", "/admin/tenants/acme/clients?limit=2&initial_access_token="+badID, "")
	page, _ := m["clients"].([]any)
	if len(page) != 2 || m["next_cursor"] == nil {
		t.Fatalf("filtered first page: %v", m)
	}
	for _, c := range page {
		if c.(map[string]any)["initial_access_token"] != badID {
			t.Errorf("filtered listing shows %v", c)
		}
	}
	for _, q := range []string{"", "?initial_access_token=xyz", "?policy=p", "?policy=p@123"} {
		if status, m := e.adm("DELETE", "/admin/tenants/acme/clients"+q, ""); status != http.StatusBadRequest {
			t.Errorf("bulk delete %q: %d %v", q, status, m)
		}
	}
	status, m = e.adm("DELETE", "/admin/tenants/acme/clients?initial_access_token="+badID, "")
	if status != 200 || m["deleted"] != 3.0 {
		t.Fatalf("bulk delete: %d %v", status, m)
	}
	for _, id := range badClients {
		if status, _ := e.adm("GET", "/admin/tenants/acme/clients/"+id, ""); status != http.StatusNotFound {
			t.Errorf("client %s survived the bulk delete", id)
		}
	}
	if status, _ := e.adm("GET", "/admin/tenants/acme/clients/"+keep, ""); status != http.StatusOK {
		t.Error("the bulk delete took a client of another token")
	}
	_, m = e.adm("GET", "/admin/tenants/acme/audit?limit=1", "")
	if ev := m["events"].([]any); len(ev) != 1 || ev[0].(map[string]any)["type"] != "clients.bulk_deleted" || m["next_cursor"] == nil {
		t.Errorf("newest audit event: %v", m)
	}
}

// The audit log pages newest first and never mixes tenants.
func TestAuditLog(t *testing.T) {
	e := setup(t)
	iat, iatID := e.mint("acme")
	c := e.registerWith(iat, "/tenants/acme")
	e.mint("globex-2")
	var types []string
	cursor := ""
	for page := 0; page < 10; page++ {
		_, m := e.adm("GET", "/admin/tenants/acme/audit?limit=1&cursor="+cursor, "")
		for _, ev := range m["events"].([]any) {
			ev := ev.(map[string]any)
			if ev["tenant"] != "acme" {
				t.Errorf("acme's log holds %v", ev)
			}
			types = append(types, ev["type"].(string))
			if ev["type"] == "client.registered" && (ev["client_id"] != c["client_id"] || ev["token_id"] != iatID || ev["actor"] != "initial-access-token:"+iatID || ev["request_id"] == nil) {
				t.Errorf("registration event: %v", ev)
			}
		}
		next, _ := m["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if got := strings.Join(types, ","); got != "client.registered,initial_access_token.minted" {
		t.Errorf("acme's events, newest first: %s", got)
	}
	if strings.Contains(fmt.Sprint(types), "secret") {
		t.Error("an audit event mentions a secret")
	}
}
