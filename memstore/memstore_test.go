package memstore

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/engine/storetest"
	"github.com/registrar-dev/registrar/internal/testkit"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) engine.Store { return New(Config{}) })
}

// auditMaxLen is the audit log cap of the conformance run: small, so that
// the suite reaches it quickly.
const auditMaxLen = 20

func TestAuditLogConformance(t *testing.T) {
	storetest.RunAuditLog(t, func(*testing.T) engine.AuditLog { return New(Config{AuditMaxLen: auditMaxLen}) }, auditMaxLen)
}

func TestLimiterConformance(t *testing.T) {
	storetest.RunLimiter(t, func(*testing.T) engine.Limiter { return New(Config{}) })
}

func TestPolicyStoreConformance(t *testing.T) {
	storetest.RunPolicyStore(t, func(*testing.T) engine.PolicyStore { return New(Config{}) })
}

func TestPolicyLimitsConformance(t *testing.T) {
	storetest.RunPolicyLimits(t, func(_ *testing.T, l engine.PolicyLimits) engine.PolicyStore { return New(Config{PolicyLimits: l}) })
}

// newClock returns a clock that moves only when told to.
func newClock() *testkit.Clock {
	return testkit.NewClock(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))
}

func newStore() (*Store, *testkit.Clock) {
	clk := newClock()
	return New(Config{Now: clk.Now}), clk
}

// checkIndex checks that each tenant's ID indexes list exactly its stored
// clients and tokens, in order.
func checkIndex(t *testing.T, s *Store) {
	t.Helper()
	for tenant, sp := range s.spaces {
		for _, ix := range []struct {
			name string
			ix   *index
			want []string
			has  func(string) bool
		}{
			{"client", &sp.clientIDs, slices.Sorted(maps.Keys(sp.clients)), sp.hasClient},
			{"token", &sp.tokenIDs, slices.Sorted(maps.Keys(sp.tokens)), sp.hasToken},
		} {
			if got := ix.ix.ids(ix.has); !slices.Equal(got, ix.want) {
				t.Errorf("%s index of %s = %q, want %q", ix.name, tenant, got, ix.want)
			}
		}
	}
}

// counts returns how many clients and tokens the store holds, expired ones
// included.
func counts(s *Store) (clients, tokens int) {
	for _, sp := range s.spaces {
		clients += len(sp.clients)
		tokens += len(sp.tokens)
	}
	return clients, tokens
}

func TestExpiryFollowsClock(t *testing.T) {
	ctx := t.Context()
	s, clk := newStore()
	expiresAt := clk.Now().Add(time.Minute)
	c := &engine.Client{Tenant: "t", ID: "c", ExpiresAt: expiresAt}
	if err := s.CreateClient(ctx, c, engine.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tok := &engine.InitialAccessToken{Tenant: "t", ID: "tok", ExpiresAt: expiresAt}
	if err := s.CreateInitialAccessToken(ctx, tok); err != nil {
		t.Fatal(err)
	}

	clk.Advance(time.Minute - time.Nanosecond)
	if _, err := s.Client(ctx, "t", "c"); err != nil {
		t.Errorf("Client just before the expiry: %v", err)
	}
	if _, err := s.InitialAccessToken(ctx, "t", "tok"); err != nil {
		t.Errorf("InitialAccessToken just before the expiry: %v", err)
	}
	if page, _, err := s.Clients(ctx, "t", engine.ClientFilter{}, "", 10); err != nil || len(page) != 1 {
		t.Errorf("Clients just before the expiry = %d clients, %v; want 1", len(page), err)
	}

	clk.Advance(time.Nanosecond)
	if _, err := s.Client(ctx, "t", "c"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("Client at the expiry: got error %v, want ErrNotFound", err)
	}
	if _, err := s.InitialAccessToken(ctx, "t", "tok"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("InitialAccessToken at the expiry: got error %v, want ErrNotFound", err)
	}
	if page, next, err := s.Clients(ctx, "t", engine.ClientFilter{}, "", 10); err != nil || len(page) != 0 || next != "" {
		t.Errorf("Clients at the expiry = %d clients, %q, %v; want none", len(page), next, err)
	}
	// The reads freed the expired records.
	if nc, nt := counts(s); nc != 0 || nt != 0 {
		t.Errorf("after reading expired records the store holds %d clients and %d tokens; want none", nc, nt)
	}
	if err := s.CreateClient(ctx, &engine.Client{Tenant: "t", ID: "c"}, engine.CreateOptions{}); err != nil {
		t.Errorf("CreateClient over an expired client: %v", err)
	}
}

func TestSweepFreesExpired(t *testing.T) {
	ctx := t.Context()
	s, clk := newStore()
	const n = 300
	expiresAt := clk.Now().Add(time.Minute)
	for i := range n {
		tenant := fmt.Sprintf("t%d", i%3)
		id := fmt.Sprintf("c%03d", i)
		if err := s.CreateClient(ctx, &engine.Client{Tenant: tenant, ID: id, ExpiresAt: expiresAt}, engine.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateInitialAccessToken(ctx, &engine.InitialAccessToken{Tenant: tenant, ID: id, ExpiresAt: expiresAt}); err != nil {
			t.Fatal(err)
		}
	}
	keeper := &engine.Client{Tenant: "t0", ID: "keeper"}
	if err := s.CreateClient(ctx, keeper, engine.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if nc, nt := counts(s); nc != n+1 || nt != n {
		t.Fatalf("before the expiry the store holds %d clients and %d tokens, want %d and %d", nc, nt, n+1, n)
	}
	checkIndex(t, s)

	// Writes that never touch the expired records free them: within as many
	// writes as there are records.
	clk.Advance(time.Hour)
	nc, nt := counts(s)
	records := nc + nt
	for i := 0; ; i++ {
		if nc, nt = counts(s); nc <= 1 {
			break
		}
		if i > records {
			t.Fatalf("%d writes after the expiry left %d clients and %d tokens", i, nc, nt)
		}
		if _, err := s.UpdateClient(ctx, "t0", "keeper", func(*engine.Client) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if _, nt := counts(s); nt != 0 {
		t.Errorf("the sweep left %d expired tokens", nt)
	}
	checkIndex(t, s)
	if got := slices.Collect(maps.Keys(s.spaces)); !slices.Equal(got, []string{"t0"}) {
		t.Errorf("tenants after the sweep = %q, want [t0]", got)
	}
}

// TestMemoryBounded writes short-lived records without ever reading them
// back: the store never holds many more than the live ones.
func TestMemoryBounded(t *testing.T) {
	ctx := t.Context()
	s, clk := newStore()
	for i := range 10 * minSweepWrites {
		expiresAt := clk.Now().Add(time.Second)
		id := fmt.Sprintf("c%d", i)
		if err := s.CreateClient(ctx, &engine.Client{Tenant: "t", ID: id, ExpiresAt: expiresAt}, engine.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateInitialAccessToken(ctx, &engine.InitialAccessToken{Tenant: "t", ID: id, ExpiresAt: expiresAt}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
		if nc, nt := counts(s); nc+nt > 2*minSweepWrites+2 {
			t.Fatalf("after %d writes of records that live one second the store holds %d", 2*(i+1), nc+nt)
		}
	}
}

// TestIndexRandomOps runs random writes under a moving clock and checks that
// the index and the listing agree with the stored clients.
func TestIndexRandomOps(t *testing.T) {
	ctx := t.Context()
	s, clk := newStore()
	rng := rand.New(rand.NewPCG(1, 2))
	tenants := []string{"a", "ab", "a-b"}
	for range 5000 {
		tenant := tenants[rng.IntN(len(tenants))]
		id := fmt.Sprintf("c%02d", rng.IntN(40))
		switch rng.IntN(4) {
		case 0, 1:
			var expiresAt time.Time
			if rng.IntN(2) == 0 {
				expiresAt = clk.Now().Add(time.Duration(1+rng.IntN(20)) * time.Second)
			}
			err := s.CreateClient(ctx, &engine.Client{Tenant: tenant, ID: id, ExpiresAt: expiresAt}, engine.CreateOptions{Replace: rng.IntN(2) == 0})
			if err != nil && !errors.Is(err, engine.ErrAlreadyExists) {
				t.Fatal(err)
			}
		case 2:
			if err := s.DeleteClient(ctx, tenant, id); err != nil && !errors.Is(err, engine.ErrNotFound) {
				t.Fatal(err)
			}
		case 3:
			clk.Advance(time.Second)
		}
	}
	checkIndex(t, s)
	for _, tenant := range tenants {
		var want []string
		var stored map[string]*engine.Client
		if sp := s.spaces[tenant]; sp != nil {
			stored = sp.clients
		}
		for id, c := range stored {
			if engine.Live(c.ExpiresAt, clk.Now()) {
				want = append(want, id)
			}
		}
		slices.Sort(want)
		var got []string
		after := ""
		for {
			page, next, err := s.Clients(ctx, tenant, engine.ClientFilter{}, after, 3)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range page {
				got = append(got, c.ID)
			}
			if next == "" {
				break
			}
			after = next
		}
		if !slices.Equal(got, want) {
			t.Errorf("Clients(%s) = %q, want %q", tenant, got, want)
		}
	}
}

func TestUpdateClientKeepsKey(t *testing.T) {
	ctx := t.Context()
	s, _ := newStore()
	if err := s.CreateClient(ctx, &engine.Client{Tenant: "t", ID: "c"}, engine.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, change := range []func(*engine.Client){
		func(c *engine.Client) { c.ID = "other" },
		func(c *engine.Client) { c.Tenant = "other" },
	} {
		_, err := s.UpdateClient(ctx, "t", "c", func(c *engine.Client) error {
			change(c)
			c.Metadata.ClientName = "changed"
			return nil
		})
		if !errors.Is(err, errKeyChanged) {
			t.Errorf("UpdateClient that changes the key: got error %v, want errKeyChanged", err)
		}
	}
	c, err := s.Client(ctx, "t", "c")
	if err != nil || c.Metadata.ClientName != "" {
		t.Errorf("Client after refused updates = %+v, %v; want it unchanged", c, err)
	}
	if nc, _ := counts(s); nc != 1 {
		t.Errorf("the store holds %d clients, want 1", nc)
	}
}

func TestListingsRejectBadLimit(t *testing.T) {
	s, _ := newStore()
	ctx := t.Context()
	for _, limit := range []int{0, -1} {
		if _, _, err := s.Clients(ctx, "t", engine.ClientFilter{}, "", limit); err == nil {
			t.Errorf("Clients with limit %d: no error", limit)
		}
		if _, _, err := s.InitialAccessTokens(ctx, "t", "", limit); err == nil {
			t.Errorf("InitialAccessTokens with limit %d: no error", limit)
		}
	}
}
