package main

import (
	"context"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/redisstore"
)

// shardCheckEvery is how often serve checks each Redis server (on Redis
// Cluster, each primary) for the admin status route and the metrics. On a
// cluster each check also refreshes the client's slot map.
const shardCheckEvery = 2 * time.Second

// shardWatch checks the store's Redis servers every shardCheckEvery and
// keeps the last result, with each server's last error carried over from
// earlier checks, for the admin status route and the metrics. It logs
// a server that stops answering and one that answers again.
type shardWatch struct {
	check func(context.Context) ([]engine.ShardStatus, error)
	log   *slog.Logger
	last  atomic.Pointer[[]engine.ShardStatus]
	// failing is whether the last check failed as a whole.
	failing bool
}

// newShardWatch returns the watch of the store, or nil when the store is
// not Redis (the embedded store has no servers).
func newShardWatch(store backend, log *slog.Logger) *shardWatch {
	s, ok := store.(*redisstore.Store)
	if !ok {
		return nil
	}
	return &shardWatch{check: s.Shards, log: log}
}

// Shards returns the result of the last check: nil before the first.
func (w *shardWatch) Shards() []engine.ShardStatus {
	if p := w.last.Load(); p != nil {
		return slices.Clone(*p)
	}
	return nil
}

// run checks at once and then every interval until ctx ends.
func (w *shardWatch) run(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		w.checkOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// checkOnce runs one check and keeps its result. A check that fails as a
// whole (no cluster node answers) marks every server known from the last
// check unreachable, with that error.
func (w *shardWatch) checkOnce(ctx context.Context) {
	now, err := w.check(ctx)
	if ctx.Err() != nil {
		return
	}
	prev := w.Shards()
	if err != nil {
		if !w.failing {
			w.log.WarnContext(ctx, "Redis servers cannot be listed", "err", err)
		}
		w.failing = true
		for i := range prev {
			prev[i].Reachable, prev[i].Latency = false, 0
			prev[i].LastError, prev[i].LastErrorAt = err.Error(), time.Now()
		}
		w.last.Store(&prev)
		return
	}
	w.failing = false
	for i := range now {
		sh := &now[i]
		j := slices.IndexFunc(prev, func(p engine.ShardStatus) bool { return p.Addr == sh.Addr })
		wasUp := j < 0 || prev[j].Reachable
		switch {
		case !sh.Reachable && wasUp:
			w.log.WarnContext(ctx, "Redis server does not answer", "shard", sh.Addr, "slots", sh.Slots, "global", sh.Global, "err", sh.LastError)
		case sh.Reachable && !wasUp:
			w.log.InfoContext(ctx, "Redis server answers again", "shard", sh.Addr)
		}
		if sh.Reachable && j >= 0 {
			sh.LastError, sh.LastErrorAt = prev[j].LastError, prev[j].LastErrorAt
		}
	}
	w.last.Store(&now)
}

// watchShards prepares the check of the Redis servers, which runBackground
// starts, and exports its result as metrics. It returns what the admin
// API reports: nil for the embedded store.
func (s *server) watchShards() func() []engine.ShardStatus {
	s.shards = newShardWatch(s.store, s.log)
	if s.shards == nil {
		return nil
	}
	s.metrics.WatchShards(s.shards.Shards)
	return s.shards.Shards
}
