package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/oauth"
)

// createC1 stores the tenant's client c1, named "one", in s, which must
// also be the clients' store, and returns s as that store.
func createC1(t *testing.T, s oauth.Store, tenant string, now time.Time) engine.Store {
	t.Helper()
	clients, ok := s.(engine.Store)
	if !ok {
		t.Fatal("a ClientMarkReader must also be the clients' store (engine.Store)")
	}
	c := &engine.Client{Tenant: tenant, ID: "c1", IssuedAt: now, UpdatedAt: now,
		Metadata: engine.Metadata{ClientName: "one", RedirectURIs: []string{"https://a.example/cb"}}}
	if err := clients.CreateClient(context.Background(), c, engine.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return clients
}

// testClientMarked checks oauth.ClientMarkReader: the live client (a
// copy) or nil, and the mark's liveness, in every combination, per tenant.
func testClientMarked(t *testing.T, s oauth.Store) {
	r, ok := s.(oauth.ClientMarkReader)
	if !ok {
		t.Skip("the store is not a ClientMarkReader")
	}
	ctx := context.Background()
	tenant := newTenant()
	now := time.Now()
	createC1(t, s, tenant, now)
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

// testClientTokenWriter checks oauth.ClientTokenWriter: ClientRecord reads
// what ClientMarked reads plus a record that changes with the client, and
// PutTokenIf stores a token only while the client has that record and the
// mark is not live, storing nothing otherwise.
func testClientTokenWriter(t *testing.T, s oauth.Store) {
	w, ok := s.(oauth.ClientTokenWriter)
	if !ok {
		t.Skip("the store is not a ClientTokenWriter")
	}
	ctx := context.Background()
	tenant := newTenant()
	now := time.Now()
	clients := createC1(t, s, tenant, now)
	record := checkClientRecord(t, w, tenant)

	// Unchanged and unmarked: stored, once.
	tok := newToken(tenant, time.Hour)
	tok.ClientID = "c1"
	if marked, changed, err := w.PutTokenIf(ctx, tok, record, "lockout:c1"); marked || changed || err != nil {
		t.Fatalf("PutTokenIf: marked %v, changed %v, %v", marked, changed, err)
	}
	if got, err := get(t, s, tenant, tok.Digest); err != nil || !equal(got, tok) {
		t.Errorf("the token PutTokenIf stored: %+v, %v", got, err)
	}
	if _, _, err := w.PutTokenIf(ctx, tok, record, ""); !errors.Is(err, engine.ErrAlreadyExists) {
		t.Errorf("PutTokenIf of a digest already stored: %v, want engine.ErrAlreadyExists", err)
	}

	mark(t, s, tenant, "lockout:c1", now.Add(time.Hour))
	refusedToken(t, w, tenant, "marked", record, "lockout:c1", true, false)
	if _, _, marked, _ := w.ClientRecord(ctx, tenant, "c1", "lockout:c1"); !marked {
		t.Error("ClientRecord does not see the live mark")
	}
	if _, err := clients.UpdateClient(ctx, tenant, "c1", func(c *engine.Client) error {
		c.Metadata.ClientName = "two"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	refusedToken(t, w, tenant, "changed", record, "", false, true)
	refusedToken(t, w, tenant, "marked and changed", record, "lockout:c1", true, false)
	_, current, _, err := w.ClientRecord(ctx, tenant, "c1", "")
	if err != nil || current == record {
		t.Fatalf("the record did not change with the client: %q, %v", current, err)
	}
	if err := clients.DeleteClient(ctx, tenant, "c1"); err != nil {
		t.Fatal(err)
	}
	refusedToken(t, w, tenant, "deleted", current, "", false, true)
}

// checkClientRecord checks ClientRecord on the tenant's client c1 (named
// "one") and on a client that is not there, and returns c1's record.
func checkClientRecord(t *testing.T, w oauth.ClientTokenWriter, tenant string) string {
	t.Helper()
	ctx := context.Background()
	got, record, marked, err := w.ClientRecord(ctx, tenant, "c1", "")
	if err != nil || got == nil || got.Metadata.ClientName != "one" || record == "" || marked {
		t.Fatalf("ClientRecord: %+v, record %q, marked %v, %v", got, record, marked, err)
	}
	if _, again, _, _ := w.ClientRecord(ctx, tenant, "c1", "lockout:c1"); again != record {
		t.Errorf("ClientRecord gave two records of one client: %q and %q", record, again)
	}
	if got, rec, _, err := w.ClientRecord(ctx, tenant, "none", ""); got != nil || rec != "" || err != nil {
		t.Errorf("ClientRecord of no client: %v, %q, %v", got, rec, err)
	}
	return record
}

// refusedToken checks that PutTokenIf of a new token of c1 with record and
// key stores nothing and reports what it should.
func refusedToken(t *testing.T, w oauth.ClientTokenWriter, tenant, name, record, key string, wantMarked, wantChanged bool) {
	t.Helper()
	tok := newToken(tenant, time.Hour)
	tok.ClientID = "c1"
	marked, changed, err := w.PutTokenIf(context.Background(), tok, record, key)
	if err != nil || marked != wantMarked || changed != wantChanged {
		t.Errorf("%s: marked %v, changed %v, %v; want %v, %v", name, marked, changed, err, wantMarked, wantChanged)
	}
	if _, err := w.(oauth.Store).Token(context.Background(), tenant, tok.Digest); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("%s: a token was stored (%v)", name, err)
	}
}
