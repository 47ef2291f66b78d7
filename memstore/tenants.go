package memstore

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// PutTenant stores a copy of t as the tenant's record, setting its
// Revision and keeping the CreatedAt of the record it replaces. It removes
// the tenant's tombstone, if any: the tenant exists again.
func (s *Store) PutTenant(_ context.Context, t *engine.TenantRecord, ifRevision int64) (*engine.TenantRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.tenants[t.Name]
	switch {
	case cur != nil && cur.Deleting:
		return nil, engine.ErrDeleting
	case ifRevision != 0 && (cur == nil || cur.Revision != ifRevision):
		return nil, engine.ErrRevisionMismatch
	}
	rec := t.Clone()
	rec.Deleting = false
	rec.Revision = 1
	if cur != nil {
		rec.Revision = cur.Revision + 1
		rec.CreatedAt = cur.CreatedAt
	}
	s.tenants[rec.Name] = rec
	s.changes.note(rec.Name)
	delete(s.tombstones, rec.Name)
	s.wrote(s.now())
	return rec.Clone(), nil
}

// Tenant returns a copy of the tenant's record.
func (s *Store) Tenant(_ context.Context, name string) (*engine.TenantRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.tenants[name]
	if rec == nil {
		return nil, engine.ErrNotFound
	}
	return rec.Clone(), nil
}

// Tenants returns copies of every tenant record, sorted by name.
func (s *Store) Tenants(context.Context) ([]*engine.TenantRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	recs := make([]*engine.TenantRecord, 0, len(s.tenants))
	for _, rec := range s.tenants {
		recs = append(recs, rec.Clone())
	}
	slices.SortFunc(recs, func(a, b *engine.TenantRecord) int { return strings.Compare(a.Name, b.Name) })
	return recs, nil
}

// DeleteTenant removes the tenant's record, records and uploaded policies
// with their bytes, and leaves a tombstone. It does so in one step under
// the store's lock, so nobody sees the tenant Deleting and the deletion
// never stops part way.
func (s *Store) DeleteTenant(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	delete(s.spaces, name)
	if _, ok := s.tenants[name]; ok {
		delete(s.tenants, name)
		s.changes.note(name)
	}
	delete(s.policies, name)
	s.tombstones[name] = now.Add(engine.TombstoneTTL)
	s.wrote(now)
	s.grants.dropTenant(name)
	return nil
}

// closed reports whether creates in the tenant are refused: it is being
// deleted or has a live tombstone.
func (s *Store) closed(tenant string, now time.Time) bool {
	if rec := s.tenants[tenant]; rec != nil && rec.Deleting {
		return true
	}
	until, ok := s.tombstones[tenant]
	if !ok {
		return false
	}
	if !now.Before(until) {
		delete(s.tombstones, tenant)
		return false
	}
	return true
}

// CreateAdminToken stores a copy of t.
func (s *Store) CreateAdminToken(_ context.Context, t *engine.AdminToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.closed(t.Tenant, now) {
		return engine.ErrNoTenant
	}
	if s.spaces[t.Tenant].liveAdmin(t.ID, now) != nil {
		return engine.ErrAlreadyExists
	}
	s.space(t.Tenant).admins[t.ID] = t.Clone()
	s.wrote(now)
	return nil
}

// AdminToken returns a copy of the live admin token with that tenant and
// ID.
func (s *Store) AdminToken(_ context.Context, tenant, id string) (*engine.AdminToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.spaces[tenant].liveAdmin(id, s.now())
	if t == nil {
		return nil, engine.ErrNotFound
	}
	return t.Clone(), nil
}

// AdminTokens returns copies of the tenant's live admin tokens, sorted by
// ID. A tenant has few of them, so they are sorted on each call.
func (s *Store) AdminTokens(_ context.Context, tenant string) ([]*engine.AdminToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp := s.spaces[tenant]
	if sp == nil {
		return nil, nil
	}
	now := s.now()
	var tokens []*engine.AdminToken
	for id := range sp.admins {
		if t := sp.liveAdmin(id, now); t != nil {
			tokens = append(tokens, t.Clone())
		}
	}
	slices.SortFunc(tokens, func(a, b *engine.AdminToken) int { return strings.Compare(a.ID, b.ID) })
	return tokens, nil
}

// DeleteAdminToken removes the live admin token with that tenant and ID.
func (s *Store) DeleteAdminToken(_ context.Context, tenant, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	sp := s.spaces[tenant]
	if sp.liveAdmin(id, now) == nil {
		return engine.ErrNotFound
	}
	delete(sp.admins, id)
	s.wrote(now)
	return nil
}
