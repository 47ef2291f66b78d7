package memstore

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// TestTombstoneFollowsClock checks that a deleted tenant refuses creates
// for engine.TombstoneTTL by the store's clock, and that the sweep frees
// the tombstone afterwards.
func TestTombstoneFollowsClock(t *testing.T) {
	ctx := t.Context()
	s, clk := newStore()
	if err := s.CreateClient(ctx, &engine.Client{Tenant: "t", ID: "c"}, engine.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTenant(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.spaces["t"]; ok {
		t.Errorf("DeleteTenant left the tenant's records in memory")
	}
	creates := []struct {
		name   string
		create func() error
	}{
		{"CreateClient", func() error {
			return s.CreateClient(ctx, &engine.Client{Tenant: "t", ID: "c"}, engine.CreateOptions{})
		}},
		{"CreateInitialAccessToken", func() error {
			return s.CreateInitialAccessToken(ctx, &engine.InitialAccessToken{Tenant: "t", ID: "tok"})
		}},
		{"CreateAdminToken", func() error { return s.CreateAdminToken(ctx, &engine.AdminToken{Tenant: "t", ID: "adm"}) }},
	}
	clk.Advance(engine.TombstoneTTL - time.Nanosecond)
	for _, c := range creates {
		if err := c.create(); !errors.Is(err, engine.ErrNoTenant) {
			t.Errorf("%s just before the tombstone expires: got error %v, want ErrNoTenant", c.name, err)
		}
	}
	clk.Advance(time.Nanosecond)
	for _, c := range creates {
		if err := c.create(); err != nil {
			t.Errorf("%s when the tombstone expires: %v", c.name, err)
		}
	}

	// Tombstones nobody reads are swept.
	for i := range minSweepWrites {
		if err := s.DeleteTenant(ctx, fmt.Sprint("gone-", i)); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(engine.TombstoneTTL)
	for i := range 2 * minSweepWrites {
		if err := s.CreateClient(ctx, &engine.Client{Tenant: "t", ID: fmt.Sprint("c", i)}, engine.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.tombstones) != 0 {
		t.Errorf("%d expired tombstones are still in memory", len(s.tombstones))
	}
}

// TestQuotaRandomOps runs random writes under a moving clock and checks
// every quota decision against a count of the live clients.
func TestQuotaRandomOps(t *testing.T) {
	ctx := t.Context()
	s, clk := newStore()
	rng := rand.New(rand.NewPCG(3, 4))
	const bound = 12
	live := func() int {
		n := 0
		if sp := s.spaces["t"]; sp != nil {
			for _, c := range sp.clients {
				if engine.Live(c.ExpiresAt, clk.Now()) {
					n++
				}
			}
		}
		return n
	}
	refused := 0
	for range 5000 {
		id := fmt.Sprintf("c%02d", rng.IntN(30))
		var expiresAt time.Time
		if rng.IntN(3) > 0 {
			expiresAt = clk.Now().Add(time.Duration(1+rng.IntN(30)) * time.Second)
		}
		switch rng.IntN(5) {
		case 0, 1:
			opts := engine.CreateOptions{Replace: rng.IntN(2) == 0, MaxClients: bound}
			_, err := s.Client(ctx, "t", id)
			exists := err == nil
			n := live()
			err = s.CreateClient(ctx, &engine.Client{Tenant: "t", ID: id, ExpiresAt: expiresAt}, opts)
			switch {
			case exists && !opts.Replace:
				if !errors.Is(err, engine.ErrAlreadyExists) {
					t.Fatalf("CreateClient of a live ID: %v", err)
				}
			case !exists && n >= bound:
				if !errors.Is(err, engine.ErrQuotaExceeded) {
					t.Fatalf("CreateClient with %d live clients and a bound of %d: got error %v, want ErrQuotaExceeded", n, bound, err)
				}
				refused++
			case err != nil:
				t.Fatalf("CreateClient with %d live clients (exists %t, %+v): %v", n, exists, opts, err)
			}
		case 2:
			_, err := s.UpdateClient(ctx, "t", id, func(c *engine.Client) error {
				c.ExpiresAt = expiresAt
				return nil
			})
			if err != nil && !errors.Is(err, engine.ErrNotFound) {
				t.Fatal(err)
			}
		case 3:
			if err := s.DeleteClient(ctx, "t", id); err != nil && !errors.Is(err, engine.ErrNotFound) {
				t.Fatal(err)
			}
		case 4:
			clk.Advance(time.Duration(rng.IntN(3)) * time.Second)
		}
		if n := live(); n > bound+1 { // +1: a replacement of a live client is never refused
			t.Fatalf("the tenant has %d live clients, bound %d", n, bound)
		}
	}
	if refused == 0 {
		t.Errorf("no create was refused: the test does not reach the bound")
	}
	checkIndex(t, s)
}

// TestDeleteTenantKeepsAuditLog checks that DeleteTenant leaves the
// tenant's audit log, as the contract says.
func TestDeleteTenantKeepsAuditLog(t *testing.T) {
	ctx := t.Context()
	s, _ := newStore()
	id, err := s.AppendAudit(ctx, &engine.AuditEvent{Tenant: "t", Type: engine.AuditTenantCreated})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTenant(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	events, _, err := s.AuditEvents(ctx, "t", "", 10)
	if err != nil || len(events) != 1 || events[0].ID != id {
		t.Errorf("AuditEvents after DeleteTenant = %d events, %v; want the one appended before", len(events), err)
	}
}
