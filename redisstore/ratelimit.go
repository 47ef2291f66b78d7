package redisstore

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// Allow takes one event from the budget of tenant and key, if it has one
// (see engine.Limiter), in one script that reads the Redis server's clock,
// so that replicas whose clocks disagree share the budget exactly. The
// budget's key (see rateKey) expires once the bucket is full again. The interval between events is
// kept in whole microseconds, rounded up. The zero rate is no limit:
// every event fits and none is counted. A rate with Events or Per
// negative, or Per zero for a positive Events, is an error.
func (s *Store) Allow(ctx context.Context, tenant, key string, rate engine.Rate) (bool, time.Duration, error) {
	if rate.IsZero() {
		return true, 0, nil
	}
	if rate.Events < 0 || rate.Per <= 0 {
		return false, 0, fmt.Errorf("redisstore: rate %d per %v is not a rate", rate.Events, rate.Per)
	}
	per := rate.Per.Microseconds()
	interval := (per + int64(rate.Events) - 1) / int64(rate.Events)
	octx, cancel := s.op(ctx)
	defer cancel()
	reply, err := allow.Run(octx, s.rdb, []string{s.rateKey(tenant, key)}, interval, per).Int64Slice()
	if err != nil {
		return false, 0, s.fail(ctx, "rate limit", err)
	}
	if reply[0] == 1 {
		return true, 0, nil
	}
	return false, max(time.Duration(reply[1])*time.Microsecond, time.Millisecond), nil
}

// rateKey returns the key of the budget of tenant and key: in the tenant's
// hash tag, or for tenant "" in {_}. A tenant string that is not a tenant
// name (engine.ValidTenantName), which the engine never passes, gets the
// tag {~<hex of the string>}: no tenant name starts with "~", and hex
// cannot close the brace.
func (s *Store) rateKey(tenant, key string) string {
	if tenant == "" {
		return s.global().rate(key)
	}
	if k, ok := s.tenantKeys(tenant); ok {
		return k.rate(key)
	}
	return keys{s.prefix + ":{~" + hex.EncodeToString([]byte(tenant)) + "}:"}.rate(key)
}
