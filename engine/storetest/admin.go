package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// newAdminToken returns an admin token of tenant whose ID is made from
// seed, with every field but ExpiresAt set.
func newAdminToken(tenant, seed string) *engine.AdminToken {
	return &engine.AdminToken{
		Tenant:      tenant,
		ID:          engine.HashToken("admin " + seed),
		Description: "given to " + seed,
		CreatedAt:   now(),
	}
}

// mustCreateAdminToken stores a, failing the test if that fails.
func mustCreateAdminToken(t *testing.T, s engine.Store, a *engine.AdminToken) {
	t.Helper()
	if err := s.CreateAdminToken(t.Context(), a); err != nil {
		t.Fatalf("CreateAdminToken(%s/%s): %v", a.Tenant, a.ID, err)
	}
}

// mustAdminToken reads an admin token that must be there.
func mustAdminToken(t *testing.T, s engine.Store, tenant, id string) *engine.AdminToken {
	t.Helper()
	a, err := s.AdminToken(t.Context(), tenant, id)
	if err != nil {
		t.Fatalf("AdminToken(%s/%s): %v", tenant, id, err)
	}
	return a
}

// checkAdminToken is checkClient for admin tokens.
func checkAdminToken(t *testing.T, what string, got, want *engine.AdminToken) bool {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got a nil admin token", what)
		return false
	}
	ok := checkTimes(t, what, []timeField{
		{"CreatedAt", got.CreatedAt, want.CreatedAt},
		{"ExpiresAt", got.ExpiresAt, want.ExpiresAt},
	})
	g, w := got.Clone(), want.Clone()
	g.CreatedAt, g.ExpiresAt = time.Time{}, time.Time{}
	w.CreatedAt, w.ExpiresAt = time.Time{}, time.Time{}
	return checkJSON(t, what, g, w) && ok
}

// adminIDs lists the IDs of a tenant's admin tokens, checking that they
// are the tenant's and sorted.
func adminIDs(t *testing.T, s engine.Store, tenant string) []string {
	t.Helper()
	tokens, err := s.AdminTokens(t.Context(), tenant)
	if err != nil {
		t.Fatalf("AdminTokens(%s): %v", tenant, err)
	}
	var ids []string
	for _, a := range tokens {
		if a.Tenant != tenant {
			t.Errorf("AdminTokens(%s) returned token %s/%s", tenant, a.Tenant, a.ID)
		}
		ids = append(ids, a.ID)
	}
	if !slices.IsSorted(ids) {
		t.Errorf("AdminTokens(%s) are not sorted by ID: %q", tenant, ids)
	}
	return ids
}

func testAdminTokenCRUD(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant := newTenant()
	want := newAdminToken(tenant, "crud")
	want.ExpiresAt = now().Add(time.Hour)
	arg := want.Clone()
	mustCreateAdminToken(t, s, arg)
	checkAdminToken(t, "argument of CreateAdminToken after the call", arg, want)
	checkAdminToken(t, "AdminToken after CreateAdminToken", mustAdminToken(t, s, tenant, want.ID), want)

	dup := newAdminToken(tenant, "crud")
	dup.Description = "duplicate"
	checkErr(t, "CreateAdminToken of a live ID", s.CreateAdminToken(ctx, dup), engine.ErrAlreadyExists)
	checkAdminToken(t, "AdminToken after a refused create", mustAdminToken(t, s, tenant, want.ID), want)

	// The store neither keeps nor hands out its tokens.
	arg.Description, arg.ExpiresAt = "scribbled", arg.ExpiresAt.Add(time.Hour)
	got := mustAdminToken(t, s, tenant, want.ID)
	got.Description, got.Tenant = "scribbled", "scribbled"
	list, err := s.AdminTokens(ctx, tenant)
	if err != nil || len(list) != 1 {
		t.Fatalf("AdminTokens = %d tokens, %v; want 1", len(list), err)
	}
	checkAdminToken(t, "AdminTokens entry", list[0], want)
	list[0].Description = "scribbled"
	checkAdminToken(t, "AdminToken after changing what the store handled", mustAdminToken(t, s, tenant, want.ID), want)

	if err := s.DeleteAdminToken(ctx, tenant, want.ID); err != nil {
		t.Fatalf("DeleteAdminToken: %v", err)
	}
	checkNoAdminToken(t, s, tenant, want.ID)
	checkErr(t, "DeleteAdminToken after delete", s.DeleteAdminToken(ctx, tenant, want.ID), engine.ErrNotFound)
	if ids := adminIDs(t, s, tenant); len(ids) != 0 {
		t.Errorf("AdminTokens after delete = %q, want none", ids)
	}

	// The ID is free again; this token never expires.
	mustCreateAdminToken(t, s, dup)
	checkAdminToken(t, "AdminToken after creating a deleted ID again", mustAdminToken(t, s, tenant, want.ID), dup)
}

// checkNoAdminToken checks that the admin token is absent.
func checkNoAdminToken(t *testing.T, s engine.Store, tenant, id string) {
	t.Helper()
	a, err := s.AdminToken(t.Context(), tenant, id)
	if !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("AdminToken(%s/%s) = %+v, %v; want ErrNotFound", tenant, id, a, err)
	}
}

// testAdminTokens lists admin tokens, sorted, without the expired ones and
// without those of other tenants.
func testAdminTokens(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant := newTenant()
	neighbours := []string{tenant + "b", tenant + "-b"}
	const ttl = 300 * time.Millisecond
	soon := now().Add(ttl)
	tokens, want := createAdminTokens(t, s, tenant, neighbours)
	expired := newAdminToken(tenant, "expired")
	expired.ExpiresAt = now().Add(-time.Minute)
	if err := s.CreateAdminToken(ctx, expired); err != nil {
		t.Fatalf("CreateAdminToken of an expired token: %v", err)
	}
	// Two tokens expire together: the test waits for one, and lists
	// before it reads the other, as a read of an expired record might
	// remove it and the listing must not need that.
	expiring, waited := newAdminToken(tenant, "expiring"), newAdminToken(tenant, "waited")
	for _, a := range []*engine.AdminToken{expiring, waited} {
		a.ExpiresAt = soon
		mustCreateAdminToken(t, s, a)
	}
	checkAdminTokensBeforeExpiry(t, s, tenant, want, soon, ttl, expiring.ID, waited.ID)

	eventually(t, "expiring admin token disappears", func() bool {
		_, err := s.AdminToken(ctx, tenant, waited.ID)
		if err != nil && !errors.Is(err, engine.ErrNotFound) {
			t.Fatalf("AdminToken: %v", err)
		}
		return err != nil
	})
	checkAdminTokensAfterExpiry(t, s, tenant, tokens, want, expired, expiring)
	// An expired ID is free again.
	mustCreateAdminToken(t, s, newAdminToken(tenant, "expiring"))
	checkAdminTokenNeighbours(t, s, tenant, neighbours, tokens, want)
}

// createAdminTokens creates five admin tokens of tenant, one with an expiry
// an hour away, and tokens of the same seeds for each neighbour. It returns
// the tenant's tokens by ID, and their IDs sorted.
func createAdminTokens(t *testing.T, s engine.Store, tenant string, neighbours []string) (map[string]*engine.AdminToken, []string) {
	t.Helper()
	tokens := map[string]*engine.AdminToken{}
	var want []string
	for _, seed := range []string{"m", "a", "z", "q", "c"} {
		a := newAdminToken(tenant, seed)
		if seed == "q" {
			a.ExpiresAt = now().Add(time.Hour)
		}
		mustCreateAdminToken(t, s, a)
		tokens[a.ID] = a
		want = append(want, a.ID)
		for _, neighbour := range neighbours {
			mustCreateAdminToken(t, s, newAdminToken(neighbour, seed))
		}
	}
	slices.Sort(want)
	return tokens, want
}

// checkAdminTokensBeforeExpiry checks that the listing holds the expiring
// tokens too, if the test is quick enough to list them before soon.
func checkAdminTokensBeforeExpiry(t *testing.T, s engine.Store, tenant string, want []string, soon time.Time, ttl time.Duration, expiring ...string) {
	t.Helper()
	if time.Until(soon) <= ttl/3 {
		t.Logf("the test was too slow to list the admin tokens before they expire")
		return
	}
	all := slices.Sorted(slices.Values(append(slices.Clone(want), expiring...)))
	if got := adminIDs(t, s, tenant); !slices.Equal(got, all) && time.Until(soon) > 0 {
		t.Errorf("AdminTokens before the expiry = %q, want %q", got, all)
	}
}

// checkAdminTokensAfterExpiry checks that the listing holds the tenant's
// live tokens, whole, and that the expired ones are gone.
func checkAdminTokensAfterExpiry(t *testing.T, s engine.Store, tenant string, tokens map[string]*engine.AdminToken, want []string, expired ...*engine.AdminToken) {
	t.Helper()
	ctx := t.Context()
	if got := adminIDs(t, s, tenant); !slices.Equal(got, want) {
		t.Errorf("AdminTokens = %q, want %q", got, want)
	}
	for _, a := range expired {
		checkNoAdminToken(t, s, tenant, a.ID)
		checkErr(t, "DeleteAdminToken of an expired token", s.DeleteAdminToken(ctx, tenant, a.ID), engine.ErrNotFound)
	}
	list, err := s.AdminTokens(ctx, tenant)
	if err != nil {
		t.Fatalf("AdminTokens: %v", err)
	}
	for _, a := range list {
		checkAdminToken(t, "AdminTokens entry", a, tokens[a.ID])
	}
}

// checkAdminTokenNeighbours checks that deleting a neighbour's token leaves
// the tenant's alone, and the other way round.
func checkAdminTokenNeighbours(t *testing.T, s engine.Store, tenant string, neighbours []string, tokens map[string]*engine.AdminToken, want []string) {
	t.Helper()
	ctx := t.Context()
	if err := s.DeleteAdminToken(ctx, neighbours[0], want[0]); err != nil {
		t.Fatalf("DeleteAdminToken(%s): %v", neighbours[0], err)
	}
	if err := s.DeleteAdminToken(ctx, tenant, want[1]); err != nil {
		t.Fatalf("DeleteAdminToken(%s): %v", tenant, err)
	}
	checkAdminToken(t, "the tenant's token after deleting the neighbour's", mustAdminToken(t, s, tenant, want[0]), tokens[want[0]])
	mustAdminToken(t, s, neighbours[0], want[1])
	for _, tc := range []struct {
		tenant string
		want   []string
	}{
		{neighbours[0], slices.Delete(slices.Clone(want), 0, 1)},
		{neighbours[1], want},
		{newTenant(), nil},
	} {
		if got := adminIDs(t, s, tc.tenant); !slices.Equal(got, tc.want) {
			t.Errorf("AdminTokens(%s) = %q, want %q", tc.tenant, got, tc.want)
		}
	}
	checkNoAdminToken(t, s, neighbours[0], want[0])
	checkNoAdminToken(t, s, tenant, want[1])
	checkNoAdminToken(t, s, tenant+"-", want[0])
}
