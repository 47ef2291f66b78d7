package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// readTimeoutOverWait is how much longer than the replication wait the
// read timeout of Open's client is at least (Config.WaitReplicas).
const readTimeoutOverWait = 500 * time.Millisecond

// readTimeoutOver raises the client's read timeout to at least d.
func (t *redisTarget) readTimeoutOver(d time.Duration) {
	var p *time.Duration
	switch {
	case t.cluster != nil:
		p = &t.cluster.ReadTimeout
	case t.failover != nil:
		p = &t.failover.ReadTimeout
	default:
		p = &t.single.ReadTimeout
	}
	if *p >= 0 && *p < d { // -1 is no timeout at all
		*p = d
	}
}

// diagnose looks, after a failed PING (err), for a mistake of
// configuration that waiting would not mend, and returns it wrapping
// ErrInvalidURL; else nil. It recognises a cluster URL that names a server
// without cluster mode, and a sentinel URL whose primary name no sentinel
// that answers knows.
func (t *redisTarget) diagnose(ctx context.Context, err error) error {
	switch {
	case t.cluster != nil && strings.Contains(err.Error(), "cluster support disabled"):
		return fmt.Errorf("redisstore: %w: %s: the server is not in cluster mode; for a single server use redis://%s (or rediss://)",
			ErrInvalidURL, t, t.cluster.Addrs[0])
	case t.failover != nil:
		return t.unknownPrimary(ctx)
	case t.single != nil && (strings.Contains(err.Error(), "MOVED ") || strings.Contains(err.Error(), "CLUSTERDOWN")):
		// The readiness read of a key held by another node of a Cluster.
		return t.clusterNode()
	}
	return nil
}

// unknownPrimary asks each sentinel for the address of the URL's primary,
// and returns an error naming the primaries they do know when at least
// one answered and none knows it.
func (t *redisTarget) unknownPrimary(ctx context.Context) error {
	f := t.failover
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	answered := 0
	var known []string
	for _, addr := range f.SentinelAddrs {
		sc := redis.NewSentinelClient(&redis.Options{
			Addr: addr, Username: f.SentinelUsername, Password: f.SentinelPassword, TLSConfig: f.TLSConfig,
			DialTimeout: f.DialTimeout, ReadTimeout: f.ReadTimeout, WriteTimeout: f.WriteTimeout,
			DialerRetries: 1, MaxRetries: -1, ContextTimeoutEnabled: true, DisableIdentity: true,
		})
		_, err := sc.GetMasterAddrByName(ctx, f.MasterName).Result()
		switch {
		case err == nil:
			sc.Close()
			return nil // it knows the primary: the failure is something else
		case errors.Is(err, redis.Nil):
			answered++
			if masters, err := sc.Masters(ctx).Result(); err == nil {
				known = append(known, primaryNames(masters)...)
			}
		}
		sc.Close()
	}
	if answered == 0 {
		return nil // none answered: waiting may help
	}
	slices.Sort(known)
	monitored := "none"
	if known = slices.Compact(known); len(known) > 0 {
		monitored = strings.Join(known, ", ")
	}
	return fmt.Errorf("redisstore: %w: %s: the sentinels that answered know no primary named %q (they monitor: %s)",
		ErrInvalidURL, t, f.MasterName, monitored)
}

// primaryNames returns the "name" field of each entry of a SENTINEL
// MASTERS reply (a flat field/value list in RESP2, a map in RESP3).
func primaryNames(masters []any) []string {
	var names []string
	for _, m := range masters {
		switch m := m.(type) {
		case []any:
			for i := 0; i+1 < len(m); i += 2 {
				if k, _ := m[i].(string); k == "name" {
					if v, ok := m[i+1].(string); ok {
						names = append(names, v)
					}
				}
			}
		case map[any]any:
			if v, ok := m["name"].(string); ok {
				names = append(names, v)
			}
		}
	}
	return names
}

// checkMode refuses a single-server URL that names a node of a Redis
// Cluster: such a store would answer only for the tenants whose slots the
// node holds, and MOVED for the others. A server that does not answer
// INFO (an ACL may forbid it) is not refused.
func (t *redisTarget) checkMode(ctx context.Context, s *Store) error {
	if t.single == nil {
		return nil
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	info, err := s.rdb.Info(octx, "cluster").Result()
	if err != nil || !strings.Contains(info, "cluster_enabled:1") {
		return nil
	}
	return t.clusterNode()
}

// clusterNode is the error of a redis:// URL that names a node of a Redis
// Cluster.
func (t *redisTarget) clusterNode() error {
	scheme := "redis+cluster"
	if t.single.TLSConfig != nil {
		scheme = "rediss+cluster"
	}
	return fmt.Errorf("redisstore: %w: %s is a node of a Redis Cluster: use %s://%s (add more nodes, comma-separated, as seeds)",
		ErrInvalidURL, t, scheme, t.single.Addr)
}
