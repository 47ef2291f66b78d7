package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/registrar-dev/registrar/engine"
)

// watchBuffer is how many changes a watcher's channel holds; a watcher
// that lets it fill misses the changes published meanwhile.
const watchBuffer = 64

func (k keys) policy(name string) string      { return k.base + "policy:" + name }
func (k keys) policyBlobs(name string) string { return k.base + "policy-blobs:" + name }
func (k keys) policies() string               { return k.base + "policies" }

// The keys and the channel of {_} that carry policies between replicas.
func (k keys) policyTenants() string    { return k.base + "policy-tenants" }
func (k keys) replica(id string) string { return k.base + "replica:" + id }
func (k keys) replicas() string         { return k.base + "replicas" }
func (k keys) policyChannel() string    { return k.base + "policy-changes" }
func (k keys) replicaPrefix() string    { return k.replica("") }

// policyKeys returns the keys of tenant, or an error if tenant or name
// could not be a tenant's or a policy's.
func (s *Store) policyKeys(tenant, name string) (keys, error) {
	k, ok := s.tenantKeys(tenant)
	if !ok {
		return keys{}, errInvalidTenant(tenant)
	}
	if !engine.ValidModuleName(name) {
		return keys{}, fmt.Errorf("redisstore: %q is not a valid policy name", name)
	}
	return k, nil
}

// PutPolicyBlob stores wasm in the policy's blob hash under its digest,
// unless the hash has that digest already, and lists the policy in the
// tenant's policy index, in one script that the tenant's tombstone refuses
// (engine.ErrNoTenant).
func (s *Store) PutPolicyBlob(ctx context.Context, tenant, name, digest string, wasm []byte) error {
	k, err := s.policyKeys(tenant, name)
	if err != nil {
		return err
	}
	if err := engine.CheckPolicyBlob(digest, wasm); err != nil {
		return fmt.Errorf("redisstore: %w", err)
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	status, err := putPolicyBlob.Run(s.durable(octx), s.rdb, []string{k.policyBlobs(name), k.policies(), k.tombstone()},
		k.base, digest, wasm, name, s.limits.MaxPolicies, s.limits.MaxBytes).Text()
	if err != nil {
		return s.fail(ctx, "put policy blob", err)
	}
	if err := s.limitStatus(tenant, status); err != nil {
		return err
	}
	return scriptStatus("put policy blob", status)
}

// limitStatus turns the replies of the policy scripts that refuse a write
// over the tenant's policy limits into their error.
func (s *Store) limitStatus(tenant, status string) error {
	switch status {
	case "TOO_MANY":
		return &engine.PolicyLimitError{Tenant: tenant, Limit: int64(s.limits.MaxPolicies)}
	case "TOO_BIG":
		return &engine.PolicyLimitError{Tenant: tenant, Bytes: true, Limit: s.limits.MaxBytes}
	}
	return nil
}

// PolicyBlob returns the bytes the policy's blob hash holds under digest.
func (s *Store) PolicyBlob(ctx context.Context, tenant, name, digest string) ([]byte, error) {
	k, err := s.policyKeys(tenant, name)
	if err != nil {
		return nil, engine.ErrNotFound
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	b, err := s.rdb.HGet(octx, k.policyBlobs(name), digest).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, engine.ErrNotFound
	}
	if err != nil {
		return nil, s.fail(ctx, "read policy blob", err)
	}
	return b, nil
}

// UpdatePolicy reads the policy's record, applies fn to a copy and writes
// the result with a compare-and-set script that succeeds only if the
// record is still the one read (retrying otherwise, so fn may run more
// than once), and that drops the bytes of the versions the record no
// longer lists. A record fn returns while the tenant has a tombstone is
// refused with engine.ErrNoTenant; a removal is not.
//
// The tenant is added to the index of tenants with policies before a
// create and again after it; a removal that leaves the tenant's policy
// index empty takes it out and puts it back if a create came meanwhile
// (see DeleteTenant for why that order is safe).
func (s *Store) UpdatePolicy(ctx context.Context, tenant, name string, fn func(*engine.StoredPolicy) (*engine.StoredPolicy, error)) (*engine.StoredPolicy, error) {
	k, err := s.policyKeys(tenant, name)
	if err != nil {
		return nil, err
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	ks := []string{k.policy(name), k.policyBlobs(name), k.policies(), k.tombstone()}
	for {
		raw, err := s.rdb.Get(octx, k.policy(name)).Result()
		had := err == nil
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, s.fail(ctx, "read policy", err)
		}
		rec, args, err := s.policyUpdate(tenant, name, raw, had, fn)
		if err != nil {
			return nil, err
		}
		create := rec != nil && !had
		if create {
			if err := s.indexPolicyTenant(octx, tenant); err != nil {
				return nil, s.fail(ctx, "index policy tenant", err)
			}
		}
		status, err := updatePolicy.Run(s.durable(octx), s.rdb, ks, args...).Text()
		if err != nil {
			return nil, s.fail(ctx, "update policy", err)
		}
		if status == "CONFLICT" {
			continue // another update came first: apply fn to its result
		}
		if err := s.policyUpdated(ctx, s.durable(octx), tenant, k, status, create); err != nil {
			return nil, err
		}
		return rec, nil
	}
}

// policyUpdate applies fn to the record read (raw, if had) and returns the
// new record (nil: removed) and the update script's arguments.
func (s *Store) policyUpdate(tenant, name, raw string, had bool, fn func(*engine.StoredPolicy) (*engine.StoredPolicy, error)) (*engine.StoredPolicy, []any, error) {
	var old, cur *engine.StoredPolicy
	if had {
		var err error
		if old, err = decodePolicy(raw); err != nil {
			return nil, nil, err
		}
		cur = old.Clone()
	}
	next, err := fn(cur)
	if err != nil {
		return nil, nil, err
	}
	args := []any{raw, flag(had), "", name, s.limits.MaxPolicies}
	if next == nil {
		return nil, args, nil
	}
	rec, dropped := engine.NextStoredPolicy(tenant, name, old, next)
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, nil, fmt.Errorf("redisstore: encode policy: %w", err)
	}
	args[2] = data
	for _, d := range dropped {
		args = append(args, d)
	}
	return rec, args, nil
}

// policyUpdated finishes an update the script answered with status (other
// than CONFLICT): the tenant index of policies follows, and a refusal
// becomes its error.
func (s *Store) policyUpdated(ctx, octx context.Context, tenant string, k keys, status string, created bool) error {
	switch status {
	case "OK":
		if created {
			if err := s.indexPolicyTenant(octx, tenant); err != nil {
				return s.fail(ctx, "index policy tenant", err)
			}
		}
		return nil
	case "REMOVED":
		return nil
	case "EMPTY":
		if err := s.unindexPolicyTenant(octx, tenant, k); err != nil {
			return s.fail(ctx, "unindex policy tenant", err)
		}
		return nil
	case "NO_TENANT":
		return engine.ErrNoTenant
	case "TOO_MANY":
		return s.limitStatus(tenant, status)
	}
	return fmt.Errorf("redisstore: update policy: unexpected reply %q", status)
}

// indexPolicyTenant adds tenant to the index of tenants with policies.
func (s *Store) indexPolicyTenant(ctx context.Context, tenant string) error {
	return s.rdb.ZAdd(ctx, s.global().policyTenants(), redis.Z{Member: tenant}).Err()
}

// unindexPolicyTenant takes tenant out of the index of tenants with
// policies, then puts it back if its policy index is not empty: a create
// that raced with the removal added the tenant before writing, so either
// its write is seen here or its own second add comes after this removal.
func (s *Store) unindexPolicyTenant(ctx context.Context, tenant string, k keys) error {
	index := s.global().policyTenants()
	if err := s.rdb.ZRem(ctx, index, tenant).Err(); err != nil {
		return err
	}
	n, err := s.rdb.Exists(ctx, k.policies()).Result()
	if err != nil || n == 0 {
		return err
	}
	return s.indexPolicyTenant(ctx, tenant)
}

// StoredPolicy returns the policy's record.
func (s *Store) StoredPolicy(ctx context.Context, tenant, name string) (*engine.StoredPolicy, error) {
	k, err := s.policyKeys(tenant, name)
	if err != nil {
		return nil, engine.ErrNotFound
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	raw, err := s.rdb.Get(octx, k.policy(name)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, engine.ErrNotFound
	}
	if err != nil {
		return nil, s.fail(ctx, "read policy", err)
	}
	return decodePolicy(raw)
}

// StoredPolicies reads the index of tenants with policies, then each of
// their policy indexes in one pipeline, then their records in another
// (an MGET per tenant: its keys share a slot). Names listed without a
// record (bytes put for a record not yet written) are skipped.
func (s *Store) StoredPolicies(ctx context.Context) ([]*engine.StoredPolicy, error) {
	octx, cancel := s.op(ctx)
	defer cancel()
	tenants, err := s.rdb.ZRange(octx, s.global().policyTenants(), 0, -1).Result()
	if err != nil {
		return nil, s.fail(ctx, "list policy tenants", err)
	}
	type tenantNames struct {
		k     keys
		names *redis.StringSliceCmd
	}
	var ts []tenantNames
	pipe := s.rdb.Pipeline()
	for _, tenant := range tenants {
		if k, ok := s.tenantKeys(tenant); ok {
			ts = append(ts, tenantNames{k, pipe.ZRange(octx, k.policies(), 0, -1)})
		}
	}
	if len(ts) == 0 {
		return nil, nil
	}
	if _, err := pipe.Exec(octx); err != nil {
		return nil, s.fail(ctx, "list policies", err)
	}
	pipe = s.rdb.Pipeline()
	var cmds []*redis.SliceCmd
	for _, t := range ts {
		var ks []string
		for _, name := range t.names.Val() {
			ks = append(ks, t.k.policy(name))
		}
		if len(ks) > 0 {
			cmds = append(cmds, pipe.MGet(octx, ks...))
		}
	}
	if len(cmds) == 0 {
		return nil, nil
	}
	if _, err := pipe.Exec(octx); err != nil {
		return nil, s.fail(ctx, "read policies", err)
	}
	recs, err := decodePolicies(cmds)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(recs, func(a, b *engine.StoredPolicy) int {
		if c := strings.Compare(a.Tenant, b.Tenant); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return recs, nil
}

// decodePolicies decodes the records that MGETs found (a key removed
// between the listing and the read is skipped).
func decodePolicies(cmds []*redis.SliceCmd) ([]*engine.StoredPolicy, error) {
	var recs []*engine.StoredPolicy
	for _, cmd := range cmds {
		for _, v := range cmd.Val() {
			raw, ok := v.(string)
			if !ok {
				continue
			}
			p, err := decodePolicy(raw)
			if err != nil {
				return nil, err
			}
			recs = append(recs, p)
		}
	}
	return recs, nil
}

// PublishPolicyChange publishes c, as JSON, on the policy change channel,
// always through the node of the slot of {_} (see publishChange), so that
// the changes of one publisher arrive in the order it published them.
func (s *Store) PublishPolicyChange(ctx context.Context, c engine.PolicyChange) error {
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("redisstore: encode policy change: %w", err)
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	if err := publishChange.Run(octx, s.rdb, []string{s.global().policyChannel()}, data).Err(); err != nil {
		return s.fail(ctx, "publish policy change", err)
	}
	return nil
}

// WatchPolicyChanges subscribes to the policy change channel and waits,
// within Config.Timeout, for Redis to confirm the subscription, so that
// every change published after it returns is delivered. It returns a
// channel of the changes received until ctx is done, when it unsubscribes
// and closes the channel. The channel holds watchBuffer changes; those
// received while it is full are lost, as are messages that are not
// changes.
//
// The subscription survives Redis restarts and failovers: go-redis
// reconnects and subscribes again by itself, and pings the connection when
// it has been idle for a few seconds to find out that it is dead. Changes
// published while it is disconnected are lost.
func (s *Store) WatchPolicyChanges(ctx context.Context) (<-chan engine.PolicyChange, error) {
	octx, cancel := s.op(ctx)
	defer cancel()
	ps := s.rdb.Subscribe(octx, s.global().policyChannel())
	if _, err := ps.Receive(octx); err != nil {
		_ = ps.Close()
		return nil, s.fail(ctx, "subscribe to policy changes", err)
	}
	msgs := ps.Channel()
	out := make(chan engine.PolicyChange, watchBuffer)
	go func() {
		defer close(out)
		defer ps.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-msgs:
				if !ok {
					return
				}
				var c engine.PolicyChange
				if json.Unmarshal([]byte(m.Payload), &c) != nil {
					continue
				}
				select {
				case out <- c:
				default:
				}
			}
		}
	}()
	return out, nil
}

// PutReplicaStatus stores the status as JSON under the replica's key with
// an expiry of ttl, and its expiry in the replica index, in one script on
// the Redis server's clock.
func (s *Store) PutReplicaStatus(ctx context.Context, st *engine.ReplicaStatus, ttl time.Duration) error {
	if st.Replica == "" {
		return errors.New("redisstore: a replica status needs a Replica")
	}
	if ttl <= 0 {
		return fmt.Errorf("redisstore: replica status ttl %v is not positive", ttl)
	}
	data, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("redisstore: encode replica status: %w", err)
	}
	ms := ttl.Milliseconds()
	if time.Duration(ms)*time.Millisecond < ttl {
		ms++
	}
	g := s.global()
	octx, cancel := s.op(ctx)
	defer cancel()
	if err := putReplica.Run(octx, s.rdb, []string{g.replica(st.Replica), g.replicas()},
		data, strconv.FormatInt(ms, 10), st.Replica).Err(); err != nil {
		return s.fail(ctx, "put replica status", err)
	}
	return nil
}

// ReplicaStatuses returns the statuses of the replicas whose keys have not
// expired, sorted by replica; the script that reads them drops the index
// entries of the others.
func (s *Store) ReplicaStatuses(ctx context.Context) ([]*engine.ReplicaStatus, error) {
	g := s.global()
	octx, cancel := s.op(ctx)
	defer cancel()
	vals, err := listReplicas.Run(octx, s.rdb, []string{g.replicas()}, g.replicaPrefix()).StringSlice()
	if err != nil {
		return nil, s.fail(ctx, "list replica statuses", err)
	}
	out := make([]*engine.ReplicaStatus, 0, len(vals))
	for _, v := range vals {
		var st engine.ReplicaStatus
		if err := json.Unmarshal([]byte(v), &st); err != nil {
			return nil, fmt.Errorf("redisstore: decode replica status: %w", err)
		}
		out = append(out, &st)
	}
	slices.SortFunc(out, func(a, b *engine.ReplicaStatus) int { return strings.Compare(a.Replica, b.Replica) })
	return out, nil
}

// decodePolicy decodes a policy record.
func decodePolicy(raw string) (*engine.StoredPolicy, error) {
	var p engine.StoredPolicy
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return nil, fmt.Errorf("redisstore: decode policy record: %w", err)
	}
	return &p, nil
}
