package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/registrar-dev/registrar/engine"
)

// The change log of tenant records, which TenantChanges reads: a counter
// of changes and a sorted set of tenant names scored by the number of
// each one's last change, both under the hash tag {_} with the tenant
// index. A tenant's record lives under the tenant's own tag, so on Redis
// Cluster no script can write both: a put or deletion notes the change
// before it writes the record and again after, so that a reader that read
// the record between the first note and the write reads it again after
// the second. (A process that dies between its write and the second note
// leaves that one change to the next full read; engine.Refresh reads
// everything now and then.)
func (k keys) tenantSeq() string     { return k.base + "tenants:seq" }
func (k keys) tenantChanges() string { return k.base + "tenants:changes" }

// noteTenant numbers a change of a tenant and, with index set, adds it to
// the tenant index.
//
// KEYS: change counter, changes, tenant index
// ARGV: name, "1" to index it
var noteTenant = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], n, ARGV[1])
if ARGV[2] == '1' then redis.call('ZADD', KEYS[3], 0, ARGV[1]) end
return n
`)

// changedTenants returns the number of the latest change and, unless
// since is negative, the names changed after since.
//
// KEYS: change counter, changes
// ARGV: since
var changedTenants = redis.NewScript(`
local latest = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) < 0 then return {latest, {}} end
return {latest, redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf')}
`)

// note runs noteTenant.
func (s *Store) note(ctx context.Context, name string, index bool) error {
	g := s.global()
	return noteTenant.Run(ctx, s.rdb, []string{g.tenantSeq(), g.tenantChanges(), g.tenantIndex()}, name, flag(index)).Err()
}

// noted notes a change of the tenant after a write that returned err,
// unless err is set.
func (s *Store) noted(ctx context.Context, name string, err error) error {
	if err != nil {
		return err
	}
	return s.note(ctx, name, false)
}

// TenantChanges returns the records of the tenants changed after change
// number since, read in pipelines of tenantsBatch, and the names of those
// without a record. When nothing changed it costs one short script, whatever the
// number of tenants.
func (s *Store) TenantChanges(ctx context.Context, since int64) (*engine.TenantChanges, error) {
	octx, cancel := s.op(ctx)
	g := s.global()
	reply, err := changedTenants.Run(octx, s.rdb, []string{g.tenantSeq(), g.tenantChanges()}, strconv.FormatInt(since, 10)).Slice()
	cancel()
	if err != nil {
		return nil, s.fail(ctx, "read tenant changes", err)
	}
	if len(reply) != 2 {
		return nil, fmt.Errorf("redisstore: read tenant changes: unexpected reply %v", reply)
	}
	latest, ok1 := reply[0].(int64)
	names, ok2 := reply[1].([]any)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("redisstore: read tenant changes: unexpected reply %v", reply)
	}
	ch := &engine.TenantChanges{Latest: latest}
	changed := make([]string, 0, len(names))
	for _, n := range names {
		if name, _ := n.(string); engine.ValidTenantName(name) {
			changed = append(changed, name)
		}
	}
	for batch := range slices.Chunk(changed, tenantsBatch) {
		if err := s.readChanged(ctx, batch, ch); err != nil {
			return nil, err
		}
	}
	return ch, nil
}

// readChanged reads the records of the named tenants in one pipeline,
// adding them to ch.Records, or to ch.Gone those without one.
func (s *Store) readChanged(ctx context.Context, names []string, ch *engine.TenantChanges) error {
	octx, cancel := s.op(ctx)
	defer cancel()
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.SliceCmd, len(names))
	for i, name := range names {
		k, _ := s.tenantKeys(name)
		cmds[i] = pipe.MGet(octx, k.tenant(), k.tombstone())
	}
	if _, err := pipe.Exec(octx); err != nil {
		return s.fail(ctx, "read changed tenants", err)
	}
	for i, cmd := range cmds {
		rec, err := tenantOf(cmd.Val())
		switch {
		case errors.Is(err, engine.ErrNotFound):
			ch.Gone = append(ch.Gone, names[i])
		case err != nil:
			return err
		default:
			ch.Records = append(ch.Records, rec)
		}
	}
	return nil
}
