package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/redistest"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/redisstore"
)

// BenchmarkRefreshRedis measures engine.Refresh over redisstore with 10,
// 1,000, 10,000 and 100,000 stored tenants: "full" is the read of every
// tenant that a replica makes at start (each compiled), "reread" the one
// it makes every 10 minutes (nothing to compile), "idle" the one
// RefreshEvery makes each second when nothing changed. Loading 100,000
// tenants takes about 10 s; it runs only with -bench.
func BenchmarkRefreshRedis(b *testing.B) {
	srv := redistest.Start(b, redistest.Options{})
	ctx := b.Context()
	err := withStore(ctx, "redis://"+srv.Addr, func(s *redisstore.Store) error {
		loaded := 0
		for _, n := range []int{10, 1000, 10000, 100000} {
			if err := loadTenants(ctx, s, loaded, n, 64); err != nil {
				return err
			}
			loaded = n
			clock := testkit.NewClock(time.Now())
			newReg := func(b *testing.B) *engine.Registrar {
				r, err := engine.New(engine.Config{Store: s, Keys: jose.KeySetChecker{}, Logger: testkit.DiscardLogger(), Now: clock.Now})
				if err != nil {
					b.Fatal(err)
				}
				return r
			}
			b.Run(fmt.Sprintf("full/tenants=%d", n), func(b *testing.B) {
				for range b.N {
					if err := newReg(b).Refresh(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(fmt.Sprintf("reread/tenants=%d", n), func(b *testing.B) {
				r := newReg(b)
				if err := r.Refresh(ctx); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for range b.N {
					clock.Advance(11 * time.Minute)
					if err := r.Refresh(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(fmt.Sprintf("idle/tenants=%d", n), func(b *testing.B) {
				r := newReg(b)
				if err := r.Refresh(ctx); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for range b.N {
					if err := r.Refresh(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
