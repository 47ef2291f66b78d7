package redisstore

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// SlowMachine bounds each call of a store that tests make without a timeout
// of their own, and the socket waits of DialForTest's clients: long enough
// that a loaded 2-core machine running every suite under -race never trips
// it, so that a failure means a hang, not a slow machine. Tests of timeouts
// set their own, which the store's context enforces.
const SlowMachine = 30 * time.Second

// ConfigForTest is cfg with a Timeout of SlowMachine when it sets none.
func ConfigForTest(cfg Config) Config {
	if cfg.Timeout == 0 {
		cfg.Timeout = SlowMachine
	}
	return cfg
}

// DialForTest returns a client of the servers at addrs (a cluster client
// when there are several), closed when the test ends. It is shared by the
// tests of both packages. Its socket timeouts are SlowMachine: each store
// call is bounded by the store's own timeout (ContextTimeoutEnabled).
func DialForTest(t testing.TB, addrs ...string) redis.UniversalClient {
	t.Helper()
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:                 addrs,
		DialTimeout:           SlowMachine,
		DialerRetries:         1,
		ReadTimeout:           SlowMachine,
		WriteTimeout:          SlowMachine,
		PoolTimeout:           SlowMachine,
		ContextTimeoutEnabled: true,
		DisableIdentity:       true,
	})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}
