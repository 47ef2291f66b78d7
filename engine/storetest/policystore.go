package storetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// RunPolicyStore runs the conformance suite of engine.PolicyStore against
// the stores that newStore makes, one fresh store for each subtest.
//
// Where the documentation of engine.PolicyStore is silent, the suite
// decides:
//
//   - Tenant names are those engine.ValidTenantName accepts (never "") and
//     policy names those engine.ValidModuleName accepts. A write with any
//     other name is an error and calls no fn; a read finds nothing
//     (ErrNotFound).
//   - PutPolicyBlob refuses, storing nothing, a digest that is not the
//     lowercase hex SHA-256 of the bytes and bytes longer than
//     engine.MaxPolicyBytes. It keeps a copy of the bytes, and PolicyBlob
//     returns a copy.
//   - UpdatePolicy calls fn with nil when there is no record; a removal
//     (fn returning nil) of an absent policy succeeds, and drops any bytes
//     put for it. A policy removed and created again starts at Revision 1.
//   - The store sets Tenant and Name of the record it stores to those of
//     the call, as it sets Revision; everything else comes back as fn
//     returned it: times to the nanosecond (compared with Equal),
//     the rest as values that encode to the same JSON. The store never
//     changes the record fn returns, nor the copy it passed to fn once fn
//     has returned an error.
//   - The store keeps at most engine.MaxPolicyVersions versions: when fn
//     returns more, it drops the oldest ones (the last of Versions) that
//     are neither Active nor Shadow, and their bytes, whether or not the
//     record read listed them. It checks nothing
//     else of the record: which versions are listed, and that Active and
//     Shadow are among them, is the caller's business.
//   - StoredPolicies orders tenants, then names, byte by byte, and lists
//     no tenant whose policies were all removed. As a backend shared
//     between runs may hold the policies of other runs, the suite looks
//     only for its own tenants there, and checks the order of the whole.
//   - A change published after WatchPolicyChanges has returned reaches
//     that watcher, as a value equal to the one published; each watcher
//     gets every change (the suite publishes few, well under any buffer),
//     in the order one caller published them.
//     Cancelling one watcher's context closes its channel and leaves the
//     other watchers as they were.
//   - PutReplicaStatus refuses a status without a Replica and a ttl that
//     is not positive. A status comes back as it went in (times with
//     Equal, the rest as JSON). Expiry uses the backend's clock: the suite
//     puts a status with a ttl of half a second and polls for it to go.
//   - When the store is an engine.Store too, Store.DeleteTenant removes
//     the tenant's policies and all their bytes, listed or not, and no
//     other tenant's; while the tenant's tombstone lasts, PutPolicyBlob
//     and an UpdatePolicy whose fn returns a record fail with
//     engine.ErrNoTenant (a removal succeeds); once PutTenant has created
//     the tenant again, it starts without policies. A store that is not
//     an engine.Store skips this subtest.
func RunPolicyStore(t *testing.T, newStore func(t *testing.T) engine.PolicyStore) {
	tests := []struct {
		name string
		run  func(*testing.T, engine.PolicyStore)
	}{
		{"BlobRoundTrip", testBlobRoundTrip},
		{"BlobRefused", testBlobRefused},
		{"BlobIsolation", testBlobIsolation},
		{"InvalidNames", testPolicyInvalidNames},
		{"UpdatePolicy", testUpdatePolicy},
		{"UpdatePolicyCopies", testUpdatePolicyCopies},
		{"UpdatePolicyError", testUpdatePolicyError},
		{"RemovePolicy", testRemovePolicy},
		{"DroppedVersions", testDroppedVersions},
		{"MaxVersions", testMaxVersions},
		{"StoredPolicies", testStoredPolicies},
		{"ConcurrentPolicyUpdates", testConcurrentPolicyUpdates},
		{"WatchPolicyChanges", testWatchPolicyChanges},
		{"ReplicaStatus", testReplicaStatus},
		{"ReplicaStatusExpiry", testReplicaStatusExpiry},
		{"DeleteTenant", testDeleteTenantPolicies},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, newStore(t))
		})
	}
}

// module returns bytes standing for a policy module made from seed (the
// store never runs them) and their digest.
func module(seed string) ([]byte, string) {
	b := []byte("\x00asm\x01\x00\x00\x00" + seed)
	return b, sha(b)
}

// sha returns the hex SHA-256 of b.
func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// mustPutBlob stores the module made from seed as a version of the policy
// and returns its digest.
func mustPutBlob(t *testing.T, s engine.PolicyStore, tenant, name, seed string) string {
	t.Helper()
	b, d := module(seed)
	if err := s.PutPolicyBlob(t.Context(), tenant, name, d, b); err != nil {
		t.Fatalf("PutPolicyBlob(%s/%s, %s): %v", tenant, name, seed, err)
	}
	return d
}

// checkBlob checks that the policy keeps the bytes of the module made from
// seed.
func checkBlob(t *testing.T, s engine.PolicyStore, tenant, name, seed string) {
	t.Helper()
	want, d := module(seed)
	got, err := s.PolicyBlob(t.Context(), tenant, name, d)
	if err != nil {
		t.Errorf("PolicyBlob(%s/%s, %s): %v", tenant, name, seed, err)
		return
	}
	if !bytes.Equal(got, want) {
		t.Errorf("PolicyBlob(%s/%s, %s) = %q, want %q", tenant, name, seed, got, want)
	}
}

// checkNoBlob checks that the policy keeps no bytes under digest.
func checkNoBlob(t *testing.T, s engine.PolicyStore, tenant, name, digest string) {
	t.Helper()
	got, err := s.PolicyBlob(t.Context(), tenant, name, digest)
	if !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("PolicyBlob(%s/%s, %.12s) = %d bytes, %v; want ErrNotFound", tenant, name, digest, len(got), err)
	}
}

// upload returns the version of the module made from seed.
func upload(seed string) engine.PolicyUpload {
	b, d := module(seed)
	return engine.PolicyUpload{Digest: d, Size: len(b), UploadedAt: now(), UploadedBy: "admin-token:" + engine.HashToken(seed)}
}

// newPolicy returns a record of the versions made from seeds, newest
// first, the first one active; Revision is set to what the store must
// overwrite.
func newPolicy(tenant, name string, seeds ...string) *engine.StoredPolicy {
	p := &engine.StoredPolicy{Tenant: tenant, Name: name, Revision: 42, UpdatedAt: now()}
	for _, seed := range seeds {
		p.Versions = append(p.Versions, upload(seed))
	}
	if len(p.Versions) > 0 {
		p.Active = p.Versions[0].Digest
	}
	return p
}

// withRevision returns a copy of p as the store keeps it at revision rev.
func withRevision(p *engine.StoredPolicy, rev int64) *engine.StoredPolicy {
	w := p.Clone()
	w.Revision = rev
	return w
}

// put returns an UpdatePolicy fn that stores a copy of p, whatever is
// there.
func put(p *engine.StoredPolicy) func(*engine.StoredPolicy) (*engine.StoredPolicy, error) {
	return func(*engine.StoredPolicy) (*engine.StoredPolicy, error) { return p.Clone(), nil }
}

// remove is an UpdatePolicy fn that removes the policy.
func remove(*engine.StoredPolicy) (*engine.StoredPolicy, error) { return nil, nil }

// mustUpdatePolicy applies fn, failing the test if that fails.
func mustUpdatePolicy(t *testing.T, s engine.PolicyStore, tenant, name string, fn func(*engine.StoredPolicy) (*engine.StoredPolicy, error)) *engine.StoredPolicy {
	t.Helper()
	got, err := s.UpdatePolicy(t.Context(), tenant, name, fn)
	if err != nil {
		t.Fatalf("UpdatePolicy(%s/%s): %v", tenant, name, err)
	}
	return got
}

// mustStoredPolicy reads a policy that must be there.
func mustStoredPolicy(t *testing.T, s engine.PolicyStore, tenant, name string) *engine.StoredPolicy {
	t.Helper()
	p, err := s.StoredPolicy(t.Context(), tenant, name)
	if err != nil {
		t.Fatalf("StoredPolicy(%s/%s): %v", tenant, name, err)
	}
	return p
}

// checkNoPolicy checks that the policy has no record.
func checkNoPolicy(t *testing.T, s engine.PolicyStore, tenant, name string) {
	t.Helper()
	p, err := s.StoredPolicy(t.Context(), tenant, name)
	if !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("StoredPolicy(%s/%s) = %+v, %v; want ErrNotFound", tenant, name, p, err)
	}
}

// checkPolicy is checkClient for policy records.
func checkPolicy(t *testing.T, what string, got, want *engine.StoredPolicy) bool {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got a nil policy", what)
		return false
	}
	times := []timeField{{"UpdatedAt", got.UpdatedAt, want.UpdatedAt}}
	if len(got.Versions) == len(want.Versions) {
		for i := range got.Versions {
			times = append(times, timeField{fmt.Sprintf("Versions[%d].UploadedAt", i), got.Versions[i].UploadedAt, want.Versions[i].UploadedAt})
		}
	}
	ok := checkTimes(t, what, times)
	g, w := got.Clone(), want.Clone()
	for _, p := range []*engine.StoredPolicy{g, w} {
		p.UpdatedAt = time.Time{}
		if len(got.Versions) == len(want.Versions) {
			for i := range p.Versions {
				p.Versions[i].UploadedAt = time.Time{}
			}
		}
	}
	return checkJSON(t, what, g, w) && ok
}

// scribblePolicy changes every field of p, reaching into its slice.
func scribblePolicy(p *engine.StoredPolicy) {
	p.Tenant += "x"
	p.Name += "x"
	p.Active = "scribbled"
	p.Shadow = "scribbled"
	p.Revision += 100
	p.UpdatedAt = p.UpdatedAt.Add(time.Hour)
	for i := range p.Versions {
		v := &p.Versions[i]
		v.Digest, v.UploadedBy = "scribbled", "scribbled"
		v.Size++
		v.UploadedAt = v.UploadedAt.Add(time.Hour)
	}
}

// digests returns the digests of a record's versions.
func digests(p *engine.StoredPolicy) []string {
	var ds []string
	for _, v := range p.Versions {
		ds = append(ds, v.Digest)
	}
	return ds
}

// testBlobRoundTrip stores bytes and reads them back, as copies.
func testBlobRoundTrip(t *testing.T, s engine.PolicyStore) {
	ctx := t.Context()
	tenant := newTenant()
	b, d := module("round trip")
	checkNoBlob(t, s, tenant, "audit", d)
	arg := bytes.Clone(b)
	if err := s.PutPolicyBlob(ctx, tenant, "audit", d, arg); err != nil {
		t.Fatalf("PutPolicyBlob: %v", err)
	}
	scribbleJSON(arg)
	checkBlob(t, s, tenant, "audit", "round trip")
	got, err := s.PolicyBlob(ctx, tenant, "audit", d)
	if err != nil {
		t.Fatalf("PolicyBlob: %v", err)
	}
	scribbleJSON(got)
	checkBlob(t, s, tenant, "audit", "round trip")

	// Putting the same bytes again is a no-op.
	if err := s.PutPolicyBlob(ctx, tenant, "audit", d, b); err != nil {
		t.Fatalf("PutPolicyBlob again: %v", err)
	}
	checkBlob(t, s, tenant, "audit", "round trip")
	_, other := module("other")
	checkNoBlob(t, s, tenant, "audit", other)
	checkNoBlob(t, s, tenant, "audit", "")

	// Bytes that no record lists make no record.
	checkNoPolicy(t, s, tenant, "audit")

	// Empty bytes and bytes of the largest size are kept too.
	empty := sha(nil)
	if err := s.PutPolicyBlob(ctx, tenant, "audit", empty, nil); err != nil {
		t.Fatalf("PutPolicyBlob of no bytes: %v", err)
	}
	if got, err := s.PolicyBlob(ctx, tenant, "audit", empty); err != nil || len(got) != 0 {
		t.Errorf("PolicyBlob of no bytes = %q, %v", got, err)
	}
	big := bytes.Repeat([]byte{0xa5}, engine.MaxPolicyBytes)
	bigDigest := sha(big)
	if err := s.PutPolicyBlob(ctx, tenant, "big", bigDigest, big); err != nil {
		t.Fatalf("PutPolicyBlob of MaxPolicyBytes: %v", err)
	}
	if got, err := s.PolicyBlob(ctx, tenant, "big", bigDigest); err != nil || !bytes.Equal(got, big) {
		t.Errorf("PolicyBlob of MaxPolicyBytes = %d bytes, %v", len(got), err)
	}
	mustUpdatePolicy(t, s, tenant, "big", remove)
	checkNoBlob(t, s, tenant, "big", bigDigest)
}

// testBlobRefused puts bytes under a digest that is not theirs, and too
// many bytes: nothing is stored.
func testBlobRefused(t *testing.T, s engine.PolicyStore) {
	ctx := t.Context()
	tenant := newTenant()
	b, d := module("refused")
	_, other := module("other")
	for _, tc := range []struct {
		name   string
		digest string
		bytes  []byte
	}{
		{"another module's digest", other, b},
		{"uppercase digest", strings.ToUpper(d), b},
		{"truncated digest", d[:32], b},
		{"no digest", "", b},
		{"changed bytes", d, append(bytes.Clone(b), 0)},
	} {
		if err := s.PutPolicyBlob(ctx, tenant, "audit", tc.digest, tc.bytes); err == nil {
			t.Errorf("PutPolicyBlob with %s succeeded", tc.name)
		}
		checkNoBlob(t, s, tenant, "audit", tc.digest)
	}
	checkNoBlob(t, s, tenant, "audit", d)
	checkNoBlob(t, s, tenant, "audit", other)

	big := make([]byte, engine.MaxPolicyBytes+1)
	bigDigest := sha(big)
	if err := s.PutPolicyBlob(ctx, tenant, "audit", bigDigest, big); err == nil {
		t.Errorf("PutPolicyBlob of MaxPolicyBytes+1 bytes succeeded")
	}
	checkNoBlob(t, s, tenant, "audit", bigDigest)
}

// testBlobIsolation puts the same bytes in policies whose tenants or names
// are prefixes of one another's: each policy sees only its own, and
// removing one leaves the others' bytes.
func testBlobIsolation(t *testing.T, s engine.PolicyStore) {
	ctx := t.Context()
	base := newTenant()
	tenants := []string{base, base + "-2", base + "2", base[:len(base)-1]}
	names := []string{"audit", "audit-2", "audit.2", "audi"}
	// Only the pairs (tenant i, name i) hold the shared module; every pair
	// holds a module of its own.
	for i := range tenants {
		mustPutBlob(t, s, tenants[i], names[i], "shared")
		for _, name := range names {
			mustPutBlob(t, s, tenants[i], name, tenants[i]+"/"+name)
		}
	}
	_, shared := module("shared")
	for i, tenant := range tenants {
		for j, name := range names {
			checkBlob(t, s, tenant, name, tenant+"/"+name)
			if i == j {
				checkBlob(t, s, tenant, name, "shared")
			} else {
				checkNoBlob(t, s, tenant, name, shared)
			}
			for k, other := range tenants {
				if k != i {
					_, d := module(other + "/" + name)
					checkNoBlob(t, s, tenant, name, d)
				}
			}
		}
	}

	// A policy that lists the shared module, removed, takes its bytes and
	// no one else's.
	p := newPolicy(tenants[0], names[0], "shared")
	mustUpdatePolicy(t, s, tenants[0], names[0], put(p))
	if got, err := s.UpdatePolicy(ctx, tenants[0], names[0], remove); err != nil || got != nil {
		t.Fatalf("UpdatePolicy removing = %+v, %v", got, err)
	}
	checkNoBlob(t, s, tenants[0], names[0], shared)
	for i := 1; i < len(tenants); i++ {
		checkBlob(t, s, tenants[i], names[i], "shared")
	}
	for i, tenant := range tenants {
		for j, name := range names {
			if i == 0 && j == 0 {
				_, d := module(tenant + "/" + name)
				checkNoBlob(t, s, tenant, name, d)
				continue
			}
			checkBlob(t, s, tenant, name, tenant+"/"+name)
		}
	}
}

// testPolicyInvalidNames uses tenant and policy names that cannot be
// ones: writes fail without calling fn, reads find nothing.
func testPolicyInvalidNames(t *testing.T, s engine.PolicyStore) {
	ctx := t.Context()
	tenant := newTenant()
	b, d := module("invalid")
	for _, tc := range []struct{ tenant, name string }{
		{"", "audit"},
		{"Acme", "audit"},
		{"a}b", "audit"},
		{"a:b", "audit"},
		{strings.Repeat("a", 64), "audit"},
		{tenant, ""},
		{tenant, ".audit"},
		{tenant, "a:b"},
		{tenant, "a/b"},
		{tenant, "a}b"},
		{tenant, strings.Repeat("a", 129)},
	} {
		what := fmt.Sprintf("(%q, %q)", tc.tenant, tc.name)
		if err := s.PutPolicyBlob(ctx, tc.tenant, tc.name, d, b); err == nil {
			t.Errorf("PutPolicyBlob%s succeeded", what)
		}
		got, err := s.UpdatePolicy(ctx, tc.tenant, tc.name, func(*engine.StoredPolicy) (*engine.StoredPolicy, error) {
			t.Errorf("UpdatePolicy%s called fn", what)
			return newPolicy(tc.tenant, tc.name, "invalid"), nil
		})
		if err == nil {
			t.Errorf("UpdatePolicy%s = %+v and no error", what, got)
		}
		if _, err := s.StoredPolicy(ctx, tc.tenant, tc.name); !errors.Is(err, engine.ErrNotFound) {
			t.Errorf("StoredPolicy%s: got error %v, want ErrNotFound", what, err)
		}
		if _, err := s.PolicyBlob(ctx, tc.tenant, tc.name, d); !errors.Is(err, engine.ErrNotFound) {
			t.Errorf("PolicyBlob%s: got error %v, want ErrNotFound", what, err)
		}
	}
	all, err := s.StoredPolicies(ctx)
	if err != nil {
		t.Fatalf("StoredPolicies: %v", err)
	}
	for _, p := range all {
		if !engine.ValidTenantName(p.Tenant) || !engine.ValidModuleName(p.Name) {
			t.Errorf("StoredPolicies lists %q/%q", p.Tenant, p.Name)
		}
	}
	// The longest valid names are valid.
	long := tenant + strings.Repeat("a", 63-len(tenant))
	longName := "A" + strings.Repeat("b", 127)
	mustPutBlob(t, s, long, longName, "invalid")
	mustUpdatePolicy(t, s, long, longName, put(newPolicy(long, longName, "invalid")))
	checkBlob(t, s, long, longName, "invalid")
	mustUpdatePolicy(t, s, long, longName, remove)
}

// testUpdatePolicy creates a policy, updates it and reads it back: the
// store sets Revision, Tenant and Name.
func testUpdatePolicy(t *testing.T, s engine.PolicyStore) {
	ctx := t.Context()
	tenant := newTenant()
	checkNoPolicy(t, s, tenant, "audit")
	first := newPolicy(tenant, "audit", "v1")
	var saw []*engine.StoredPolicy
	got := mustUpdatePolicy(t, s, tenant, "audit", func(cur *engine.StoredPolicy) (*engine.StoredPolicy, error) {
		saw = append(saw, cur)
		return first.Clone(), nil
	})
	if len(saw) == 0 || saw[len(saw)-1] != nil {
		t.Errorf("fn of a create was called with %+v, want nil", saw)
	}
	want := withRevision(first, 1)
	checkPolicy(t, "UpdatePolicy result of a create", got, want)
	checkPolicy(t, "StoredPolicy after a create", mustStoredPolicy(t, s, tenant, "audit"), want)

	// fn sees the stored record; what it returns replaces it whole.
	second := newPolicy(tenant, "audit", "v2", "v1")
	second.Shadow = second.Versions[1].Digest
	second.UpdatedAt = first.UpdatedAt.Add(time.Minute)
	saw = nil
	got = mustUpdatePolicy(t, s, tenant, "audit", func(cur *engine.StoredPolicy) (*engine.StoredPolicy, error) {
		saw = append(saw, cur)
		return second.Clone(), nil
	})
	if len(saw) == 0 {
		t.Fatalf("UpdatePolicy did not call fn")
	}
	checkPolicy(t, "fn argument of an update", saw[len(saw)-1], want)
	want = withRevision(second, 2)
	checkPolicy(t, "UpdatePolicy result of an update", got, want)
	checkPolicy(t, "StoredPolicy after an update", mustStoredPolicy(t, s, tenant, "audit"), want)

	// The store sets Tenant and Name, and a Shadow taken away is gone.
	third := second.Clone()
	third.Tenant, third.Name, third.Shadow = "someone-else", "something-else", ""
	got = mustUpdatePolicy(t, s, tenant, "audit", put(third))
	want = withRevision(third, 3)
	want.Tenant, want.Name = tenant, "audit"
	checkPolicy(t, "UpdatePolicy result of a record with another key", got, want)
	checkPolicy(t, "StoredPolicy after a record with another key", mustStoredPolicy(t, s, tenant, "audit"), want)
	checkNoPolicy(t, s, "someone-else", "something-else")
	if p, err := s.StoredPolicy(ctx, tenant, "something-else"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("StoredPolicy(%s/something-else) = %+v, %v", tenant, p, err)
	}

	// A record without versions is kept as it is.
	bare := &engine.StoredPolicy{UpdatedAt: now()}
	got = mustUpdatePolicy(t, s, tenant, "bare", put(bare))
	want = withRevision(bare, 1)
	want.Tenant, want.Name = tenant, "bare"
	checkPolicy(t, "UpdatePolicy result of a record without versions", got, want)
	checkPolicy(t, "StoredPolicy of a record without versions", mustStoredPolicy(t, s, tenant, "bare"), want)
}

// testUpdatePolicyCopies checks that the store shares no memory with fn,
// its argument or its results.
func testUpdatePolicyCopies(t *testing.T, s engine.PolicyStore) {
	tenant := newTenant()
	p := newPolicy(tenant, "audit", "v2", "v1")
	p.Shadow = p.Versions[1].Digest
	var returned *engine.StoredPolicy
	got := mustUpdatePolicy(t, s, tenant, "audit", func(*engine.StoredPolicy) (*engine.StoredPolicy, error) {
		returned = p.Clone()
		return returned, nil
	})
	want := withRevision(p, 1)
	checkPolicy(t, "the record fn returned, after UpdatePolicy", returned, p)
	scribblePolicy(returned)
	scribblePolicy(got)
	checkPolicy(t, "StoredPolicy after changing what UpdatePolicy gave", mustStoredPolicy(t, s, tenant, "audit"), want)
	read := mustStoredPolicy(t, s, tenant, "audit")
	scribblePolicy(read)
	checkPolicy(t, "StoredPolicy after changing what StoredPolicy gave", mustStoredPolicy(t, s, tenant, "audit"), want)

	// fn's argument is a copy: changing it in place stores nothing unless
	// fn returns it.
	var arg *engine.StoredPolicy
	got = mustUpdatePolicy(t, s, tenant, "audit", func(cur *engine.StoredPolicy) (*engine.StoredPolicy, error) {
		arg = cur
		scribblePolicy(cur)
		return p.Clone(), nil
	})
	want = withRevision(p, 2)
	checkPolicy(t, "UpdatePolicy result after fn changed its argument", got, want)
	scribblePolicy(arg)
	checkPolicy(t, "StoredPolicy after fn changed its argument", mustStoredPolicy(t, s, tenant, "audit"), want)

	// fn may return its argument, changed.
	got = mustUpdatePolicy(t, s, tenant, "audit", func(cur *engine.StoredPolicy) (*engine.StoredPolicy, error) {
		cur.Shadow = ""
		arg = cur
		return cur, nil
	})
	want = withRevision(p, 3)
	want.Shadow = ""
	checkPolicy(t, "UpdatePolicy result of fn returning its argument", got, want)
	scribblePolicy(arg)
	scribblePolicy(got)
	checkPolicy(t, "StoredPolicy after fn returned its argument", mustStoredPolicy(t, s, tenant, "audit"), want)
}

// testUpdatePolicyError checks that an error of fn aborts the update and
// comes back as is.
func testUpdatePolicyError(t *testing.T, s engine.PolicyStore) {
	ctx := t.Context()
	tenant := newTenant()
	abort := &abortError{"the upload is refused"}
	oauth := engine.Errorf(engine.CodeInvalidRequest, "If-Match does not match")
	for _, fnErr := range []error{abort, oauth, engine.ErrNotFound, engine.ErrRevisionMismatch} {
		// Of a create: nothing is stored.
		got, err := s.UpdatePolicy(ctx, tenant, "absent", func(*engine.StoredPolicy) (*engine.StoredPolicy, error) {
			return newPolicy(tenant, "absent", "v1"), fnErr
		})
		if err != fnErr {
			t.Errorf("UpdatePolicy of an absent policy with fn failing with %v = %+v, %v; want the error as is", fnErr, got, err)
		}
		checkNoPolicy(t, s, tenant, "absent")
	}

	p := newPolicy(tenant, "kept", "v2", "v1")
	mustPutBlob(t, s, tenant, "kept", "v1")
	mustPutBlob(t, s, tenant, "kept", "v2")
	mustUpdatePolicy(t, s, tenant, "kept", put(p))
	want := withRevision(p, 1)
	for _, fnErr := range []error{abort, oauth, engine.ErrNotFound} {
		for _, result := range []*engine.StoredPolicy{nil, newPolicy(tenant, "kept", "v3")} {
			got, err := s.UpdatePolicy(ctx, tenant, "kept", func(cur *engine.StoredPolicy) (*engine.StoredPolicy, error) {
				if cur != nil {
					scribblePolicy(cur) // changes that must be discarded
				}
				return result, fnErr
			})
			if err != fnErr {
				t.Errorf("UpdatePolicy with fn failing with %v = %+v, %v; want the error as is", fnErr, got, err)
			}
			checkPolicy(t, "StoredPolicy after a failed UpdatePolicy", mustStoredPolicy(t, s, tenant, "kept"), want)
			checkBlob(t, s, tenant, "kept", "v1")
			checkBlob(t, s, tenant, "kept", "v2")
		}
	}
}

// testRemovePolicy removes policies: fn returning nil removes the record
// and every byte of the policy, listed or not.
func testRemovePolicy(t *testing.T, s engine.PolicyStore) {
	ctx := t.Context()
	tenant := newTenant()
	p := newPolicy(tenant, "audit", "v2", "v1")
	d1 := mustPutBlob(t, s, tenant, "audit", "v1")
	d2 := mustPutBlob(t, s, tenant, "audit", "v2")
	mustUpdatePolicy(t, s, tenant, "audit", put(p))
	// Bytes put for an upload whose record update never happened.
	unlisted := mustPutBlob(t, s, tenant, "audit", "unlisted")
	mustUpdatePolicy(t, s, tenant, "audit", put(p))
	checkBlob(t, s, tenant, "audit", "unlisted")
	// A neighbour keeps its own.
	mustPutBlob(t, s, tenant, "audit-2", "v1")
	neighbour := mustUpdatePolicy(t, s, tenant, "audit-2", put(newPolicy(tenant, "audit-2", "v1")))

	var saw *engine.StoredPolicy
	got, err := s.UpdatePolicy(ctx, tenant, "audit", func(cur *engine.StoredPolicy) (*engine.StoredPolicy, error) {
		saw = cur
		return nil, nil
	})
	if err != nil || got != nil {
		t.Fatalf("UpdatePolicy removing = %+v, %v; want nil, nil", got, err)
	}
	checkPolicy(t, "fn argument of a removal", saw, withRevision(p, 2))
	checkNoPolicy(t, s, tenant, "audit")
	for _, d := range []string{d1, d2, unlisted} {
		checkNoBlob(t, s, tenant, "audit", d)
	}
	checkPolicy(t, "a neighbour after a removal", mustStoredPolicy(t, s, tenant, "audit-2"), neighbour)
	checkBlob(t, s, tenant, "audit-2", "v1")

	// Removing an absent policy succeeds, and drops bytes put for it.
	orphan := mustPutBlob(t, s, tenant, "orphan", "v1")
	saw = newPolicy(tenant, "orphan", "sentinel")
	got, err = s.UpdatePolicy(ctx, tenant, "orphan", func(cur *engine.StoredPolicy) (*engine.StoredPolicy, error) {
		saw = cur
		return nil, nil
	})
	if err != nil || got != nil {
		t.Fatalf("UpdatePolicy removing an absent policy = %+v, %v; want nil, nil", got, err)
	}
	if saw != nil {
		t.Errorf("fn of an absent policy was called with %+v, want nil", saw)
	}
	checkNoBlob(t, s, tenant, "orphan", orphan)
	if got, err := s.UpdatePolicy(ctx, newTenant(), "never", remove); err != nil || got != nil {
		t.Errorf("UpdatePolicy removing a policy of an unknown tenant = %+v, %v; want nil, nil", got, err)
	}

	// Created again, the policy starts afresh, at revision 1, and needs its
	// bytes put again.
	again := newPolicy(tenant, "audit", "v1")
	checkPolicy(t, "UpdatePolicy creating a removed policy", mustUpdatePolicy(t, s, tenant, "audit", put(again)), withRevision(again, 1))
	checkNoBlob(t, s, tenant, "audit", d1)
}

// testDroppedVersions takes versions off a record: their bytes go, those
// of the versions kept and of unlisted uploads stay.
func testDroppedVersions(t *testing.T, s engine.PolicyStore) {
	tenant := newTenant()
	seeds := []string{"v4", "v3", "v2", "v1"}
	for _, seed := range seeds {
		mustPutBlob(t, s, tenant, "audit", seed)
	}
	mustPutBlob(t, s, tenant, "audit", "unlisted")
	// Another policy lists the same modules.
	for _, seed := range seeds {
		mustPutBlob(t, s, tenant, "other", seed)
	}
	mustUpdatePolicy(t, s, tenant, "other", put(newPolicy(tenant, "other", seeds...)))

	p := newPolicy(tenant, "audit", seeds...)
	mustUpdatePolicy(t, s, tenant, "audit", put(p))
	// v3 and v1 come off, v5 goes on (its bytes not yet put).
	next := newPolicy(tenant, "audit", "v5", "v4", "v2")
	got := mustUpdatePolicy(t, s, tenant, "audit", put(next))
	checkPolicy(t, "UpdatePolicy result", got, withRevision(next, 2))
	for _, seed := range []string{"v4", "v2", "unlisted"} {
		checkBlob(t, s, tenant, "audit", seed)
	}
	for _, seed := range []string{"v3", "v1", "v5"} {
		_, d := module(seed)
		checkNoBlob(t, s, tenant, "audit", d)
	}
	for _, seed := range seeds {
		checkBlob(t, s, tenant, "other", seed)
	}

	// An update that keeps every version drops nothing; one that lists a
	// version only again later finds its bytes gone.
	mustUpdatePolicy(t, s, tenant, "audit", put(next))
	for _, seed := range []string{"v4", "v2", "unlisted"} {
		checkBlob(t, s, tenant, "audit", seed)
	}
	mustUpdatePolicy(t, s, tenant, "audit", put(newPolicy(tenant, "audit", "v4")))
	checkBlob(t, s, tenant, "audit", "v4")
	checkBlob(t, s, tenant, "audit", "unlisted")
	_, d2 := module("v2")
	checkNoBlob(t, s, tenant, "audit", d2)
}

// testMaxVersions returns more versions than a store keeps: the oldest go,
// except the active and the shadow ones.
func testMaxVersions(t *testing.T, s engine.PolicyStore) {
	tenant := newTenant()
	n := engine.MaxPolicyVersions + 3
	var seeds []string
	for i := n; i > 0; i-- {
		seeds = append(seeds, fmt.Sprintf("v%02d", i))
	}
	for _, seed := range seeds {
		mustPutBlob(t, s, tenant, "audit", seed)
	}
	p := newPolicy(tenant, "audit", seeds...) // newest first: v13 ... v01
	// The oldest version is active, the third oldest in shadow.
	p.Active = p.Versions[n-1].Digest
	p.Shadow = p.Versions[n-3].Digest
	got := mustUpdatePolicy(t, s, tenant, "audit", put(p))

	// Kept: the newest ones, then v03 (shadow), then v01 (active).
	want := p.Clone()
	want.Revision = 1
	want.Versions = append(slices.Clone(p.Versions[:engine.MaxPolicyVersions-2]), p.Versions[n-3], p.Versions[n-1])
	checkPolicy(t, "UpdatePolicy result of too many versions", got, want)
	checkPolicy(t, "StoredPolicy after too many versions", mustStoredPolicy(t, s, tenant, "audit"), want)
	// The bytes of the versions dropped go too, though no record listed
	// them before.
	for i, v := range p.Versions {
		if slices.Contains(digests(want), v.Digest) {
			checkBlob(t, s, tenant, "audit", seeds[i])
		} else {
			checkNoBlob(t, s, tenant, "audit", v.Digest)
		}
	}

	// One more upload drops the oldest version that is neither active nor
	// shadow, v06, and its bytes.
	mustPutBlob(t, s, tenant, "audit", "v14")
	next := got.Clone()
	next.Versions = append([]engine.PolicyUpload{upload("v14")}, next.Versions...)
	got = mustUpdatePolicy(t, s, tenant, "audit", put(next))
	want = next.Clone()
	want.Revision = 2
	want.Versions = append(slices.Clone(next.Versions[:engine.MaxPolicyVersions-2]), next.Versions[len(next.Versions)-2:]...)
	checkPolicy(t, "UpdatePolicy result of one version more", got, want)
	_, d06 := module("v06")
	if slices.Contains(digests(got), d06) {
		t.Errorf("v06 was kept")
	}
	checkNoBlob(t, s, tenant, "audit", d06)
	checkBlob(t, s, tenant, "audit", "v14")
	checkBlob(t, s, tenant, "audit", "v01")
	checkBlob(t, s, tenant, "audit", "v03")
}

// testStoredPolicies lists the policies of several tenants whose names
// are prefixes of one another's.
func testStoredPolicies(t *testing.T, s engine.PolicyStore) {
	ctx := t.Context()
	base := newTenant()
	tenants := []string{base + "-2", base, base + "2", base[:len(base)-1], base + "-2-" + base}
	names := []string{"b", "a", "a-2", "a.2", "B", "a2"}
	var want []*engine.StoredPolicy
	for i, tenant := range tenants {
		for _, name := range names[:2+i%4] {
			p := newPolicy(tenant, name, tenant+"/"+name)
			mustUpdatePolicy(t, s, tenant, name, put(p))
			want = append(want, withRevision(p, 1))
		}
	}
	// A policy with bytes only is not listed.
	mustPutBlob(t, s, tenants[0], "bytes-only", "bytes-only")
	mustPutBlob(t, s, newTenant(), "bytes-only", "bytes-only")
	// Nor is a removed one, nor a tenant whose policies were all removed.
	gone := newTenant()
	mustUpdatePolicy(t, s, gone, "a", put(newPolicy(gone, "a", "a")))
	mustUpdatePolicy(t, s, gone, "a", remove)
	mustUpdatePolicy(t, s, tenants[1], "gone", put(newPolicy(tenants[1], "gone", "gone")))
	mustUpdatePolicy(t, s, tenants[1], "gone", remove)

	slices.SortFunc(want, comparePolicies)
	check := func(when string, want []*engine.StoredPolicy) {
		t.Helper()
		all, err := s.StoredPolicies(ctx)
		if err != nil {
			t.Fatalf("%s: StoredPolicies: %v", when, err)
		}
		if !slices.IsSortedFunc(all, comparePolicies) {
			t.Errorf("%s: StoredPolicies is not sorted by tenant and name", when)
		}
		var ours []*engine.StoredPolicy
		for _, p := range all {
			if slices.Contains(tenants, p.Tenant) || p.Tenant == gone {
				ours = append(ours, p)
			}
		}
		if len(ours) != len(want) {
			var got []string
			for _, p := range ours {
				got = append(got, p.Tenant+"/"+p.Name)
			}
			t.Fatalf("%s: StoredPolicies lists %d of the test's policies, want %d: %q", when, len(ours), len(want), got)
		}
		for i := range want {
			checkPolicy(t, fmt.Sprintf("%s: StoredPolicies[%d]", when, i), ours[i], want[i])
		}
		// What it returns is a copy.
		for _, p := range ours {
			scribblePolicy(p)
		}
	}
	check("StoredPolicies", want)
	check("StoredPolicies again", want)

	// Removing every policy of a tenant takes it out of the listing.
	var kept []*engine.StoredPolicy
	for _, p := range want {
		if p.Tenant == tenants[2] {
			mustUpdatePolicy(t, s, p.Tenant, p.Name, remove)
		} else {
			kept = append(kept, p)
		}
	}
	check("StoredPolicies after a tenant's policies were removed", kept)
}

// comparePolicies orders records by tenant, then name, byte by byte.
func comparePolicies(a, b *engine.StoredPolicy) int {
	if c := strings.Compare(a.Tenant, b.Tenant); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

// testConcurrentPolicyUpdates uploads a version from many goroutines at
// once, each putting its bytes and then prepending its version to the
// record: no update is lost, each sees the one before it, and the store
// drops the bytes of the versions that fall off the end.
func testConcurrentPolicyUpdates(t *testing.T, s engine.PolicyStore) {
	tenant := newTenant()
	mustPutBlob(t, s, tenant, "audit", "v0")
	first := mustUpdatePolicy(t, s, tenant, "audit", put(newPolicy(tenant, "audit", "v0")))
	n := goroutines()
	results := uploadConcurrently(t, s, tenant, n)

	// The updates made revisions 2 to n+1, one each, and each is the one
	// before it with its own version in front, less the oldest but the
	// active one when they are too many.
	byRevision := revisionsOf(t, first, results)
	for rev := int64(2); rev <= int64(n+1); rev++ {
		r, prev := byRevision[rev], byRevision[rev-1]
		want := append([]string{r.Versions[0].Digest}, digests(prev)...)
		if len(want) > engine.MaxPolicyVersions {
			want = append(want[:len(want)-2], want[len(want)-1])
		}
		if got := digests(r); !slices.Equal(got, want) {
			t.Fatalf("revision %d lists %.12q; after revision %d, want %.12q", rev, got, rev-1, want)
		}
	}
	final := mustStoredPolicy(t, s, tenant, "audit")
	checkPolicy(t, "StoredPolicy after the uploads", final, byRevision[int64(n+1)])
	kept := digests(final)
	for i := range n {
		seed := fmt.Sprintf("u%03d", i)
		if _, d := module(seed); slices.Contains(kept, d) {
			checkBlob(t, s, tenant, "audit", seed)
		} else {
			checkNoBlob(t, s, tenant, "audit", d)
		}
	}
	checkBlob(t, s, tenant, "audit", "v0")
}

// uploadConcurrently uploads n versions of the policy "audit" of tenant
// from n goroutines at once, each putting its bytes and then prepending its
// version, and returns the record each update returned.
func uploadConcurrently(t *testing.T, s engine.PolicyStore, tenant string, n int) []*engine.StoredPolicy {
	t.Helper()
	ctx := t.Context()
	results := make([]*engine.StoredPolicy, n)
	errs := make([]error, n)
	hammer(n, func(i int) {
		seed := fmt.Sprintf("u%03d", i)
		b, d := module(seed)
		if errs[i] = s.PutPolicyBlob(ctx, tenant, "audit", d, b); errs[i] != nil {
			return
		}
		v := upload(seed)
		results[i], errs[i] = s.UpdatePolicy(ctx, tenant, "audit", func(cur *engine.StoredPolicy) (*engine.StoredPolicy, error) {
			if cur == nil {
				return nil, errors.New("the policy is gone")
			}
			next := cur.Clone()
			next.Versions = append([]engine.PolicyUpload{v}, cur.Versions...)
			next.UpdatedAt = v.UploadedAt
			return next, nil
		})
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("upload %d: %v", i, err)
		}
	}
	return results
}

// revisionsOf checks that the results of uploadConcurrently hold each
// revision from 2 on once, each with its own version in front, and returns
// them and first by revision.
func revisionsOf(t *testing.T, first *engine.StoredPolicy, results []*engine.StoredPolicy) map[int64]*engine.StoredPolicy {
	t.Helper()
	n := len(results)
	byRevision := map[int64]*engine.StoredPolicy{1: first}
	for i, r := range results {
		if prev := byRevision[r.Revision]; prev != nil || r.Revision < 2 || r.Revision > int64(n+1) {
			t.Fatalf("update %d returned revision %d (seen %t); want each of 2 to %d once", i, r.Revision, prev != nil, n+1)
		}
		byRevision[r.Revision] = r
		if _, d := module(fmt.Sprintf("u%03d", i)); len(r.Versions) == 0 || r.Versions[0].Digest != d {
			t.Errorf("update %d returned a record without its version in front: %.12q", i, digests(r))
		}
	}
	return byRevision
}

// testDeleteTenantPolicies deletes a tenant with policies, next to tenants
// whose names extend its name, when the store is an engine.Store too.
func testDeleteTenantPolicies(t *testing.T, ps engine.PolicyStore) {
	s, ok := ps.(engine.Store)
	if !ok {
		t.Skipf("%T is not an engine.Store: Store.DeleteTenant does not concern it", ps)
	}
	ctx := t.Context()
	doomed := newTenant()
	neighbours := []string{doomed + "-2", doomed + "2", doomed[:len(doomed)-1]}
	kept := map[string]*engine.StoredPolicy{}
	for _, tenant := range append([]string{doomed}, neighbours...) {
		for _, name := range []string{"audit", "quota"} {
			mustPutBlob(t, ps, tenant, name, "v1")
			kept[tenant+"/"+name] = mustUpdatePolicy(t, ps, tenant, name, put(newPolicy(tenant, name, "v1")))
		}
		mustPutBlob(t, ps, tenant, "audit", "unlisted")
		mustPutBlob(t, ps, tenant, "bytes-only", "v1")
	}
	mustPutTenant(t, s, newRecord(doomed), 0)
	populate(t, s, doomed, 3)

	if err := s.DeleteTenant(ctx, doomed); err != nil {
		t.Fatalf("DeleteTenant: %v", err)
	}
	checkPoliciesDeleted(t, ps, doomed, neighbours, kept)

	// While the tombstone lasts, nothing is created; removing is fine.
	b, d := module("v2")
	checkErr(t, "PutPolicyBlob in a deleted tenant", ps.PutPolicyBlob(ctx, doomed, "audit", d, b), engine.ErrNoTenant)
	checkNoBlob(t, ps, doomed, "audit", d)
	_, err := ps.UpdatePolicy(ctx, doomed, "audit", put(newPolicy(doomed, "audit", "v2")))
	checkErr(t, "UpdatePolicy creating in a deleted tenant", err, engine.ErrNoTenant)
	checkNoPolicy(t, ps, doomed, "audit")
	if got, err := ps.UpdatePolicy(ctx, doomed, "audit", remove); err != nil || got != nil {
		t.Errorf("UpdatePolicy removing in a deleted tenant = %+v, %v; want nil, nil", got, err)
	}
	if n := policiesByTenant(t, ps); n[doomed] != 0 {
		t.Errorf("StoredPolicies lists %d policies of the deleted tenant after refused creates", n[doomed])
	}

	// Created again, the tenant starts without policies, and takes them.
	mustPutTenant(t, s, newRecord(doomed), 0)
	checkNoPolicy(t, ps, doomed, "audit")
	_, d1 := module("v1")
	checkNoBlob(t, ps, doomed, "audit", d1)
	mustPutBlob(t, ps, doomed, "audit", "v2")
	again := newPolicy(doomed, "audit", "v2")
	checkPolicy(t, "UpdatePolicy in the tenant created again", mustUpdatePolicy(t, ps, doomed, "audit", put(again)), withRevision(again, 1))
	if n := policiesByTenant(t, ps); n[doomed] != 1 {
		t.Errorf("StoredPolicies lists %d policies of the tenant created again, want 1", n[doomed])
	}
}

// policiesByTenant counts the policies StoredPolicies lists, by tenant.
func policiesByTenant(t *testing.T, ps engine.PolicyStore) map[string]int {
	t.Helper()
	all, err := ps.StoredPolicies(t.Context())
	if err != nil {
		t.Fatalf("StoredPolicies: %v", err)
	}
	n := map[string]int{}
	for _, p := range all {
		n[p.Tenant]++
	}
	return n
}

// checkPoliciesDeleted checks that the deleted tenant doomed holds no
// policies or bytes, and that its neighbours hold theirs: the records in
// kept, by tenant/name, and their bytes.
func checkPoliciesDeleted(t *testing.T, ps engine.PolicyStore, doomed string, neighbours []string, kept map[string]*engine.StoredPolicy) {
	t.Helper()
	_, d1 := module("v1")
	_, unlisted := module("unlisted")
	for _, name := range []string{"audit", "quota", "bytes-only"} {
		checkNoPolicy(t, ps, doomed, name)
		checkNoBlob(t, ps, doomed, name, d1)
	}
	checkNoBlob(t, ps, doomed, "audit", unlisted)
	n := policiesByTenant(t, ps)
	if n[doomed] != 0 {
		t.Errorf("StoredPolicies lists %d policies of the deleted tenant", n[doomed])
	}
	for _, tenant := range neighbours {
		if n[tenant] != 2 {
			t.Errorf("StoredPolicies lists %d policies of neighbour %s, want 2", n[tenant], tenant)
		}
		for _, name := range []string{"audit", "quota"} {
			checkPolicy(t, "a neighbour's policy after DeleteTenant", mustStoredPolicy(t, ps, tenant, name), kept[tenant+"/"+name])
			checkBlob(t, ps, tenant, name, "v1")
		}
		checkBlob(t, ps, tenant, "audit", "unlisted")
		checkBlob(t, ps, tenant, "bytes-only", "v1")
	}
}
