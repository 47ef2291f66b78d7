package engine

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"
)

// DefaultTenant is the tenant that always exists and is also served at the
// root of the issuer.
const DefaultTenant = "default"

// Config configures a Registrar. The zero value of each optional field means
// the default given in its comment.
type Config struct {
	// Store keeps clients and tokens. Required.
	Store Store
	// Keys checks clients' jwks members. Required.
	Keys KeySetChecker
	// Hosts normalises the hosts of clients' URI members (the idn package
	// implements IDNA). Default nil: hosts that would need IDNA are
	// refused.
	Hosts HostNormalizer
	// AuditLog keeps the audit events. Default nil: events are only logged.
	AuditLog AuditLog
	// Limiter keeps rate-limit budgets. Default nil: rate limits are not
	// enforced (a tenant that sets one is refused by New).
	Limiter Limiter
	// TenantDeleted, when set, is told after DeleteTenant has deleted a
	// tenant, so that what outlives it elsewhere (loaded policy modules,
	// metric series) can go at once. Default: none.
	TenantDeleted func(ctx context.Context, tenant string)
	// Modules runs policy modules. Default nil: no modules exist, so a
	// setting or token that names one fails.
	Modules Modules
	// Secrets seals the client secrets of tenants whose
	// client_secret_storage is encrypted (a *seal.Keys). Default nil: such
	// tenants are refused.
	Secrets SecretSealer
	// Statements verifies software statements. Default nil: statements
	// are kept unverified, and a tenant that sets software_statement is
	// refused.
	Statements StatementVerifier
	// Replay remembers the jti of software statements for every replica
	// (an oauth.Store). Default nil: a verified statement with a jti fails
	// with server_error.
	Replay ReplayCache
	// ObserveStatement, when set, is told the outcome of every software
	// statement check (for metrics). Default: none.
	ObserveStatement func(StatementOutcome)
	// URIs fetches and checks clients' sector_identifier_uri and, for
	// tenants that set check_jwks_uri, jwks_uri. Default nil:
	// sector_identifier_uri is checked for its form only, and a tenant
	// that sets check_jwks_uri is refused.
	URIs URIChecker
	// ObserveURICheck, when set, is told the outcome of every check of a
	// client's URI member (for metrics). Default: none.
	ObserveURICheck func(URICheck)
	// Tenants maps tenant names to their settings. The default tenant is
	// added with zero Settings when absent.
	Tenants map[string]Settings
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Rand is the source of client IDs, secrets and tokens; it must be safe
	// for concurrent use. Default crypto/rand.Reader.
	Rand io.Reader
	// Logger receives decisions worth an operator's attention. Default
	// slog.Default().
	Logger *slog.Logger
}

// Registrar runs registration and management for every tenant. It is safe
// for concurrent use.
type Registrar struct {
	store    Store
	auditLog AuditLog
	// storeAudits: the store appends the audit events of the writes it
	// is given them with (storeAudits).
	storeAudits bool
	// storeMarks: the store spends the jtis of a registration in its
	// create (storeMarks).
	storeMarks bool
	limiter    Limiter
	keys       KeySetChecker
	hosts      HostNormalizer
	modules    Modules
	secrets    SecretSealer
	// statements, replay and observe serve software statements.
	statements StatementVerifier
	replay     ReplayCache
	observe    func(StatementOutcome)
	// uris and observeURIs check clients' URI members (clienturis.go).
	uris        URIChecker
	observeURIs func(URICheck)
	// config holds the configuration file's tenants and the built-in
	// default; stored holds the store's tenants as the last Refresh saw
	// them. A configured tenant hides a stored one of the same name; a
	// stored default hides the built-in one.
	config map[string]*tenant
	stored tenantMap
	// refreshMu serialises the changes of stored; hidden, latest and
	// readAllAt are under it (tenantrefresh.go).
	refreshMu     sync.Mutex
	hidden        map[string]bool // stored tenants hidden by configured ones, warned about
	latest        int64           // the store's change number Refresh has read up to
	readAllAt     time.Time       // when Refresh last read every tenant; zero: never
	tenantDeleted func(context.Context, string)
	now           func() time.Time
	rand          io.Reader
	log           *slog.Logger
}

// New checks cfg and returns a Registrar.
func New(cfg Config) (*Registrar, error) {
	if cfg.Store == nil {
		return nil, errors.New("engine: Config.Store is required")
	}
	if cfg.Keys == nil {
		return nil, errors.New("engine: Config.Keys is required")
	}
	r := &Registrar{
		store: cfg.Store, keys: cfg.Keys, hosts: cfg.Hosts, modules: cfg.Modules,
		config: map[string]*tenant{}, hidden: map[string]bool{}, tenantDeleted: cfg.TenantDeleted,
		auditLog: cfg.AuditLog, limiter: cfg.Limiter, secrets: cfg.Secrets,
		statements: cfg.Statements, replay: cfg.Replay, observe: cfg.ObserveStatement,
		uris: cfg.URIs, observeURIs: cfg.ObserveURICheck,
		now: cfg.Now, rand: cfg.Rand, log: cfg.Logger,
	}
	r.storeAudits = storeAudits(cfg.Store, cfg.AuditLog)
	r.storeMarks = storeMarks(cfg.Store, cfg.Replay)
	if r.now == nil {
		r.now = time.Now
	}
	if r.rand == nil {
		r.rand = rand.Reader
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	settings := maps.Clone(cfg.Tenants)
	if settings == nil {
		settings = map[string]Settings{}
	}
	for name, s := range settings {
		t, err := compileTenant(name, s, r.keys, r.hosts)
		if err != nil {
			return nil, fmt.Errorf("engine: %w", err)
		}
		if err := r.checkServices(t); err != nil {
			return nil, fmt.Errorf("engine: tenant %q: %w", name, err)
		}
		t.source = SourceConfig
		r.config[name] = t
	}
	if _, ok := r.config[DefaultTenant]; !ok {
		t, err := compileTenant(DefaultTenant, Settings{}, r.keys, r.hosts)
		if err != nil {
			return nil, fmt.Errorf("engine: %w", err)
		}
		t.source = SourceBuiltin
		r.config[DefaultTenant] = t
	}
	return r, nil
}

// TenantNames returns the names of all tenants being served, sorted.
func (r *Registrar) TenantNames() []string {
	names := slices.Collect(maps.Keys(r.config))
	r.stored.Range(func(name string, _ *tenant) bool {
		if _, ok := r.config[name]; !ok {
			names = append(names, name)
		}
		return true
	})
	slices.Sort(names)
	return names
}

// HasTenant reports whether a tenant of that name is being served.
func (r *Registrar) HasTenant(name string) bool {
	_, err := r.tenant(name)
	return err == nil
}

// errNoTenant answers a request for a tenant that does not exist.
func errNoTenant(name string) *Error {
	return Errorf(CodeNotFound, "no tenant named %q", truncate(name, 64))
}

func (r *Registrar) tenant(name string) (*tenant, error) {
	if t, ok := r.config[name]; ok && t.source == SourceConfig {
		return t, nil
	}
	if t, ok := r.stored.Load(name); ok {
		return t, nil
	}
	if t, ok := r.config[name]; ok {
		return t, nil
	}
	return nil, errNoTenant(name)
}

// Settings returns a tenant's settings as configured.
func (r *Registrar) Settings(name string) (Settings, error) {
	t, err := r.tenant(name)
	if err != nil {
		return Settings{}, err
	}
	return t.settings, nil
}

// Capabilities is what a tenant supports, as discovery advertises it
// (OpenID Connect Discovery 1.0 §3, RFC 8414 §2).
type Capabilities struct {
	GrantTypesSupported               []string `json:"grant_types_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	TokenEndpointAuthSigningAlgs      []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	IDTokenSigningAlgs                []string `json:"id_token_signing_alg_values_supported"`
	UserinfoSigningAlgs               []string `json:"userinfo_signing_alg_values_supported"`
	RequestObjectSigningAlgs          []string `json:"request_object_signing_alg_values_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	ScopesSupported                   []string `json:"scopes_supported,omitempty"`
	ACRValuesSupported                []string `json:"acr_values_supported,omitempty"`
	// RegistrationRequestSigningAlgs are the algorithms a signed
	// registration request (Content-Type application/jose) may use; set
	// only when the tenant takes them (it trusts statement issuers). No
	// specification names such a member; docs/statements.md says why it
	// is there.
	RegistrationRequestSigningAlgs []string `json:"registration_request_signing_alg_values_supported,omitempty"`
	// Management reports whether RFC 7592 management is on.
	Management bool `json:"-"`
	// OpenRegistration reports whether registration needs no token.
	OpenRegistration bool `json:"-"`
}

// Capabilities returns what a tenant supports.
func (r *Registrar) Capabilities(name string) (Capabilities, error) {
	t, err := r.tenant(name)
	if err != nil {
		return Capabilities{}, err
	}
	return Capabilities{
		GrantTypesSupported:               slices.Clone(t.grantTypes),
		ResponseTypesSupported:            slices.Clone(t.responseTypes),
		TokenEndpointAuthMethodsSupported: slices.Clone(t.authMethods),
		TokenEndpointAuthSigningAlgs:      slices.Clone(t.authSigningAlgs),
		IDTokenSigningAlgs:                slices.Clone(t.signingAlgs),
		UserinfoSigningAlgs:               slices.Clone(t.signingAlgs),
		RequestObjectSigningAlgs:          slices.Clone(t.signingAlgs),
		SubjectTypesSupported:             slices.Clone(t.subjectTypes),
		ScopesSupported:                   slices.Clone(t.settings.ScopesSupported),
		ACRValuesSupported:                slices.Clone(t.settings.ACRValuesSupported),
		Management:                        t.managementOn(),
		OpenRegistration:                  t.settings.InitialAccessToken == TokenNone,
		RegistrationRequestSigningAlgs:    t.requestSigningAlgs(),
	}, nil
}

// SupportsAuthMethod reports whether a tenant's
// token_endpoint_auth_methods_supported has a method; the token endpoint
// asks on every request, so this copies nothing.
func (r *Registrar) SupportsAuthMethod(name, method string) (bool, error) {
	t, err := r.tenant(name)
	if err != nil {
		return false, err
	}
	return slices.Contains(t.authMethods, method), nil
}

// Ready reports whether the Registrar can serve requests: the store answers.
func (r *Registrar) Ready(ctx context.Context) error {
	return r.store.Ping(ctx)
}

// storeError turns a store failure into the error the client sees.
func storeError(op string, err error) error {
	if errors.Is(err, ErrUnavailable) {
		return &Error{Code: CodeTemporarilyUnavailable, Description: "the client store is temporarily unavailable, retry later", Err: fmt.Errorf("%s: %w", op, err)}
	}
	return serverError("internal server error", fmt.Errorf("%s: %w", op, err))
}
