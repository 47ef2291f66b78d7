package plugins_test

import (
	"context"
	"encoding/json"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/memstore"
	"github.com/registrar-dev/registrar/plugins"
)

// BenchmarkNoisyNeighbour measures one tenant's policy calls (the minimal
// module, one call at a time, as its registrations make them) while
// another tenant's hostile modules are called by 8 goroutines without
// pause: none, the endless loop, the memory bomb, or both (4 each). It
// reports the benign calls' median, 99th percentile and longest latency,
// how many of them failed, the hostile calls made, and afterwards the live
// Go heap, the memory the Go runtime holds from the system, and the
// process's resident memory (Linux; linear memories live outside the Go
// heap there). The goal: under attack, the median within 2× of idle.
func BenchmarkNoisyNeighbour(b *testing.B) {
	attacks := []struct {
		name    string
		modules []string
	}{
		{"idle", nil},
		{"loop", []string{"loop"}},
		{"grow", []string{"grow"}},
		{"loop+grow", []string{"loop", "grow"}},
	}
	for _, a := range attacks {
		b.Run(a.name, func(b *testing.B) {
			ctx := context.Background()
			h, err := plugins.New(ctx, plugins.Config{Store: memstore.New(memstore.Config{}), Logger: testkit.DiscardLogger()})
			if err != nil {
				b.Fatal(err)
			}
			defer h.Close(ctx)
			upload := func(tenant, name, fixtureName string) {
				if _, err := h.Upload(ctx, tenant, name, fixture(b, fixtureName), engine.PolicyChangeOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			upload("benign", "minimal", "minimal")
			upload("evil", "loop", "loop")
			upload("evil", "grow", "grow")

			stop := make(chan struct{})
			var attackers sync.WaitGroup
			var hostile atomic.Int64
			for i := range 8 {
				if len(a.modules) == 0 {
					break
				}
				name := a.modules[i%len(a.modules)]
				attackers.Go(func() {
					in := &engine.PolicyInput{Tenant: "evil", Metadata: map[string]json.RawMessage{}}
					for {
						select {
						case <-stop:
							return
						default:
						}
						h.Policy(ctx, "evil", name, in)
						hostile.Add(1)
					}
				})
			}
			if len(a.modules) > 0 {
				time.Sleep(300 * time.Millisecond) // let the attack reach its stride
			}
			in := &engine.PolicyInput{Tenant: "benign", Metadata: map[string]json.RawMessage{
				"redirect_uris": json.RawMessage(`["https://rp.example/cb"]`),
			}}
			took := make([]time.Duration, 0, b.N)
			failed := 0
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				if _, err := h.Policy(ctx, "benign", "minimal", in); err != nil {
					failed++
				}
				took = append(took, time.Since(start))
			}
			b.StopTimer()
			close(stop)
			attackers.Wait()
			testkit.ReportLatencies(b, took)
			b.ReportMetric(float64(hostile.Load()), "hostile-calls")
			b.ReportMetric(float64(failed), "benign-failed")
			runtime.GC()
			s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
			metrics.Read(s)
			b.ReportMetric(float64(s[0].Value.Uint64())/(1<<20), "heap-MiB")
			b.ReportMetric(float64(s[1].Value.Uint64()-s[2].Value.Uint64())/(1<<20), "go-mapped-MiB")
			if rss, err := readRSS(); err == nil {
				b.ReportMetric(float64(rss)/(1<<20), "rss-MiB")
			}
		})
	}
}
