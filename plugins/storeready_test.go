package plugins_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/memstore"
	"github.com/registrar-dev/registrar/plugins"
)

// unreadyStore is a policy store whose listing fails until ready is set,
// as a Redis Cluster does before it is formed.
type unreadyStore struct {
	*memstore.Store
	ready atomic.Bool
	calls atomic.Int32
}

func (s *unreadyStore) StoredPolicies(ctx context.Context) ([]*engine.StoredPolicy, error) {
	s.calls.Add(1)
	if !s.ready.Load() {
		return nil, errors.New("CLUSTERDOWN Hash slot not served")
	}
	return s.Store.StoredPolicies(ctx)
}

// TestReadyWhenStoreIs: a host started while its store cannot list the
// modules is not ready, and turns ready once the store answers, without
// waiting for the next rescan (an hour here).
func TestReadyWhenStoreIs(t *testing.T) {
	store := &unreadyStore{Store: memstore.New(memstore.Config{})}
	h := newHost(t, plugins.Config{Store: store, Rescan: time.Hour})
	run(t, h)
	if err := h.Ready(); err == nil {
		t.Fatal("ready before the store was read")
	}
	// Both the load at start and the sync when the watcher subscribed
	// have failed.
	for store.calls.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	store.ready.Store(true)
	deadline := time.Now().Add(30 * time.Second) // far below the rescan
	for h.Ready() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("not ready 30s after the store was: %v", h.Ready())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
