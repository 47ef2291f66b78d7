package plugins

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/plugins/internal/wasm"
)

// Evaluate runs the policy hook of a version on an input without storing
// or swapping anything: a kept version of an uploaded policy (digest),
// module bytes that are not stored (module; digest, if also given, must be
// theirs), or, with neither, the version the tenant runs now under that
// name. Module bytes are verified as an upload is (self-tests too) and
// freed after the run. The call runs under the module's limits; a call
// that fails (a trap, the deadline, output that breaks the ABI) is an
// invalid_request error saying why.
func (h *Host) Evaluate(ctx context.Context, tenant, name, digest string, module []byte, in *engine.PolicyInput) (*engine.PolicyEvaluation, error) {
	switch {
	case !engine.ValidTenantName(tenant):
		return nil, engine.Errorf(engine.CodeInvalidRequest, "%q is not a tenant name", truncate(tenant))
	case !engine.ValidModuleName(name):
		return nil, engine.Errorf(engine.CodeInvalidRequest, "%q is not a policy module name", truncate(name))
	case in == nil:
		return nil, engine.Errorf(engine.CodeInvalidRequest, "no input")
	}
	input := *in
	if input.Tenant == "" {
		input.Tenant = tenant
	}
	if input.Metadata == nil {
		input.Metadata = map[string]json.RawMessage{}
	}
	doc, err := wasm.Envelope(engine.HookPolicy, h.now(), &input)
	if err != nil {
		return nil, engine.Errorf(engine.CodeInvalidRequest, "the input cannot be encoded: %v", err)
	}
	k := key{sourceStore, tenant, name}
	for {
		m, cat, err := h.candidate(ctx, k, digest, module)
		if err != nil {
			return nil, err
		}
		ev, err := evaluate(ctx, m, doc, input.Metadata)
		if cat == nil {
			h.closeModule(m)
		}
		if errors.Is(err, wasm.ErrClosed) && cat != nil && h.cat.Load() != cat {
			continue // replaced meanwhile: run the version that replaced it
		}
		return ev, err
	}
}

// candidate finds or loads the module Evaluate runs. A module that runs
// already comes with the catalogue it was found in; a module loaded for
// the run comes without, and must be closed.
func (h *Host) candidate(ctx context.Context, k key, digest string, module []byte) (*Module, *catalogue, error) {
	cat := h.cat.Load()
	switch {
	case module != nil:
		if len(module) > engine.MaxPolicyBytes {
			return nil, nil, engine.Errorf(engine.CodeInvalidRequest, "the module is %d bytes, over the limit of %d", len(module), engine.MaxPolicyBytes)
		}
		if d := hexSum(module); digest != "" && digest != d {
			return nil, nil, engine.Errorf(engine.CodeInvalidRequest, "the module's digest is %s, not %s", d, digest)
		}
	case digest != "":
		if h.store == nil {
			return nil, nil, &engine.Error{Code: engine.CodeNotFound, Description: "this server keeps no uploaded policy modules", Err: errNoStore}
		}
		for _, m := range cat.get(k).modules() {
			if m.info.Digest == digest {
				return m, cat, nil
			}
		}
		var err error
		if module, err = h.store.PolicyBlob(ctx, k.tenant, k.name, digest); err != nil {
			return nil, nil, storeError(err, k, digest)
		}
	default:
		e := cat.lookup(k.tenant, k.name)
		if e == nil {
			return nil, nil, engine.Errorf(engine.CodeNotFound, "tenant %q has no policy module %q", k.tenant, k.name)
		}
		return e.active, cat, nil
	}
	m, err := Load(ctx, module, LoadOptions{Name: k.name, Tenant: k.tenant, Limits: h.limits, Cache: h.cache, Logger: h.log})
	if err != nil {
		return nil, nil, &engine.Error{Code: engine.CodeInvalidRequest, Description: "module refused: " + err.Error(), Err: err}
	}
	h.live.Add(1)
	return m, nil, nil
}

// evaluate runs the policy hook of m on an input document.
func evaluate(ctx context.Context, m *Module, doc []byte, before map[string]json.RawMessage) (*engine.PolicyEvaluation, error) {
	if !m.Has(engine.HookPolicy) {
		return nil, engine.Errorf(engine.CodeInvalidRequest, "version %s does not implement the policy hook", m.info.Digest)
	}
	ev := &engine.PolicyEvaluation{Version: m.info.Digest}
	start := time.Now()
	out, err := m.Call(ctx, engine.HookPolicy, doc)
	ev.DurationMicros = time.Since(start).Microseconds()
	if errors.Is(err, wasm.ErrClosed) {
		return nil, err
	}
	var po *engine.PolicyOutput
	if err == nil {
		po, err = wasm.PolicyOutput(out)
	}
	var rej *engine.Error
	switch {
	case errors.As(err, &rej):
		ev.Error, ev.Description = rej.Code, rej.Description
		ev.Diff = []engine.MemberChange{}
	case err != nil:
		return nil, &engine.Error{Code: engine.CodeInvalidRequest, Description: fmt.Sprintf("version %.12s failed: %v", m.info.Digest, err), Err: err}
	default:
		ev.Accepted = true
		ev.Metadata, ev.RegistrationPolicies = po.Metadata, po.RegistrationPolicies
		ev.Diff = engine.DiffMetadata(before, po.Metadata)
	}
	return ev, nil
}

// diffMembers lists the members whose values differ between two metadata
// objects, compared as JSON values: member order and spacing do not
// matter.
func diffMembers(a, b map[string]json.RawMessage) []string {
	var names []string
	for name, av := range a {
		if bv, ok := b[name]; !ok || !sameJSON(av, bv) {
			names = append(names, name)
		}
	}
	for name := range b {
		if _, ok := a[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// sameJSON reports whether two JSON texts are the same value.
func sameJSON(a, b json.RawMessage) bool {
	ca, errA := canonical(a)
	cb, errB := canonical(b)
	if errA != nil || errB != nil {
		return bytes.Equal(a, b)
	}
	return bytes.Equal(ca, cb)
}

// canonical re-encodes a JSON text with sorted members and no spacing;
// numbers keep their spelling.
func canonical(raw json.RawMessage) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// ShadowResult is how a version in shadow answered a live request,
// compared with the active version's answer.
type ShadowResult struct {
	Tenant string
	Policy string
	// Active and Shadow are the digests of the two versions.
	Active, Shadow string
	// Result is ShadowAgree, ShadowDiffer or ShadowFailed.
	Result string
	// Summary says how the answers differ, or why the shadow failed.
	Summary string
}

// The results of a shadow run.
const (
	// ShadowAgree: both accepted with the same metadata and registration
	// policies, or both rejected with the same code.
	ShadowAgree = "agree"
	// ShadowDiffer: the answers differ.
	ShadowDiffer = "differ"
	// ShadowFailed: the shadow version failed (trap, deadline, bad
	// output); the active one answered.
	ShadowFailed = "failed"
)

// runShadow runs the shadow version of e on the input document the active
// version answered, in the background so that it adds neither time nor
// failure to the request, under the module's own deadline. When as many
// shadow runs as a module has instances are in flight already, the call
// is not shadowed: under load, shadow results are a sample.
func (h *Host) runShadow(ctx context.Context, tenant, name string, e *entry, doc []byte, out *engine.PolicyOutput, err error) {
	select {
	case h.shadowRuns <- struct{}{}:
	default:
		return
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		<-h.shadowRuns
		return
	}
	h.bg.Add(1)
	h.mu.Unlock()
	ctx = context.WithoutCancel(ctx) // the request may be over before the shadow is
	go func() {
		defer h.bg.Done()
		defer func() { <-h.shadowRuns }()
		sout, serr := e.shadow.Call(ctx, engine.HookPolicy, doc)
		if errors.Is(serr, wasm.ErrClosed) {
			return // replaced meanwhile: not the version's doing
		}
		r := ShadowResult{Tenant: tenant, Policy: name, Active: e.active.info.Digest, Shadow: e.shadow.info.Digest}
		var sp *engine.PolicyOutput
		if serr == nil {
			sp, serr = wasm.PolicyOutput(sout)
		}
		if outcome(serr) == OutcomeFailed {
			r.Result, r.Summary = ShadowFailed, serr.Error()
			h.log.WarnContext(ctx, "policy shadow failed", "tenant", tenant, "module", name, "active", r.Active, "shadow", r.Shadow, "err", r.Summary)
		} else if r.Summary = compareAnswers(out, err, sp, serr); r.Summary == "" {
			r.Result = ShadowAgree
		} else {
			r.Result = ShadowDiffer
			h.log.InfoContext(ctx, "policy shadow differs", "tenant", tenant, "module", name, "active", r.Active, "shadow", r.Shadow, "summary", r.Summary)
		}
		if h.shadowed != nil {
			h.shadowed(r)
		}
	}()
}

// compareAnswers says how two answers of a policy hook differ; "" when
// they agree.
func compareAnswers(a *engine.PolicyOutput, aErr error, s *engine.PolicyOutput, sErr error) string {
	var ar, sr *engine.Error
	errors.As(aErr, &ar)
	errors.As(sErr, &sr)
	switch {
	case ar != nil && sr != nil:
		if ar.Code == sr.Code {
			return ""
		}
		return fmt.Sprintf("both rejected: active with %s, shadow with %s (%s)", ar.Code, sr.Code, truncate(sr.Description))
	case ar != nil:
		return fmt.Sprintf("active rejected with %s, shadow accepted", ar.Code)
	case sr != nil:
		return fmt.Sprintf("active accepted, shadow rejected with %s (%s)", sr.Code, truncate(sr.Description))
	}
	var parts []string
	if d := diffMembers(a.Metadata, s.Metadata); len(d) > 0 {
		parts = append(parts, "metadata differs in "+strings.Join(d, ", "))
	}
	if (a.RegistrationPolicies == nil) != (s.RegistrationPolicies == nil) || !slices.Equal(a.RegistrationPolicies, s.RegistrationPolicies) {
		parts = append(parts, fmt.Sprintf("registration_policies %q, shadow %q", a.RegistrationPolicies, s.RegistrationPolicies))
	}
	return strings.Join(parts, "; ")
}
