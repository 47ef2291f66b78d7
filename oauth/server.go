package oauth

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/seal"
	"github.com/registrar-dev/registrar/jose"
)

// Config configures a Server. The zero value of each optional field means
// the default given in its comment.
type Config struct {
	// Registrar knows the tenants and their settings. Required.
	Registrar *engine.Registrar
	// Clients is the store of registered clients (the Registrar's).
	// Required.
	Clients engine.Store
	// Store keeps token records and marks. Required.
	Store Store
	// Modules runs the issue_access_token hooks of policy modules (the
	// Registrar's modules). Default nil: no hook runs, and a tenant whose
	// issue_access_token names a module is answered server_error.
	Modules engine.Modules
	// Limiter keeps the budgets of token_rate_limit and client_lockout,
	// shared by every replica. Default nil: neither is enforced.
	Limiter engine.Limiter
	// ClientCAs are the certificate authorities that tls_client_auth
	// certificates must chain to (RFC 8705 §2.1). Default nil:
	// tls_client_auth is neither verified nor advertised.
	ClientCAs *x509.CertPool
	// CertificateKeys matches self-signed client certificates with the
	// clients' registered keys (RFC 8705 §2.2); a jose.CertificateKeys.
	// Default nil: self_signed_tls_client_auth is neither verified nor
	// advertised.
	CertificateKeys CertificateKeys
	// AuditLog keeps the audit events of failed authentications and
	// revocations. Default nil: events are only logged.
	AuditLog engine.AuditLog
	// KeyEncryption seals the private parts of the tenants' signing keys
	// (internal/seal), and opens the sealed secrets of client_secret_jwt
	// clients. Default nil: JWT access tokens cannot be issued (the token
	// endpoint says so with server_error), and client_secret_jwt is
	// neither verified nor advertised.
	KeyEncryption *seal.Keys
	// KeyCacheTTL is how long a replica uses a tenant's key ring before it
	// reads it again: a rotation is seen everywhere within it. Default
	// DefaultKeyCacheTTL.
	KeyCacheTTL time.Duration
	// KeyPublicationLead is how long a next key is published before a
	// rotation may make it sign; at least KeyCacheTTL + JWKSMaxAge.
	// Default DefaultKeyPublicationLead.
	KeyPublicationLead time.Duration
	// Observe, when set, is told the outcome of every request to the
	// three endpoints, for metrics. It must be quick and safe for
	// concurrent use. Default: none.
	Observe func(Outcome)
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Rand is the source of tokens and token IDs; it must be safe for
	// concurrent use. Default crypto/rand.Reader.
	Rand io.Reader
	// Logger receives what an operator should know. Default
	// slog.Default().
	Logger *slog.Logger

	// Assertions verifies the client assertions of private_key_jwt.
	// Default nil: private_key_jwt is neither verified nor advertised.
	Assertions *jose.Assertions
}

// Server is the authorization server of every tenant the Registrar
// serves. It is safe for concurrent use.
type Server struct {
	reg     *engine.Registrar
	clients engine.Store
	store   Store
	// clientMarks, when the store is also the clients' store, reads a
	// client with its lockout mark in one step.
	clientMarks ClientMarkReader
	// clientTokens, when the clients' store can also write a token on
	// the condition that a client is unchanged, lets the token endpoint
	// remember clients in clientCache.
	clientTokens ClientTokenWriter
	clientCache  clientCache
	auditLog     engine.AuditLog
	limiter      engine.Limiter
	modules      engine.Modules
	observe      func(Outcome)
	now          func() time.Time
	rand         io.Reader
	log          *slog.Logger
	// The tenants' signing keys.
	kek         *seal.Keys
	rings       rings
	keyCacheTTL time.Duration
	keyLead     time.Duration

	// assertions is Config.Assertions.
	assertions *jose.Assertions
	// clientCAs and certKeys verify the TLS methods (mtls.go).
	clientCAs *x509.CertPool
	certKeys  CertificateKeys
}

// New checks cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Registrar == nil:
		return nil, errors.New("oauth: Config.Registrar is required")
	case cfg.Clients == nil:
		return nil, errors.New("oauth: Config.Clients is required")
	case cfg.Store == nil:
		return nil, errors.New("oauth: Config.Store is required")
	}
	s := &Server{
		reg: cfg.Registrar, clients: cfg.Clients, store: cfg.Store, auditLog: cfg.AuditLog, limiter: cfg.Limiter, modules: cfg.Modules, observe: cfg.Observe,
		now: cfg.Now, rand: cfg.Rand, log: cfg.Logger,
		kek: cfg.KeyEncryption, keyCacheTTL: cmp.Or(cfg.KeyCacheTTL, DefaultKeyCacheTTL), keyLead: cmp.Or(cfg.KeyPublicationLead, DefaultKeyPublicationLead),
	}
	if s.keyCacheTTL < 0 || s.keyLead < s.keyCacheTTL+JWKSMaxAge {
		return nil, fmt.Errorf("oauth: KeyPublicationLead %s must be at least KeyCacheTTL %s + JWKSMaxAge %s, so that resource servers have a key before it signs", s.keyLead, s.keyCacheTTL, JWKSMaxAge)
	}
	if cm, ok := cfg.Store.(ClientMarkReader); ok && engine.SameBackend(cfg.Clients, cfg.Store) {
		s.clientMarks = cm
		s.clientTokens, _ = cm.(ClientTokenWriter)
	}
	s.assertions = cfg.Assertions
	s.clientCAs, s.certKeys = cfg.ClientCAs, cfg.CertificateKeys
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s, nil
}

// Endpoints are the URLs of a tenant's endpoints, which only the HTTP
// layer knows: client assertions name them as their audience.
type Endpoints struct {
	// Issuer is the tenant's issuer identifier.
	Issuer string
	// Endpoint is the URL of the endpoint the request came to.
	Endpoint string
}

// RequestFacts describe the HTTP request, for hooks and the audit log.
type RequestFacts struct {
	// RemoteIP is the client's IP address as the server saw it.
	RemoteIP string
}

// The endpoints, as Outcome names them.
const (
	EndpointToken      = "token"
	EndpointIntrospect = "introspect"
	EndpointRevoke     = "revoke"
)

// Outcome is how one request to an endpoint ended, for metrics.
type Outcome struct {
	Tenant   string
	Endpoint string
	// Code is the error the request was answered with; "" for success.
	Code engine.ErrorCode
	// Format is the access token format issued, for a successful token
	// request; "" otherwise.
	Format engine.AccessTokenFormat
}

// observed reports a request's outcome to Config.Observe.
func (s *Server) observed(tenant, endpoint string, format engine.AccessTokenFormat, err error) {
	if s.observe == nil {
		return
	}
	o := Outcome{Tenant: tenant, Endpoint: endpoint, Format: format}
	if err != nil {
		o.Code, o.Format = engine.AsError(err).Code, ""
	}
	s.observe(o)
}

// storeError turns a store failure into the error the client sees: a
// store that cannot be reached is temporarily_unavailable (retry), any
// other failure a server_error.
func storeError(op string, err error) error {
	if errors.Is(err, engine.ErrUnavailable) {
		return &engine.Error{Code: engine.CodeTemporarilyUnavailable, Description: "the token store is temporarily unavailable, retry later", Err: fmt.Errorf("%s: %w", op, err)}
	}
	return &engine.Error{Code: engine.CodeServerError, Description: "internal server error", Err: fmt.Errorf("%s: %w", op, err)}
}

// audit records an event; a failure to record it is logged, never the
// request's failure.
func (s *Server) audit(ctx context.Context, e engine.AuditEvent) {
	e.Time = s.now().UTC()
	s.log.InfoContext(ctx, "audit", "type", e.Type, "tenant", e.Tenant, "actor", e.Actor, "client_id", e.ClientID, "token_id", e.TokenID, "error", e.Error, "detail", e.Detail)
	if s.auditLog == nil {
		return
	}
	if _, err := s.auditLog.AppendAudit(ctx, &e); err != nil {
		s.log.WarnContext(ctx, "cannot append to the audit log", "tenant", e.Tenant, "type", e.Type, "err", err)
	}
}
