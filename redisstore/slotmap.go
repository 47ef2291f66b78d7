package redisstore

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// slotMapRefreshEvery is the shortest time between two refreshes of a
// cluster client's slot map that errors ask for.
const slotMapRefreshEvery = 200 * time.Millisecond

// slotMapRefresher is a go-redis hook on a cluster client that asks it to
// reload its slot map (ClusterClient.ReloadState, which fetches CLUSTER
// SLOTS in the background) when a command fails in a way that may mean
// the map is stale: the connection failed or timed out, or a node
// answered MOVED, ASK, CLUSTERDOWN, READONLY, MASTERDOWN or TRYAGAIN.
// go-redis on its own reloads the map every minute and after a MOVED it
// follows, but not after a refused connection: after a failover the slots
// of a dead primary would go to its address, and fail, for up to a
// minute. It reloads at most once per slotMapRefreshEvery.
type slotMapRefresher struct {
	c    *redis.ClusterClient
	now  func() time.Time
	last atomic.Int64 // Unix ns of the last reload asked for
}

// refreshSlotMapOnErrors hooks a slotMapRefresher into c.
func refreshSlotMapOnErrors(c *redis.ClusterClient) {
	c.AddHook(&slotMapRefresher{c: c, now: time.Now})
}

// DialHook implements redis.Hook.
func (r *slotMapRefresher) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements redis.Hook.
func (r *slotMapRefresher) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		r.check(ctx, err)
		return err
	}
}

// ProcessPipelineHook implements redis.Hook.
func (r *slotMapRefresher) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, cmd := range cmds {
			if r.check(ctx, cmd.Err()) {
				break
			}
		}
		return err
	}
}

// check asks for a reload if err says the slot map may be stale, and
// reports whether it did.
func (r *slotMapRefresher) check(ctx context.Context, err error) bool {
	if !staleSlotMap(ctx, err) {
		return false
	}
	now := r.now().UnixNano()
	last := r.last.Load()
	if now-last < int64(slotMapRefreshEvery) || !r.last.CompareAndSwap(last, now) {
		return false
	}
	r.c.ReloadState(context.WithoutCancel(ctx))
	return true
}

// staleRepliesPrefixes are the error replies after which the slot map is
// reloaded.
var staleReplyPrefixes = []string{"MOVED ", "ASK ", "CLUSTERDOWN", "READONLY", "MASTERDOWN", "TRYAGAIN"}

// staleSlotMap reports whether err, of a command made under ctx, may mean
// that the slot map is stale: any failure to reach a node (not the
// caller's giving up, not a reply that is an answer, not a replication
// wait that came up short) and the replies of staleReplyPrefixes.
func staleSlotMap(ctx context.Context, err error) bool {
	switch {
	case err == nil, errors.Is(err, redis.Nil), errors.Is(err, ErrNotReplicated):
		return false
	case errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled):
		return false
	}
	var reply redis.Error
	if errors.As(err, &reply) {
		msg := reply.Error()
		for _, p := range staleReplyPrefixes {
			if strings.HasPrefix(msg, p) {
				return true
			}
		}
		return false
	}
	return true // refused, reset, timed out, pool exhausted
}
