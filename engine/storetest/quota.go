package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// quota returns CreateOptions that bound the tenant to max clients.
func quota(max int) engine.CreateOptions { return engine.CreateOptions{MaxClients: max} }

// testQuota checks that MaxClients bounds the live clients of a tenant, and
// only of that tenant.
func testQuota(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant := newTenant()
	// Neighbours whose clients must not count.
	for _, neighbour := range []string{tenant + "b", tenant + "-b"} {
		for _, id := range []string{"n1", "n2", "n3", "n4"} {
			mustCreateClient(t, s, newClient(neighbour, id))
		}
	}

	for _, tc := range []struct {
		id   string
		opts engine.CreateOptions
		want error
	}{
		{"a", quota(3), nil},
		{"b", quota(3), nil},
		{"c", engine.CreateOptions{Replace: true, MaxClients: 3}, nil}, // an absent client is created
		{"d", quota(3), engine.ErrQuotaExceeded},
		{"d", engine.CreateOptions{Replace: true, MaxClients: 3}, engine.ErrQuotaExceeded},
		{"b", engine.CreateOptions{Replace: true, MaxClients: 3}, nil}, // replacing adds none
		{"b", engine.CreateOptions{Replace: true, MaxClients: 1}, nil}, // even over the bound
		{"b", quota(3), engine.ErrAlreadyExists},                       // the ID is checked first
		{"d", quota(4), nil},
		{"e", quota(4), engine.ErrQuotaExceeded},
		{"e", quota(1), engine.ErrQuotaExceeded},
		{"e", quota(0), nil}, // no bound
		{"f", engine.CreateOptions{}, nil},
		{"g", quota(7), nil},
		{"h", quota(7), engine.ErrQuotaExceeded},
	} {
		c := newClient(tenant, tc.id)
		c.Metadata.ClientName = fmt.Sprintf("%s with %+v", tc.id, tc.opts)
		err := s.CreateClient(ctx, c, tc.opts)
		what := fmt.Sprintf("CreateClient(%s, %+v)", tc.id, tc.opts)
		if tc.want == nil {
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			checkClient(t, "Client after "+what, mustClient(t, s, tenant, tc.id), c)
			continue
		}
		checkErr(t, what, err, tc.want)
		if errors.Is(tc.want, engine.ErrQuotaExceeded) {
			checkNoClient(t, s, tenant, tc.id)
		}
	}
	want := []string{"a", "b", "c", "d", "e", "f", "g"}
	if got := listIDs(t, s, tenant, 10); !slices.Equal(got, want) {
		t.Errorf("Clients = %q, want %q", got, want)
	}

	// A deleted client frees its place.
	if err := s.DeleteClient(ctx, tenant, "a"); err != nil {
		t.Fatalf("DeleteClient: %v", err)
	}
	if err := s.CreateClient(ctx, newClient(tenant, "h"), quota(7)); err != nil {
		t.Errorf("CreateClient after a delete freed a place: %v", err)
	}
	checkErr(t, "CreateClient at the bound again", s.CreateClient(ctx, newClient(tenant, "i"), quota(7)), engine.ErrQuotaExceeded)
}

// testQuotaExpired checks that expired clients do not count: neither those
// written already expired nor those that expire later.
func testQuotaExpired(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant := newTenant()
	const ttl = 300 * time.Millisecond
	past, soon := now().Add(-time.Minute), now().Add(ttl)
	for i := range 3 {
		c := newClient(tenant, fmt.Sprintf("a-expired-%d", i))
		c.ExpiresAt = past
		if err := s.CreateClient(ctx, c, engine.CreateOptions{}); err != nil {
			t.Fatalf("CreateClient of an expired client: %v", err)
		}
	}
	forever := newClient(tenant, "b-forever")
	mustCreateClient(t, s, forever)
	for i := range 2 {
		c := newClient(tenant, fmt.Sprintf("c-expiring-%d", i))
		c.ExpiresAt = soon
		if err := s.CreateClient(ctx, c, quota(3)); err != nil {
			t.Fatalf("CreateClient(%s) within the bound: %v", c.ID, err)
		}
	}
	// Three live clients: the bound of 3 is reached, unless the test was
	// too slow and the expiring ones are gone already.
	err := s.CreateClient(ctx, newClient(tenant, "d-refused"), quota(3))
	if err == nil && time.Until(soon) > 0 {
		t.Errorf("CreateClient over the bound before the expiry succeeded")
	} else if err != nil && !errors.Is(err, engine.ErrQuotaExceeded) {
		t.Errorf("CreateClient over the bound: got error %v, want ErrQuotaExceeded", err)
	}
	_ = s.DeleteClient(ctx, tenant, "d-refused") // in case the test was slow

	eventually(t, "expiring clients disappear", func() bool {
		_, err := s.Client(ctx, tenant, "c-expiring-1")
		if err != nil && !errors.Is(err, engine.ErrNotFound) {
			t.Fatalf("Client: %v", err)
		}
		return err != nil
	})
	// Only b-forever is live: two more fit, and a third does not.
	for _, id := range []string{"e-after-1", "e-after-2"} {
		if err := s.CreateClient(ctx, newClient(tenant, id), quota(3)); err != nil {
			t.Errorf("CreateClient(%s) after the expiry freed places: %v", id, err)
		}
	}
	checkErr(t, "CreateClient over the bound after the expiry",
		s.CreateClient(ctx, newClient(tenant, "e-after-3"), quota(3)), engine.ErrQuotaExceeded)
	if got, want := listIDs(t, s, tenant, 10), []string{"b-forever", "e-after-1", "e-after-2"}; !slices.Equal(got, want) {
		t.Errorf("Clients = %q, want %q", got, want)
	}
}

// testQuotaToken checks that a create refused for the quota consumes no
// token use, and that a replacement within the quota does.
func testQuotaToken(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant := newTenant()
	tok := newToken(tenant, engine.HashToken("quota"), 0)
	mustCreateToken(t, s, tok)
	mustCreateClient(t, s, issuedClient(tenant, "first", tok.ID))
	mustCreateClient(t, s, newClient(tenant, "second"))
	checkUses(t, s, tenant, tok.ID, 1)

	for range 3 {
		err := s.CreateClient(ctx, issuedClient(tenant, "third", tok.ID), quota(2))
		checkErr(t, "CreateClient with a token over the bound", err, engine.ErrQuotaExceeded)
	}
	checkNoClient(t, s, tenant, "third")
	checkUses(t, s, tenant, tok.ID, 1)

	r := issuedClient(tenant, "second", tok.ID)
	r.Metadata.ClientName = "replacement"
	if err := s.CreateClient(ctx, r, engine.CreateOptions{Replace: true, MaxClients: 2}); err != nil {
		t.Fatalf("CreateClient with replace and a token at the bound: %v", err)
	}
	checkUses(t, s, tenant, tok.ID, 2)
	checkClient(t, "Client after the replacement", mustClient(t, s, tenant, "second"), r)
}

// testCreateCheckOrder checks that CreateClient checks, in order, the
// tombstone, the token, the existing ID and the quota: each case fails two
// of the checks and must report the earlier one.
func testCreateCheckOrder(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant, deleted := newTenant(), newTenant()
	spent := newToken(tenant, engine.HashToken("spent"), 1)
	mustCreateToken(t, s, spent)
	mustCreateClient(t, s, issuedClient(tenant, "taken", spent.ID))
	live := newToken(tenant, engine.HashToken("live"), 0)
	mustCreateToken(t, s, live)
	if err := s.DeleteTenant(ctx, deleted); err != nil {
		t.Fatalf("DeleteTenant: %v", err)
	}
	missing := engine.HashToken("missing")

	for _, tc := range []struct {
		name string
		c    *engine.Client
		opts engine.CreateOptions
		want error
	}{
		{"tombstone before token", issuedClient(deleted, "new", missing), engine.CreateOptions{}, engine.ErrNoTenant},
		{"tombstone before quota", newClient(deleted, "new"), quota(1), engine.ErrNoTenant},
		{"missing token before ID", issuedClient(tenant, "taken", missing), engine.CreateOptions{}, engine.ErrNotFound},
		{"spent token before ID", issuedClient(tenant, "taken", spent.ID), engine.CreateOptions{}, engine.ErrTokenExhausted},
		{"missing token before quota", issuedClient(tenant, "new", missing), quota(1), engine.ErrNotFound},
		{"spent token before quota", issuedClient(tenant, "new", spent.ID), quota(1), engine.ErrTokenExhausted},
		{"ID before quota", issuedClient(tenant, "taken", live.ID), quota(1), engine.ErrAlreadyExists},
	} {
		checkErr(t, tc.name, s.CreateClient(ctx, tc.c, tc.opts), tc.want)
		checkNoClient(t, s, tc.c.Tenant, "new")
	}
	checkUses(t, s, tenant, live.ID, 0)
	checkUses(t, s, tenant, spent.ID, 1)
	if ids := listIDs(t, s, deleted, 10); len(ids) != 0 {
		t.Errorf("Clients of the deleted tenant = %q, want none", ids)
	}
}

// testConcurrentQuota registers many clients at once under a bound that
// admits only some of them, each with the same unlimited token.
func testConcurrentQuota(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant := newTenant()
	n := goroutines()
	bound := n / 5
	tok := newToken(tenant, engine.HashToken("hammer"), 0)
	mustCreateToken(t, s, tok)
	// One client is there already, and is replaced during the hammer: a
	// replacement is never refused, and never makes room for another.
	mustCreateClient(t, s, newClient(tenant, "c-000"))

	errs := make([]error, n)
	hammer(n, func(i int) {
		errs[i] = s.CreateClient(ctx, issuedClient(tenant, fmt.Sprintf("c-%03d", i), tok.ID),
			engine.CreateOptions{Replace: i == 0, MaxClients: bound})
	})
	var admitted []string
	for i, err := range errs {
		id := fmt.Sprintf("c-%03d", i)
		switch {
		case err == nil:
			admitted = append(admitted, id)
		case i == 0:
			t.Errorf("the replacement of c-000: %v", err)
		case errors.Is(err, engine.ErrQuotaExceeded):
			checkNoClient(t, s, tenant, id)
		default:
			t.Errorf("CreateClient(%s): %v", id, err)
		}
	}
	if len(admitted) != bound {
		t.Errorf("%d of %d registrations (one a replacement) under a bound of %d succeeded", len(admitted), n, bound)
	}
	checkUses(t, s, tenant, tok.ID, int64(len(admitted)))
	if got := listIDs(t, s, tenant, 100); !slices.Equal(got, admitted) {
		t.Errorf("Clients = %q, want the admitted %q", got, admitted)
	}
}
