package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/registrar-dev/registrar/engine"
)

// readyKey is the key whose read tells readiness: the tenant index, one
// of the keys of the hash tag {_} that no tenant owns.
func (s *Store) readyKey() string { return s.global().tenantIndex() }

// pingGlobal reads the tenant index's existence: on Redis Cluster the
// primary of the slot of {_} answers it (go-redis follows MOVED), and a
// cluster that refuses queries (CLUSTERDOWN, as with
// cluster-require-full-coverage yes and a slot uncovered) fails it, as it
// fails every request; other primaries being down does not.
func (s *Store) pingGlobal(ctx context.Context) error {
	return s.rdb.Exists(ctx, s.readyKey()).Err()
}

// Shards checks each server that holds the store's keys, within
// Config.Timeout: on Redis Cluster every primary (after refreshing the
// client's slot map), else the one server. Each gets a PING, timed; a
// cluster primary that answers is also asked for the cluster's slot map,
// which gives every primary its slots. The result is sorted by address.
// A server that does not answer is reported as such (Reachable false,
// LastError), not as an error: Shards fails only when it cannot learn
// which servers there are (no cluster node answers).
func (s *Store) Shards(ctx context.Context) ([]engine.ShardStatus, error) {
	octx, cancel := s.op(ctx)
	defer cancel()
	c, ok := s.rdb.(*redis.ClusterClient)
	if !ok {
		sh := s.checkServer(octx, "", s.rdb)
		sh.Addr = s.serverName(octx, sh.Reachable)
		return []engine.ShardStatus{sh}, nil
	}
	var (
		mu     sync.Mutex
		shards []engine.ShardStatus
		slots  []redis.ClusterSlot
	)
	err := c.ForEachMaster(octx, func(ctx context.Context, node *redis.Client) error {
		sh := s.checkServer(ctx, node.Options().Addr, node)
		var got []redis.ClusterSlot
		if sh.Reachable {
			//lint:ignore SA1019 CLUSTER SHARDS, its successor, needs Redis 7; Registrar supports 6.2.
			got, _ = node.ClusterSlots(ctx).Result()
		}
		mu.Lock()
		defer mu.Unlock()
		shards = append(shards, sh)
		if slots == nil && len(got) > 0 {
			slots = got
		}
		return nil
	})
	if len(shards) == 0 {
		if err == nil {
			err = errors.New("the cluster has no primaries")
		}
		return nil, s.fail(ctx, "list cluster primaries", err)
	}
	slices.SortFunc(slots, func(a, b redis.ClusterSlot) int { return a.Start - b.Start })
	global := ""
	if node, err := c.MasterForKey(octx, s.readyKey()); err == nil {
		global = node.Options().Addr
	}
	for i := range shards {
		sh := &shards[i]
		sh.Global = sh.Addr == global
		for _, r := range slots {
			if len(r.Nodes) > 0 && r.Nodes[0].Addr == sh.Addr {
				sh.Slots += r.End - r.Start + 1
				sh.SlotRanges = append(sh.SlotRanges, fmt.Sprintf("%d-%d", r.Start, r.End))
			}
		}
	}
	slices.SortFunc(shards, func(a, b engine.ShardStatus) int { return strings.Compare(a.Addr, b.Addr) })
	return shards, nil
}

// checkServer PINGs one server and reports it.
func (s *Store) checkServer(ctx context.Context, addr string, rdb redis.Cmdable) engine.ShardStatus {
	start := time.Now()
	err := rdb.Ping(ctx).Err()
	sh := engine.ShardStatus{Addr: addr, CheckedAt: start, Global: true}
	if err != nil {
		sh.LastError, sh.LastErrorAt = err.Error(), start
		return sh
	}
	sh.Reachable, sh.Latency = true, time.Since(start)
	return sh
}

// serverName names the one server of a client that is not a cluster's:
// its address; for a Sentinel-managed primary, the address the primary
// reports for the connection (CLIENT INFO's laddr) when it answers, else
// "sentinel".
func (s *Store) serverName(ctx context.Context, reachable bool) string {
	if c, ok := s.rdb.(*redis.Client); ok && c.Options().Addr != "FailoverClient" {
		return c.Options().Addr
	}
	if reachable {
		if info, err := s.rdb.ClientInfo(ctx).Result(); err == nil && info.LAddr != "" {
			return info.LAddr
		}
	}
	return "sentinel"
}
