package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/oauth"
)

// testClientMarked checks oauth.ClientMarkReader: the live client (a
// copy) or nil, and the mark's liveness, in every combination, per tenant.
func testClientMarked(t *testing.T, s oauth.Store) {
	r, ok := s.(oauth.ClientMarkReader)
	if !ok {
		t.Skip("the store is not a ClientMarkReader")
	}
	clients, ok := s.(engine.Store)
	if !ok {
		t.Fatal("a ClientMarkReader must also be the clients' store (engine.Store)")
	}
	ctx := context.Background()
	tenant := newTenant()
	now := time.Now()
	c := &engine.Client{Tenant: tenant, ID: "c1", IssuedAt: now, UpdatedAt: now,
		Metadata: engine.Metadata{ClientName: "one", RedirectURIs: []string{"https://a.example/cb"}}}
	if err := clients.CreateClient(ctx, c, engine.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	mark(t, s, tenant, "lockout:c2", now.Add(time.Hour))
	mark(t, s, tenant, "lockout:gone", now.Add(-time.Second))
	for _, tc := range []struct {
		tenant, id, key string
		client, marked  bool
	}{
		{tenant, "c1", "lockout:c1", true, false},
		{tenant, "c2", "lockout:c2", false, true},
		{tenant, "c1", "lockout:c2", true, true},
		{tenant, "c3", "lockout:gone", false, false},
		{"other-" + tenant, "c1", "lockout:c2", false, false},
	} {
		got, marked, err := r.ClientMarked(ctx, tc.tenant, tc.id, tc.key)
		if err != nil {
			t.Errorf("ClientMarked(%s, %s, %s): %v", tc.tenant, tc.id, tc.key, err)
			continue
		}
		if (got != nil) != tc.client || marked != tc.marked {
			t.Errorf("ClientMarked(%s, %s, %s): client %v, marked %v; want client %v, marked %v", tc.tenant, tc.id, tc.key, got != nil, marked, tc.client, tc.marked)
		}
		if got != nil && (got.ID != "c1" || got.Metadata.ClientName != "one" || !got.IssuedAt.Equal(now)) {
			t.Errorf("ClientMarked returned %+v, want the stored client", got)
		}
	}
	got, _, _ := r.ClientMarked(ctx, tenant, "c1", "x")
	got.Metadata.RedirectURIs[0] = "https://changed.example/cb"
	if again, _, _ := r.ClientMarked(ctx, tenant, "c1", "x"); again.Metadata.RedirectURIs[0] != "https://a.example/cb" {
		t.Error("ClientMarked returned the store's own memory, not a copy")
	}
}
