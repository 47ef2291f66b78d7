package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/engine/storetest"
)

// TestStoreDown: with the store unreachable, requests get 503
// temporarily_unavailable with Retry-After, readiness fails, and service
// resumes when the store is back.
func TestStoreDown(t *testing.T) {
	var store *storetest.Switch
	s := newServerWith(t, tenants, func(inner engine.Store) engine.Store {
		store = storetest.NewSwitch(inner)
		return store
	})
	c := s.register("/tenants/open", "", webClient)
	read := func() response {
		return s.get("/tenants/open/reg/"+c["client_id"].(string), bearer(c["registration_access_token"].(string)))
	}

	store.SetDown(true)
	golden(t, "error-unavailable", s.do(s.public, "POST", "/tenants/open/reg", webClient))
	for name, r := range map[string]response{
		"register": s.do(s.public, "POST", "/tenants/open/reg", webClient),
		"read":     read(),
		"readyz":   s.get("/readyz"),
		"admin":    s.adminDo("GET", "/admin/tenants/open/clients/"+c["client_id"].(string), ""),
	} {
		if r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
			t.Errorf("%s with the store down: %d, Retry-After %q", name, r.StatusCode, r.Header.Get("Retry-After"))
		}
	}
	if r := s.get("/healthz"); r.StatusCode != http.StatusOK {
		t.Errorf("healthz depends on the store: %d", r.StatusCode)
	}

	store.SetDown(false)
	if r := read(); r.StatusCode != http.StatusOK {
		t.Errorf("read after recovery: %d %s", r.StatusCode, r.body)
	}
	if r := s.get("/readyz"); r.StatusCode != http.StatusOK {
		t.Errorf("readyz after recovery: %d", r.StatusCode)
	}
}
