package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/redistest"
)

// testModule returns bytes standing for a policy module made from seed and
// their digest.
func testModule(seed string) ([]byte, string) {
	b := []byte("\x00asm\x01\x00\x00\x00" + seed)
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:])
}

// putModule stores the module made from seed as a version of the policy
// and returns its version.
func putModule(t *testing.T, s *Store, tenant, name, seed string) engine.PolicyUpload {
	t.Helper()
	b, d := testModule(seed)
	if err := s.PutPolicyBlob(t.Context(), tenant, name, d, b); err != nil {
		t.Fatalf("PutPolicyBlob(%s/%s, %s): %v", tenant, name, seed, err)
	}
	return engine.PolicyUpload{Digest: d, Size: len(b), UploadedAt: time.Now()}
}

// setPolicy stores a record of the versions, the first active.
func setPolicy(t *testing.T, s *Store, tenant, name string, versions ...engine.PolicyUpload) *engine.StoredPolicy {
	t.Helper()
	p, err := s.UpdatePolicy(t.Context(), tenant, name, func(*engine.StoredPolicy) (*engine.StoredPolicy, error) {
		return &engine.StoredPolicy{Active: versions[0].Digest, Versions: versions, UpdatedAt: time.Now()}, nil
	})
	if err != nil {
		t.Fatalf("UpdatePolicy(%s/%s): %v", tenant, name, err)
	}
	return p
}

// removePolicy removes a policy.
func removePolicy(t *testing.T, s *Store, tenant, name string) {
	t.Helper()
	if _, err := s.UpdatePolicy(t.Context(), tenant, name, func(*engine.StoredPolicy) (*engine.StoredPolicy, error) { return nil, nil }); err != nil {
		t.Fatalf("UpdatePolicy(%s/%s) removing: %v", tenant, name, err)
	}
}

// TestPolicyKeySchema checks the keys, types, contents and expiries of
// uploaded policies and replica statuses that the package documentation
// promises, and the name of the change channel.
func TestPolicyKeySchema(t *testing.T) {
	s, rdb, tenant := newTestStore(t)
	ctx := t.Context()
	v1 := putModule(t, s, tenant, "audit", "v1")
	v2 := putModule(t, s, tenant, "audit", "v2")
	unlisted := putModule(t, s, tenant, "audit", "unlisted")
	rec := setPolicy(t, s, tenant, "audit", v2, v1)
	bytesOnly := putModule(t, s, tenant, "bytes-only", "v1")
	const ttl = time.Minute
	st := &engine.ReplicaStatus{Replica: "host/42/abc", UpdatedAt: time.Now()}
	if err := s.PutReplicaStatus(ctx, st, ttl); err != nil {
		t.Fatal(err)
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	if _, err := s.WatchPolicyChanges(watchCtx); err != nil {
		t.Fatal(err)
	}

	tag := "registrar:{" + tenant + "}:"
	want := map[string]string{
		tag + "policy:audit":                  "string",
		tag + "policy-blobs:audit":            "hash",
		tag + "policy-blobs:bytes-only":       "hash",
		tag + "policies":                      "zset",
		"registrar:{_}:policy-tenants":        "zset",
		"registrar:{_}:replica:" + st.Replica: "string",
		"registrar:{_}:replicas":              "zset",
	}
	wantKeyTypes(t, ctx, rdb, want)
	for k := range want {
		if k == "registrar:{_}:replica:"+st.Replica {
			if got := rdb.PTTL(ctx, k).Val(); got > ttl || got < ttl-5*time.Second {
				t.Errorf("PTTL %s = %v, want about %v", k, got, ttl)
			}
		} else if got := rdb.PTTL(ctx, k).Val(); got != -1 {
			t.Errorf("PTTL %s = %v, want none", k, got)
		}
	}
	var stored engine.StoredPolicy
	if err := json.Unmarshal([]byte(rdb.Get(ctx, tag+"policy:audit").Val()), &stored); err != nil || stored.Revision != rec.Revision || stored.Tenant != tenant {
		t.Errorf("the record is %+v, %v; want %+v as JSON", stored, err, rec)
	}
	blobs := rdb.HGetAll(ctx, tag+"policy-blobs:audit").Val()
	if got, want := slices.Sorted(maps.Keys(blobs)), slices.Sorted(slices.Values([]string{v1.Digest, v2.Digest, unlisted.Digest})); !slices.Equal(got, want) {
		t.Errorf("blob hash fields = %q, want %q", got, want)
	}
	if b, _ := testModule("v1"); blobs[v1.Digest] != string(b) {
		t.Errorf("blob %s holds %q", v1.Digest, blobs[v1.Digest])
	}
	if got := rdb.HKeys(ctx, tag+"policy-blobs:bytes-only").Val(); !slices.Equal(got, []string{bytesOnly.Digest}) {
		t.Errorf("bytes-only blob hash fields = %q", got)
	}
	if got := rdb.ZRange(ctx, tag+"policies", 0, -1).Val(); !slices.Equal(got, []string{"audit", "bytes-only"}) {
		t.Errorf("policy index = %q", got)
	}
	if got := rdb.ZRange(ctx, "registrar:{_}:policy-tenants", 0, -1).Val(); !slices.Equal(got, []string{tenant}) {
		t.Errorf("policy tenant index = %q", got)
	}
	replicas := rdb.ZRangeWithScores(ctx, "registrar:{_}:replicas", 0, -1).Val()
	if until := time.UnixMilli(int64(replicas[0].Score)); len(replicas) != 1 || replicas[0].Member != st.Replica ||
		time.Until(until) > ttl || time.Until(until) < ttl-5*time.Second {
		t.Errorf("replica index = %v, want %s expiring in about %v", replicas, st.Replica, ttl)
	}
	if got := rdb.PubSubChannels(ctx, "*").Val(); !slices.Equal(got, []string{"registrar:{_}:policy-changes"}) {
		t.Errorf("PUBSUB CHANNELS = %q", got)
	}

	// Removing a policy removes its keys; removing the last takes the
	// tenant out of the index.
	removePolicy(t, s, tenant, "audit")
	for _, k := range []string{tag + "policy:audit", tag + "policy-blobs:audit"} {
		if rdb.Exists(ctx, k).Val() != 0 {
			t.Errorf("%s outlives the policy", k)
		}
	}
	if got := rdb.ZRange(ctx, tag+"policies", 0, -1).Val(); !slices.Equal(got, []string{"bytes-only"}) {
		t.Errorf("policy index after a removal = %q", got)
	}
	if got := rdb.ZRange(ctx, "registrar:{_}:policy-tenants", 0, -1).Val(); !slices.Equal(got, []string{tenant}) {
		t.Errorf("policy tenant index after a removal = %q", got)
	}
	removePolicy(t, s, tenant, "bytes-only")
	for _, k := range []string{tag + "policies", tag + "policy-blobs:bytes-only", "registrar:{_}:policy-tenants"} {
		if rdb.Exists(ctx, k).Val() != 0 {
			t.Errorf("%s outlives the tenant's last policy", k)
		}
	}
}

// TestRetriedPolicyUpdate runs the update script twice, as go-redis does
// when the connection drops after the server applied it: the second run
// succeeds and changes nothing.
func TestRetriedPolicyUpdate(t *testing.T) {
	s, rdb, tenant := newTestStore(t)
	ctx := t.Context()
	k, _ := s.tenantKeys(tenant)
	v1 := putModule(t, s, tenant, "audit", "v1")
	v2 := putModule(t, s, tenant, "audit", "v2")
	old := setPolicy(t, s, tenant, "audit", v2, v1)
	oldRaw := rdb.Get(ctx, k.policy("audit")).Val()
	next, dropped := engine.NextStoredPolicy(tenant, "audit", old, &engine.StoredPolicy{Active: v2.Digest, Versions: []engine.PolicyUpload{v2}})
	data, err := json.Marshal(next)
	if err != nil {
		t.Fatal(err)
	}
	ks := []string{k.policy("audit"), k.policyBlobs("audit"), k.policies(), k.tombstone()}
	args := []any{oldRaw, "1", data, "audit", s.limits.MaxPolicies}
	for _, d := range dropped {
		args = append(args, d)
	}
	for i := range 2 {
		if status, err := updatePolicy.Run(ctx, rdb, ks, args...).Text(); err != nil || status != "OK" {
			t.Fatalf("run %d of the update script = %q, %v; want OK", i+1, status, err)
		}
	}
	got, err := s.StoredPolicy(ctx, tenant, "audit")
	if err != nil || got.Revision != 2 || len(got.Versions) != 1 {
		t.Errorf("StoredPolicy after a retried update = %+v, %v", got, err)
	}
	if _, err := s.PolicyBlob(ctx, tenant, "audit", v1.Digest); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("the dropped version's bytes: %v, want ErrNotFound", err)
	}
}

// TestPolicyWatchSurvivesRestart kills Redis under a watcher: publishing
// fails with ErrUnavailable while it is down, the watcher's channel stays
// open, and once Redis is back (on the same port, empty) changes reach the
// watcher again without anyone watching anew.
func TestPolicyWatchSurvivesRestart(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	rdb := DialForTest(t, srv.Addr)
	s, err := New(rdb, Config{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	ch, err := s.WatchPolicyChanges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rev := int64(0)
	publishUntilReceived := func(wait time.Duration) bool {
		t.Helper()
		deadline := time.Now().Add(wait)
		for time.Now().Before(deadline) {
			rev++
			c := engine.PolicyChange{Tenant: "acme", Name: "audit", Revision: rev}
			if err := s.PublishPolicyChange(ctx, c); err != nil {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			if awaitChange(t, ch, c, 200*time.Millisecond) {
				return true
			}
		}
		return false
	}
	if !publishUntilReceived(5 * time.Second) {
		t.Fatal("no change reached the watcher before the restart")
	}

	srv.Kill()
	if err := s.PublishPolicyChange(ctx, engine.PolicyChange{Tenant: "acme", Name: "lost"}); !errors.Is(err, engine.ErrUnavailable) {
		t.Errorf("PublishPolicyChange with Redis down: %v, want ErrUnavailable", err)
	}
	select {
	case c, ok := <-ch:
		if !ok {
			t.Fatal("the watcher's channel closed when Redis went down")
		}
		t.Errorf("the watcher received %+v with Redis down", c)
	case <-time.After(300 * time.Millisecond):
	}

	srv.Restart()
	start := time.Now()
	if !publishUntilReceived(15 * time.Second) {
		t.Fatal("no change reached the watcher within 15s of the restart")
	}
	t.Logf("changes reach the watcher %v after the restart", time.Since(start))
}

// awaitChange reports whether c arrives on ch within wait, skipping other
// changes; ch must not close.
func awaitChange(t *testing.T, ch <-chan engine.PolicyChange, c engine.PolicyChange, wait time.Duration) bool {
	t.Helper()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case got, ok := <-ch:
			if !ok {
				t.Fatalf("the watcher's channel closed")
			}
			if got == c {
				return true
			}
		case <-timer.C:
			return false
		}
	}
}

// testDeletePolicyBatches deletes a tenant with more uploaded policies than
// one purge script removes: they go in several, bytes and all.
func testDeletePolicyBatches(t *testing.T, b backend) {
	// More policies than a tenant may keep by default.
	s, rdb := b.store(t, Config{PolicyLimits: engine.PolicyLimits{MaxPolicies: 2 * deleteBatch}})
	ctx := t.Context()
	tenant := randomTenant()
	n := deleteBatch + deleteBatch/2
	pipe := rdb.Pipeline()
	// Policies written the way UpdatePolicy writes them, in one pipeline:
	// n calls would take long on a cluster.
	k, _ := s.tenantKeys(tenant)
	for i := range n {
		name := fmt.Sprintf("p%04d", i)
		body, d := testModule(name)
		rec, err := json.Marshal(&engine.StoredPolicy{Tenant: tenant, Name: name, Active: d, Revision: 1,
			Versions: []engine.PolicyUpload{{Digest: d, Size: len(body)}}})
		if err != nil {
			t.Fatal(err)
		}
		pipe.Set(ctx, k.policy(name), rec, 0)
		pipe.HSet(ctx, k.policyBlobs(name), d, body)
		pipe.ZAdd(ctx, k.policies(), redis.Z{Member: name})
	}
	pipe.ZAdd(ctx, s.global().policyTenants(), redis.Z{Member: tenant})
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	// And one through the store, to be sure they look the same.
	setPolicy(t, s, tenant, "p9999", putModule(t, s, tenant, "p9999", "v1"))
	all, err := s.StoredPolicies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	listed := 0
	for _, p := range all {
		if p.Tenant == tenant {
			listed++
		}
	}
	if listed != n+1 {
		t.Fatalf("StoredPolicies lists %d policies of the tenant, want %d", listed, n+1)
	}
	if got := len(tenantKeysIn(allKeys(t, rdb), tenant)); got != 2*(n+1)+1 {
		t.Fatalf("the tenant holds %d keys, want %d", got, 2*(n+1)+1)
	}
	if err := s.DeleteTenant(ctx, tenant); err != nil {
		t.Fatalf("DeleteTenant: %v", err)
	}
	checkLeftAfterDelete(t, rdb, s, tenant)
	all, err = s.StoredPolicies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range all {
		if p.Tenant == tenant {
			t.Fatalf("StoredPolicies lists %s of the deleted tenant", p.Name)
		}
	}
}

// testPolicyTenantIndexRace creates and removes a tenant's policies from
// many goroutines at once, each removal possibly the tenant's last: after
// each round, a tenant with a policy is in the index of tenants with
// policies, so StoredPolicies lists it; once all are removed, it is not.
func testPolicyTenantIndexRace(t *testing.T, b backend) {
	s, rdb := b.store(t, Config{})
	ctx := t.Context()
	tenant := randomTenant()
	v := putModule(t, s, tenant, "seed", "v1")
	removePolicy(t, s, tenant, "seed")
	for round := range 20 {
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			name := fmt.Sprintf("r%02d-%d", round, i)
			prev := fmt.Sprintf("r%02d-%d", round-1, i)
			wg.Go(func() {
				_, errs[i] = s.UpdatePolicy(ctx, tenant, prev, func(*engine.StoredPolicy) (*engine.StoredPolicy, error) { return nil, nil })
				if errs[i] == nil && (i+round)%2 == 0 {
					_, errs[i] = s.UpdatePolicy(ctx, tenant, name, func(*engine.StoredPolicy) (*engine.StoredPolicy, error) {
						return &engine.StoredPolicy{Active: v.Digest, Versions: []engine.PolicyUpload{v}}, nil
					})
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := rdb.ZScore(ctx, s.global().policyTenants(), tenant).Err(); err != nil {
			t.Fatalf("round %d: the tenant has policies and is not in the index: %v", round, err)
		}
	}
	for i := range 8 {
		removePolicy(t, s, tenant, fmt.Sprintf("r19-%d", i))
	}
	if err := rdb.ZScore(ctx, s.global().policyTenants(), tenant).Err(); !errors.Is(err, redis.Nil) {
		t.Errorf("the tenant is in the index after its last policy went: %v", err)
	}
	k, _ := s.tenantKeys(tenant)
	for _, key := range tenantKeysIn(allKeys(t, rdb), tenant) {
		if strings.HasPrefix(key, k.base+"polic") {
			t.Errorf("key %s outlives every policy", key)
		}
	}
}

// TestPolicyTenantUnindexRecheck plays the race that unindexPolicyTenant
// guards against, one step at a time: a removal finds the tenant's policy
// index empty, another policy is created, and only then does the removal
// take the tenant out of the index of tenants with policies. It must put
// it back, or StoredPolicies would miss the new policy.
func TestPolicyTenantUnindexRecheck(t *testing.T) {
	s, rdb, tenant := newTestStore(t)
	ctx := t.Context()
	k, _ := s.tenantKeys(tenant)
	setPolicy(t, s, tenant, "a", putModule(t, s, tenant, "a", "v1"))
	raw := rdb.Get(ctx, k.policy("a")).Val()
	ks := []string{k.policy("a"), k.policyBlobs("a"), k.policies(), k.tombstone()}
	if status, err := updatePolicy.Run(ctx, rdb, ks, raw, "1", "", "a", s.limits.MaxPolicies).Text(); err != nil || status != "EMPTY" {
		t.Fatalf("removing the only policy = %q, %v; want EMPTY", status, err)
	}
	setPolicy(t, s, tenant, "b", putModule(t, s, tenant, "b", "v1"))
	if err := s.unindexPolicyTenant(ctx, tenant, k); err != nil {
		t.Fatal(err)
	}
	if err := rdb.ZScore(ctx, s.global().policyTenants(), tenant).Err(); err != nil {
		t.Errorf("the tenant is out of the index though it has a policy: %v", err)
	}
	all, err := s.StoredPolicies(ctx)
	if err != nil || len(all) != 1 || all[0].Name != "b" {
		t.Errorf("StoredPolicies = %v, %v; want the policy b", all, err)
	}
}

// testPolicyChangesInOrder publishes many changes one after the other
// while two watchers, each of its own client, receive them: each receives
// them in the order published (on a cluster, the publishes go through one
// node). A watcher may miss changes when it falls behind (the host's
// periodic comparison covers those), so after the burst the publisher keeps
// announcing newer revisions until every watcher has seen one: delivery is
// checked without a race against the clock.
func testPolicyChangesInOrder(t *testing.T, b backend) {
	ctx := t.Context()
	pub, _ := b.store(t, Config{})
	tenant := randomTenant()
	const n = 300
	var wg sync.WaitGroup
	got := make([][]int64, 2)
	var caughtUp atomic.Int32
	for w := range got {
		s, _ := b.store(t, Config{})
		ch, err := s.WatchPolicyChanges(ctx)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for c := range ch {
				if c.Tenant != tenant {
					continue
				}
				got[w] = append(got[w], c.Revision)
				if c.Revision >= n {
					caughtUp.Add(1)
					return
				}
			}
		})
	}
	for i := range n {
		if err := pub.PublishPolicyChange(ctx, engine.PolicyChange{Tenant: tenant, Name: "audit", Revision: int64(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	// A bound against a hang, not a speed check.
	for rev, start := int64(n+1), time.Now(); caughtUp.Load() < int32(len(got)); rev++ {
		if time.Since(start) > time.Minute {
			t.Fatalf("after a minute, %d of %d watchers have seen a revision past %d", caughtUp.Load(), len(got), n)
		}
		time.Sleep(20 * time.Millisecond)
		if err := pub.PublishPolicyChange(ctx, engine.PolicyChange{Tenant: tenant, Name: "audit", Revision: rev}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	for w, revs := range got {
		if !slices.IsSorted(revs) || len(slices.Compact(slices.Clone(revs))) != len(revs) {
			t.Errorf("watcher %d received the changes out of order: %v", w, revs)
		}
		t.Logf("watcher %d received %d of %d changes", w, len(revs), n)
	}
}
