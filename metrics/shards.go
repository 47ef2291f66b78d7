package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/registrar-dev/registrar/engine"
)

// shardCollector exports the last check of the store's servers at scrape
// time. The shard label is a server's address, which comes from the
// configuration and Redis (the cluster's own slot map), never from a
// request, so the series are as many as the servers.
type shardCollector struct {
	shards  func() []engine.ShardStatus
	up      *prometheus.Desc
	latency *prometheus.Desc
	slots   *prometheus.Desc
}

func newShardCollector(shards func() []engine.ShardStatus) *shardCollector {
	return &shardCollector{
		shards: shards,
		up: prometheus.NewDesc("registrar_redis_shard_up",
			"Whether each Redis server of the store (each Redis Cluster primary) answered this replica's last check (1) or not (0); global=\"true\" marks the server of the keys of no tenant, which readiness depends on.",
			[]string{"shard", "global"}, nil),
		latency: prometheus.NewDesc("registrar_redis_shard_latency_seconds",
			"Round trip of the last check's PING to each Redis server that answered it.",
			[]string{"shard"}, nil),
		slots: prometheus.NewDesc("registrar_redis_shard_slots",
			"Hash slots each Redis Cluster primary serves, from the cluster's slot map (0 outside a cluster).",
			[]string{"shard"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *shardCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.up
	ch <- c.latency
	ch <- c.slots
}

// Collect implements prometheus.Collector.
func (c *shardCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.shards() {
		up, global := 0.0, "false"
		if s.Reachable {
			up = 1
			ch <- prometheus.MustNewConstMetric(c.latency, prometheus.GaugeValue, s.Latency.Seconds(), s.Addr)
		}
		if s.Global {
			global = "true"
		}
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up, s.Addr, global)
		ch <- prometheus.MustNewConstMetric(c.slots, prometheus.GaugeValue, float64(s.Slots), s.Addr)
	}
}

// WatchShards exports, at every scrape, the last check of the store's
// servers that shards returns (registrar_redis_shard_up, _latency_seconds
// and _slots). Call it once.
func (m *Metrics) WatchShards(shards func() []engine.ShardStatus) {
	m.reg.MustRegister(newShardCollector(shards))
}
