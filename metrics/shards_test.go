package metrics_test

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/metrics"
)

// TestWatchShards: each server of the last check is a series of
// registrar_redis_shard_up (1 or 0) and _slots, and one that answered has
// its latency.
func TestWatchShards(t *testing.T) {
	m := metrics.New(metrics.Config{})
	m.WatchShards(func() []engine.ShardStatus {
		return []engine.ShardStatus{
			{Addr: "10.0.0.1:7000", Slots: 5461, Global: true, Reachable: true, Latency: 1500 * time.Microsecond},
			{Addr: "10.0.0.2:7000", Slots: 5462, LastError: "refused"},
		}
	})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	var got []string
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if strings.HasPrefix(line, "registrar_redis_shard_") {
			got = append(got, line)
		}
	}
	want := []string{
		`registrar_redis_shard_latency_seconds{shard="10.0.0.1:7000"} 0.0015`,
		`registrar_redis_shard_slots{shard="10.0.0.1:7000"} 5461`,
		`registrar_redis_shard_slots{shard="10.0.0.2:7000"} 5462`,
		`registrar_redis_shard_up{global="false",shard="10.0.0.2:7000"} 0`,
		`registrar_redis_shard_up{global="true",shard="10.0.0.1:7000"} 1`,
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("series:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
