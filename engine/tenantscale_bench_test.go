package engine_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/memstore"
)

// BenchmarkPutTenantAt measures PutTenant (and a refresh with nothing
// changed, the idle work of RefreshEvery) with n tenants already stored:
// both should cost the same at every n.
func BenchmarkPutTenantAt(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		ctx := context.Background()
		store := memstore.New(memstore.Config{})
		r, err := engine.New(engine.Config{Store: store, Keys: jose.KeySetChecker{}, Logger: testkit.DiscardLogger()})
		if err != nil {
			b.Fatal(err)
		}
		open := engine.Settings{InitialAccessToken: engine.TokenNone, MaxClients: 10}
		for i := range n {
			if _, err := store.PutTenant(ctx, &engine.TenantRecord{Name: fmt.Sprintf("t%d", i), Settings: open}, 0); err != nil {
				b.Fatal(err)
			}
		}
		if err := r.Refresh(ctx); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("put/tenants=%d", n), func(b *testing.B) {
			for i := range b.N {
				if _, _, err := r.PutTenant(ctx, fmt.Sprintf("t%d", i%n), open, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("idle-refresh/tenants=%d", n), func(b *testing.B) {
			for range b.N {
				if err := r.Refresh(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTenantMemory reports the heap each served stored tenant holds
// (settings as the loader of bench/scale writes them: one policy module
// named), measured over 10,000 tenants after a garbage collection.
func BenchmarkTenantMemory(b *testing.B) {
	const n = 10000
	ctx := context.Background()
	for range b.N {
		store := memstore.New(memstore.Config{})
		r, err := engine.New(engine.Config{Store: store, Keys: jose.KeySetChecker{}, Logger: testkit.DiscardLogger()})
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			s := engine.Settings{DefaultPolicies: []string{"trusted-hosts"}}
			if _, err := store.PutTenant(ctx, &engine.TenantRecord{Name: fmt.Sprintf("t%d", i), Settings: s}, 0); err != nil {
				b.Fatal(err)
			}
		}
		before := heapInUse()
		if err := r.Refresh(ctx); err != nil {
			b.Fatal(err)
		}
		after := heapInUse()
		b.ReportMetric(float64(after-before)/n, "heap-B/tenant")
		runtime.KeepAlive(r)
		runtime.KeepAlive(store)
	}
}

// heapInUse returns the bytes of live heap objects after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
