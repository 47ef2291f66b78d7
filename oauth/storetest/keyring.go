package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/oauth"
)

// newRing returns a ring of two keys, one active and one next.
func newRing(tenant string) *oauth.KeyRing {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return &oauth.KeyRing{Tenant: tenant, Keys: []oauth.SigningKey{
		{
			ID: "kid-a", Algorithm: "RS256", State: oauth.KeyActive, CreatedAt: now.Add(-time.Hour), ActivatedAt: now,
			Public: json.RawMessage(`{"kty":"RSA","kid":"kid-a","n":"AQAB","e":"AQAB"}`), Private: "seal1.k.AAAA",
		},
		{
			ID: "kid-b", Algorithm: "RS256", State: oauth.KeyNext, CreatedAt: now,
			Public: json.RawMessage(`{"kty":"RSA","kid":"kid-b","n":"AQAB","e":"AQAB"}`), Private: "seal1.k.BBBB",
		},
		{
			ID: "kid-c", Algorithm: "RS256", State: oauth.KeyRetired, CreatedAt: now.Add(-2 * time.Hour),
			ActivatedAt: now.Add(-2 * time.Hour), RetiredAt: now.Add(-time.Hour), RetireAt: now.Add(time.Hour),
			Public: json.RawMessage(`{"kty":"RSA","kid":"kid-c","n":"AQAB","e":"AQAB"}`), Private: "seal1.k.CCCC",
		},
	}}
}

// equalRing compares rings key by key, times by Equal and JSON by value.
func equalRing(t *testing.T, got, want *oauth.KeyRing) {
	t.Helper()
	if got.Tenant != want.Tenant || got.Revision != want.Revision || len(got.Keys) != len(want.Keys) {
		t.Fatalf("ring %s rev %d with %d keys, want %s rev %d with %d keys", got.Tenant, got.Revision, len(got.Keys), want.Tenant, want.Revision, len(want.Keys))
	}
	for i := range got.Keys {
		g, w := got.Keys[i], want.Keys[i]
		var gp, wp any
		_ = json.Unmarshal(g.Public, &gp)
		_ = json.Unmarshal(w.Public, &wp)
		if !reflect.DeepEqual(gp, wp) || !g.CreatedAt.Equal(w.CreatedAt) || !g.ActivatedAt.Equal(w.ActivatedAt) ||
			!g.RetiredAt.Equal(w.RetiredAt) || !g.RetireAt.Equal(w.RetireAt) ||
			g.ID != w.ID || g.Algorithm != w.Algorithm || g.State != w.State || g.Private != w.Private {
			t.Errorf("key %d:\n%+v\nwant\n%+v", i, g, w)
		}
	}
}

func testKeyRingRoundTrip(t *testing.T, s oauth.Store) {
	ctx := context.Background()
	tenant := newTenant()
	if _, err := s.KeyRing(ctx, tenant); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("KeyRing before any put: %v, want ErrNotFound", err)
	}
	ring := newRing(tenant)
	want := ring.Clone()
	if err := s.PutKeyRing(ctx, ring, 0); err != nil {
		t.Fatalf("PutKeyRing: %v", err)
	}
	ring.Keys[0].ID, ring.Keys[0].Public[2] = "changed", 'X'
	got, err := s.KeyRing(ctx, tenant)
	if err != nil {
		t.Fatalf("KeyRing: %v", err)
	}
	want.Revision = 1
	equalRing(t, got, want)
	got.Keys[1].State, got.Keys[1].Public[2] = oauth.KeyRetired, 'Y'
	again, err := s.KeyRing(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	equalRing(t, again, want)
	// Another tenant has none.
	if _, err := s.KeyRing(ctx, newTenant()); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("another tenant's KeyRing: %v, want ErrNotFound", err)
	}
}

func testKeyRingRevision(t *testing.T, s oauth.Store) {
	ctx := context.Background()
	tenant := newTenant()
	ring := newRing(tenant)
	if err := s.PutKeyRing(ctx, ring, 1); !errors.Is(err, engine.ErrRevisionMismatch) {
		t.Fatalf("PutKeyRing(ifRevision 1) with none stored: %v, want ErrRevisionMismatch", err)
	}
	if err := s.PutKeyRing(ctx, ring, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.PutKeyRing(ctx, ring, 0); !errors.Is(err, engine.ErrRevisionMismatch) {
		t.Fatalf("a second PutKeyRing(ifRevision 0): %v, want ErrRevisionMismatch", err)
	}
	next := newRing(tenant)
	next.Keys = next.Keys[1:]
	if err := s.PutKeyRing(ctx, next, 1); err != nil {
		t.Fatalf("PutKeyRing(ifRevision 1): %v", err)
	}
	for _, rev := range []int64{0, 1, 3, -1} {
		if err := s.PutKeyRing(ctx, ring, rev); !errors.Is(err, engine.ErrRevisionMismatch) {
			t.Errorf("PutKeyRing(ifRevision %d) at revision 2: %v, want ErrRevisionMismatch", rev, err)
		}
	}
	got, err := s.KeyRing(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	next.Revision = 2
	equalRing(t, got, next)
}

func testKeyRingConcurrent(t *testing.T, s oauth.Store) {
	ctx := context.Background()
	tenant := newTenant()
	const racers = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := []int{}
	for r := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ring := newRing(tenant)
			ring.Keys[0].Private = "seal1.k.racer" + string(rune('a'+r))
			err := s.PutKeyRing(ctx, ring, 0)
			switch {
			case err == nil:
				mu.Lock()
				won = append(won, r)
				mu.Unlock()
			case !errors.Is(err, engine.ErrRevisionMismatch):
				t.Errorf("PutKeyRing: %v", err)
			}
		}()
	}
	wg.Wait()
	if len(won) != 1 {
		t.Fatalf("%d of %d concurrent first puts succeeded, want exactly 1", len(won), racers)
	}
	got, err := s.KeyRing(ctx, tenant)
	if err != nil || got.Keys[0].Private != "seal1.k.racer"+string(rune('a'+won[0])) {
		t.Errorf("the stored ring is not the winner's: %+v, %v", got, err)
	}
}
