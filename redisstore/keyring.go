package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/oauth"
)

// The tenant's signing key ring is one hash, P:{T}:signing-keys, with the
// fields "rev" (the revision) and "ring" (the keys as JSON, private parts
// sealed by the caller). putKeyRing writes both if "rev" is still the one
// the caller read: the compare-and-set that makes the first of racing
// replicas win.

// putKeyRing is PutKeyRing's compare-and-set. KEYS: the ring, the
// tombstone. ARGV: the expected revision ("0" for none), the new one, the
// ring's JSON.
var putKeyRing = redis.NewScript(`
local tomb = redis.call('GET', KEYS[2])
if tomb then return string.upper(tomb) end
local cur = redis.call('HGET', KEYS[1], 'rev') or '0'
if cur ~= ARGV[1] then return 'CONFLICT' end
redis.call('HSET', KEYS[1], 'rev', ARGV[2], 'ring', ARGV[3])
return 'OK'
`)

// KeyRing reads the tenant's signing key ring with HMGET.
func (s *Store) KeyRing(ctx context.Context, tenant string) (*oauth.KeyRing, error) {
	k, ok := s.tenantKeys(tenant)
	if !ok {
		return nil, engine.ErrNotFound
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	vals, err := s.rdb.HMGet(octx, k.keyRing(), "rev", "ring").Result()
	if err != nil {
		return nil, s.fail(ctx, "read key ring", err)
	}
	revS, ok1 := vals[0].(string)
	rec, ok2 := vals[1].(string)
	if !ok1 || !ok2 {
		return nil, engine.ErrNotFound
	}
	rev, err := strconv.ParseInt(revS, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("redisstore: decode key ring revision: %w", err)
	}
	ring := &oauth.KeyRing{}
	if err := json.Unmarshal([]byte(rec), ring); err != nil {
		return nil, fmt.Errorf("redisstore: decode key ring: %w", err)
	}
	ring.Tenant, ring.Revision = tenant, rev
	return ring, nil
}

// PutKeyRing writes the ring if the stored revision is ifRevision, in one
// script.
func (s *Store) PutKeyRing(ctx context.Context, ring *oauth.KeyRing, ifRevision int64) error {
	k, ok := s.tenantKeys(ring.Tenant)
	if !ok {
		return errInvalidTenant(ring.Tenant)
	}
	if ifRevision < 0 {
		return engine.ErrRevisionMismatch
	}
	stored := ring.Clone()
	stored.Revision = ifRevision + 1
	rec, err := json.Marshal(stored)
	if err != nil {
		return fmt.Errorf("redisstore: encode key ring: %w", err)
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	status, err := putKeyRing.Run(s.durable(octx), s.rdb, []string{k.keyRing(), k.tombstone()},
		ifRevision, ifRevision+1, rec).Text()
	if err != nil {
		return s.fail(ctx, "put key ring", err)
	}
	switch status {
	case "OK":
		return nil
	case "CONFLICT":
		return engine.ErrRevisionMismatch
	case "DELETING":
		return engine.ErrDeleting
	case "DELETED":
		return engine.ErrNoTenant
	}
	return fmt.Errorf("redisstore: put key ring: unexpected reply %q", status)
}
