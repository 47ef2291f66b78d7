package memstore

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// policy is what the store keeps of one uploaded policy module: its record,
// if any, and the bytes put for it, by digest. Bytes may come before the
// record that lists them (PutPolicyBlob, then UpdatePolicy), so a policy
// can have bytes and no record.
type policy struct {
	rec   *engine.StoredPolicy
	blobs map[string][]byte
}

// watchBuffer is how many changes a watcher's channel holds; a watcher
// that lets it fill misses the changes published meanwhile.
const watchBuffer = 64

// watchers fans published policy changes out to the channels of
// WatchPolicyChanges.
type watchers struct {
	mu   sync.Mutex
	subs map[chan engine.PolicyChange]struct{}
}

// replicas keeps the replicas' statuses, each until its expiry on the
// store's clock.
type replicas struct {
	mu       sync.Mutex
	statuses map[string]replicaEntry
}

type replicaEntry struct {
	status  *engine.ReplicaStatus
	expires time.Time
}

// PutPolicyBlob stores a copy of wasm as the version digest of the policy,
// unless it has bytes under that digest already. The tenant's tombstone,
// if any, refuses it with engine.ErrNoTenant.
func (s *Store) PutPolicyBlob(_ context.Context, tenant, name, digest string, wasm []byte) error {
	if err := checkPolicyKey(tenant, name); err != nil {
		return err
	}
	if err := engine.CheckPolicyBlob(digest, wasm); err != nil {
		return fmt.Errorf("memstore: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed(tenant, s.now()) {
		return engine.ErrNoTenant
	}
	if p := s.policies[tenant][name]; p != nil {
		if _, ok := p.blobs[digest]; ok {
			return nil
		}
	}
	if err := s.checkPolicyLimits(tenant, name, int64(len(wasm))); err != nil {
		return err
	}
	s.policy(tenant, name).blobs[digest] = bytes.Clone(wasm)
	return nil
}

// checkPolicyLimits refuses a write that would take the tenant over its
// policy limits: a policy of a new name when it has MaxPolicies, or adding
// bytes beyond MaxBytes. Callers hold s.mu.
func (s *Store) checkPolicyLimits(tenant, name string, adding int64) error {
	ps := s.policies[tenant]
	if _, ok := ps[name]; !ok && len(ps) >= s.limits.MaxPolicies {
		return &engine.PolicyLimitError{Tenant: tenant, Limit: int64(s.limits.MaxPolicies)}
	}
	if adding == 0 {
		return nil
	}
	total := adding
	for _, p := range ps {
		for _, b := range p.blobs {
			total += int64(len(b))
		}
	}
	if total > s.limits.MaxBytes {
		return &engine.PolicyLimitError{Tenant: tenant, Bytes: true, Limit: s.limits.MaxBytes}
	}
	return nil
}

// PolicyBlob returns a copy of the bytes of the version digest of the
// policy.
func (s *Store) PolicyBlob(_ context.Context, tenant, name, digest string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.policies[tenant][name]
	if p == nil {
		return nil, engine.ErrNotFound
	}
	b, ok := p.blobs[digest]
	if !ok {
		return nil, engine.ErrNotFound
	}
	return bytes.Clone(b), nil
}

// UpdatePolicy runs fn on a copy of the policy's record and stores a copy
// of what fn returns (see engine.PolicyStore): fn runs once, with the store
// locked, so it must not call the store. A record fn returns while the
// tenant has a tombstone is refused with engine.ErrNoTenant; a removal is
// not.
func (s *Store) UpdatePolicy(_ context.Context, tenant, name string, fn func(*engine.StoredPolicy) (*engine.StoredPolicy, error)) (*engine.StoredPolicy, error) {
	if err := checkPolicyKey(tenant, name); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.policies[tenant][name]
	var old, cur *engine.StoredPolicy
	if p != nil && p.rec != nil {
		old, cur = p.rec, p.rec.Clone()
	}
	next, err := fn(cur)
	if err != nil {
		return nil, err
	}
	if next == nil {
		s.removePolicy(tenant, name)
		return nil, nil
	}
	if s.closed(tenant, s.now()) {
		return nil, engine.ErrNoTenant
	}
	if err := s.checkPolicyLimits(tenant, name, 0); err != nil {
		return nil, err
	}
	rec, dropped := engine.NextStoredPolicy(tenant, name, old, next)
	p = s.policy(tenant, name)
	p.rec = rec
	for _, d := range dropped {
		delete(p.blobs, d)
	}
	return rec.Clone(), nil
}

// StoredPolicy returns a copy of the policy's record.
func (s *Store) StoredPolicy(_ context.Context, tenant, name string) (*engine.StoredPolicy, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.policies[tenant][name]
	if p == nil || p.rec == nil {
		return nil, engine.ErrNotFound
	}
	return p.rec.Clone(), nil
}

// StoredPolicies returns copies of every policy record, sorted by tenant
// and name.
func (s *Store) StoredPolicies(context.Context) ([]*engine.StoredPolicy, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var recs []*engine.StoredPolicy
	for _, ps := range s.policies {
		for _, p := range ps {
			if p.rec != nil {
				recs = append(recs, p.rec.Clone())
			}
		}
	}
	slices.SortFunc(recs, func(a, b *engine.StoredPolicy) int {
		return cmp.Or(strings.Compare(a.Tenant, b.Tenant), strings.Compare(a.Name, b.Name))
	})
	return recs, nil
}

// PublishPolicyChange hands c to every watcher of this store whose channel
// has room; a watcher whose channel is full misses it.
func (s *Store) PublishPolicyChange(_ context.Context, c engine.PolicyChange) error {
	w := &s.watch
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.subs {
		select {
		case ch <- c:
		default:
		}
	}
	return nil
}

// WatchPolicyChanges returns a channel of the changes published on this
// store from now until ctx is done, when it is closed. It holds
// watchBuffer changes; those published while it is full are lost.
func (s *Store) WatchPolicyChanges(ctx context.Context) (<-chan engine.PolicyChange, error) {
	ch := make(chan engine.PolicyChange, watchBuffer)
	w := &s.watch
	w.mu.Lock()
	w.subs[ch] = struct{}{}
	w.mu.Unlock()
	context.AfterFunc(ctx, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.subs, ch)
		close(ch) // under the lock, so no publisher sends on it after
	})
	return ch, nil
}

// PutReplicaStatus keeps a copy of st until ttl has passed on the store's
// clock, replacing the replica's previous status.
func (s *Store) PutReplicaStatus(_ context.Context, st *engine.ReplicaStatus, ttl time.Duration) error {
	if st.Replica == "" {
		return errors.New("memstore: a replica status needs a Replica")
	}
	if ttl <= 0 {
		return fmt.Errorf("memstore: replica status ttl %v is not positive", ttl)
	}
	r := &s.replicas
	r.mu.Lock()
	defer r.mu.Unlock()
	now := s.now()
	r.prune(now)
	r.statuses[st.Replica] = replicaEntry{cloneReplicaStatus(st), now.Add(ttl)}
	return nil
}

// ReplicaStatuses returns copies of the statuses whose ttl has not passed,
// sorted by replica, and forgets the others.
func (s *Store) ReplicaStatuses(context.Context) ([]*engine.ReplicaStatus, error) {
	r := &s.replicas
	r.mu.Lock()
	defer r.mu.Unlock()
	r.prune(s.now())
	out := make([]*engine.ReplicaStatus, 0, len(r.statuses))
	for _, e := range r.statuses {
		out = append(out, cloneReplicaStatus(e.status))
	}
	slices.SortFunc(out, func(a, b *engine.ReplicaStatus) int { return strings.Compare(a.Replica, b.Replica) })
	return out, nil
}

// prune forgets the statuses whose ttl has passed. There are as many as
// replicas, a handful, so it visits them all.
func (r *replicas) prune(now time.Time) {
	for id, e := range r.statuses {
		if !now.Before(e.expires) {
			delete(r.statuses, id)
		}
	}
}

// policy returns the tenant's policy name, making it if need be.
func (s *Store) policy(tenant, name string) *policy {
	ps := s.policies[tenant]
	if ps == nil {
		ps = map[string]*policy{}
		s.policies[tenant] = ps
	}
	p := ps[name]
	if p == nil {
		p = &policy{blobs: map[string][]byte{}}
		ps[name] = p
	}
	return p
}

// removePolicy forgets the policy's record and bytes.
func (s *Store) removePolicy(tenant, name string) {
	ps := s.policies[tenant]
	delete(ps, name)
	if len(ps) == 0 {
		delete(s.policies, tenant)
	}
}

// checkPolicyKey refuses names that cannot be a tenant's and a policy's.
func checkPolicyKey(tenant, name string) error {
	if !engine.ValidTenantName(tenant) {
		return fmt.Errorf("memstore: %q is not a valid tenant name", tenant)
	}
	if !engine.ValidModuleName(name) {
		return fmt.Errorf("memstore: %q is not a valid policy name", name)
	}
	return nil
}

// cloneReplicaStatus returns a deep copy of st.
func cloneReplicaStatus(st *engine.ReplicaStatus) *engine.ReplicaStatus {
	c := *st
	c.Policies = slices.Clone(st.Policies)
	return &c
}
