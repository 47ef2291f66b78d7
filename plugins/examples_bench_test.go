package plugins_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
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
		m := ex.load(b, &testkit.Buffer{})
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

// BenchmarkLanguages compares the five implementations of trusted-hosts,
// one per language (policies-examples/trusted-hosts): the numbers of the
// per-language table in sdk/README.md. For each language:
//
//   - compile: compiling the module to native code in a fresh runtime
//     configured as the host's (close-on-context-done, memory cap), without
//     a compilation cache; reports wasm-bytes;
//   - instantiate: one instance with its start function (_initialize for a
//     reactor); reports the instance's linear memory (linear-KiB) and what
//     the host's Go heap holds for it (heap-KiB), averaged over 32 live
//     instances;
//   - call: the cases file's bench case through the host (plugins.Load
//     with the default limits, then Module.Call), serially; reports p50-ns
//     and p99-ns;
//   - sdk: the same input document through the SDK alone: the SDK's
//     conformance module (sdk/testdata/vectors) answering it with its
//     metadata as it is, which is decoding the input and writing the
//     output; for WAT, which has no SDK, sdk/testdata/minimal.wasm, which
//     copies the metadata without parsing it.
//
// go test ./plugins -run '^$' -bench Languages
func BenchmarkLanguages(b *testing.B) {
	sdkModules := map[string]string{"wat": "../sdk/testdata/minimal.wasm"}
	for _, cm := range conformanceModules {
		sdkModules[cm.sdk] = cm.path
	}
	for _, ex := range examples(b) {
		if ex.name != "trusted-hosts" {
			continue
		}
		b.Run(ex.lang+"/compile", func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				r := newBenchRuntime(ctx, b)
				if _, err := r.CompileModule(ctx, ex.wasm); err != nil {
					b.Fatal(err)
				}
				_ = r.Close(ctx)
			}
			b.ReportMetric(float64(len(ex.wasm)), "wasm-bytes")
		})
		b.Run(ex.lang+"/instantiate", func(b *testing.B) {
			ctx := context.Background()
			r := newBenchRuntime(ctx, b)
			defer r.Close(ctx)
			compiled, err := r.CompileModule(ctx, ex.wasm)
			if err != nil {
				b.Fatal(err)
			}
			cfg := wazero.NewModuleConfig().WithName("").WithStartFunctions()
			if _, ok := compiled.ExportedFunctions()["_initialize"]; ok {
				cfg = cfg.WithStartFunctions("_initialize")
			}
			for b.Loop() {
				m, err := r.InstantiateModule(ctx, compiled, cfg)
				if err != nil {
					b.Fatal(err)
				}
				_ = m.Close(ctx)
			}
			// Memory: instances kept alive, measured once.
			const live = 32
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			mods := make([]api.Module, live)
			for i := range mods {
				if mods[i], err = r.InstantiateModule(ctx, compiled, cfg); err != nil {
					b.Fatal(err)
				}
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(mods[0].Memory().Size())/1024, "linear-KiB")
			b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/live/1024, "heap-KiB")
			for _, m := range mods {
				_ = m.Close(ctx)
			}
		})
		b.Run(ex.lang+"/call", func(b *testing.B) {
			c, doc := ex.benchCase(b)
			m := ex.load(b, &testkit.Buffer{})
			warmExample(b, m, c, doc)
			var lat []time.Duration
			for b.Loop() {
				start := time.Now()
				out, err := m.Call(context.Background(), c.Hook, doc)
				lat = append(lat, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				checkExampleCase(b, c, out, nil)
			}
			reportExampleLatency(b, lat)
		})
		b.Run(ex.lang+"/sdk", func(b *testing.B) {
			_, doc := ex.benchCase(b)
			wasm, err := os.ReadFile(sdkModules[ex.lang])
			if err != nil {
				b.Fatal(err)
			}
			// The same document without the configuration: the
			// conformance module then answers the metadata as it is.
			var in map[string]json.RawMessage
			if err := json.Unmarshal(doc, &in); err != nil {
				b.Fatal(err)
			}
			delete(in, "config")
			if doc, err = json.Marshal(in); err != nil {
				b.Fatal(err)
			}
			m, err := plugins.Load(context.Background(), wasm, plugins.LoadOptions{Name: "sdk"})
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close(context.Background())
			c := &exampleCase{Hook: engine.HookPolicy}
			warmExample(b, m, c, doc)
			var lat []time.Duration
			for b.Loop() {
				start := time.Now()
				_, err := m.Call(context.Background(), engine.HookPolicy, doc)
				lat = append(lat, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
			}
			reportExampleLatency(b, lat)
		})
	}
}

// newBenchRuntime returns a runtime configured as the host configures one
// per module, with WASI and a stand-in for the "registrar" host module.
func newBenchRuntime(ctx context.Context, b *testing.B) wazero.Runtime {
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(true).WithMemoryLimitPages(512))
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r); err != nil {
		b.Fatal(err)
	}
	i32, i64 := api.ValueTypeI32, api.ValueTypeI64
	_, err := r.NewHostModuleBuilder("registrar").
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(context.Context, api.Module, []uint64) {}),
		[]api.ValueType{i32, i32, i32}, nil).Export("log").
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, _ api.Module, stack []uint64) {
		stack[0] = uint64(time.Now().UnixMilli())
	}), nil, []api.ValueType{i64}).Export("now_unix_ms").
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, m api.Module, stack []uint64) {
		buf, ok := m.Memory().Read(uint32(stack[0]), uint32(stack[1]))
		if !ok {
			stack[0] = 1
			return
		}
		_, _ = rand.Read(buf)
		stack[0] = 0
	}), []api.ValueType{i32, i32}, []api.ValueType{i32}).Export("random").
		Instantiate(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return r
}
