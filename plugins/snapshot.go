package plugins

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/plugins/internal/wasm"
)

// snapshot is the modules a tenant sees in one catalogue, each active
// version held open (counted among its module's calls) until Release, so
// that a request runs one version of each module from its first hook to
// its last, and no version closes under it.
type snapshot struct {
	h        *Host
	tenant   string
	entries  map[string]*entry
	released atomic.Bool
}

var _ engine.ModuleSet = (*snapshot)(nil)

// Snapshot implements engine.Modules: it holds the active version of every
// module the tenant sees now (not the versions in shadow, whose runs hold
// their own). A version that a swap closes between the catalogue's load
// and its hold is not the tenant's any more: the snapshot is taken again
// on the newer catalogue. Only a closed host leaves such a version out.
func (h *Host) Snapshot(tenant string) engine.ModuleSet {
	for {
		cat := h.cat.Load()
		s := &snapshot{h: h, tenant: tenant, entries: map[string]*entry{}}
		complete := true
		for _, layer := range []map[string]*entry{cat.store[tenant], cat.folder[tenant], cat.folder[""]} {
			for name, e := range layer {
				if _, seen := s.entries[name]; seen {
					continue
				}
				if !e.active.w.Hold() {
					complete = false
					s.entries[name] = nil // shadowed all the same
					continue
				}
				s.entries[name] = e
			}
		}
		if complete || h.cat.Load() == cat {
			return s
		}
		s.Release()
	}
}

// Release implements engine.ModuleSet.
func (s *snapshot) Release() {
	if s.released.Swap(true) {
		return
	}
	for _, e := range s.entries {
		if e != nil {
			e.active.w.Unhold()
		}
	}
}

// get returns the entry of a name, or nil.
func (s *snapshot) get(name string) *entry {
	if s.released.Load() {
		panic(fmt.Sprintf("plugins: module %q looked up in a released snapshot", name))
	}
	return s.entries[name]
}

// Has implements engine.ModuleSet.
func (s *snapshot) Has(name string, hook engine.Hook) bool {
	e := s.get(name)
	return e != nil && e.active.Has(hook)
}

// Version implements engine.ModuleSet.
func (s *snapshot) Version(name string) string {
	if e := s.get(name); e != nil {
		return e.active.info.Digest
	}
	return ""
}

// Policy implements engine.ModuleSet. The output's Version is the digest of
// the module that ran; a rejection comes with an output that holds only
// the Version, a failure with none. When the module has a version in
// shadow, that version runs on the same input afterwards, in the
// background; its answer is compared and reported, never returned.
func (s *snapshot) Policy(ctx context.Context, name string, in *engine.PolicyInput) (*engine.PolicyOutput, error) {
	e := s.get(name)
	out, doc, err := invoke(s.h, ctx, s.tenant, name, e, engine.HookPolicy, in, wasm.PolicyOutput)
	o := outcome(err)
	if o != OutcomeFailed && e.shadow != nil {
		s.h.runShadow(ctx, s.tenant, name, e, doc, out, err)
	}
	switch o {
	case OutcomeOK:
		out.Version = e.active.info.Digest
		return out, nil
	case OutcomeRejected:
		return &engine.PolicyOutput{Version: e.active.info.Digest}, err
	default:
		return nil, err
	}
}

// ClientID implements engine.ModuleSet.
func (s *snapshot) ClientID(ctx context.Context, name string, in *engine.FactoryInput) (string, error) {
	id, _, err := invoke(s.h, ctx, s.tenant, name, s.get(name), engine.HookIDFactory, in, func(b []byte) (string, error) { return wasm.StringOutput(b, "client_id") })
	return id, err
}

// ClientSecret implements engine.ModuleSet.
func (s *snapshot) ClientSecret(ctx context.Context, name string, in *engine.FactoryInput) (string, error) {
	v, _, err := invoke(s.h, ctx, s.tenant, name, s.get(name), engine.HookSecretFactory, in, func(b []byte) (string, error) { return wasm.StringOutput(b, "client_secret") })
	return v, err
}

// Decide implements engine.ModuleSet.
func (s *snapshot) Decide(ctx context.Context, name string, hook engine.Hook, in *engine.DecisionInput) (bool, error) {
	if hook != engine.HookIssueRAT && hook != engine.HookRotateRAT {
		return false, fmt.Errorf("plugins: %s is not a decision hook", hook)
	}
	d, _, err := invoke(s.h, ctx, s.tenant, name, s.get(name), hook, in, wasm.DecisionOutput)
	return d, err
}

// IssueAccessToken implements engine.ModuleSet. The output's Version is
// the digest of the module that ran. The output is checked against in
// (wasm.AccessTokenOutput): a module that widens the scope, lengthens the
// lifetime or sets a reserved claim has failed.
func (s *snapshot) IssueAccessToken(ctx context.Context, name string, in *engine.AccessTokenInput) (*engine.AccessTokenOutput, error) {
	e := s.get(name)
	out, _, err := invoke(s.h, ctx, s.tenant, name, e, engine.HookIssueAccessToken, in, func(b []byte) (*engine.AccessTokenOutput, error) {
		return wasm.AccessTokenOutput(b, in)
	})
	if err != nil {
		return nil, err
	}
	out.Version = e.active.info.Digest
	return out, nil
}
