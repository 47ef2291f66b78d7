package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/redistest"
	"github.com/registrar-dev/registrar/oauth"
)

// waits records the outcomes that ObserveWait reports.
type waitLog struct {
	mu       sync.Mutex
	outcomes map[string]int
}

func (w *waitLog) observe(r ReplicationWait) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.outcomes == nil {
		w.outcomes = map[string]int{}
	}
	w.outcomes[r.Outcome]++
}

func (w *waitLog) count(outcome string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.outcomes[outcome]
}

// waitInSync waits until the primary at addr reports n replicas online
// and none behind it.
func waitInSync(t *testing.T, addr string, n int) {
	t.Helper()
	deadline := time.Now().Add(SlowMachine)
	for {
		repl, err := redistest.Command(addr, "INFO", "replication")
		if err == nil && strings.Count(repl, "state=online") == n && strings.Count(repl, "lag=0") == n && acks(addr, n) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replicas of %s not in sync: %v\n%s", addr, err, repl)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// acks reports whether n replicas of the primary at addr acknowledge a
// write within a second: a replica just online may not answer WAIT yet.
func acks(addr string, n int) bool {
	rdb := redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true, PoolSize: 1})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var wait *redis.IntCmd
	if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "registrar-test:sync-probe", "1", time.Minute)
		wait = redis.NewIntCmd(ctx, "wait", n, 1000)
		return p.Process(ctx, wait)
	}); err != nil {
		return false
	}
	return wait.Val() >= int64(n)
}

// notReplicated checks that err is the refusal of a write that too few
// replicas acknowledged: ErrNotReplicated, and ErrUnavailable for a 503.
func notReplicated(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, ErrNotReplicated) || !errors.Is(err, engine.ErrUnavailable) {
		t.Errorf("%s with the replica paused: %v, want ErrNotReplicated and engine.ErrUnavailable", what, err)
	}
}

// TestReplicationWait: with WaitReplicas, a write succeeds once its
// replica has it; with the replica paused, every kind of acknowledged
// write fails with ErrNotReplicated (a 503) although the primary made it,
// and reads go on; once the replica is back, writes succeed again.
func TestReplicationWait(t *testing.T) {
	primary := redistest.Start(t, redistest.Options{Extra: []string{"--repl-diskless-sync-delay", "0"}})
	replica := redistest.Start(t, redistest.Options{Extra: []string{"--replicaof", "127.0.0.1", primary.Port()}})
	waitInSync(t, primary.Addr, 1)
	var w waitLog
	s, err := New(DialForTest(t, primary.Addr), ConfigForTest(Config{WaitReplicas: 1, WaitTimeout: 200 * time.Millisecond, ObserveWait: w.observe}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	const tenant = "acme"
	if err := s.CreateClient(ctx, testClient(tenant, "before"), engine.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if n, err := redistest.Command(replica.Addr, "EXISTS", "registrar:{acme}:client:before"); err != nil || n != "1" {
		t.Errorf("the replica does not hold an acknowledged client: %q, %v", n, err)
	}
	if w.count(WaitAcked) == 0 {
		t.Errorf("no acknowledged wait observed: %v", w.outcomes)
	}

	replica.Pause()
	t.Cleanup(replica.Resume)
	notReplicated(t, "CreateClient", s.CreateClient(ctx, testClient(tenant, "during"), engine.CreateOptions{}))
	if _, err := s.Client(ctx, tenant, "during"); err != nil {
		t.Errorf("the refused write is not on the primary (reads still work): %v", err)
	}
	_, err = s.UpdateClient(ctx, tenant, "before", func(c *engine.Client) error { c.Metadata.ClientName = "x"; return nil })
	notReplicated(t, "UpdateClient", err)
	notReplicated(t, "DeleteClient", s.DeleteClient(ctx, tenant, "during"))
	_, err = s.Mark(ctx, tenant, "jti:1", time.Now().Add(time.Minute))
	notReplicated(t, "Mark", err)
	notReplicated(t, "PutToken", s.PutToken(ctx, &oauth.Token{Tenant: tenant, Digest: engine.HashToken("at"), ExpiresAt: time.Now().Add(time.Minute)}))
	notReplicated(t, "CreateInitialAccessToken", s.CreateInitialAccessToken(ctx, &engine.InitialAccessToken{Tenant: tenant, ID: engine.HashToken("iat"), CreatedAt: time.Now()}))
	_, err = s.PutTenant(ctx, &engine.TenantRecord{Name: tenant}, 0)
	notReplicated(t, "PutTenant", err)
	if ok, _, err := s.Allow(ctx, tenant, "k", engine.Rate{Events: 10, Per: time.Minute}); !ok || err != nil {
		t.Errorf("Allow (no wait) with the replica paused = %t, %v", ok, err)
	}
	if w.count(WaitShort) == 0 {
		t.Errorf("no short wait observed: %v", w.outcomes)
	}

	replica.Resume()
	waitInSync(t, primary.Addr, 1)
	if err := s.CreateClient(ctx, testClient(tenant, "after"), engine.CreateOptions{}); err != nil {
		t.Errorf("CreateClient after the replica is back: %v", err)
	}

	// More replicas than there are: every write is refused.
	s2, err := New(DialForTest(t, primary.Addr), ConfigForTest(Config{WaitReplicas: 2, WaitTimeout: 50 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	notReplicated(t, "CreateClient waiting for 2 of 1 replicas", s2.CreateClient(ctx, testClient(tenant, "two"), engine.CreateOptions{}))
}

// TestReplicationWaitCluster: on Redis Cluster the WAIT goes to the
// primary that made the write: with the replica of one primary paused,
// writes of the tenants it serves are refused and those of a tenant on
// another primary are acknowledged, every time.
func TestReplicationWaitCluster(t *testing.T) {
	c := redistest.StartReplicatedCluster(t, redistest.ReplicatedClusterOptions{NodeTimeout: time.Minute})
	s, err := Open(t.Context(), "redis+cluster://"+c.Addrs[0], OpenOptions{Logger: quiet, WaitReplicas: 1, WaitTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Two tenants on different primaries.
	tenants := map[*redistest.Server]string{}
	var replicaOfA *redistest.Server
	var a, b string
	for i := 0; b == ""; i++ {
		name := fmt.Sprintf("t%d", i)
		p, r, err := c.PrimaryOf("registrar:{" + name + "}:x")
		if err != nil {
			t.Fatal(err)
		}
		if _, seen := tenants[p]; seen {
			continue
		}
		tenants[p] = name
		if a == "" {
			a, replicaOfA = name, r
		} else {
			b = name
		}
	}
	ctx := t.Context()
	replicaOfA.Pause()
	t.Cleanup(replicaOfA.Resume)
	for i := range 10 {
		notReplicated(t, "CreateClient on the paused replica's primary", s.CreateClient(ctx, testClient(a, fmt.Sprint(i)), engine.CreateOptions{}))
		if err := s.CreateClient(ctx, testClient(b, fmt.Sprint(i)), engine.CreateOptions{}); err != nil {
			t.Errorf("CreateClient on another primary: %v", err)
		}
	}
}

// TestWaitConfig: the replication wait's configuration is checked.
func TestWaitConfig(t *testing.T) {
	rdb := DialForTest(t, "127.0.0.1:1")
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{WaitReplicas: -1}, "negative"},
		{Config{WaitReplicas: 1, WaitTimeout: -time.Second}, "negative"},
		{Config{WaitReplicas: 1, WaitTimeout: 2 * time.Second, Timeout: 2 * time.Second}, "shorter than the store timeout"},
		{Config{WaitReplicas: 1, WaitTimeout: time.Microsecond}, "at least 1ms"},
	} {
		if _, err := New(rdb, tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want an error saying %q", tc.cfg, err, tc.want)
		}
	}
	if _, err := New(rdb, Config{WaitReplicas: 1, WaitTimeout: time.Minute, Timeout: 2 * time.Minute}); err == nil || !strings.Contains(err.Error(), "read timeout") {
		t.Errorf("a wait as long as the client's read timeout: %v", err)
	}
}
