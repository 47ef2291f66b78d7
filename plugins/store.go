package plugins

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// storeSource is the store of uploaded versions, Config.Store, as a source
// of modules: it lists the records, reads them and their versions, and
// watches the changes the store publishes. Uploads themselves are the
// host's (versions.go).
type storeSource struct {
	store  engine.PolicyStore
	rescan time.Duration // the longest wait before watching again
	log    *slog.Logger
}

// list reads every record of the store, by key.
func (s storeSource) list(ctx context.Context) (map[key]*engine.StoredPolicy, error) {
	recs, err := s.store.StoredPolicies(ctx)
	if err != nil {
		return nil, fmt.Errorf("policy store: %w", err)
	}
	listed := map[key]*engine.StoredPolicy{}
	for _, p := range recs {
		if engine.ValidTenantName(p.Tenant) && engine.ValidModuleName(p.Name) {
			listed[key{sourceStore, p.Tenant, p.Name}] = p
		}
	}
	return listed, nil
}

// record reads the record of k; nil when there is none.
func (s storeSource) record(ctx context.Context, k key) (*engine.StoredPolicy, error) {
	rec, err := s.store.StoredPolicy(ctx, k.tenant, k.name)
	if errors.Is(err, engine.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("policy store: %w", err)
	}
	return rec, nil
}

// blob reads the bytes of the version digest of k.
func (s storeSource) blob(ctx context.Context, k key, digest string) ([]byte, error) {
	return s.store.PolicyBlob(ctx, k.tenant, k.name, digest)
}

// syncStore brings the uploaded modules in line with the store's records:
// at start, and at every rescan as a fallback for missed changes.
func (h *Host) syncStore(ctx context.Context) error {
	listed, err := h.uploads.list(ctx)
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.storeRead = true
	keys := slices.Collect(maps.Keys(listed))
	for k := range h.slots {
		if _, ok := listed[k]; !ok && k.source == sourceStore {
			keys = append(keys, k)
		}
	}
	h.mu.Unlock()
	h.statusChanged()
	slices.SortFunc(keys, compareKeys)
	var errs []error
	for _, k := range keys {
		if err := h.syncStoreKey(ctx, k, listed[k], true); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", k, err))
		}
	}
	return errors.Join(errs...)
}

// syncStoreKey brings one uploaded module in line with its record. With
// listed, rec is the record a listing returned (nil: none), and the store
// is asked again only when it names versions this host has not yet
// activated or refused: the record is always read again under the
// module's lock, so that an older read never replaces a newer one.
func (h *Host) syncStoreKey(ctx context.Context, k key, rec *engine.StoredPolicy, listed bool) error {
	unlock := h.lockKey(k)
	defer unlock()
	if listed && h.settled(k, rec) {
		return nil
	}
	rec, err := h.uploads.record(ctx, k)
	if err != nil {
		return err
	}
	return h.applyStore(ctx, k, rec)
}

// settled reports whether every version rec names has been activated or
// refused already.
func (h *Host) settled(k key, rec *engine.StoredPolicy) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	s, e := h.slots[k], h.cat.Load().get(k)
	if rec == nil || s == nil {
		return rec == nil && s == nil && e == nil
	}
	var active, shadow *Module
	if e != nil {
		active, shadow = e.active, e.shadow
	}
	done := func(digest string, m *Module) bool {
		return (m != nil && m.info.Digest == digest) || s.refused[digest] != nil
	}
	if sd := shadowOf(rec); sd != "" {
		return done(rec.Active, active) && done(sd, shadow)
	}
	return done(rec.Active, active) && shadow == nil
}

// shadowOf is the digest of a record's shadow version, "" for none.
func shadowOf(rec *engine.StoredPolicy) string {
	if rec.Shadow == rec.Active {
		return ""
	}
	return rec.Shadow
}

// applyStore activates the versions a record names (nil: the module was
// removed). avail are versions loaded and verified already (by an upload);
// applyStore owns them. A version that fails is reported, and the previous
// active version keeps serving; a shadow version that fails does not run.
// It returns the failures; the key's lock must be held.
func (h *Host) applyStore(ctx context.Context, k key, rec *engine.StoredPolicy, avail ...*Module) error {
	if rec == nil {
		for _, m := range avail {
			h.closeModule(m)
		}
		h.remove(ctx, k)
		return nil
	}
	shadowDigest := shadowOf(rec)
	h.update(k, func(s *slot) { s.desired, s.desiredShadow, s.activating = rec.Active, shadowDigest, true })
	cur := h.cat.Load().get(k)
	vs := h.newVersionSet(k, cur, avail)
	active, activeErr := vs.get(ctx, rec.Active)
	if activeErr != nil && cur != nil {
		active = cur.active // the previous version keeps serving
	}
	var shadow *Module
	var shadowErr error
	if shadowDigest != "" {
		if shadow, shadowErr = vs.get(ctx, shadowDigest); shadowErr != nil {
			shadowErr = fmt.Errorf("shadow %w", shadowErr)
		}
	}
	e := newEntry(active, shadow)
	replaced := cur.activeOrNil() != e.activeOrNil()
	if replaced || cur.shadowOrNil() != e.shadowOrNil() {
		h.install(k, e)
	}
	vs.closeUnused(e)
	err := errors.Join(activeErr, shadowErr)
	activated := replaced && e != nil
	h.activated(k, activated, err)
	if activated {
		h.log.InfoContext(ctx, "policy module activated", "module", k.name, "tenant", k.tenant, "source", k.source,
			"digest", e.active.info.Digest, "shadow", shadowDigest, "revision", rec.Revision)
	}
	return err
}

// newEntry is the entry that serves active, with shadow beside it unless it
// is active itself; nil when there is no active version.
func newEntry(active, shadow *Module) *entry {
	if active == nil {
		return nil
	}
	e := &entry{active: active, shadow: shadow}
	if shadow == active {
		e.shadow = nil
	}
	return e
}

// activated records in the key's status that an activation ended:
// replaced says a new active version serves, err is what failed.
func (h *Host) activated(k key, replaced bool, err error) {
	h.update(k, func(s *slot) {
		s.activating = false
		if replaced {
			s.activatedAt = h.now()
		}
		if err != nil {
			s.failed, s.lastError, s.lastErrorAt = true, err.Error(), h.now()
			return
		}
		s.failed = false
		clear(s.refused)
	})
}

// versionSet is the versions of one stored module that an activation may
// use: those the catalogue serves, those an upload brought, and those it
// loads from the store on demand. fresh are those not yet in the catalogue,
// which the set closes unless the new entry holds them.
type versionSet struct {
	h     *Host
	k     key
	have  map[string]*Module
	fresh map[*Module]bool
}

// newVersionSet is the versions cur serves and avail; of avail, a version
// cur serves already is closed.
func (h *Host) newVersionSet(k key, cur *entry, avail []*Module) *versionSet {
	vs := &versionSet{h: h, k: k, have: map[string]*Module{}, fresh: map[*Module]bool{}}
	for _, m := range cur.modules() {
		vs.have[m.info.Digest] = m
	}
	for _, m := range avail {
		if vs.have[m.info.Digest] != nil {
			h.closeModule(m)
			continue
		}
		vs.have[m.info.Digest], vs.fresh[m] = m, true
	}
	return vs
}

// get is the version digest, loaded from the store unless the set has it.
// A version that fails to load is remembered as refused, logged and
// audited.
func (vs *versionSet) get(ctx context.Context, digest string) (*Module, error) {
	if m := vs.have[digest]; m != nil {
		return m, nil
	}
	h, k := vs.h, vs.k
	if err := h.refusedBefore(k, digest); err != nil {
		return nil, err
	}
	wasm, err := h.uploads.blob(ctx, k, digest)
	if err != nil {
		return nil, fmt.Errorf("version %.12s: reading it from the policy store: %w", digest, err)
	}
	m, err := h.load(ctx, k, wasm, nil)
	if err != nil {
		err = fmt.Errorf("version %.12s refused: %w", digest, err)
		h.update(k, func(s *slot) { s.refused[digest] = err })
		h.log.ErrorContext(ctx, "policy module refused", "module", k.name, "tenant", k.tenant, "source", k.source, "digest", digest, "err", err.Error())
		h.auditEvent(ctx, engine.AuditPolicyRefused, k, digest, "system", fmt.Sprintf("replica %s: %v", h.replica, err))
		return nil, err
	}
	vs.have[digest], vs.fresh[m] = m, true
	return m, nil
}

// closeUnused closes the fresh versions that e does not hold.
func (vs *versionSet) closeUnused(e *entry) {
	for m := range vs.fresh {
		if !e.holds(m) {
			vs.h.closeModule(m)
		}
	}
}

// activeOrNil is the entry's active version, nil for a nil entry.
func (e *entry) activeOrNil() *Module {
	if e == nil {
		return nil
	}
	return e.active
}

// shadowOrNil is the entry's shadow version, nil for a nil entry.
func (e *entry) shadowOrNil() *Module {
	if e == nil {
		return nil
	}
	return e.shadow
}

// watch reports each change the store publishes, and that any module may
// have changed whenever it (re)subscribes, since changes published while
// it was not subscribed are lost. It returns when ctx is done.
func (s storeSource) watch(ctx context.Context, changed func(keys ...key)) error {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		ch, err := s.store.WatchPolicyChanges(ctx)
		if err != nil {
			s.log.WarnContext(ctx, "policy store: cannot watch changes; retrying", "err", err.Error(), "in", backoff)
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, s.rescan)
			continue
		}
		backoff = 100 * time.Millisecond
		changed()
		for c := range ch {
			if engine.ValidTenantName(c.Tenant) && engine.ValidModuleName(c.Name) {
				changed(key{sourceStore, c.Tenant, c.Name})
			}
		}
	}
	return nil
}
