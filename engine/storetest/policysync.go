package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// The subtests of RunPolicyStore for what a PolicyStore carries between
// replicas: policy changes and the replicas' statuses.

// receive waits for a change on ch that concerns tenant, and returns it;
// changes of other tenants (other tests may share the backend) are
// skipped. ok is false if ch closed or nothing came in time.
func receive(ch <-chan engine.PolicyChange, tenant string, wait time.Duration) (c engine.PolicyChange, ok bool) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case c, open := <-ch:
			if !open {
				return c, false
			}
			if c.Tenant == tenant {
				return c, true
			}
		case <-timer.C:
			return engine.PolicyChange{}, false
		}
	}
}

// deliveryWait bounds how long a published change may take to arrive.
const deliveryWait = 5 * time.Second

// testWatchPolicyChanges publishes changes to two watchers, and stops one.
func testWatchPolicyChanges(t *testing.T, s engine.PolicyStore) {
	ctx := t.Context()
	tenant := newTenant()
	// Publishing with nobody watching is no error.
	if err := s.PublishPolicyChange(ctx, engine.PolicyChange{Tenant: tenant, Name: "unheard", Revision: 1}); err != nil {
		t.Fatalf("PublishPolicyChange without watchers: %v", err)
	}
	ctxA, cancelA := context.WithCancel(ctx)
	defer cancelA()
	a, err := s.WatchPolicyChanges(ctxA)
	if err != nil {
		t.Fatalf("WatchPolicyChanges: %v", err)
	}
	b, err := s.WatchPolicyChanges(ctx)
	if err != nil {
		t.Fatalf("WatchPolicyChanges: %v", err)
	}
	changes := []engine.PolicyChange{
		{Tenant: tenant, Name: "audit", Revision: 7},
		{Tenant: tenant, Name: "audit", Revision: 0},
		{Tenant: tenant, Name: "quota.v2", Revision: 1 << 40},
	}
	for _, c := range changes {
		if err := s.PublishPolicyChange(ctx, c); err != nil {
			t.Fatalf("PublishPolicyChange(%+v): %v", c, err)
		}
	}
	for _, w := range []struct {
		name string
		ch   <-chan engine.PolicyChange
	}{{"first", a}, {"second", b}} {
		for _, want := range changes {
			got, ok := receive(w.ch, tenant, deliveryWait)
			if !ok {
				t.Fatalf("the %s watcher did not receive %+v within %v", w.name, want, deliveryWait)
			}
			if got != want {
				t.Errorf("the %s watcher received %+v, want %+v", w.name, got, want)
			}
		}
	}
	// The change published before the watchers started never arrives.

	// Cancelling the first watcher's context closes its channel; the
	// second goes on.
	cancelA()
	checkCloses(t, "the channel of a watcher whose context was cancelled", a)
	after := engine.PolicyChange{Tenant: tenant, Name: "after", Revision: 2}
	if err := s.PublishPolicyChange(ctx, after); err != nil {
		t.Fatalf("PublishPolicyChange after a watcher stopped: %v", err)
	}
	if got, ok := receive(b, tenant, deliveryWait); !ok || got != after {
		t.Errorf("the remaining watcher received %+v, %t; want %+v", got, ok, after)
	}

	// A watcher whose context is done already may fail; if it does not,
	// its channel closes.
	done, cancel := context.WithCancel(ctx)
	cancel()
	if c, err := s.WatchPolicyChanges(done); err == nil {
		checkCloses(t, "the channel of a watcher whose context was done at the start", c)
	}
}

// checkCloses waits for ch to close, dropping what it delivers meanwhile.
func checkCloses(t *testing.T, what string, ch <-chan engine.PolicyChange) {
	t.Helper()
	deadline := time.NewTimer(deliveryWait)
	defer deadline.Stop()
	for open := true; open; {
		select {
		case _, open = <-ch:
		case <-deadline.C:
			t.Errorf("%s is still open after %v", what, deliveryWait)
			return
		}
	}
}

// newReplicaStatus returns a status of replica with every field set.
func newReplicaStatus(replica, tenant string) *engine.ReplicaStatus {
	t := now()
	return &engine.ReplicaStatus{
		Replica:   replica,
		UpdatedAt: t,
		Policies: []engine.PolicyStatus{
			{Name: "audit", Source: "folder", Active: digest("audit"), Desired: digest("audit"), State: "active", ActivatedAt: t.Add(-time.Hour)},
			{
				Tenant: tenant, Name: "quota", Source: "store",
				Active: digest("quota v1"), Shadow: digest("quota v3"), Desired: digest("quota v2"),
				State: "failed", ActivatedAt: t.Add(-time.Minute), LastError: "compile: bad magic", LastErrorAt: t,
			},
		},
	}
}

// checkReplicaStatus is checkClient for replica statuses.
func checkReplicaStatus(t *testing.T, what string, got, want *engine.ReplicaStatus) bool {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got a nil status", what)
		return false
	}
	times := []timeField{{"UpdatedAt", got.UpdatedAt, want.UpdatedAt}}
	if len(got.Policies) == len(want.Policies) {
		for i := range got.Policies {
			times = append(times,
				timeField{fmt.Sprintf("Policies[%d].ActivatedAt", i), got.Policies[i].ActivatedAt, want.Policies[i].ActivatedAt},
				timeField{fmt.Sprintf("Policies[%d].LastErrorAt", i), got.Policies[i].LastErrorAt, want.Policies[i].LastErrorAt})
		}
	}
	ok := checkTimes(t, what, times)
	g, w := cloneReplicaStatus(got), cloneReplicaStatus(want)
	for _, s := range []*engine.ReplicaStatus{g, w} {
		s.UpdatedAt = time.Time{}
		if len(got.Policies) == len(want.Policies) {
			for i := range s.Policies {
				s.Policies[i].ActivatedAt, s.Policies[i].LastErrorAt = time.Time{}, time.Time{}
			}
		}
	}
	return checkJSON(t, what, g, w) && ok
}

// cloneReplicaStatus returns a deep copy of s.
func cloneReplicaStatus(s *engine.ReplicaStatus) *engine.ReplicaStatus {
	c := *s
	c.Policies = slices.Clone(s.Policies)
	return &c
}

// replicaStatuses returns the statuses of the replicas among ids, checking
// that the whole list is sorted.
func replicaStatuses(t *testing.T, s engine.PolicyStore, ids ...string) map[string]*engine.ReplicaStatus {
	t.Helper()
	all, err := s.ReplicaStatuses(t.Context())
	if err != nil {
		t.Fatalf("ReplicaStatuses: %v", err)
	}
	if !slices.IsSortedFunc(all, func(a, b *engine.ReplicaStatus) int { return strings.Compare(a.Replica, b.Replica) }) {
		t.Errorf("ReplicaStatuses is not sorted by replica")
	}
	out := map[string]*engine.ReplicaStatus{}
	for _, st := range all {
		if slices.Contains(ids, st.Replica) {
			if out[st.Replica] != nil {
				t.Errorf("ReplicaStatuses lists %s twice", st.Replica)
			}
			out[st.Replica] = st
		}
	}
	return out
}

// newReplica returns a replica ID no other subtest or run uses, of the
// form the contract describes.
func newReplica() string { return "host-1/4242/" + newTenant() }

// testReplicaStatus puts statuses, replaces one, and reads them back.
func testReplicaStatus(t *testing.T, s engine.PolicyStore) {
	ctx := t.Context()
	tenant := newTenant()
	r1, r2 := newReplica(), newReplica()
	if got := replicaStatuses(t, s, r1, r2); len(got) != 0 {
		t.Fatalf("ReplicaStatuses lists replicas that never reported: %v", got)
	}
	st1, st2 := newReplicaStatus(r1, tenant), newReplicaStatus(r2, tenant)
	st2.Policies = nil
	for _, st := range []*engine.ReplicaStatus{st1, st2} {
		arg := cloneReplicaStatus(st)
		if err := s.PutReplicaStatus(ctx, arg, time.Minute); err != nil {
			t.Fatalf("PutReplicaStatus(%s): %v", st.Replica, err)
		}
		checkReplicaStatus(t, "argument of PutReplicaStatus after the call", arg, st)
		arg.Policies = append(arg.Policies, engine.PolicyStatus{Name: "scribbled"})
		for i := range arg.Policies {
			arg.Policies[i].State = "scribbled"
		}
	}
	got := replicaStatuses(t, s, r1, r2)
	checkReplicaStatus(t, "ReplicaStatuses of the first", got[r1], st1)
	checkReplicaStatus(t, "ReplicaStatuses of the second", got[r2], st2)
	for _, st := range got {
		for i := range st.Policies {
			st.Policies[i].State = "scribbled"
		}
	}
	checkReplicaStatus(t, "ReplicaStatuses after changing what it gave", replicaStatuses(t, s, r1)[r1], st1)

	// A put replaces the replica's status whole.
	replaced := newReplicaStatus(r1, tenant)
	replaced.UpdatedAt = st1.UpdatedAt.Add(time.Second)
	replaced.Policies = replaced.Policies[1:]
	replaced.Policies[0].State = "active"
	if err := s.PutReplicaStatus(ctx, replaced, time.Minute); err != nil {
		t.Fatalf("PutReplicaStatus replacing: %v", err)
	}
	got = replicaStatuses(t, s, r1, r2)
	checkReplicaStatus(t, "ReplicaStatuses of a replaced status", got[r1], replaced)
	checkReplicaStatus(t, "ReplicaStatuses of the other after a replacement", got[r2], st2)

	// A status without a replica, or a ttl that is not positive, is refused.
	if err := s.PutReplicaStatus(ctx, newReplicaStatus("", tenant), time.Minute); err == nil {
		t.Errorf("PutReplicaStatus of a status without a replica succeeded")
	}
	r3 := newReplica()
	for _, ttl := range []time.Duration{0, -time.Second} {
		if err := s.PutReplicaStatus(ctx, newReplicaStatus(r3, tenant), ttl); err == nil {
			t.Errorf("PutReplicaStatus with ttl %v succeeded", ttl)
		}
	}
	if got := replicaStatuses(t, s, r3, ""); len(got) != 0 {
		t.Errorf("refused statuses are listed: %v", got)
	}
}

// testReplicaStatusExpiry puts a status with a short ttl: it goes, one put
// again with a long ttl stays, and so does one with a long ttl.
func testReplicaStatusExpiry(t *testing.T, s engine.PolicyStore) {
	ctx := t.Context()
	const ttl = 500 * time.Millisecond
	short, renewed, long := newReplica(), newReplica(), newReplica()
	start := time.Now()
	for _, r := range []string{short, renewed} {
		if err := s.PutReplicaStatus(ctx, newReplicaStatus(r, ""), ttl); err != nil {
			t.Fatalf("PutReplicaStatus(%s): %v", r, err)
		}
	}
	for _, r := range []string{renewed, long} {
		if err := s.PutReplicaStatus(ctx, newReplicaStatus(r, ""), time.Minute); err != nil {
			t.Fatalf("PutReplicaStatus(%s): %v", r, err)
		}
	}
	got := replicaStatuses(t, s, short, renewed, long)
	if time.Since(start) < ttl/2 && got[short] == nil {
		t.Errorf("a status with a ttl of %v is gone after %v", ttl, time.Since(start))
	}
	eventually(t, "the status with a short ttl expires", func() bool {
		return replicaStatuses(t, s, short)[short] == nil
	})
	if d := time.Since(start); d < ttl {
		t.Errorf("a status with a ttl of %v expired after %v", ttl, d)
	}
	got = replicaStatuses(t, s, short, renewed, long)
	if got[renewed] == nil || got[long] == nil {
		t.Errorf("after the short ttl, statuses put with a ttl of a minute: renewed %t, long %t; want both",
			got[renewed] != nil, got[long] != nil)
	}
	// Put again after it expired, a status is back.
	if err := s.PutReplicaStatus(ctx, newReplicaStatus(short, ""), time.Minute); err != nil {
		t.Fatalf("PutReplicaStatus again: %v", err)
	}
	if replicaStatuses(t, s, short)[short] == nil {
		t.Errorf("a status put again after it expired is not listed")
	}
}
