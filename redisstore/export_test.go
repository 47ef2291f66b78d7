package redisstore

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// DialForTest returns a client of the servers at addrs (a cluster client
// when there are several) with the bounded timeouts the store relies on,
// closed when the test ends. It is shared by the tests of both packages.
func DialForTest(t testing.TB, addrs ...string) redis.UniversalClient {
	t.Helper()
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:                 addrs,
		DialTimeout:           time.Second,
		DialerRetries:         1,
		ReadTimeout:           time.Second,
		WriteTimeout:          time.Second,
		PoolTimeout:           time.Second,
		ContextTimeoutEnabled: true,
		DisableIdentity:       true,
	})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}
