package adminapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/httpio"
)

// Policies lists the policy modules each tenant can use and manages the
// ones uploaded through the admin API (versions, activation, shadow,
// dry runs, status across replicas). cmd/registrar adapts plugins.Host to
// it.
type Policies interface {
	// Visible returns the modules the tenant can use, sorted by name: its
	// own and the shared ones its own do not shadow.
	Visible(tenant string) []engine.ModuleInfo
	// Upload verifies module bytes and, if they pass, stores them as the
	// newest version and activates it (or runs it in shadow).
	Upload(ctx context.Context, tenant, name string, wasm []byte, o engine.PolicyChangeOptions) (*engine.StoredPolicy, error)
	// Activate makes a kept version the active one.
	Activate(ctx context.Context, tenant, name, digest string, o engine.PolicyChangeOptions) (*engine.StoredPolicy, error)
	// SetShadow runs a kept version in shadow; "" stops the shadow.
	SetShadow(ctx context.Context, tenant, name, digest string, o engine.PolicyChangeOptions) (*engine.StoredPolicy, error)
	// Promote makes the shadow version the active one.
	Promote(ctx context.Context, tenant, name string, o engine.PolicyChangeOptions) (*engine.StoredPolicy, error)
	// Remove removes an uploaded policy with all its versions.
	Remove(ctx context.Context, tenant, name string, o engine.PolicyChangeOptions) error
	// StoredPolicy returns an uploaded policy's record.
	StoredPolicy(ctx context.Context, tenant, name string) (*engine.StoredPolicy, error)
	// Evaluate runs the policy hook of a kept version (digest), of bytes not
	// stored (wasm), or of the active version (neither), without storing
	// or activating anything.
	Evaluate(ctx context.Context, tenant, name, digest string, wasm []byte, in *engine.PolicyInput) (*engine.PolicyEvaluation, error)
	// Statuses reports every replica's policy modules.
	Statuses(ctx context.Context) ([]*engine.ReplicaStatus, error)
}

// actor names who makes a request, for the policy records.
func actor(r *http.Request) string {
	a, _ := engine.Actor(r.Context())
	return a
}

// visible returns the modules a tenant that exists can use.
func (h *handler) visible(tenant string) ([]engine.ModuleInfo, error) {
	if !h.reg.HasTenant(tenant) {
		return nil, engine.Errorf(engine.CodeNotFound, "no tenant named %q", truncate(tenant, 64))
	}
	if h.policies == nil {
		return []engine.ModuleInfo{}, nil
	}
	ms := h.policies.Visible(tenant)
	if ms == nil {
		ms = []engine.ModuleInfo{}
	}
	return ms, nil
}

// needPolicies refuses management routes when no policy host is wired.
func (h *handler) needPolicies(tenant string) error {
	if !h.reg.HasTenant(tenant) {
		return engine.Errorf(engine.CodeNotFound, "no tenant named %q", truncate(tenant, 64))
	}
	if h.policies == nil {
		return engine.Errorf(engine.CodeConflict, "this Registrar runs no policy modules")
	}
	return nil
}

// needPolicy is needPolicies for a route that names a policy.
func (h *handler) needPolicy(r *http.Request) (tenant, name string, err error) {
	v := mux.Vars(r)
	tenant, name = v["tenant"], v["name"]
	if err := h.needPolicies(tenant); err != nil {
		return "", "", err
	}
	if !engine.ValidModuleName(name) {
		return "", "", engine.Errorf(engine.CodeInvalidRequest, "policy name %q: use 1-128 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit", truncate(name, 128))
	}
	return tenant, name, nil
}

func (h *handler) listPolicies(w http.ResponseWriter, r *http.Request) error {
	after, n, err := pageParams(r, listPolicies, engine.ValidModuleName)
	if err != nil {
		return err
	}
	all, err := h.visible(mux.Vars(r)["tenant"])
	if err != nil {
		return err
	}
	ms, next := page(all, func(m engine.ModuleInfo) string { return m.Name }, listPolicies, after, n)
	httpio.WriteJSON(w, http.StatusOK, struct {
		Policies   []engine.ModuleInfo `json:"policies"`
		NextCursor string              `json:"next_cursor,omitempty"`
	}{ms, next})
	return nil
}

// policyView is one policy module as the admin API shows it: what serves
// the tenant now and, for an uploaded policy, its versions.
type policyView struct {
	Name     string             `json:"name"`
	Serving  *engine.ModuleInfo `json:"serving,omitempty"`
	Uploaded *storedPolicyView  `json:"uploaded,omitempty"`
}

// storedPolicyView is an uploaded policy's record with its times in the
// admin API's format. The outer fields hide the record's own of the same
// JSON names from encoding/json; every other member is the record's.
type storedPolicyView struct {
	UpdatedAt timestamp          `json:"updated_at"`
	Versions  []policyUploadView `json:"versions"`
	*engine.StoredPolicy
}

// policyUploadView is one version of an uploaded policy, as
// storedPolicyView shows it.
type policyUploadView struct {
	UploadedAt timestamp `json:"uploaded_at"`
	engine.PolicyUpload
}

func viewStoredPolicy(sp *engine.StoredPolicy) *storedPolicyView {
	if sp == nil {
		return nil
	}
	v := &storedPolicyView{UpdatedAt: timestamp(sp.UpdatedAt), Versions: make([]policyUploadView, 0, len(sp.Versions)), StoredPolicy: sp}
	for _, u := range sp.Versions {
		v.Versions = append(v.Versions, policyUploadView{UploadedAt: timestamp(u.UploadedAt), PolicyUpload: u})
	}
	return v
}

func (h *handler) getPolicy(w http.ResponseWriter, r *http.Request) error {
	v := mux.Vars(r)
	ms, err := h.visible(v["tenant"])
	if err != nil {
		return err
	}
	view := policyView{Name: v["name"]}
	for _, m := range ms {
		if m.Name == v["name"] {
			view.Serving = &m
			break
		}
	}
	if h.policies != nil {
		sp, err := h.policies.StoredPolicy(r.Context(), v["tenant"], v["name"])
		switch e := engine.AsError(err); {
		case err == nil:
			view.Uploaded = viewStoredPolicy(sp)
			setPolicyTag(w, sp)
		case e.Code != engine.CodeNotFound:
			return err
		}
	}
	if view.Serving == nil && view.Uploaded == nil {
		return engine.Errorf(engine.CodeNotFound, "tenant %q has no policy module %q", v["tenant"], truncate(v["name"], 128))
	}
	httpio.WriteJSON(w, http.StatusOK, view)
	return nil
}

func setPolicyTag(w http.ResponseWriter, sp *engine.StoredPolicy) {
	if sp != nil {
		w.Header().Set("ETag", `"`+strconv.FormatInt(sp.Revision, 10)+`"`)
	}
}

// policyRequest reads what every change of an uploaded policy needs: the
// tenant and the policy (both checked), If-Match, and the actor.
func (h *handler) policyRequest(r *http.Request) (tenant, name string, o engine.PolicyChangeOptions, err error) {
	if tenant, name, err = h.needPolicy(r); err != nil {
		return "", "", o, err
	}
	rev, err := ifMatch(r)
	return tenant, name, engine.PolicyChangeOptions{IfRevision: rev, By: actor(r)}, err
}

// putPolicy uploads a module version: the body is the module's bytes.
// ?shadow=true runs it in shadow instead of activating it.
func (h *handler) putPolicy(w http.ResponseWriter, r *http.Request) error {
	tenant, name, o, err := h.policyRequest(r)
	if err != nil {
		return err
	}
	if s := r.URL.Query().Get("shadow"); s != "" {
		if o.Shadow, err = strconv.ParseBool(s); err != nil {
			return engine.Errorf(engine.CodeInvalidRequest, "shadow must be true or false")
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, engine.MaxPolicyBytes)
	wasm, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return engine.Errorf(httpio.CodeRequestTooLarge, "a policy module is at most %d bytes", engine.MaxPolicyBytes)
	}
	if err != nil {
		return engine.Errorf(engine.CodeInvalidRequest, "reading the module: %v", err)
	}
	if len(wasm) == 0 {
		return engine.Errorf(engine.CodeInvalidRequest, "the body must be the module's bytes (application/wasm)")
	}
	sp, err := h.policies.Upload(r.Context(), tenant, name, wasm, o)
	if err != nil {
		return err
	}
	setPolicyTag(w, sp)
	status := http.StatusOK
	if sp.Revision == 1 {
		status = http.StatusCreated
		w.Header().Set("Location", "/admin/tenants/"+tenant+"/policies/"+name)
	}
	httpio.WriteJSON(w, status, viewStoredPolicy(sp))
	return nil
}

func (h *handler) deletePolicy(w http.ResponseWriter, r *http.Request) error {
	tenant, name, o, err := h.policyRequest(r)
	if err != nil {
		return err
	}
	if err := h.policies.Remove(r.Context(), tenant, name, o); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// digestRequest is the body of activate and shadow.
type digestRequest struct {
	Digest string `json:"digest"`
}

func (h *handler) activatePolicy(w http.ResponseWriter, r *http.Request) error {
	return h.policyChange(w, r, func(ctx context.Context, tenant, name string, body digestRequest, o engine.PolicyChangeOptions) (*engine.StoredPolicy, error) {
		if body.Digest == "" {
			return nil, engine.Errorf(engine.CodeInvalidRequest, "digest names the version to activate")
		}
		return h.policies.Activate(ctx, tenant, name, body.Digest, o)
	})
}

func (h *handler) shadowPolicy(w http.ResponseWriter, r *http.Request) error {
	return h.policyChange(w, r, func(ctx context.Context, tenant, name string, body digestRequest, o engine.PolicyChangeOptions) (*engine.StoredPolicy, error) {
		return h.policies.SetShadow(ctx, tenant, name, body.Digest, o)
	})
}

func (h *handler) promotePolicy(w http.ResponseWriter, r *http.Request) error {
	tenant, name, o, err := h.policyRequest(r)
	if err != nil {
		return err
	}
	sp, err := h.policies.Promote(r.Context(), tenant, name, o)
	if err != nil {
		return err
	}
	setPolicyTag(w, sp)
	httpio.WriteJSON(w, http.StatusOK, viewStoredPolicy(sp))
	return nil
}

// policyChange runs a change whose body names a version.
func (h *handler) policyChange(w http.ResponseWriter, r *http.Request, fn func(context.Context, string, string, digestRequest, engine.PolicyChangeOptions) (*engine.StoredPolicy, error)) error {
	tenant, name, o, err := h.policyRequest(r)
	if err != nil {
		return err
	}
	var body digestRequest
	if err := decode(w, r, &body); err != nil {
		return err
	}
	sp, err := fn(r.Context(), tenant, name, body, o)
	if err != nil {
		return err
	}
	setPolicyTag(w, sp)
	httpio.WriteJSON(w, http.StatusOK, viewStoredPolicy(sp))
	return nil
}

// evaluateRequest is the body of a dry run.
type evaluateRequest struct {
	// Metadata is the client metadata to evaluate. Required.
	Metadata map[string]json.RawMessage `json:"metadata"`
	// Digest names a kept version; WASM (base64) is a module not stored;
	// neither: the version serving the tenant.
	Digest string `json:"digest"`
	WASM   string `json:"wasm_base64"`
	// Phase is "register" (default) or "update".
	Phase engine.Phase `json:"phase"`
	// Token describes the token the registration would present. Default:
	// kind "none".
	Token *engine.TokenFacts `json:"token"`
	// Config replaces the tenant's policy_config entry for the module.
	Config json.RawMessage `json:"config"`
}

// evaluatePolicy runs a policy on given metadata and answers its decision
// and the metadata diff, storing nothing.
func (h *handler) evaluatePolicy(w http.ResponseWriter, r *http.Request) error {
	tenant, name, err := h.needPolicy(r)
	if err != nil {
		return err
	}
	var req evaluateRequest
	if err := decodeUpTo(w, r, engine.MaxPolicyBytes*4/3+maxBodyBytes, &req); err != nil {
		return err
	}
	wasm, err := req.check()
	if err != nil {
		return err
	}
	tok, err := req.token(name)
	if err != nil {
		return err
	}
	if req.Config == nil {
		if s, err := h.reg.Settings(tenant); err == nil {
			req.Config = s.PolicyConfig[name]
		}
	}
	in := &engine.PolicyInput{
		Phase: req.Phase, Tenant: tenant, Metadata: req.Metadata, Token: tok,
		Request: engine.RequestFacts{RemoteIP: httpio.ClientIP(r, h.trusted)}, Policies: []string{name}, Config: req.Config,
	}
	ev, err := h.policies.Evaluate(r.Context(), tenant, name, req.Digest, wasm, in)
	if err != nil {
		return err
	}
	if ev.Diff == nil {
		ev.Diff = []engine.MemberChange{}
	}
	httpio.WriteJSON(w, http.StatusOK, ev)
	return nil
}

// check validates an evaluate request, fills in its default phase and
// returns the module bytes it carries, if any.
func (req *evaluateRequest) check() ([]byte, error) {
	if req.Metadata == nil {
		return nil, engine.Errorf(engine.CodeInvalidRequest, "metadata is required: the client metadata to evaluate")
	}
	wasm, err := req.module()
	if err != nil {
		return nil, err
	}
	if req.Phase == "" {
		req.Phase = engine.PhaseRegister
	}
	if req.Phase != engine.PhaseRegister && req.Phase != engine.PhaseUpdate {
		return nil, engine.Errorf(engine.CodeInvalidRequest, "phase must be register or update")
	}
	return wasm, nil
}

// module decodes the module bytes the request carries, if any.
func (req *evaluateRequest) module() ([]byte, error) {
	if req.WASM == "" {
		return nil, nil
	}
	if req.Digest != "" {
		return nil, engine.Errorf(engine.CodeInvalidRequest, "give digest or wasm_base64, not both")
	}
	b, err := base64.StdEncoding.DecodeString(req.WASM)
	if err != nil {
		return nil, engine.Errorf(engine.CodeInvalidRequest, "wasm_base64 is not base64: %v", err)
	}
	if len(b) > engine.MaxPolicyBytes {
		return nil, engine.Errorf(httpio.CodeRequestTooLarge, "a policy module is at most %d bytes", engine.MaxPolicyBytes)
	}
	return b, nil
}

// token is the token the evaluated policy sees: the request's, or open
// registration; its policies default to the evaluated one.
func (req *evaluateRequest) token(name string) (engine.TokenFacts, error) {
	if req.Token == nil {
		return engine.TokenFacts{Kind: "none", Policies: []string{name}}, nil
	}
	tok := *req.Token
	switch tok.Kind {
	case "none", "static", "initial_access_token", "registration_access_token":
	default:
		return tok, engine.Errorf(engine.CodeInvalidRequest, "token.kind must be none, static, initial_access_token or registration_access_token")
	}
	if tok.Policies == nil {
		tok.Policies = []string{name}
	}
	return tok, nil
}

// replicaView is a replica's status with its times in the admin API's
// format, as storedPolicyView is built.
type replicaView struct {
	UpdatedAt timestamp          `json:"updated_at"`
	Policies  []policyStatusView `json:"policies"`
	*engine.ReplicaStatus
}

// policyStatusView is one module's state in replicaView.
type policyStatusView struct {
	ActivatedAt timestamp `json:"activated_at,omitzero"`
	LastErrorAt timestamp `json:"last_error_at,omitzero"`
	engine.PolicyStatus
}

// policyStatus reports every replica's policy modules and, with
// Config.Shards, this replica's view of the store's servers. When the
// store cannot list the replicas and Config.Shards is set, the answer
// still carries the servers (that is when they matter), with
// replicas_error instead of the replicas.
func (h *handler) policyStatus(w http.ResponseWriter, r *http.Request) error {
	out := struct {
		Replicas      []replicaView `json:"replicas"`
		ReplicasError string        `json:"replicas_error,omitempty"`
		Store         *storeView    `json:"store,omitempty"`
	}{Replicas: []replicaView{}}
	if h.shards != nil {
		out.Store = newStoreView(h.shards())
	}
	if h.policies != nil {
		rs, err := h.policies.Statuses(r.Context())
		switch {
		case err != nil && out.Store != nil && errors.Is(err, engine.ErrUnavailable):
			h.log.WarnContext(r.Context(), "replica statuses not read", "err", err)
			out.ReplicasError = "the store did not answer for the replicas' status; see store.shards"
			rs = nil
		case err != nil:
			return err
		}
		for _, s := range rs {
			v := replicaView{UpdatedAt: timestamp(s.UpdatedAt), Policies: make([]policyStatusView, 0, len(s.Policies)), ReplicaStatus: s}
			for _, p := range s.Policies {
				v.Policies = append(v.Policies, policyStatusView{ActivatedAt: timestamp(p.ActivatedAt), LastErrorAt: timestamp(p.LastErrorAt), PolicyStatus: p})
			}
			out.Replicas = append(out.Replicas, v)
		}
	}
	httpio.WriteJSON(w, http.StatusOK, out)
	return nil
}
