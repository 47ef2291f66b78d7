package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/redistest"
	"github.com/registrar-dev/registrar/internal/testkit"
)

// tenantOn returns a tenant name whose keys live on node.
func tenantOn(t *testing.T, c *redistest.Cluster, node *redistest.Server) string {
	t.Helper()
	for i := range 200 {
		name := fmt.Sprintf("tenant-%d", i)
		if c.MasterOf(t, DefaultPrefix+":{"+name+"}:tenant") == node {
			return name
		}
	}
	t.Fatalf("no tenant name found on %s", node.Addr)
	return ""
}

// openCluster opens a Store over every node of c, closed when the test
// ends.
func openCluster(t *testing.T, c *redistest.Cluster) *Store {
	t.Helper()
	s, err := Open(t.Context(), "redis+cluster://"+strings.Join(c.Addrs, ","), OpenOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestShardDown: on a Redis Cluster with cluster-require-full-coverage no,
// a primary that holds some tenants' keys but not the keys of no tenant
// dies. Ping (readiness) still succeeds, the tenants of the other
// primaries are served, the dead primary's tenant gets ErrUnavailable,
// and Shards reports the dead primary unreachable, with its slots and its
// error, and the others reachable. Once it is back, Shards says so.
func TestShardDown(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t)
	c.ConfigSet(t, "cluster-require-full-coverage", "no")
	ctx := t.Context()
	s := openCluster(t, c)

	global := c.MasterOf(t, s.readyKey())
	var victim, other *redistest.Server
	for _, n := range c.Nodes {
		if n != global && victim == nil {
			victim = n
		} else if n != global {
			other = n
		}
	}
	lost, kept, home := tenantOn(t, c, victim), tenantOn(t, c, other), tenantOn(t, c, global)
	tokens := map[string]*engine.InitialAccessToken{}
	for _, tenant := range []string{lost, kept, home} {
		tok := &engine.InitialAccessToken{Tenant: tenant, ID: engine.HashToken(tenant), CreatedAt: time.Now()}
		if err := s.CreateInitialAccessToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		tokens[tenant] = tok
	}
	shards, err := s.Shards(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(shards) != 3 {
		t.Fatalf("shards: %+v", shards)
	}
	total := 0
	for _, sh := range shards {
		total += sh.Slots
		if !sh.Reachable || sh.Latency <= 0 || sh.LastError != "" || sh.Slots == 0 || len(sh.SlotRanges) == 0 || sh.Global != (sh.Addr == global.Addr) {
			t.Errorf("shard before the kill: %+v", sh)
		}
	}
	if total != 16384 {
		t.Errorf("the shards serve %d slots, want 16384", total)
	}

	victim.Kill()
	// The other nodes mark the victim failed after the node timeout; the
	// client learns it on its next check. Neither is a matter of speed.
	testkit.Eventually(t, 30*time.Second, "Shards reports the dead primary", func() bool {
		shards, err := s.Shards(ctx)
		if err != nil {
			return false
		}
		for _, sh := range shards {
			if sh.Addr == victim.Addr {
				return !sh.Reachable && sh.LastError != "" && sh.Slots > 0 && !sh.Global
			}
		}
		return false
	})
	shards, err = s.Shards(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, sh := range shards {
		if sh.Addr != victim.Addr && !sh.Reachable {
			t.Errorf("a live primary is reported down: %+v", sh)
		}
	}
	testkit.Eventually(t, 30*time.Second, "the tenants of the live primaries are served", func() bool {
		for _, tenant := range []string{kept, home} {
			if _, err := s.InitialAccessToken(ctx, tenant, tokens[tenant].ID); err != nil {
				return false
			}
		}
		return true
	})
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping with a primary of tenants only down: %v", err)
	}
	if _, err := s.InitialAccessToken(ctx, lost, tokens[lost].ID); !errors.Is(err, engine.ErrUnavailable) {
		t.Errorf("the dead primary's tenant: %v, want ErrUnavailable", err)
	}

	victim.Restart()
	testkit.Eventually(t, 30*time.Second, "Shards reports the primary back", func() bool {
		shards, err := s.Shards(context.Background())
		if err != nil {
			return false
		}
		up := 0
		for _, sh := range shards {
			if sh.Reachable {
				up++
			}
		}
		return up == 3
	})
}

// TestPingGlobalDown: when the primary of the keys of no tenant dies,
// Ping (readiness) fails with ErrUnavailable, whatever the others do.
func TestPingGlobalDown(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t)
	c.ConfigSet(t, "cluster-require-full-coverage", "no")
	ctx := t.Context()
	s := openCluster(t, c)
	c.MasterOf(t, s.readyKey()).Kill()
	if err := s.Ping(ctx); !errors.Is(err, engine.ErrUnavailable) {
		t.Errorf("Ping with the global primary down: %v, want ErrUnavailable", err)
	}
}

// TestPingFullCoverage: with cluster-require-full-coverage yes (Redis's
// default), a dead primary of tenants only makes the cluster refuse every
// query once the others mark it failed, and Ping says so, as every request
// would fail too.
func TestPingFullCoverage(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t)
	ctx := t.Context()
	s := openCluster(t, c)
	global := c.MasterOf(t, s.readyKey())
	for _, n := range c.Nodes {
		if n != global {
			n.Kill()
			break
		}
	}
	var last error
	testkit.Eventually(t, 60*time.Second, "Ping fails once the cluster is down", func() bool {
		last = s.Ping(ctx)
		return last != nil
	})
	if !errors.Is(last, engine.ErrUnavailable) || !strings.Contains(last.Error(), "CLUSTERDOWN") {
		t.Errorf("Ping with the cluster down: %v, want ErrUnavailable with CLUSTERDOWN", last)
	}
}
