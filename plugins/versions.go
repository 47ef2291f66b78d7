package plugins

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/registrar-dev/registrar/engine"
)

// The admin API's operations on uploaded modules (Upload, Activate,
// SetShadow, Promote, Remove; they implement adminapi.Policies with
// StoredPolicy, Evaluate, Statuses and Visible) each run under the module's lock: verify
// the version (compile, check, self-test) → update the store's record
// through UpdatePolicy → activate here at once → publish the change, which
// every other replica activates on the message or, if it missed it, at its
// next rescan. engine.PolicyChangeOptions.IfRevision, when positive, is the
// revision the record must have (If-Match); By is the actor. They return
// *engine.Error: invalid_request for a refused module (the description
// says why) or a bad name, precondition_failed for another revision, not_found for an unknown policy or
// version, and store errors as they are (engine.AsError makes
// ErrUnavailable temporarily_unavailable).

// Upload verifies a module version, stores it, and makes it the policy's
// active version (or its shadow version, with opts.Shadow, which needs an
// active version already) on every
// replica; this one serves it when Upload returns. The new version comes
// first in the record's Versions; older ones beyond engine.MaxPolicyVersions
// are dropped, never the active or the shadow one.
func (h *Host) Upload(ctx context.Context, tenant, name string, wasm []byte, opts engine.PolicyChangeOptions) (*engine.StoredPolicy, error) {
	k, err := h.storeKey(tenant, name)
	if err != nil {
		return nil, err
	}
	if err := checkUploadSize(wasm); err != nil {
		return nil, err
	}
	digest := hexSum(wasm)
	unlock := h.lockKey(k)
	rec, err := h.upload(ctx, k, digest, wasm, opts)
	unlock()
	if err != nil {
		return nil, err
	}
	h.publish(ctx, k, rec.Revision)
	detail := "uploaded and activated"
	if opts.Shadow {
		detail = "uploaded to run in shadow"
	}
	h.auditEvent(ctx, engine.AuditPolicyLoaded, k, digest, opts.By, detail)
	return rec, nil
}

// checkUploadSize refuses an empty module or one over
// engine.MaxPolicyBytes.
func checkUploadSize(wasm []byte) error {
	if len(wasm) == 0 {
		return engine.Errorf(engine.CodeInvalidRequest, "the module is empty")
	}
	if len(wasm) > engine.MaxPolicyBytes {
		return engine.Errorf(engine.CodeInvalidRequest, "the module is %d bytes, over the limit of %d", len(wasm), engine.MaxPolicyBytes)
	}
	return nil
}

// upload is Upload under the key's lock: verify the version, store its
// bytes, update the record and activate it here.
func (h *Host) upload(ctx context.Context, k key, digest string, wasm []byte, opts engine.PolicyChangeOptions) (*engine.StoredPolicy, error) {
	m, err := h.verify(ctx, k, digest, wasm, opts.By)
	if err != nil {
		return nil, err
	}
	if err := h.store.PutPolicyBlob(ctx, k.tenant, k.name, digest, wasm); err != nil {
		h.drop(m)
		return nil, storeError(err, k, "")
	}
	upload := engine.PolicyUpload{Digest: digest, Size: len(wasm), UploadedAt: h.now(), UploadedBy: opts.By}
	rec, err := h.store.UpdatePolicy(ctx, k.tenant, k.name, func(p *engine.StoredPolicy) (*engine.StoredPolicy, error) {
		return withUpload(p, k, upload, opts)
	})
	if err != nil {
		h.drop(m)
		return nil, storeError(err, k, "")
	}
	_ = h.applyStore(ctx, k, rec, m.orNone()...)
	return rec, nil
}

// withUpload is the record p (nil: none yet) with the version up first in
// its Versions, as its active version or, with opts.Shadow, its shadow.
func withUpload(p *engine.StoredPolicy, k key, up engine.PolicyUpload, opts engine.PolicyChangeOptions) (*engine.StoredPolicy, error) {
	if err := checkRevision(p, opts.IfRevision); err != nil {
		return nil, err
	}
	if p == nil {
		if opts.Shadow {
			return nil, engine.Errorf(engine.CodeInvalidRequest, "policy %q has no active version to run a shadow beside", k.name)
		}
		p = &engine.StoredPolicy{Tenant: k.tenant, Name: k.name}
	} else {
		p = p.Clone()
	}
	digest := up.Digest
	versions := []engine.PolicyUpload{up}
	for _, v := range p.Versions {
		if v.Digest != digest {
			versions = append(versions, v)
		}
	}
	if opts.Shadow {
		p.Shadow = digest
		if p.Active == digest {
			p.Shadow = ""
		}
	} else {
		p.Active = digest
		if p.Shadow == digest {
			p.Shadow = ""
		}
	}
	p.Versions = engine.TrimVersions(versions, p.Active, p.Shadow)
	p.UpdatedAt = up.UploadedAt
	return p, nil
}

// Activate makes a kept version of an uploaded policy its active one:
// rollback, or roll forward. Activating the active version changes
// nothing.
func (h *Host) Activate(ctx context.Context, tenant, name, digest string, o engine.PolicyChangeOptions) (*engine.StoredPolicy, error) {
	return h.change(ctx, tenant, name, o, "activated", func(rec *engine.StoredPolicy) (string, error) {
		if rec.Active == digest {
			return "", nil
		}
		return digest, nil
	}, func(p *engine.StoredPolicy) {
		p.Active = digest
		if p.Shadow == digest {
			p.Shadow = ""
		}
	})
}

// SetShadow runs a kept version of an uploaded policy in shadow beside
// the active one; "" stops the shadow.
func (h *Host) SetShadow(ctx context.Context, tenant, name, digest string, o engine.PolicyChangeOptions) (*engine.StoredPolicy, error) {
	detail := "set to run in shadow"
	if digest == "" {
		detail = "shadow stopped"
	}
	return h.change(ctx, tenant, name, o, detail, func(rec *engine.StoredPolicy) (string, error) {
		switch {
		case digest == rec.Shadow:
			return "", nil
		case digest != "" && digest == rec.Active:
			return "", engine.Errorf(engine.CodeInvalidRequest, "version %s is the active version", digest)
		case digest == "":
			return "", errNoVerify
		}
		return digest, nil
	}, func(p *engine.StoredPolicy) { p.Shadow = digest })
}

// Promote makes the shadow version of an uploaded policy its active one.
func (h *Host) Promote(ctx context.Context, tenant, name string, o engine.PolicyChangeOptions) (*engine.StoredPolicy, error) {
	var shadow string
	return h.change(ctx, tenant, name, o, "promoted from shadow to active", func(rec *engine.StoredPolicy) (string, error) {
		if rec.Shadow == "" {
			return "", engine.Errorf(engine.CodeInvalidRequest, "policy %q has no shadow version to promote", name)
		}
		shadow = rec.Shadow
		return shadow, nil
	}, func(p *engine.StoredPolicy) {
		p.Active, p.Shadow = shadow, ""
	})
}

// errNoVerify tells change that the new record names no version to verify.
var errNoVerify = errors.New("nothing to verify")

// change is Activate, SetShadow and Promote: plan looks at the current
// record and returns the version to verify ("" and no error: nothing to
// change); set makes the new record from a copy of the current one, which
// must still keep that version and, when planned, the same shadow.
func (h *Host) change(ctx context.Context, tenant, name string, o engine.PolicyChangeOptions, detail string,
	plan func(*engine.StoredPolicy) (string, error), set func(*engine.StoredPolicy)) (*engine.StoredPolicy, error) {
	k, err := h.storeKey(tenant, name)
	if err != nil {
		return nil, err
	}
	unlock := h.lockKey(k)
	rec, digest, changed, err := h.changeLocked(ctx, k, o, plan, set)
	unlock()
	if err != nil || !changed {
		return rec, err
	}
	h.publish(ctx, k, rec.Revision)
	h.auditEvent(ctx, engine.AuditPolicyLoaded, k, digest, o.By, detail)
	return rec, nil
}

// changeLocked is change under the key's lock: plan, verify the planned
// version, update the record and activate it here. changed is false when
// the plan changes nothing (rec is the current record) or on error (rec is
// nil).
func (h *Host) changeLocked(ctx context.Context, k key, o engine.PolicyChangeOptions,
	plan func(*engine.StoredPolicy) (string, error), set func(*engine.StoredPolicy)) (rec *engine.StoredPolicy, digest string, changed bool, err error) {
	rec, err = h.store.StoredPolicy(ctx, k.tenant, k.name)
	if err != nil {
		return nil, "", false, storeError(err, k, "")
	}
	if err := checkRevision(rec, o.IfRevision); err != nil {
		return nil, "", false, err
	}
	digest, err = plan(rec)
	verify := true
	switch {
	case errors.Is(err, errNoVerify):
		verify = false
	case err != nil:
		return nil, "", false, err
	case digest == "":
		return rec, "", false, nil // nothing changes
	}
	var m *Module
	if verify {
		if m, err = h.verifyKept(ctx, k, rec, digest, o.By); err != nil {
			return nil, "", false, err
		}
	}
	shadow := rec.Shadow
	rec, err = h.store.UpdatePolicy(ctx, k.tenant, k.name, func(p *engine.StoredPolicy) (*engine.StoredPolicy, error) {
		return h.changed(p, k, o.IfRevision, digest, verify, shadow, set)
	})
	if err != nil {
		h.drop(m)
		return nil, "", false, storeError(err, k, "")
	}
	_ = h.applyStore(ctx, k, rec, m.orNone()...)
	return rec, digest, true, nil
}

// verifyKept verifies version digest of a stored policy, which its record
// rec must keep.
func (h *Host) verifyKept(ctx context.Context, k key, rec *engine.StoredPolicy, digest, by string) (*Module, error) {
	if _, ok := rec.Version(digest); !ok {
		return nil, engine.Errorf(engine.CodeNotFound, "policy %q keeps no version %s", k.name, digest)
	}
	wasm, err := h.versionBytes(ctx, k, digest)
	if err != nil {
		return nil, err
	}
	return h.verify(ctx, k, digest, wasm, by)
}

// changed is the record p after set, provided p still has revision
// ifRevision (when positive), keeps version digest (when verify) and has
// the shadow version shadow.
func (h *Host) changed(p *engine.StoredPolicy, k key, ifRevision int64, digest string, verify bool, shadow string, set func(*engine.StoredPolicy)) (*engine.StoredPolicy, error) {
	if p == nil {
		return nil, engine.Errorf(engine.CodeNotFound, "no uploaded policy %q", k.name)
	}
	if err := checkRevision(p, ifRevision); err != nil {
		return nil, err
	}
	if verify {
		if _, ok := p.Version(digest); !ok {
			return nil, engine.Errorf(engine.CodeNotFound, "policy %q keeps no version %s", k.name, digest)
		}
	}
	if p.Shadow != shadow {
		return nil, engine.Errorf(engine.CodeConflict, "the shadow version of policy %q changed meanwhile; read it again", k.name)
	}
	p = p.Clone()
	set(p)
	p.UpdatedAt = h.now()
	return p, nil
}

// Remove deletes an uploaded policy with all its versions, on every
// replica: the tenant's folder module or the shared one of that name, if
// any, serves again.
func (h *Host) Remove(ctx context.Context, tenant, name string, o engine.PolicyChangeOptions) error {
	ifRevision, by := o.IfRevision, o.By
	k, err := h.storeKey(tenant, name)
	if err != nil {
		return err
	}
	unlock := h.lockKey(k)
	var active string
	_, err = h.store.UpdatePolicy(ctx, tenant, name, func(p *engine.StoredPolicy) (*engine.StoredPolicy, error) {
		if p == nil {
			return nil, engine.Errorf(engine.CodeNotFound, "no uploaded policy %q", name)
		}
		if err := checkRevision(p, ifRevision); err != nil {
			return nil, err
		}
		active = p.Active
		return nil, nil
	})
	if err != nil {
		unlock()
		return storeError(err, k, "")
	}
	_ = h.applyStore(ctx, k, nil)
	unlock()
	h.publish(ctx, k, 0)
	h.auditEvent(ctx, engine.AuditPolicyLoaded, k, active, by, "removed")
	return nil
}

// StoredPolicy returns an uploaded policy's record.
func (h *Host) StoredPolicy(ctx context.Context, tenant, name string) (*engine.StoredPolicy, error) {
	k, err := h.storeKey(tenant, name)
	if err != nil {
		return nil, err
	}
	rec, err := h.store.StoredPolicy(ctx, tenant, name)
	if err != nil {
		return nil, storeError(err, k, "")
	}
	return rec, nil
}

// storeKey checks the names of an uploaded policy.
func (h *Host) storeKey(tenant, name string) (key, error) {
	switch {
	case h.store == nil:
		return key{}, &engine.Error{Code: engine.CodeInvalidRequest, Description: "this server keeps no uploaded policy modules", Err: errNoStore}
	case !engine.ValidTenantName(tenant):
		return key{}, engine.Errorf(engine.CodeInvalidRequest, "%q is not a tenant name", truncate(tenant))
	case !engine.ValidModuleName(name):
		return key{}, engine.Errorf(engine.CodeInvalidRequest, "%q is not a policy module name", truncate(name))
	}
	return key{sourceStore, tenant, name}, nil
}

// checkRevision is the If-Match of an update.
func checkRevision(p *engine.StoredPolicy, ifRevision int64) error {
	if ifRevision <= 0 {
		return nil
	}
	if p == nil {
		return engine.Errorf(engine.CodePreconditionFailed, "the policy does not exist; revision %d expected", ifRevision)
	}
	if p.Revision != ifRevision {
		return engine.Errorf(engine.CodePreconditionFailed, "the policy is at revision %d, not %d", p.Revision, ifRevision)
	}
	return nil
}

// storeError turns an error of the store into the admin API's.
func storeError(err error, k key, digest string) error {
	var e *engine.Error
	switch {
	case errors.As(err, &e):
		return err
	case errors.Is(err, engine.ErrNotFound) && digest != "":
		return &engine.Error{Code: engine.CodeNotFound, Description: fmt.Sprintf("policy %q keeps no version %s", k.name, digest), Err: err}
	case errors.Is(err, engine.ErrNotFound):
		return &engine.Error{Code: engine.CodeNotFound, Description: fmt.Sprintf("no uploaded policy %q", k.name), Err: err}
	case errors.Is(err, engine.ErrNoTenant):
		return &engine.Error{Code: engine.CodeNotFound, Description: fmt.Sprintf("no tenant named %q", k.tenant), Err: err}
	case errors.Is(err, engine.ErrRevisionMismatch):
		return &engine.Error{Code: engine.CodePreconditionFailed, Description: "the policy changed meanwhile", Err: err}
	}
	return fmt.Errorf("plugins: policy store: %w", err)
}

// versionBytes returns the bytes of a kept version of an uploaded policy.
func (h *Host) versionBytes(ctx context.Context, k key, digest string) ([]byte, error) {
	if e := h.cat.Load().get(k); e != nil {
		for _, m := range e.modules() {
			if m.info.Digest == digest {
				return nil, nil // running already: no bytes needed
			}
		}
	}
	wasm, err := h.store.PolicyBlob(ctx, k.tenant, k.name, digest)
	if err != nil {
		return nil, storeError(err, k, digest)
	}
	return wasm, nil
}

// verify loads a version as activation would, unless it runs already
// (nil module, nil error). A refusal is audited and comes back as
// invalid_request saying why.
func (h *Host) verify(ctx context.Context, k key, digest string, wasm []byte, by string) (*Module, error) {
	if e := h.cat.Load().get(k); e != nil {
		for _, m := range e.modules() {
			if m.info.Digest == digest {
				return nil, nil
			}
		}
	}
	if wasm == nil {
		return nil, nil
	}
	m, err := h.load(ctx, k, wasm, nil)
	if err != nil {
		h.auditEvent(ctx, engine.AuditPolicyRefused, k, digest, by, err.Error())
		return nil, &engine.Error{Code: engine.CodeInvalidRequest, Description: "module refused: " + err.Error(), Err: err}
	}
	h.mu.Lock()
	if s := h.slots[k]; s != nil {
		delete(s.refused, digest) // it passes now: a later sync may use it
	}
	h.mu.Unlock()
	return m, nil
}

// drop closes a module that verify loaded and that is not used.
func (h *Host) drop(m *Module) {
	if m != nil {
		h.closeModule(m)
	}
}

// orNone is m as a list, empty for nil.
func (m *Module) orNone() []*Module {
	if m == nil {
		return nil
	}
	return []*Module{m}
}

// publish tells the other replicas about a change. They catch up at their
// next rescan if it is lost.
func (h *Host) publish(ctx context.Context, k key, revision int64) {
	err := h.store.PublishPolicyChange(ctx, engine.PolicyChange{Tenant: k.tenant, Name: k.name, Revision: revision})
	if err != nil {
		h.log.WarnContext(ctx, "policy store: change not published; other replicas see it at their next rescan", "module", k.name, "tenant", k.tenant, "err", err.Error())
	}
}

// TenantDeleted drops a deleted tenant's uploaded modules here at once and
// tells the other replicas to look again, instead of waiting for their
// next rescan. The store has removed the records already (with the
// tenant), so every replica finds nothing and drops its copies.
func (h *Host) TenantDeleted(ctx context.Context, tenant string) {
	if h.store == nil {
		return
	}
	h.mu.Lock()
	var keys []key
	for k := range h.slots {
		if k.source == sourceStore && k.tenant == tenant {
			keys = append(keys, k)
		}
	}
	h.mu.Unlock()
	slices.SortFunc(keys, compareKeys)
	for _, k := range keys {
		if err := h.syncStoreKey(ctx, k, nil, false); err != nil {
			h.log.WarnContext(ctx, "deleted tenant's module not dropped yet; the next rescan drops it", "module", k.name, "tenant", k.tenant, "err", err.Error())
		}
		h.publish(ctx, k, 0)
	}
}
