package adminapi_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/registrar-dev/registrar/adminapi"
	"github.com/registrar-dev/registrar/engine"
)

// listing is one paged admin route and how to fill it.
type listing struct {
	name  string
	path  string // the route, without a query
	items string // the member that holds the page's items
	key   string // the member of an item that orders the listing
	// newest says the listing runs newest first (the audit logs), not by
	// ascending key.
	newest bool
	// seed adds at least three items to the listing.
	seed func(e *env)
}

func listings() []listing {
	return []listing{
		{name: "tenants", path: "/admin/tenants", items: "tenants", key: "name", seed: func(e *env) {
			for _, n := range []string{"t-1", "t-2", "t-3"} {
				if status, m := e.adm("PUT", "/admin/tenants/"+n, `{}`); status != http.StatusCreated {
					e.t.Fatalf("create %s: %d %v", n, status, m)
				}
			}
		}},
		{name: "initial access tokens", path: "/admin/tenants/acme/initial-access-tokens", items: "initial_access_tokens", key: "id", seed: func(e *env) {
			for range 3 {
				e.mint("acme")
			}
		}},
		{name: "clients", path: "/admin/tenants/acme/clients", items: "clients", key: "client_id", seed: func(e *env) {
			iat, _ := e.mint("acme")
			for range 3 {
				e.registerWith(iat, "/tenants/acme")
			}
		}},
		{name: "policies", path: "/admin/tenants/acme/policies", items: "policies", key: "name", seed: func(e *env) {
			for _, n := range []string{"p-1", "p-2", "p-3"} {
				if status, _, m := e.upload("/admin/tenants/acme/policies/"+n, token, fixture(e.t, "accept"), nil); status != http.StatusCreated {
					e.t.Fatalf("upload %s: %d %v", n, status, m)
				}
			}
		}},
		{name: "admin tokens", path: "/admin/tenants/acme/admin-tokens", items: "admin_tokens", key: "id", seed: func(e *env) {
			for range 3 {
				e.adminToken("acme")
			}
		}},
		{name: "tenant audit log", path: "/admin/tenants/acme/audit", items: "events", key: "id", newest: true, seed: func(e *env) {
			for range 3 {
				e.mint("acme")
			}
		}},
		{name: "process audit log", path: "/admin/audit", items: "events", key: "id", newest: true, seed: func(e *env) {
			// Shared modules loaded or refused are the process's events;
			// this process has no policy folder, so there are none: the
			// listing is checked for an empty page and for its cursors.
		}},
	}
}

// TestListingsPage: every listing pages the same way, limit and cursor in,
// next_cursor out, and answers 400 invalid_request to a cursor it did not
// give: garbage, another listing's cursor, or a bare key (the form cursors
// had before they were opaque).
func TestListingsPage(t *testing.T) {
	for _, l := range listings() {
		t.Run(l.name, func(t *testing.T) {
			e := setupPolicies(t)
			l.seed(e)
			status, m := e.adm("GET", l.path+"?limit=500", "")
			if status != http.StatusOK {
				t.Fatalf("the whole listing: %d %v", status, m)
			}
			var want []string
			for _, it := range m[l.items].([]any) {
				want = append(want, fmt.Sprint(it.(map[string]any)[l.key]))
			}
			if m["next_cursor"] != nil {
				t.Errorf("next_cursor on the only page: %v", m["next_cursor"])
			}
			if !l.newest && !slices.IsSorted(want) {
				t.Errorf("listing not sorted by %s: %v", l.key, want)
			}
			var got []string
			cursor, lastCursor := "", ""
			for pages := 0; ; pages++ {
				if pages > len(want)+1 {
					t.Fatal("paging does not end")
				}
				status, m := e.adm("GET", l.path+"?limit=2&cursor="+cursor, "")
				if status != http.StatusOK {
					t.Fatalf("page %d: %d %v", pages, status, m)
				}
				page := m[l.items].([]any)
				if len(page) > 2 {
					t.Fatalf("page of %d items, limit 2", len(page))
				}
				for _, it := range page {
					got = append(got, fmt.Sprint(it.(map[string]any)[l.key]))
				}
				next, _ := m["next_cursor"].(string)
				if next == "" {
					break
				}
				cursor, lastCursor = next, next
			}
			if !slices.Equal(got, want) {
				t.Errorf("paged through %v, want %v", got, want)
			}
			if l.name != "process audit log" && (len(want) < 3 || lastCursor == "") {
				t.Errorf("%d items, last cursor %q: the seed did not make several pages", len(want), lastCursor)
			}

			bad := []string{
				"not-a-cursor!",
				base64.RawURLEncoding.EncodeToString([]byte("elsewhere:" + strings.Repeat("a", 64))),
				base64.RawURLEncoding.EncodeToString([]byte(l.path + ":")),
			}
			if len(want) > 0 {
				bad = append(bad, want[0]) // a bare key
			}
			if lastCursor != "" {
				b, _ := base64.RawURLEncoding.DecodeString(lastCursor)
				_, key, _ := strings.Cut(string(b), ":")
				bad = append(bad, base64.RawURLEncoding.EncodeToString([]byte("another-listing:"+key)))
			}
			for _, c := range bad {
				if status, m := e.adm("GET", l.path+"?cursor="+c, ""); status != http.StatusBadRequest || m["error"] != "invalid_request" {
					t.Errorf("cursor %q: %d %v, want 400 invalid_request", c, status, m)
				}
			}
			for _, q := range []string{"limit=0", "limit=501", "limit=x"} {
				if status, m := e.adm("GET", l.path+"?"+q, ""); status != http.StatusBadRequest || m["error"] != "invalid_request" {
					t.Errorf("%s: %d %v, want 400 invalid_request", q, status, m)
				}
			}
		})
	}
}

// TestCursorOfAnotherListing: a cursor is bound to its listing; another
// listing refuses it even when its key would fit.
func TestCursorOfAnotherListing(t *testing.T) {
	e := setup(t)
	for range 3 {
		e.mint("acme")
		e.adminToken("acme")
	}
	_, m := e.adm("GET", "/admin/tenants/acme/initial-access-tokens?limit=1", "")
	cursor, _ := m["next_cursor"].(string)
	if cursor == "" {
		t.Fatalf("no next_cursor: %v", m)
	}
	if status, m := e.adm("GET", "/admin/tenants/acme/admin-tokens?cursor="+cursor, ""); status != http.StatusBadRequest {
		t.Errorf("an initial access token cursor on the admin token listing: %d %v", status, m)
	}
}

// TestAuditRefusesBefore: the audit log's old paging parameter is refused,
// not ignored, so that a client written for it does not loop on page one.
func TestAuditRefusesBefore(t *testing.T) {
	e := setup(t)
	e.mint("acme")
	for _, path := range []string{"/admin/tenants/acme/audit?before=", "/admin/audit?before=1-0"} {
		if status, m := e.adm("GET", path, ""); status != http.StatusBadRequest || !strings.Contains(fmt.Sprint(m["error_description"]), "cursor") {
			t.Errorf("%s: %d %v, want 400 naming cursor", path, status, m)
		}
	}
}

// TestAdminTimes: times are RFC 3339 in UTC to the second; an unset one is
// left out, never written as zero.
func TestAdminTimes(t *testing.T) {
	e := setup(t)
	if status, m := e.adm("PUT", "/admin/tenants/short", `{"registration_validity":"PT1H","initial_access_token":"none"}`); status != http.StatusCreated {
		t.Fatalf("create tenant: %d %v", status, m)
	}
	_, stored := e.adm("GET", "/admin/tenants/short", "")
	created := adminTime(t, stored["created_at"])
	if !adminTime(t, stored["updated_at"]).Equal(created) {
		t.Errorf("a fresh tenant: created_at %v, updated_at %v", stored["created_at"], stored["updated_at"])
	}
	if _, config := e.adm("GET", "/admin/tenants/acme", ""); config["created_at"] != nil || config["updated_at"] != nil {
		t.Errorf("a tenant of the configuration has times: %v", config)
	}

	c := e.registerWith("", "/tenants/short")
	_, v := e.adm("GET", "/admin/tenants/short/clients/"+c["client_id"].(string), "")
	registered := adminTime(t, v["created_at"])
	if got := adminTime(t, v["expires_at"]).Sub(registered); got.Hours() != 1 {
		t.Errorf("expires_at - created_at = %v, want the tenant's 1h validity", got)
	}
	if issued := c["client_id_issued_at"].(float64); int64(issued) != registered.Unix() {
		t.Errorf("the RFC 7591 response says client_id_issued_at %v, the admin view created_at %v", issued, v["created_at"])
	}
	if h := v["history"].([]any)[0].(map[string]any); !adminTime(t, h["at"]).Equal(registered) {
		t.Errorf("history[0].at %v, want %v", h["at"], v["created_at"])
	}
	if v["initial_access_token"] != nil || v["issued_by"] != nil {
		t.Errorf("an open registration names a token: %v", v)
	}

	iat, id := e.mint("acme")
	c = e.registerWith(iat, "/tenants/acme")
	_, v = e.adm("GET", "/admin/tenants/acme/clients/"+c["client_id"].(string), "")
	if _, ok := v["expires_at"]; ok {
		t.Errorf("a registration without validity has expires_at %v", v["expires_at"])
	}
	h := v["history"].([]any)[0].(map[string]any)
	if v["initial_access_token"] != id || h["initial_access_token"] != id || v["issued_by"] != nil {
		t.Errorf("the admitting token: %v and history %v, want initial_access_token %s in both", v, h, id)
	}
}

// TestOpenAPIResponsesCovered: a walk through every operation answers each
// documented JSON success at least once, and every answer matches the
// document (checked by the admin server itself, see checked).
func TestOpenAPIResponsesCovered(t *testing.T) {
	var mu sync.Mutex
	answered := map[string]bool{}
	e := setupPoliciesAnswered(t, func(op string) { mu.Lock(); answered[op] = true; mu.Unlock() })
	ok := func(method, path, body string, want int) map[string]any {
		t.Helper()
		status, m := e.adm(method, path, body)
		if status != want {
			t.Fatalf("%s %s: %d %v, want %d", method, path, status, m, want)
		}
		return m
	}
	ok("GET", "/admin/openapi.json", "", 200)
	ok("GET", "/admin/tenants", "", 200)
	ok("PUT", "/admin/tenants/walk", `{}`, 201)
	ok("PUT", "/admin/tenants/walk", `{"max_clients":5}`, 200)
	ok("GET", "/admin/tenants/walk", "", 200)

	m := ok("POST", "/admin/tenants/walk/initial-access-tokens", `{"expires_in":"PT1H"}`, 201)
	iat, iatID := m["initial_access_token"].(string), m["id"].(string)
	ok("GET", "/admin/tenants/walk/initial-access-tokens", "", 200)
	ok("GET", "/admin/tenants/walk/initial-access-tokens/"+iatID, "", 200)
	c := e.registerWith(iat, "/tenants/walk")
	id := c["client_id"].(string)
	ok("GET", "/admin/tenants/walk/clients", "", 200)
	ok("GET", "/admin/tenants/walk/clients/"+id, "", 200)
	ok("POST", "/admin/tenants/walk/clients/"+id+"/registration-access-token", "", 201)

	const p = "/admin/tenants/walk/policies/namer"
	v1, v2 := fixture(t, "accept"), fixture(t, "accept-v2")
	d1, d2 := engine.HashToken(string(v1)), engine.HashToken(string(v2))
	if status, _, m := e.upload(p, token, v1, nil); status != 201 {
		t.Fatalf("upload: %d %v", status, m)
	}
	if status, _, m := e.upload(p, token, v2, nil); status != 200 {
		t.Fatalf("second upload: %d %v", status, m)
	}
	ok("GET", "/admin/tenants/walk/policies", "", 200)
	ok("GET", p, "", 200)
	ok("POST", p+"/activate", `{"digest":"`+d1+`"}`, 200)
	ok("POST", p+"/shadow", `{"digest":"`+d2+`"}`, 200)
	ok("POST", p+"/promote", "", 200)
	ok("POST", p+"/evaluate", `{"metadata":{"redirect_uris":["https://app.example/cb"]}}`, 200)
	ok("GET", "/admin/policies/status", "", 200)

	m = ok("POST", "/admin/tenants/walk/admin-tokens", `{"description":"walk"}`, 201)
	ok("GET", "/admin/tenants/walk/admin-tokens", "", 200)
	ok("DELETE", "/admin/tenants/walk/admin-tokens/"+m["id"].(string), "", 204)
	ok("POST", "/admin/tenants/walk/keys/rotate", "", 200)
	ok("GET", "/admin/tenants/walk/keys", "", 200)
	ok("GET", "/admin/tenants/walk/audit", "", 200)
	ok("GET", "/admin/audit", "", 200)
	ok("DELETE", "/admin/tenants/walk/clients?initial_access_token="+iatID, "", 200)
	ok("DELETE", p, "", 204)
	ok("DELETE", "/admin/tenants/walk", "", 204)

	mu.Lock()
	defer mu.Unlock()
	for _, op := range adminapi.JSONSuccesses(t) {
		if !answered[op] {
			t.Errorf("no test answered %s", op)
		}
	}
}
