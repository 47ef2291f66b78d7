package engine_test

import (
	"context"
	"testing"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/memstore"
)

// countingStore counts the full reads of the tenants, and can make the
// store's change numbers go back (as a store replaced by an empty one
// would).
type countingStore struct {
	*memstore.Store
	fullReads int
	lost      bool
}

func (s *countingStore) Tenants(ctx context.Context) ([]*engine.TenantRecord, error) {
	s.fullReads++
	return s.Store.Tenants(ctx)
}

func (s *countingStore) TenantChanges(ctx context.Context, since int64) (*engine.TenantChanges, error) {
	ch, err := s.Store.TenantChanges(ctx, since)
	if err == nil && s.lost {
		ch.Latest = 0
	}
	return ch, err
}

// TestRefreshReadsChanges: after its first Refresh, a replica reads only
// the tenants changed since (no full read), and sees creates, updates and
// deletes made by another; when the store's changes go back it reads
// every tenant again.
func TestRefreshReadsChanges(t *testing.T) {
	ctx := context.Background()
	store := &countingStore{Store: memstore.New(memstore.Config{})}
	mk := func() *engine.Registrar {
		r, err := engine.New(engine.Config{Store: store, Keys: jose.KeySetChecker{}, Logger: testkit.DiscardLogger()})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b := mk(), mk()
	open := engine.Settings{InitialAccessToken: engine.TokenNone}
	for _, name := range []string{"one", "two"} {
		if _, _, err := a.PutTenant(ctx, name, open, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if store.fullReads != 1 || !b.HasTenant("one") || !b.HasTenant("two") {
		t.Fatalf("first refresh: %d full reads, one %v, two %v", store.fullReads, b.HasTenant("one"), b.HasTenant("two"))
	}
	if _, _, err := a.PutTenant(ctx, "three", open, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.PutTenant(ctx, "one", engine.Settings{}, 1); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteTenant(ctx, "two"); err != nil {
		t.Fatal(err)
	}
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if store.fullReads != 1 {
		t.Errorf("a refresh read every tenant: %d full reads", store.fullReads)
	}
	if caps, err := b.Capabilities("one"); err != nil || caps.OpenRegistration {
		t.Errorf("b serves the old settings of one: %+v %v", caps, err)
	}
	if !b.HasTenant("three") || b.HasTenant("two") {
		t.Errorf("after the changes: three served %v, two served %v", b.HasTenant("three"), b.HasTenant("two"))
	}
	if got := b.TenantNames(); len(got) != 3 || got[0] != "default" || got[1] != "one" || got[2] != "three" {
		t.Errorf("TenantNames = %v", got)
	}

	// The store went back: a tenant deleted behind b's back is dropped by
	// the full read that follows.
	if err := store.Store.DeleteTenant(ctx, "three"); err != nil {
		t.Fatal(err)
	}
	store.lost = true
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if store.fullReads != 2 || b.HasTenant("three") || !b.HasTenant("one") {
		t.Errorf("after the store went back: %d full reads, three served %v, one served %v", store.fullReads, b.HasTenant("three"), b.HasTenant("one"))
	}
}
