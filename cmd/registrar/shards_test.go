package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
)

// TestShardWatch: the watch keeps the last check, carries a server's last
// error over once it answers again, and marks every known server
// unreachable when the servers cannot be listed at all.
func TestShardWatch(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC)
	up := func(at time.Time) engine.ShardStatus {
		return engine.ShardStatus{Addr: "a:1", Reachable: true, Latency: time.Millisecond, CheckedAt: at}
	}
	down := func(at time.Time) engine.ShardStatus {
		return engine.ShardStatus{Addr: "a:1", CheckedAt: at, LastError: "refused", LastErrorAt: at}
	}
	var next []engine.ShardStatus
	var nextErr error
	w := &shardWatch{check: func(context.Context) ([]engine.ShardStatus, error) { return next, nextErr }, log: testkit.DiscardLogger()}
	if got := w.Shards(); got != nil {
		t.Errorf("before the first check: %+v", got)
	}
	ctx := context.Background()
	steps := []struct {
		name string
		next []engine.ShardStatus
		err  error
		want engine.ShardStatus
	}{
		{"up", []engine.ShardStatus{up(t0)}, nil, up(t0)},
		{"down", []engine.ShardStatus{down(t0.Add(time.Second))}, nil, down(t0.Add(time.Second))},
		{"up again, with the last error", []engine.ShardStatus{up(t0.Add(2 * time.Second))}, nil,
			engine.ShardStatus{Addr: "a:1", Reachable: true, Latency: time.Millisecond, CheckedAt: t0.Add(2 * time.Second), LastError: "refused", LastErrorAt: t0.Add(time.Second)}},
		{"not listed", nil, errors.New("no node answers"),
			engine.ShardStatus{Addr: "a:1", CheckedAt: t0.Add(2 * time.Second), LastError: "no node answers"}},
	}
	for _, s := range steps {
		next, nextErr = s.next, s.err
		w.checkOnce(ctx)
		got := w.Shards()
		if len(got) != 1 {
			t.Fatalf("%s: %+v", s.name, got)
		}
		if s.err != nil {
			if got[0].LastErrorAt.IsZero() {
				t.Errorf("%s: no time of the error: %+v", s.name, got[0])
			}
			got[0].LastErrorAt = time.Time{}
		}
		if got[0].Addr != s.want.Addr || got[0].Reachable != s.want.Reachable || got[0].Latency != s.want.Latency ||
			!got[0].CheckedAt.Equal(s.want.CheckedAt) || got[0].LastError != s.want.LastError || !got[0].LastErrorAt.Equal(s.want.LastErrorAt) {
			t.Errorf("%s:\n got %+v\nwant %+v", s.name, got[0], s.want)
		}
	}
}
