package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestStaleSlotMap: the errors that may mean a failover ask for a reload
// of the slot map; answers, the caller's giving up and a short
// replication wait do not.
func TestStaleSlotMap(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	bg := context.Background()
	for _, tc := range []struct {
		name  string
		ctx   context.Context
		err   error
		stale bool
	}{
		{"none", bg, nil, false},
		{"nil reply", bg, redis.Nil, false},
		{"refused", bg, &net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{"reset", bg, io.EOF, true},
		{"timeout", bg, context.DeadlineExceeded, true},
		{"moved", bg, redisReply("MOVED 3999 127.0.0.1:6381"), true},
		{"ask", bg, redisReply("ASK 3999 127.0.0.1:6381"), true},
		{"cluster down", bg, redisReply("CLUSTERDOWN The cluster is down"), true},
		{"read only", bg, redisReply("READONLY You can't write against a read only replica."), true},
		{"script error", bg, redisReply("ERR user_script:1: oops"), false},
		{"no script", bg, redisReply("NOSCRIPT No matching script"), false},
		{"short wait", bg, fmt.Errorf("redisstore: %w: 0 of 1 replicas", ErrNotReplicated), false},
		{"caller gone", canceled, context.Canceled, false},
	} {
		if got := staleSlotMap(tc.ctx, tc.err); got != tc.stale {
			t.Errorf("%s: staleSlotMap(%v) = %t, want %t", tc.name, tc.err, got, tc.stale)
		}
	}
}

// TestSlotMapRefreshRate: errors ask for at most one reload per
// slotMapRefreshEvery.
func TestSlotMapRefreshRate(t *testing.T) {
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}, DialerRetries: 1, MaxRetries: -1})
	defer c.Close()
	now := time.Unix(1e9, 0)
	r := &slotMapRefresher{c: c, now: func() time.Time { return now }}
	ctx := context.Background()
	refused := &net.OpError{Op: "dial", Err: errors.New("connection refused")}
	reloads := 0
	for i := range 10 {
		if r.check(ctx, refused) {
			reloads++
		}
		if i == 4 {
			now = now.Add(slotMapRefreshEvery)
		}
	}
	if reloads != 2 {
		t.Errorf("%d reloads for ten errors in two periods, want 2", reloads)
	}
	if r.check(ctx, redisReply("ERR wrong")) {
		t.Error("a reply that is an answer asked for a reload")
	}
}
