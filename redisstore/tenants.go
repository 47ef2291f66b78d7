package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/registrar-dev/registrar/engine"
)

// deleteBatch is how many records each step of DeleteTenant removes: a
// script that deletes a few hundred keys keeps the server busy for about a
// millisecond, so other tenants' requests barely wait.
const deleteBatch = 500

// tombstoneDeleting and tombstoneDeleted are the values of a tenant's
// tombstone key: while DeleteTenant runs (or after it failed part way),
// and for engine.TombstoneTTL after it finished.
const (
	tombstoneDeleting = "deleting"
	tombstoneDeleted  = "deleted"
)

// PutTenant stores the tenant record, as a compare-and-set of the record
// read: it reads the record and the tombstone, checks ifRevision, and
// writes the new revision only if the record has not changed since; if it
// has, it starts over. The tenant's name is added to the tenant index
// before a create, so that a record never exists unlisted, and again after
// it, in case a DeleteTenant that just finished took it out; with each it
// notes the change for TenantChanges.
func (s *Store) PutTenant(ctx context.Context, t *engine.TenantRecord, ifRevision int64) (*engine.TenantRecord, error) {
	k, ok := s.tenantKeys(t.Name)
	if !ok {
		return nil, errInvalidTenant(t.Name)
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	for {
		vals, err := s.rdb.MGet(octx, k.tenant(), k.tombstone()).Result()
		if err != nil {
			return nil, s.fail(ctx, "read tenant for put", err)
		}
		if tomb, _ := vals[1].(string); tomb == tombstoneDeleting {
			return nil, engine.ErrDeleting
		}
		oldRec, had := vals[0].(string)
		rec, data, err := nextTenant(t, oldRec, had, ifRevision)
		if err != nil {
			return nil, err
		}
		if err := s.note(octx, t.Name, !had); err != nil {
			return nil, s.fail(ctx, "index tenant", err)
		}
		status, err := putTenant.Run(s.durable(octx), s.rdb, []string{k.tenant(), k.tombstone()},
			oldRec, flag(had), data).Text()
		if err != nil {
			return nil, s.fail(ctx, "put tenant", err)
		}
		switch status {
		case "OK":
			if err := s.note(s.durable(octx), t.Name, !had); err != nil {
				return nil, s.fail(ctx, "index tenant", err)
			}
			return rec, nil
		case "DELETING":
			return nil, engine.ErrDeleting
		case "CONFLICT":
			continue // another put came first: check its revision
		}
		return nil, fmt.Errorf("redisstore: put tenant: unexpected reply %q", status)
	}
}

// nextTenant is the record a put writes over the stored one (oldRec, if
// had): its revision one more, its creation time kept; the put is refused
// when ifRevision names another revision.
func nextTenant(t *engine.TenantRecord, oldRec string, had bool, ifRevision int64) (*engine.TenantRecord, []byte, error) {
	var old *engine.TenantRecord
	if had {
		var err error
		if old, err = decodeTenant(oldRec); err != nil {
			return nil, nil, err
		}
	}
	if ifRevision != 0 && (old == nil || old.Revision != ifRevision) {
		return nil, nil, engine.ErrRevisionMismatch
	}
	rec := t.Clone()
	rec.Deleting = false
	rec.Revision = 1
	if old != nil {
		rec.Revision = old.Revision + 1
		rec.CreatedAt = old.CreatedAt
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, nil, fmt.Errorf("redisstore: encode tenant: %w", err)
	}
	return rec, data, nil
}

// Tenant returns the tenant record, with Deleting set while the tombstone
// says "deleting".
func (s *Store) Tenant(ctx context.Context, name string) (*engine.TenantRecord, error) {
	k, ok := s.tenantKeys(name)
	if !ok {
		return nil, engine.ErrNotFound
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	vals, err := s.rdb.MGet(octx, k.tenant(), k.tombstone()).Result()
	if err != nil {
		return nil, s.fail(ctx, "read tenant", err)
	}
	return tenantOf(vals)
}

// tenantsBatch is how many tenant records each pipeline of Tenants
// reads: each is bounded by Config.Timeout on its own, so that a store of
// any number of tenants can be read (100,000 take about 2 s on one core).
const tenantsBatch = 1000

// Tenants returns the records of the tenants in the tenant index, in the
// index's byte order, reading them in pipelines of tenantsBatch. A name
// whose record is gone (a put that failed, or a deletion under way) is
// skipped; it stays in the index, as dropping it could race with a put
// that is creating it.
func (s *Store) Tenants(ctx context.Context) ([]*engine.TenantRecord, error) {
	octx, cancel := s.op(ctx)
	names, err := s.rdb.ZRange(octx, s.global().tenantIndex(), 0, -1).Result()
	cancel()
	if err != nil {
		return nil, s.fail(ctx, "list tenants", err)
	}
	var recs []*engine.TenantRecord
	for batch := range slices.Chunk(names, tenantsBatch) {
		if recs, err = s.readTenants(ctx, batch, recs); err != nil {
			return nil, err
		}
	}
	return recs, nil
}

// readTenants appends the records of the named tenants to recs, reading
// them in one pipeline.
func (s *Store) readTenants(ctx context.Context, names []string, recs []*engine.TenantRecord) ([]*engine.TenantRecord, error) {
	octx, cancel := s.op(ctx)
	defer cancel()
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.SliceCmd, 0, len(names))
	for _, name := range names {
		if k, ok := s.tenantKeys(name); ok {
			cmds = append(cmds, pipe.MGet(octx, k.tenant(), k.tombstone()))
		}
	}
	if len(cmds) == 0 {
		return recs, nil
	}
	if _, err := pipe.Exec(octx); err != nil {
		return nil, s.fail(ctx, "read tenants", err)
	}
	for _, cmd := range cmds {
		rec, err := tenantOf(cmd.Val())
		if errors.Is(err, engine.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// DeleteTenant deletes the tenant's data in the steps the package
// documentation describes. Each step is bounded by Config.Timeout on its
// own, so that a tenant of any size can be deleted; ctx bounds the whole.
func (s *Store) DeleteTenant(ctx context.Context, name string) error {
	k, ok := s.tenantKeys(name)
	if !ok {
		return errInvalidTenant(name)
	}
	step := func(what string, do func(ctx context.Context) error) error {
		octx, cancel := s.op(ctx)
		defer cancel()
		if err := do(s.durable(octx)); err != nil {
			return s.fail(ctx, what, err)
		}
		return nil
	}
	// From here on every create in the tenant is refused.
	if err := step("mark tenant deleting", func(ctx context.Context) error {
		return s.noted(ctx, name, s.rdb.Set(ctx, k.tombstone(), tombstoneDeleting, 0).Err())
	}); err != nil {
		return err
	}
	for {
		var n int64
		if err := step("purge tenant", func(ctx context.Context) (err error) {
			n, err = purgeTenant.Run(ctx, s.rdb, []string{k.tombstone()}, k.base, deleteBatch).Int64()
			return err
		}); err != nil {
			return err
		}
		if n < deleteBatch {
			break // none left, or another DeleteTenant finished
		}
	}
	if err := s.purgeGrants(ctx, k); err != nil {
		return err
	}
	if err := step("delete signing keys", func(ctx context.Context) error {
		return s.rdb.Del(ctx, k.keyRing()).Err()
	}); err != nil {
		return err
	}
	ttl := strconv.FormatInt(engine.TombstoneTTL.Milliseconds(), 10)
	if err := step("finish tenant deletion", func(ctx context.Context) error {
		return s.noted(ctx, name, finishDelete.Run(ctx, s.rdb, []string{k.tenant(), k.tombstone()}, ttl).Err())
	}); err != nil {
		return err
	}
	// Out of the tenant index, unless a put created the tenant again
	// meanwhile: that put added the name before writing, so either its
	// record is there now or its own second ZADD comes after this ZREM.
	index := s.global().tenantIndex()
	if err := step("unindex tenant", func(ctx context.Context) error {
		if err := s.rdb.ZRem(ctx, index, name).Err(); err != nil {
			return err
		}
		n, err := s.rdb.Exists(ctx, k.tenant()).Result()
		if err != nil || n == 0 {
			return err
		}
		return s.rdb.ZAdd(ctx, index, redis.Z{Member: name}).Err()
	}); err != nil {
		return err
	}

	// Out of the index of tenants with policies in the same way, unless an
	// UpdatePolicy created a policy since the tenant was created again.
	return step("unindex policy tenant", func(ctx context.Context) error {
		return s.unindexPolicyTenant(ctx, name, k)
	})
}

// tenantOf decodes the reply of MGET tenant tombstone.
func tenantOf(vals []any) (*engine.TenantRecord, error) {
	rec, ok := vals[0].(string)
	if !ok {
		return nil, engine.ErrNotFound
	}
	t, err := decodeTenant(rec)
	if err != nil {
		return nil, err
	}
	tomb, _ := vals[1].(string)
	t.Deleting = tomb == tombstoneDeleting
	return t, nil
}

// decodeTenant decodes a tenant record.
func decodeTenant(rec string) (*engine.TenantRecord, error) {
	var t engine.TenantRecord
	if err := json.Unmarshal([]byte(rec), &t); err != nil {
		return nil, fmt.Errorf("redisstore: decode tenant record: %w", err)
	}
	return &t, nil
}

// flag is a boolean script argument.
func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
