package metrics

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ReplicationWait registers registrar_store_replication_wait_seconds, the
// time of each store write that waited for Redis replicas
// (--redis-wait-replicas) and its WAIT together, by outcome (acked:
// enough replicas had it; short: too few within the timeout, the request
// was answered 503; failed: the WAIT failed), and returns the function
// that observes one wait. Calling it again returns an observer of the same
// histogram.
func (m *Metrics) ReplicationWait() func(d time.Duration, outcome string) {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "registrar_store_replication_wait_seconds",
		Help:    "Time of a store write that waited for Redis replicas, the write and its WAIT together, by outcome (acked; short: too few replicas in time, answered 503; failed: the WAIT failed).",
		Buckets: fastBuckets,
	}, []string{"outcome"})
	if err := m.reg.Register(h); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			panic(err) // a clash of names in this package: a bug
		}
		h = are.ExistingCollector.(*prometheus.HistogramVec)
	}
	return func(d time.Duration, outcome string) {
		h.WithLabelValues(outcome).Observe(d.Seconds())
	}
}
