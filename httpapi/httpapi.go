// Package httpapi serves Registrar's public API: RFC 7591 registration,
// RFC 7592 management, the token, introspection and revocation endpoints
// (served by the oauth package), discovery (OpenID Connect Discovery 1.0 and
// RFC 8414) and the health endpoints, for every tenant. It decodes requests,
// extracts bearer tokens, and maps engine errors to HTTP through the single
// writer in internal/httpio; the rules themselves live in engine.
package httpapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gorilla/mux"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/httpio"
	"github.com/registrar-dev/registrar/oauth"
)

// DefaultMaxBodyBytes is the default request body limit.
const DefaultMaxBodyBytes = 64 << 10

// Config configures the public API handler.
type Config struct {
	// Registrar runs registration and management. Required.
	Registrar *engine.Registrar
	// Tokens serves each tenant's token, introspection and revocation
	// endpoints. Default nil: those routes answer 404 and discovery does
	// not advertise them.
	Tokens *oauth.Server
	// Issuer is the public base URL, e.g. "https://id.example.com": the
	// default tenant's issuer; tenant t's is Issuer + "/tenants/" + t.
	// Required; no trailing slash, no query or fragment.
	Issuer string
	// MaxBodyBytes bounds request bodies; larger ones get 413.
	// Default DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// TrustedProxies are the reverse proxies whose X-Forwarded-For header
	// is believed when finding a client's IP address (for rate limits,
	// policy inputs and the audit log). Default none: the socket peer is
	// the client.
	TrustedProxies []netip.Prefix
	// ClientCertProxies are the TLS-terminating proxies whose client
	// certificate header (ClientCertHeader) is believed, for the mutual
	// TLS methods (RFC 8705): only the socket peer is checked. Default
	// none: client certificates come only from this server's own TLS
	// handshakes.
	ClientCertProxies []netip.Prefix
	// ClientCertHeader is the header those proxies put the client
	// certificate in (see parseCertHeader for the forms read). Default
	// DefaultClientCertHeader (RFC 9440).
	ClientCertHeader string
	// Middleware, when set, wraps every matched route's handler; the
	// route's template and variables are known when it runs (for metrics).
	Middleware mux.MiddlewareFunc
	// Metrics, when set, serves GET /metrics.
	Metrics http.Handler
	// PoliciesReady, when set, is part of GET /readyz: an error (naming a
	// policy module with no active version, or saying that the tenants
	// have not been loaded from the store yet) makes the replica not
	// ready.
	PoliciesReady func() error
	// Logger receives one line per request and the causes of failures.
	// Default slog.Default().
	Logger *slog.Logger
}

// handler holds what the routes need.
type handler struct {
	reg     *engine.Registrar
	tokens  *oauth.Server
	issuer  string
	maxBody int64
	trusted []netip.Prefix
	ready   func() error
	log     *slog.Logger

	// certProxies and certHeader: see Config (clientcert.go).
	certProxies []netip.Prefix
	certHeader  string
}

// New returns the public API as an http.Handler.
func New(cfg Config) (http.Handler, error) {
	if cfg.Registrar == nil {
		return nil, errors.New("httpapi: Config.Registrar is required")
	}
	issuer, err := httpio.CheckIssuer(cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("httpapi: %w", err)
	}
	h := &handler{reg: cfg.Registrar, tokens: cfg.Tokens, issuer: issuer, maxBody: cfg.MaxBodyBytes, trusted: cfg.TrustedProxies, ready: cfg.PoliciesReady, log: cfg.Logger}
	if h.certProxies, h.certHeader = cfg.ClientCertProxies, cfg.ClientCertHeader; h.certHeader == "" {
		h.certHeader = DefaultClientCertHeader
	}
	if !validHeaderName(h.certHeader) {
		return nil, fmt.Errorf("httpapi: Config.ClientCertHeader %q is not a header name", h.certHeader)
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	r := mux.NewRouter()
	handle := func(path string, fn httpio.HandlerFunc, methods ...string) {
		r.Handle(path, httpio.Handle(h.log, fn)).Methods(methods...)
	}
	handle("/healthz", h.healthz, http.MethodGet)
	handle("/readyz", h.readyz, http.MethodGet)
	if cfg.Metrics != nil {
		r.Handle("/metrics", cfg.Metrics).Methods(http.MethodGet)
	}
	// RFC 8414 §3.1: the well-known segment goes before the issuer's path.
	handle("/.well-known/oauth-authorization-server", h.discovery, http.MethodGet)
	handle("/.well-known/oauth-authorization-server/tenants/{tenant}", h.discovery, http.MethodGet)
	for _, prefix := range []string{"", "/tenants/{tenant}"} {
		handle(prefix+"/.well-known/openid-configuration", h.discovery, http.MethodGet)
		if prefix != "" {
			handle(prefix+"/.well-known/oauth-authorization-server", h.discovery, http.MethodGet)
		}
		handle(prefix+"/jwks", h.jwks, http.MethodGet)
		handle(prefix+"/reg", h.register, http.MethodPost)
		handle(prefix+"/reg/{client_id}", h.read, http.MethodGet)
		handle(prefix+"/reg/{client_id}", h.update, http.MethodPut)
		handle(prefix+"/reg/{client_id}", h.delete, http.MethodDelete)
		if cfg.Tokens != nil {
			handle(prefix+"/token", h.token, http.MethodPost)
			handle(prefix+"/introspect", h.introspect, http.MethodPost)
			handle(prefix+"/revoke", h.revoke, http.MethodPost)
		}
	}
	if cfg.Middleware != nil {
		r.Use(cfg.Middleware)
	}
	r.NotFoundHandler = httpio.Handle(h.log, notFound)
	r.MethodNotAllowedHandler = httpio.Handle(h.log, methodNotAllowed(r))
	// No redirects from path cleaning: a non-canonical path is a 404.
	r.SkipClean(true)
	return httpio.Logging(h.log, httpio.CanonicalPaths(r, r.NotFoundHandler)), nil
}

// notFound answers requests for routes that do not exist.
func notFound(w http.ResponseWriter, r *http.Request) error {
	return engine.Errorf(engine.CodeNotFound, "no route for %s", truncatePath(r.URL.Path))
}

// methodNotAllowed answers requests whose route exists for other methods,
// listing those in the Allow header (RFC 9110 §15.5.6).
func methodNotAllowed(router *mux.Router) httpio.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
			probe := r.Clone(r.Context())
			probe.Method = m
			var match mux.RouteMatch
			if router.Match(probe, &match) && match.MatchErr == nil {
				allow = append(allow, m)
			}
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		return engine.Errorf(httpio.CodeMethodNotAllowed, "%s is not allowed here; use %s", r.Method, strings.Join(allow, " or "))
	}
}

func truncatePath(p string) string {
	if len(p) > 128 {
		return p[:128] + "..."
	}
	return p
}

// tenant returns the tenant a request addresses and its issuer: the
// default tenant at the root, tenant t under /tenants/t.
func (h *handler) tenant(r *http.Request) (name, issuer string) {
	if t, ok := mux.Vars(r)["tenant"]; ok {
		return t, h.issuer + "/tenants/" + t
	}
	return engine.DefaultTenant, h.issuer
}

// clientIP is the IP address of the client (see Config.TrustedProxies).
func (h *handler) clientIP(r *http.Request) string { return httpio.ClientIP(r, h.trusted) }

func (h *handler) healthz(w http.ResponseWriter, r *http.Request) error {
	httpio.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (h *handler) readyz(w http.ResponseWriter, r *http.Request) error {
	// The public answer is generic: the reason (a module's path, its
	// self-test output, a Redis address) goes to the log, and operators
	// see it on the admin listener (GET /admin/policies/status).
	if err := h.reg.Ready(r.Context()); err != nil {
		return &engine.Error{Code: engine.CodeTemporarilyUnavailable, Description: "not ready: the store is not reachable", Err: err}
	}
	if h.ready != nil {
		if err := h.ready(); err != nil {
			return &engine.Error{Code: engine.CodeTemporarilyUnavailable, Description: "not ready: tenants or policy modules are loading, or a policy module failed to load", Err: err}
		}
	}
	httpio.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}
