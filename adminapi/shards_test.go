package adminapi_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/adminapi"
	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/idn"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/memstore"
)

// unreadableStatuses is a policy host whose replica statuses cannot be
// read: the store's server of the keys of no tenant is down. Its other
// methods are not called by these tests (they would panic).
type unreadableStatuses struct {
	adminapi.Policies
	err error
}

func (u unreadableStatuses) Statuses(context.Context) ([]*engine.ReplicaStatus, error) {
	return nil, u.err
}

// TestStatusShards: GET /admin/policies/status carries the last check of
// the store's servers as "store", in the document's shape; it still
// answers, with the servers, when the store cannot list the replicas; and
// without a shard report there is no "store" member.
func TestStatusShards(t *testing.T) {
	checked := time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC)
	shards := []engine.ShardStatus{
		{Addr: "10.0.0.1:7000", Slots: 5461, SlotRanges: []string{"0-5460"}, Reachable: true, Latency: 1500 * time.Microsecond, CheckedAt: checked},
		{Addr: "10.0.0.2:7000", Slots: 5462, SlotRanges: []string{"5461-10922"}, Global: true, Reachable: true, Latency: 250 * time.Microsecond, CheckedAt: checked,
			LastError: "dial tcp 10.0.0.2:7000: connect: connection refused", LastErrorAt: checked.Add(-time.Minute)},
		{Addr: "10.0.0.3:7000", Slots: 5461, SlotRanges: []string{"10923-16383"}, CheckedAt: checked,
			LastError: "dial tcp 10.0.0.3:7000: connect: connection refused", LastErrorAt: checked},
	}
	want := []any{
		map[string]any{"addr": "10.0.0.1:7000", "slots": 5461.0, "slot_ranges": []any{"0-5460"}, "global": false, "reachable": true, "latency_ms": 1.5,
			"checked_at": "2026-12-04T18:00:00Z"},
		map[string]any{"addr": "10.0.0.2:7000", "slots": 5462.0, "slot_ranges": []any{"5461-10922"}, "global": true, "reachable": true, "latency_ms": 0.25,
			"checked_at": "2026-12-04T18:00:00Z", "last_error": "dial tcp 10.0.0.2:7000: connect: connection refused", "last_error_at": "2026-12-04T17:59:00Z"},
		map[string]any{"addr": "10.0.0.3:7000", "slots": 5461.0, "slot_ranges": []any{"10923-16383"}, "global": false, "reachable": false, "latency_ms": 0.0,
			"checked_at": "2026-12-04T18:00:00Z", "last_error": "dial tcp 10.0.0.3:7000: connect: connection refused", "last_error_at": "2026-12-04T18:00:00Z"},
	}
	report := func() []engine.ShardStatus { return shards }
	down := fmt.Errorf("redisstore: list replicas: %w: connection refused", engine.ErrUnavailable)

	for _, tc := range []struct {
		name      string
		shards    func() []engine.ShardStatus
		policies  adminapi.Policies
		status    int
		wantStore bool
		wantError bool
	}{
		{"servers and replicas", report, nil, 200, true, false},
		{"replicas unreadable", report, unreadableStatuses{err: down}, 200, true, true},
		{"replicas unreadable without a report", nil, unreadableStatuses{err: down}, 503, false, false},
		{"replicas fail otherwise", report, unreadableStatuses{err: errors.New("a bug")}, 500, false, false},
		{"no report", nil, nil, 200, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := serveStatus(t, tc.shards, tc.policies)
			status, m := e.adm("GET", "/admin/policies/status", "")
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, m)
			}
			if status != 200 {
				return
			}
			store, ok := m["store"].(map[string]any)
			if ok != tc.wantStore {
				t.Fatalf("store member present %v, want %v: %v", ok, tc.wantStore, m)
			}
			if ok && !reflect.DeepEqual(store["shards"], want) {
				t.Errorf("store.shards:\n got %v\nwant %v", store["shards"], want)
			}
			if _, ok := m["replicas_error"].(string); ok != tc.wantError {
				t.Errorf("replicas_error present %v, want %v: %v", ok, tc.wantError, m)
			}
			if _, ok := m["replicas"].([]any); !ok {
				t.Errorf("replicas is not a list: %v", m)
			}
		})
	}
}

// serveStatus serves the admin API with a shard report and a policy host,
// its answers checked against the OpenAPI document.
func serveStatus(t *testing.T, shards func() []engine.ShardStatus, policies adminapi.Policies) *env {
	t.Helper()
	store := memstore.New(memstore.Config{})
	reg, err := engine.New(engine.Config{Store: store, AuditLog: store, Limiter: store, Keys: jose.KeySetChecker{}, Hosts: idn.Normalizer{}, Logger: testkit.DiscardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	adm, err := adminapi.New(adminapi.Config{Registrar: reg, Token: token, Issuer: "https://id.example", Policies: policies, Shards: shards, Logger: testkit.DiscardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, store: store, admin: testkit.NewServer(t, checked(t, adm, nil))}
}
