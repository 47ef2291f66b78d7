package plugins_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/plugins"
)

// BenchmarkPolicyCall measures one policy call the way the engine makes it
// during a registration: ModuleSet.Policy on a snapshot of the tenant's
// modules, with an *engine.PolicyInput, through a Host with the default
// limits (but a 10 s deadline). A call is the whole of it: building the input
// document (JSON), taking one of the tenant's turns, an instance from the
// pool, the deadline, copying the document in, running the module,
// copying and decoding its output. The module is trusted-hosts
// (policies-examples/trusted-hosts) in C and in Go, on the bench case of
// its cases file (the input of a registration with ten metadata members);
// the output is checked. It runs from one goroutine and reports the
// median and 99th percentile (p50-ns, p99-ns) besides ns/op. Issue 16's
// goal: p50 at most 10 µs for C.
//
// go test ./plugins -run '^$' -bench PolicyCall -count 5
func BenchmarkPolicyCall(b *testing.B) {
	for _, lang := range []string{"c", "go"} {
		b.Run(lang, func(b *testing.B) {
			ex := trustedHosts(b, lang)
			c, doc := ex.benchCase(b)
			var in engine.PolicyInput
			if err := json.Unmarshal(doc, &in); err != nil {
				b.Fatal(err)
			}
			dir := b.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "trusted-hosts.wasm"), ex.wasm, 0o600); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			// The default limits but the deadline: its length does not
			// change what a call costs, and on a loaded machine a call now
			// and then stalls past 100 ms, which would end the run.
			h, err := plugins.New(ctx, plugins.Config{Dir: dir, Logger: testkit.DiscardLogger(), Limits: plugins.Limits{Timeout: 10 * time.Second}})
			if err != nil {
				b.Fatal(err)
			}
			defer h.Close(ctx)
			s := h.Snapshot(in.Tenant)
			defer s.Release()
			call := func() time.Duration {
				start := time.Now()
				out, err := s.Policy(ctx, "trusted-hosts", &in)
				took := time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				if string(out.Metadata["client_name"]) != `"Unnamed client"` {
					b.Fatalf("case %q: metadata %v", c.Name, out.Metadata)
				}
				return took
			}
			for range 50 {
				call() // warm: the pool, the caches
			}
			lat := make([]time.Duration, 0, 1<<16)
			for b.Loop() {
				lat = append(lat, call())
			}
			reportExampleLatency(b, lat)
		})
	}
}

// trustedHosts returns the trusted-hosts example in a language.
func trustedHosts(tb testing.TB, lang string) example {
	tb.Helper()
	for _, ex := range examples(tb) {
		if ex.name == "trusted-hosts" && ex.lang == lang {
			return ex
		}
	}
	tb.Fatalf("no trusted-hosts example in %s", lang)
	return example{}
}
