package plugins_test

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/plugins"
)

// BenchmarkExamples measures one call of each example through the host
// (plugins.Module.Call with the default limits: pool, deadline with
// close-on-context-done, copy in and out), from one goroutine and from
// GOMAXPROCS goroutines, and reports the median and 99th percentile
// latency besides ns/op.
func BenchmarkExamples(b *testing.B) {
	for _, ex := range examples(b) {
		c, doc := ex.benchCase(b)
		m := ex.load(b, &exampleLog{})
		call := func() time.Duration {
			start := time.Now()
			out, err := m.Call(context.Background(), c.Hook, doc)
			d := time.Since(start)
			if err != nil {
				b.Fatal(err)
			}
			checkExampleCase(b, c, out, nil)
			return d
		}
		// Warm the pool to its idle size, so that the runs measure calls,
		// not the instantiation of new instances.
		warmExample(b, m, c, doc)

		b.Run(ex.id()+"/serial", func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				lat = append(lat, call())
			}
			reportExampleLatency(b, lat)
		})
		b.Run(ex.id()+"/parallel", func(b *testing.B) {
			var mu sync.Mutex
			var lat []time.Duration
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				for pb.Next() {
					mine = append(mine, call())
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			reportExampleLatency(b, lat)
		})
	}
}

// warmExample runs calls from GOMAXPROCS goroutines until each has had its own
// instance.
func warmExample(b *testing.B, m *plugins.Module, c *exampleCase, doc []byte) {
	b.Helper()
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for range 20 {
				if _, err := m.Call(context.Background(), c.Hook, doc); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func reportExampleLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkExampleLoad measures plugins.Load of each example without a
// compilation cache: decoding, compiling to native code, the import and
// export checks, and the first instance with its _initialize.
func BenchmarkExampleLoad(b *testing.B) {
	for _, ex := range examples(b) {
		b.Run(ex.id(), func(b *testing.B) {
			for b.Loop() {
				m, err := plugins.Load(context.Background(), ex.wasm, plugins.LoadOptions{Name: ex.name})
				if err != nil {
					b.Fatal(err)
				}
				_ = m.Close(context.Background())
			}
			b.ReportMetric(float64(len(ex.wasm)), "wasm-bytes")
		})
	}
}
