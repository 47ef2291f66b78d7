package engine

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// readAllEvery is how often Refresh reads every stored tenant rather than
// only those changed: a replica that died between writing a tenant's
// record and noting the change (see Store.TenantChanges) left a change
// that only a full read finds. A full read recompiles no tenant whose
// revision it already serves.
const readAllEvery = 10 * time.Minute

// tenantMap holds the stored tenants being served, by name. Reads take no
// lock and a change costs the same whatever the number of tenants, unlike
// a map copied on each change.
type tenantMap struct{ m sync.Map }

// Load returns the tenant of that name.
func (m *tenantMap) Load(name string) (*tenant, bool) {
	v, ok := m.m.Load(name)
	if !ok {
		return nil, false
	}
	return v.(*tenant), true
}

// Store serves t under its name.
func (m *tenantMap) Store(t *tenant) { m.m.Store(t.name, t) }

// Delete stops serving the tenant of that name.
func (m *tenantMap) Delete(name string) { m.m.Delete(name) }

// Range calls f for each tenant until it returns false.
func (m *tenantMap) Range(f func(name string, t *tenant) bool) {
	m.m.Range(func(k, v any) bool { return f(k.(string), v.(*tenant)) })
}

// Refresh loads the tenants changed in the store since the last Refresh,
// so that tenants created, changed or deleted through the admin API of any
// replica are served here. It reads only what changed (Store.TenantChanges),
// so an idle Refresh costs the same whatever the number of tenants; the
// first one, one every readAllEvery and one after the store lost changes
// read every tenant. A stored tenant whose settings no longer compile
// (say, after an upgrade tightened a rule) keeps its last good version, or
// is not served, and is logged.
func (r *Registrar) Refresh(ctx context.Context) error {
	r.refreshMu.Lock()
	defer r.refreshMu.Unlock()
	if r.readAllAt.IsZero() || r.now().Sub(r.readAllAt) >= readAllEvery {
		return r.readAll(ctx)
	}
	ch, err := r.store.TenantChanges(ctx, r.latest)
	if err != nil {
		return fmt.Errorf("engine: load tenant changes: %w", err)
	}
	if ch.Latest < r.latest {
		r.log.WarnContext(ctx, "the store's tenant changes went back (it was replaced or emptied): reading every tenant", "had", r.latest, "store", ch.Latest)
		return r.readAll(ctx)
	}
	for _, rec := range ch.Records {
		r.apply(ctx, rec)
	}
	for _, name := range ch.Gone {
		r.stored.Delete(name)
	}
	r.latest = ch.Latest
	return nil
}

// readAll reads every stored tenant, serving each afresh unless its
// revision is the one served, and drops those the store no longer has.
// r.refreshMu must be held.
func (r *Registrar) readAll(ctx context.Context) error {
	now := r.now()
	// The change number first: what changes while the tenants are read
	// is read again by the next Refresh.
	ch, err := r.store.TenantChanges(ctx, -1)
	if err != nil {
		return fmt.Errorf("engine: load tenant changes: %w", err)
	}
	recs, err := r.store.Tenants(ctx)
	if err != nil {
		return fmt.Errorf("engine: load tenants: %w", err)
	}
	listed := make(map[string]bool, len(recs))
	for _, rec := range recs {
		listed[rec.Name] = true
		r.apply(ctx, rec)
	}
	r.stored.Range(func(name string, _ *tenant) bool {
		if !listed[name] {
			r.stored.Delete(name)
		}
		return true
	})
	r.latest, r.readAllAt = ch.Latest, now
	return nil
}

// apply serves a stored tenant's record: compiled afresh unless its
// revision is the one served; not at all while it is being deleted or
// when the configuration file has a tenant of that name. r.refreshMu must
// be held.
func (r *Registrar) apply(ctx context.Context, rec *TenantRecord) {
	if rec.Deleting {
		r.stored.Delete(rec.Name)
		return
	}
	if c, ok := r.config[rec.Name]; ok && c.source == SourceConfig {
		if !r.hidden[rec.Name] {
			r.log.WarnContext(ctx, "a tenant of the configuration file hides the stored tenant of the same name", "tenant", rec.Name)
			r.hidden[rec.Name] = true
		}
		return
	}
	if t, ok := r.stored.Load(rec.Name); ok && t.revision == rec.Revision {
		return
	}
	// Stored before client_defaults were validated at PutTenant, a
	// tenant whose defaults fail is still served (its clients can be
	// read and managed), with a warning, rather than dropped.
	t, err := compileSettings(rec.Name, rec.Settings)
	if err == nil {
		err = r.checkServices(t)
	}
	if err == nil {
		if derr := t.checkClientDefaults(r.keys, r.hosts); derr != nil {
			r.log.WarnContext(ctx, "stored tenant has client_defaults that fail validation: its registrations fail until they are fixed with PUT /admin/tenants/{t}",
				"tenant", rec.Name, "revision", rec.Revision, "err", derr)
		}
	}
	if err != nil {
		r.log.ErrorContext(ctx, "stored tenant refused; its last good settings stay in use", "tenant", rec.Name, "revision", rec.Revision, "err", err)
		return
	}
	t.source, t.revision, t.createdAt, t.updatedAt = SourceAdmin, rec.Revision, rec.CreatedAt, rec.UpdatedAt
	r.stored.Store(t)
}

// install serves t, compiled by PutTenant from the record it stored, at
// once, unless a newer revision of the same tenant (not one deleted since)
// is already served: a concurrent put, or a Refresh that read past it.
func (r *Registrar) install(t *tenant, rec *TenantRecord) {
	r.refreshMu.Lock()
	defer r.refreshMu.Unlock()
	if cur, ok := r.stored.Load(rec.Name); ok && cur.revision > rec.Revision && cur.createdAt.Equal(rec.CreatedAt) {
		return
	}
	t.source, t.revision, t.createdAt, t.updatedAt = SourceAdmin, rec.Revision, rec.CreatedAt, rec.UpdatedAt
	r.stored.Store(t)
}

// uninstall stops serving a stored tenant that DeleteTenant deleted.
func (r *Registrar) uninstall(name string) {
	r.refreshMu.Lock()
	defer r.refreshMu.Unlock()
	r.stored.Delete(name)
}
