package engine

import (
	"context"
	"encoding/json"
)

// Modules runs the hooks of policy modules: the seam where the plugins
// package plugs sandboxed WebAssembly into the pipeline. A tenant sees only
// the modules meant for it.
//
// A request runs its hooks on a Snapshot, so that every hook of one request
// runs one version of each module however often a new version goes live
// meanwhile.
type Modules interface {
	// Has reports whether the tenant can use a module of that name that
	// implements the hook now (to check a token or settings that name it).
	Has(tenant, name string, hook Hook) bool
	// Snapshot returns the tenant's modules as they are now. The versions
	// it holds stay loaded until Release, even if newer ones replace them.
	Snapshot(tenant string) ModuleSet
}

// ModuleSet is one tenant's modules at one moment: a name names the same
// version for the life of the set. Every method addresses a module by
// name. It is safe for concurrent use until Release.
//
// A hook that rejects a request returns an *Error whose Code is one of the
// RFC 7591 codes (invalid_client_metadata, invalid_redirect_uri,
// invalid_software_statement, unapproved_software_statement) or
// invalid_request; an issue_access_token hook rejects with one of the
// RFC 6749 codes invalid_scope, unauthorized_client or access_denied. Any
// other error is a failure of the module: the request
// fails with server_error naming the module, and the cause is logged.
type ModuleSet interface {
	// Has reports whether the set has a module of that name that
	// implements the hook.
	Has(name string, hook Hook) bool
	// Version returns the digest (hex SHA-256) of the set's version of a
	// module, or "" if it has none of that name.
	Version(name string) string
	// Policy runs a module's policy hook. When the module rejects the
	// request, Policy returns the rejection and also an output whose only
	// field set is Version.
	Policy(ctx context.Context, name string, in *PolicyInput) (*PolicyOutput, error)
	// ClientID runs a module's id_factory hook.
	ClientID(ctx context.Context, name string, in *FactoryInput) (string, error)
	// ClientSecret runs a module's secret_factory hook.
	ClientSecret(ctx context.Context, name string, in *FactoryInput) (string, error)
	// Decide runs a module's decision hook.
	Decide(ctx context.Context, name string, hook Hook, in *DecisionInput) (bool, error)
	// IssueAccessToken runs a module's issue_access_token hook. Its output
	// is checked against in: its scope is a subset of in.Scope, its
	// lifetime at most in.Lifetime, and no claim name is reserved.
	IssueAccessToken(ctx context.Context, name string, in *AccessTokenInput) (*AccessTokenOutput, error)
	// Release lets the versions go: those that newer ones replaced are
	// closed once no set holds them. The set must not be used after.
	Release()
}

// Hook names a hook of the module ABI.
type Hook string

// The hooks of the module ABI (sdk/ABI.md).
const (
	HookPolicy        Hook = "policy"
	HookIDFactory     Hook = "id_factory"
	HookSecretFactory Hook = "secret_factory"
	HookIssueRAT      Hook = "issue_registration_access_token"
	HookRotateRAT     Hook = "rotate_registration_access_token"
	// HookIssueAccessToken decides at the token endpoint (AccessTokenInput).
	HookIssueAccessToken Hook = "issue_access_token"
)

// Phase says which request a hook runs for.
type Phase string

// The phases.
const (
	PhaseRegister Phase = "register"
	PhaseUpdate   Phase = "update"
)

// TokenFacts describes the token that authorised a request, as hooks see it.
type TokenFacts struct {
	// Kind is "initial_access_token", "static", "registration_access_token",
	// "access_token" (an RFC 7592 update authorised by the client's access
	// token; see Settings.RegistrationManagementAuth) or "none" (open
	// registration).
	Kind string `json:"kind"`
	// ID is the token's ID (its digest) for stored tokens, else empty.
	ID string `json:"id,omitempty"`
	// Policies are the policies the token names.
	Policies []string `json:"policies"`
	// ClientID is the client_id the token reserves, if any.
	ClientID string `json:"client_id,omitempty"`
}

// RequestFacts describes the HTTP request, as hooks see it.
type RequestFacts struct {
	// RemoteIP is the client's IP address as the server saw it.
	RemoteIP string `json:"remote_ip,omitempty"`
}

// PolicyInput is what a policy hook receives.
type PolicyInput struct {
	Phase  Phase  `json:"phase"`
	Tenant string `json:"tenant"`
	// ClientID is set on update.
	ClientID string `json:"client_id,omitempty"`
	// Metadata is the metadata about to be validated: the request's members
	// with the tenant's client_defaults applied and earlier policies' changes.
	Metadata map[string]json.RawMessage `json:"metadata"`
	// Current is the stored metadata, on update.
	Current  *Metadata    `json:"current,omitempty"`
	Token    TokenFacts   `json:"token"`
	Request  RequestFacts `json:"request"`
	Policies []string     `json:"policies"`
	// SoftwareStatement is the request's verified software statement; nil
	// when it had none or the tenant does not verify statements.
	SoftwareStatement *StatementFacts `json:"software_statement,omitempty"`
	// Config is the module's entry in the tenant's policy_config.
	Config json.RawMessage `json:"config,omitempty"`
}

// PolicyOutput is what a policy hook returns when it accepts a request.
type PolicyOutput struct {
	// Metadata replaces the input metadata. It must not contain
	// server-managed members (client_id, client_secret, ...).
	Metadata map[string]json.RawMessage
	// RegistrationPolicies, when non-nil, replaces the policy list that the
	// registration access token carries.
	RegistrationPolicies []string
	// Version is the digest (hex SHA-256) of the module version that ran,
	// as ModuleSet.Version names it.
	Version string
}

// FactoryInput is what id_factory and secret_factory hooks receive.
type FactoryInput struct {
	Tenant   string       `json:"tenant"`
	Metadata Metadata     `json:"metadata"`
	Token    TokenFacts   `json:"token"`
	Request  RequestFacts `json:"request"`
	// Config is the module's entry in the tenant's policy_config.
	Config json.RawMessage `json:"config,omitempty"`
}

// DecisionInput is what the registration access token decision hooks receive.
type DecisionInput struct {
	Phase    Phase        `json:"phase"`
	Tenant   string       `json:"tenant"`
	ClientID string       `json:"client_id"`
	Metadata Metadata     `json:"metadata"`
	Token    TokenFacts   `json:"token"`
	Request  RequestFacts `json:"request"`
	// Config is the module's entry in the tenant's policy_config.
	Config json.RawMessage `json:"config,omitempty"`
}

// ModuleInfo describes a loaded policy module, as the admin API shows it.
type ModuleInfo struct {
	// Name is the module's name; Tenant is "" for a module every tenant
	// sees, else the one tenant that sees it.
	Name   string `json:"name"`
	Tenant string `json:"tenant,omitempty"`
	// Digest is the module's version: the hex SHA-256 of its bytes.
	Digest     string `json:"digest"`
	Size       int    `json:"size"`
	ABIVersion uint32 `json:"abi_version"`
	Hooks      []Hook `json:"hooks"`
	// Imports lists the module's imports as "module.name".
	Imports []string `json:"imports"`
	// Reactor reports whether the module exports _initialize.
	Reactor bool `json:"reactor"`
	// MemoryPages is the linear memory of a fresh instance.
	MemoryPages uint32 `json:"memory_pages"`
}
