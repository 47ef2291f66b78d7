// Package adminapi serves the operator's API on its own listener (docs/api.md):
// tenants, initial access tokens, clients with their provenance, policy
// modules, tenant admin tokens, signing keys and the audit log, described
// by an OpenAPI 3 document at /admin/openapi.json.
//
// Every route but the OpenAPI document needs a bearer token: the global
// admin token, which may do everything, or a tenant admin token, which may
// manage only its own tenant under /admin/tenants/{tenant}/ and may not
// change the tenant itself or mint admin tokens.
package adminapi

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gorilla/mux"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/httpio"
)

// maxBodyBytes bounds admin request bodies.
const maxBodyBytes = 256 << 10

// MinTokenLength is the shortest admin token accepted.
const MinTokenLength = 16

// Config configures the admin API handler.
type Config struct {
	// Registrar is the engine the API operates. Required.
	Registrar *engine.Registrar
	// Token is the global admin bearer token. Required, at least
	// MinTokenLength characters.
	Token string
	// Issuer is the public base URL, used to tell operators a tenant's
	// issuer and a client's registration_client_uri. Required.
	Issuer string
	// Policies lists and manages policy modules. Default nil: no modules
	// are listed, and uploads are refused.
	Policies Policies
	// SigningKeys lists and rotates the tenants' signing keys. Default nil:
	// the key routes answer conflict.
	SigningKeys SigningKeys
	// TrustedProxies are the reverse proxies whose X-Forwarded-For header
	// is believed for the audit log's client address. Default none.
	TrustedProxies []netip.Prefix
	// Shards, when set, reports the health of the store's servers (each
	// Redis Cluster primary) as this replica last checked them, in the
	// "store" member of GET /admin/policies/status. Default nil: that
	// member is absent.
	Shards func() []engine.ShardStatus
	// Middleware, when set, wraps every matched route's handler (metrics);
	// it runs inside the router, so mux.CurrentRoute sees the route.
	Middleware func(http.Handler) http.Handler
	// Logger receives one line per request. Default slog.Default().
	Logger *slog.Logger
}

type handler struct {
	reg         *engine.Registrar
	policies    Policies
	keys        SigningKeys
	shards      func() []engine.ShardStatus
	tokenDigest [sha256.Size]byte
	issuer      string
	trusted     []netip.Prefix
	log         *slog.Logger
}

// scope says who may use a route.
type scope int

const (
	// globalOnly routes need the global admin token.
	globalOnly scope = iota
	// tenantScoped routes also accept an admin token of their {tenant}.
	tenantScoped
)

// New returns the admin API as an http.Handler.
func New(cfg Config) (http.Handler, error) {
	if cfg.Registrar == nil {
		return nil, errors.New("adminapi: Config.Registrar is required")
	}
	if len(cfg.Token) < MinTokenLength || !engine.ValidBearerValue(cfg.Token) {
		return nil, errors.New("adminapi: the admin token must be at least 16 characters of A-Z a-z 0-9 - . _ ~ + /")
	}
	issuer, err := httpio.CheckIssuer(cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("adminapi: %w", err)
	}
	h := &handler{
		reg: cfg.Registrar, policies: cfg.Policies, keys: cfg.SigningKeys, shards: cfg.Shards, tokenDigest: sha256.Sum256([]byte(cfg.Token)),
		issuer: issuer, trusted: cfg.TrustedProxies, log: cfg.Logger,
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	r := mux.NewRouter()
	for _, rt := range h.routes() {
		fn := h.authenticated(rt.scope, rt.fn)
		if rt.public {
			fn = rt.fn
		}
		methods := []string{rt.method}
		if rt.public && rt.method == http.MethodGet {
			methods = append(methods, http.MethodHead)
		}
		r.Handle(rt.path, httpio.Handle(h.log, fn)).Methods(methods...)
	}
	if cfg.Middleware != nil {
		r.Use(mux.MiddlewareFunc(cfg.Middleware))
	}
	r.NotFoundHandler = httpio.Handle(h.log, h.authenticated(globalOrAny, func(w http.ResponseWriter, r *http.Request) error {
		return engine.Errorf(engine.CodeNotFound, "no admin route for %s", truncate(r.URL.Path, 128))
	}))
	r.MethodNotAllowedHandler = httpio.Handle(h.log, h.authenticated(globalOrAny, func(w http.ResponseWriter, r *http.Request) error {
		return engine.Errorf(httpio.CodeMethodNotAllowed, "%s is not allowed on %s", r.Method, truncate(r.URL.Path, 128))
	}))
	// No redirects from path cleaning: a non-canonical path is a 404 (for
	// an admin token; 401 without one, as every unknown route).
	r.SkipClean(true)
	return httpio.Logging(h.log, httpio.CanonicalPaths(r, r.NotFoundHandler)), nil
}

// globalOrAny is the scope of the 404 and 405 answers: any valid admin
// token, global or of the tenant in the path, may learn that a route does
// not exist.
const globalOrAny = tenantScoped

// route is one admin route.
type route struct {
	method, path string
	scope        scope
	fn           httpio.HandlerFunc
	// public routes need no token (the OpenAPI document).
	public bool
}

// routes lists every admin route; openapi_test.go checks the OpenAPI
// document against it.
func (h *handler) routes() []route {
	const t = "/admin/tenants/{tenant}"
	return []route{
		{method: http.MethodGet, path: "/admin/openapi.json", fn: serveOpenAPI, public: true},
		{http.MethodGet, "/admin/tenants", globalOnly, h.listTenants, false},
		{http.MethodGet, t, tenantScoped, h.getTenant, false},
		{http.MethodPut, t, globalOnly, h.putTenant, false},
		{http.MethodDelete, t, globalOnly, h.deleteTenant, false},
		{http.MethodPost, t + "/initial-access-tokens", tenantScoped, h.mintIAT, false},
		{http.MethodGet, t + "/initial-access-tokens", tenantScoped, h.listIATs, false},
		{http.MethodGet, t + "/initial-access-tokens/{id}", tenantScoped, h.getIAT, false},
		{http.MethodDelete, t + "/initial-access-tokens/{id}", tenantScoped, h.revokeIAT, false},
		{http.MethodGet, t + "/clients", tenantScoped, h.listClients, false},
		{http.MethodDelete, t + "/clients", tenantScoped, h.deleteClients, false},
		{http.MethodGet, t + "/clients/{client_id}", tenantScoped, h.getClient, false},
		{http.MethodDelete, t + "/clients/{client_id}", tenantScoped, h.deleteClient, false},
		{http.MethodPost, t + "/clients/{client_id}/registration-access-token", tenantScoped, h.mintRAT, false},
		{http.MethodGet, t + "/policies", tenantScoped, h.listPolicies, false},
		{http.MethodGet, t + "/policies/{name}", tenantScoped, h.getPolicy, false},
		{http.MethodPut, t + "/policies/{name}", tenantScoped, h.putPolicy, false},
		{http.MethodDelete, t + "/policies/{name}", tenantScoped, h.deletePolicy, false},
		{http.MethodPost, t + "/policies/{name}/activate", tenantScoped, h.activatePolicy, false},
		{http.MethodPost, t + "/policies/{name}/shadow", tenantScoped, h.shadowPolicy, false},
		{http.MethodPost, t + "/policies/{name}/promote", tenantScoped, h.promotePolicy, false},
		{http.MethodPost, t + "/policies/{name}/evaluate", tenantScoped, h.evaluatePolicy, false},
		{http.MethodGet, "/admin/policies/status", globalOnly, h.policyStatus, false},
		{http.MethodPost, t + "/admin-tokens", globalOnly, h.mintAdminToken, false},
		{http.MethodGet, t + "/admin-tokens", globalOnly, h.listAdminTokens, false},
		{http.MethodDelete, t + "/admin-tokens/{id}", globalOnly, h.revokeAdminToken, false},
		{http.MethodGet, t + "/keys", tenantScoped, h.listKeys, false},
		{http.MethodPost, t + "/keys/rotate", tenantScoped, h.rotateKeys, false},
		{http.MethodGet, t + "/audit", tenantScoped, h.tenantAudit, false},
		{http.MethodGet, "/admin/audit", globalOnly, h.processAudit, false},
	}
}

// authenticated checks the bearer token before fn runs; even a 404 is
// answered only to an operator. The global token is compared in constant
// time; a tenant admin token is looked up by its digest in the tenant the
// path names, so a token of one tenant is invalid_token at every other.
func (h *handler) authenticated(s scope, fn httpio.HandlerFunc) httpio.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		httpio.NoStore(w)
		token, err := httpio.Bearer(r)
		if err != nil {
			return err
		}
		if token == "" {
			return engine.Errorf(engine.CodeInvalidToken, "the admin API needs an admin token as a bearer token")
		}
		ctx := httpio.AuditContext(r, httpio.ClientIP(r, h.trusted))
		got := sha256.Sum256([]byte(token))
		if subtle.ConstantTimeCompare(got[:], h.tokenDigest[:]) == 1 {
			return fn(w, r.WithContext(engine.WithActor(ctx, "admin")))
		}
		tenant, ok := mux.Vars(r)["tenant"]
		if !ok {
			// Unmatched routes have no vars: take the tenant from the path,
			// so that a tenant admin learns that its route does not exist.
			tenant, ok = pathTenant(r.URL.Path)
		}
		if !ok {
			return engine.Errorf(engine.CodeInvalidToken, "invalid admin token")
		}
		at, err := h.reg.AuthenticateAdmin(ctx, tenant, token)
		if err != nil {
			if e := engine.AsError(err); e.Code == engine.CodeInvalidToken {
				return engine.Errorf(engine.CodeInvalidToken, "invalid admin token")
			}
			return err
		}
		if s == globalOnly {
			return engine.Errorf(engine.CodeAccessDenied, "a tenant admin token cannot %s %s; that needs the global admin token", r.Method, truncate(r.URL.Path, 128))
		}
		return fn(w, r.WithContext(engine.WithActor(ctx, "tenant-admin:"+at.ID)))
	}
}

// pathTenant returns the tenant of a path under /admin/tenants/{tenant}/.
func pathTenant(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/admin/tenants/")
	if !ok {
		return "", false
	}
	tenant, _, _ := strings.Cut(rest, "/")
	return tenant, engine.ValidTenantName(tenant)
}

// decode reads a JSON request body into v, refusing unknown members and
// duplicate ones.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeUpTo(w, r, maxBodyBytes, v)
}

// decodeUpTo is decode with a body limit of its own.
func decodeUpTo(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	body, err := httpio.ReadJSON(w, r, limit)
	if err != nil {
		return err
	}
	if _, err := engine.DecodeObject(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return engine.Errorf(engine.CodeInvalidRequest, "invalid request body: %v", err)
	}
	return nil
}

// truncate shortens s to at most n bytes, never inside a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "..."
}

func (h *handler) tenantIssuer(name string) string { return httpio.TenantIssuer(h.issuer, name) }
