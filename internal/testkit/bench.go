package testkit

import (
	"slices"
	"testing"
	"time"
)

// ReportLatencies reports the median, 99th percentile and maximum of the
// durations a benchmark measured, as p50-µs, p99-µs and max-µs. It sorts
// took.
func ReportLatencies(b *testing.B, took []time.Duration) {
	b.Helper()
	if len(took) == 0 {
		return
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(took[len(took)-1].Microseconds()), "max-µs")
}
