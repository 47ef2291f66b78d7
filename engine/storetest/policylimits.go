package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/registrar-dev/registrar/engine"
)

// RunPolicyLimits runs the conformance suite of the per-tenant limits of
// engine.PolicyStore (engine.PolicyLimits) against the stores newStore
// makes with the limits given, one fresh store for each subtest.
//
// Where the documentation is silent, the suite decides:
//
//   - A tenant's policies are the names with a record or with bytes; a
//     PutPolicyBlob or UpdatePolicy for a new name when the tenant has
//     MaxPolicies fails with a *engine.PolicyLimitError (Bytes false) and
//     stores nothing. Names the tenant has already are never refused for
//     their number, and removing one makes room.
//   - A tenant's bytes are those of every blob its policies keep, listed
//     or not. PutPolicyBlob of new bytes that would bring the total over
//     MaxBytes fails with a *engine.PolicyLimitError (Bytes true) and
//     stores nothing; exactly MaxBytes is allowed; putting bytes kept
//     already is a no-op that always succeeds. Bytes an update drops, and
//     a removal, free room.
//   - Each tenant has its own limits; writes racing for the last place are
//     decided atomically: exactly as many succeed as there is room for.
func RunPolicyLimits(t *testing.T, newStore func(t *testing.T, l engine.PolicyLimits) engine.PolicyStore) {
	tests := []struct {
		name string
		run  func(*testing.T, func(engine.PolicyLimits) engine.PolicyStore)
	}{
		{"Count", testPolicyCount},
		{"Bytes", testPolicyBytes},
		{"Race", testPolicyLimitRace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, func(l engine.PolicyLimits) engine.PolicyStore { return newStore(t, l) })
		})
	}
}

// wantLimit fails unless err is a *engine.PolicyLimitError for that limit.
func wantLimit(t *testing.T, what string, err error, bytes bool, limit int64) {
	t.Helper()
	var le *engine.PolicyLimitError
	if !errors.As(err, &le) || !errors.Is(err, engine.ErrPolicyLimit) || le.Bytes != bytes || le.Limit != limit {
		t.Errorf("%s: err = %v, want a PolicyLimitError{Bytes: %v, Limit: %d}", what, err, bytes, limit)
	}
}

func testPolicyCount(t *testing.T, newStore func(engine.PolicyLimits) engine.PolicyStore) {
	ctx := t.Context()
	s := newStore(engine.PolicyLimits{MaxPolicies: 3})
	tenant, other := newTenant(), newTenant()
	mustPutBlob(t, s, tenant, "a", "a1")
	mustPutBlob(t, s, tenant, "b", "b1")
	mustUpdatePolicy(t, s, tenant, "c", put(newPolicy(tenant, "c", "c1"))) // a record without bytes counts
	b, d := module("d1")
	wantLimit(t, "PutPolicyBlob of a fourth policy", s.PutPolicyBlob(ctx, tenant, "d", d, b), false, 3)
	checkNoBlob(t, s, tenant, "d", d)
	_, err := s.UpdatePolicy(ctx, tenant, "e", put(newPolicy(tenant, "e", "e1")))
	wantLimit(t, "UpdatePolicy creating a fourth policy", err, false, 3)
	if _, err := s.StoredPolicy(ctx, tenant, "e"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("StoredPolicy of the refused policy: %v, want ErrNotFound", err)
	}
	// The policies it has may grow and change.
	mustPutBlob(t, s, tenant, "a", "a2")
	mustUpdatePolicy(t, s, tenant, "a", put(newPolicy(tenant, "a", "a2", "a1")))
	mustUpdatePolicy(t, s, tenant, "c", put(newPolicy(tenant, "c", "c2")))
	// Another tenant has its own count.
	mustPutBlob(t, s, other, "d", "d1")
	// A removal makes room.
	mustUpdatePolicy(t, s, tenant, "b", remove)
	mustPutBlob(t, s, tenant, "d", "d1")
	mustUpdatePolicy(t, s, tenant, "d", put(newPolicy(tenant, "d", "d1")))
}

func testPolicyBytes(t *testing.T, newStore func(engine.PolicyLimits) engine.PolicyStore) {
	ctx := t.Context()
	one, _ := module("v1") // every seed below has the same length
	size := int64(len(one))
	s := newStore(engine.PolicyLimits{MaxBytes: 3 * size})
	tenant, other := newTenant(), newTenant()
	v1 := mustPutBlob(t, s, tenant, "a", "v1")
	mustPutBlob(t, s, tenant, "a", "v2")
	mustPutBlob(t, s, tenant, "b", "v3") // exactly the limit
	b, d := module("v4")
	wantLimit(t, "PutPolicyBlob over the limit", s.PutPolicyBlob(ctx, tenant, "b", d, b), true, 3*size)
	checkNoBlob(t, s, tenant, "b", d)
	wantLimit(t, "PutPolicyBlob over the limit, new name", s.PutPolicyBlob(ctx, tenant, "c", d, b), true, 3*size)
	checkNoBlob(t, s, tenant, "c", d)
	mustPutBlob(t, s, tenant, "a", "v1") // kept already: a no-op
	mustPutBlob(t, s, other, "b", "v4")  // another tenant has its own bytes
	// An update that drops a version frees its bytes.
	mustUpdatePolicy(t, s, tenant, "a", put(newPolicy(tenant, "a", "v2", "v1")))
	mustUpdatePolicy(t, s, tenant, "a", put(newPolicy(tenant, "a", "v2")))
	checkNoBlob(t, s, tenant, "a", v1)
	mustPutBlob(t, s, tenant, "b", "v4")
	wantLimit(t, "PutPolicyBlob over the limit again", s.PutPolicyBlob(ctx, tenant, "b", v1, one), true, 3*size)
	// So does a removal.
	mustUpdatePolicy(t, s, tenant, "b", remove)
	mustPutBlob(t, s, tenant, "c", "v1")
}

func testPolicyLimitRace(t *testing.T, newStore func(engine.PolicyLimits) engine.PolicyStore) {
	ctx := t.Context()
	s := newStore(engine.PolicyLimits{MaxPolicies: 4})
	tenant := newTenant()
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			b, d := module(fmt.Sprintf("race-%02d", i))
			errs[i] = s.PutPolicyBlob(ctx, tenant, fmt.Sprintf("p%02d", i), d, b)
		})
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, engine.ErrPolicyLimit):
			t.Errorf("PutPolicyBlob %d: %v", i, err)
		}
	}
	if ok != 4 {
		t.Errorf("%d of %d racing puts of new policies succeeded, want 4", ok, n)
	}
}
