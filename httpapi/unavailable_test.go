package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/registrar-dev/registrar/engine"
)

// flakyStore is a memstore that can be switched off, failing every call
// with engine.ErrUnavailable as a store whose server is down does.
type flakyStore struct {
	engine.Store
	down atomic.Bool
}

func (s *flakyStore) err() error {
	if s.down.Load() {
		return fmt.Errorf("dial tcp 127.0.0.1:6379: connection refused: %w", engine.ErrUnavailable)
	}
	return nil
}

func (s *flakyStore) CreateClient(ctx context.Context, c *engine.Client, replace bool) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.CreateClient(ctx, c, replace)
}

func (s *flakyStore) Client(ctx context.Context, tenant, id string) (*engine.Client, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.Client(ctx, tenant, id)
}

func (s *flakyStore) InitialAccessToken(ctx context.Context, tenant, id string) (*engine.InitialAccessToken, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.InitialAccessToken(ctx, tenant, id)
}

func (s *flakyStore) Ping(ctx context.Context) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.Ping(ctx)
}

// TestStoreDown: with the store unreachable, requests get 503
// temporarily_unavailable with Retry-After, readiness fails, and service
// resumes when the store is back.
func TestStoreDown(t *testing.T) {
	var store *flakyStore
	s := newServerWith(t, tenants, func(inner engine.Store) engine.Store {
		store = &flakyStore{Store: inner}
		return store
	})
	c := s.register("/tenants/open", "", webClient)
	read := func() response {
		return s.get("/tenants/open/reg/"+c["client_id"].(string), bearer(c["registration_access_token"].(string)))
	}

	store.down.Store(true)
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

	store.down.Store(false)
	if r := read(); r.StatusCode != http.StatusOK {
		t.Errorf("read after recovery: %d %s", r.StatusCode, r.body)
	}
	if r := s.get("/readyz"); r.StatusCode != http.StatusOK {
		t.Errorf("readyz after recovery: %d", r.StatusCode)
	}
}
