// Package adminapi serves the operator's API on its own listener (SPEC §5):
// minting initial access tokens, and viewing, deleting and re-keying
// registered clients. Every route needs the admin bearer token.
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
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/httpio"
)

// maxBodyBytes bounds admin request bodies.
const maxBodyBytes = 64 << 10

// MinTokenLength is the shortest admin token accepted.
const MinTokenLength = 16

// Config configures the admin API handler.
type Config struct {
	// Registrar is the engine the API operates. Required.
	Registrar *engine.Registrar
	// Token is the admin bearer token. Required, at least MinTokenLength
	// characters.
	Token string
	// Issuer is the public base URL, used to tell operators a client's
	// registration_client_uri. Required.
	Issuer string
	// Logger receives one line per request. Default slog.Default().
	Logger *slog.Logger
}

type handler struct {
	reg         *engine.Registrar
	tokenDigest [sha256.Size]byte
	issuer      string
	log         *slog.Logger
}

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
	h := &handler{reg: cfg.Registrar, tokenDigest: sha256.Sum256([]byte(cfg.Token)), issuer: issuer, log: cfg.Logger}
	if h.log == nil {
		h.log = slog.Default()
	}
	r := mux.NewRouter()
	handle := func(path string, fn httpio.HandlerFunc, methods ...string) {
		r.Handle(path, httpio.Handle(h.log, h.authenticated(fn))).Methods(methods...)
	}
	handle("/admin/tenants", h.listTenants, http.MethodGet)
	handle("/admin/tenants/{tenant}", h.getTenant, http.MethodGet)
	handle("/admin/tenants/{tenant}/initial-access-tokens", h.mintIAT, http.MethodPost)
	handle("/admin/tenants/{tenant}/initial-access-tokens/{id}", h.getIAT, http.MethodGet)
	handle("/admin/tenants/{tenant}/initial-access-tokens/{id}", h.revokeIAT, http.MethodDelete)
	handle("/admin/tenants/{tenant}/clients", h.listClients, http.MethodGet)
	handle("/admin/tenants/{tenant}/clients/{client_id}", h.getClient, http.MethodGet)
	handle("/admin/tenants/{tenant}/clients/{client_id}", h.deleteClient, http.MethodDelete)
	handle("/admin/tenants/{tenant}/clients/{client_id}/registration-access-token", h.mintRAT, http.MethodPost)
	r.NotFoundHandler = httpio.Handle(h.log, h.authenticated(func(w http.ResponseWriter, r *http.Request) error {
		return engine.Errorf(engine.CodeNotFound, "no admin route for %s", r.URL.Path)
	}))
	r.MethodNotAllowedHandler = httpio.Handle(h.log, h.authenticated(func(w http.ResponseWriter, r *http.Request) error {
		return engine.Errorf(httpio.CodeMethodNotAllowed, "%s is not allowed on %s", r.Method, r.URL.Path)
	}))
	return httpio.Logging(h.log, r), nil
}

// authenticated checks the admin token, in constant time, before fn runs;
// even a 404 is answered only to the operator.
func (h *handler) authenticated(fn httpio.HandlerFunc) httpio.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		httpio.NoStore(w)
		token, err := httpio.Bearer(r)
		if err != nil {
			return err
		}
		if token == "" {
			return engine.Errorf(engine.CodeInvalidToken, "the admin API needs the admin token as a bearer token")
		}
		got := sha256.Sum256([]byte(token))
		if subtle.ConstantTimeCompare(got[:], h.tokenDigest[:]) != 1 {
			return engine.Errorf(engine.CodeInvalidToken, "invalid admin token")
		}
		return fn(w, r)
	}
}

// decode reads a JSON request body into v, refusing unknown members.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := httpio.ReadJSON(w, r, maxBodyBytes)
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

// unix converts t to seconds since the epoch; 0 for the zero time.
func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func (h *handler) listTenants(w http.ResponseWriter, r *http.Request) error {
	type tenant struct {
		Name   string `json:"name"`
		Issuer string `json:"issuer"`
	}
	out := struct {
		Tenants []tenant `json:"tenants"`
	}{Tenants: []tenant{}}
	for _, name := range h.reg.TenantNames() {
		out.Tenants = append(out.Tenants, tenant{Name: name, Issuer: h.tenantIssuer(name)})
	}
	httpio.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (h *handler) tenantIssuer(name string) string { return httpio.TenantIssuer(h.issuer, name) }

func (h *handler) getTenant(w http.ResponseWriter, r *http.Request) error {
	name := mux.Vars(r)["tenant"]
	s, err := h.reg.Settings(name)
	if err != nil {
		return err
	}
	static := s.StaticInitialAccessToken != ""
	s.StaticInitialAccessToken = "" // a secret: never shown
	httpio.WriteJSON(w, http.StatusOK, struct {
		Name        string          `json:"name"`
		Issuer      string          `json:"issuer"`
		Settings    engine.Settings `json:"settings"`
		StaticToken bool            `json:"static_initial_access_token_set"`
	}{name, h.tenantIssuer(name), s, static})
	return nil
}

// mintRequest is the body of POST /admin/tenants/{t}/initial-access-tokens.
type mintRequest struct {
	Policies []string `json:"policies"`
	// ExpiresIn is seconds, or a Go or ISO 8601 duration string ("PT2H").
	ExpiresIn   engine.Duration `json:"expires_in"`
	ClientID    string          `json:"client_id"`
	Replacement bool            `json:"replacement"`
	MaxUses     int64           `json:"max_uses"`
}

// iatView is an initial access token as the admin API shows it.
type iatView struct {
	Token       string   `json:"initial_access_token,omitempty"`
	ID          string   `json:"id"`
	Tenant      string   `json:"tenant"`
	CreatedAt   int64    `json:"created_at"`
	ExpiresAt   int64    `json:"expires_at"`
	Policies    []string `json:"policies"`
	MaxUses     int64    `json:"max_uses"`
	Uses        int64    `json:"uses"`
	ClientID    string   `json:"client_id,omitempty"`
	Replacement bool     `json:"replacement"`
}

func viewIAT(t *engine.InitialAccessToken, token string) iatView {
	v := iatView{
		Token: token, ID: t.ID, Tenant: t.Tenant, CreatedAt: unix(t.CreatedAt),
		ExpiresAt: unix(t.ExpiresAt), Policies: t.Policies, MaxUses: t.MaxUses,
		Uses: t.Uses, ClientID: t.ClientID, Replacement: t.Replacement,
	}
	if v.Policies == nil {
		v.Policies = []string{}
	}
	return v
}

func (h *handler) mintIAT(w http.ResponseWriter, r *http.Request) error {
	var req mintRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	token, iat, err := h.reg.MintInitialAccessToken(r.Context(), mux.Vars(r)["tenant"], engine.MintRequest{
		Policies: req.Policies, ExpiresIn: time.Duration(req.ExpiresIn), MaxUses: req.MaxUses,
		ClientID: req.ClientID, Replacement: req.Replacement,
	})
	if err != nil {
		return err
	}
	httpio.WriteJSON(w, http.StatusCreated, viewIAT(iat, token))
	return nil
}

func (h *handler) getIAT(w http.ResponseWriter, r *http.Request) error {
	v := mux.Vars(r)
	iat, err := h.reg.InitialAccessToken(r.Context(), v["tenant"], v["id"])
	if err != nil {
		return err
	}
	httpio.WriteJSON(w, http.StatusOK, viewIAT(iat, ""))
	return nil
}

func (h *handler) revokeIAT(w http.ResponseWriter, r *http.Request) error {
	v := mux.Vars(r)
	if err := h.reg.RevokeInitialAccessToken(r.Context(), v["tenant"], v["id"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// clientView is a client as the admin API shows it: its metadata and the
// registration's bookkeeping, never a secret or token digest.
type clientView struct {
	ClientID              string          `json:"client_id"`
	Tenant                string          `json:"tenant"`
	ClientIDIssuedAt      int64           `json:"client_id_issued_at"`
	UpdatedAt             int64           `json:"updated_at"`
	ExpiresAt             int64           `json:"expires_at"`
	IssuedBy              string          `json:"issued_by,omitempty"`
	HasSecret             bool            `json:"has_client_secret"`
	HasRegistrationToken  bool            `json:"has_registration_access_token"`
	RegistrationPolicies  []string        `json:"registration_policies"`
	RegistrationClientURI string          `json:"registration_client_uri"`
	Metadata              engine.Metadata `json:"metadata"`
}

func (h *handler) viewClient(c *engine.Client) clientView {
	v := clientView{
		ClientID: c.ID, Tenant: c.Tenant, ClientIDIssuedAt: unix(c.IssuedAt),
		UpdatedAt: unix(c.UpdatedAt), ExpiresAt: unix(c.ExpiresAt), IssuedBy: c.IssuedBy,
		HasSecret: c.SecretHash != "", HasRegistrationToken: c.RegistrationTokenHash != "",
		RegistrationPolicies:  c.RegistrationPolicies,
		RegistrationClientURI: httpio.ClientURI(h.tenantIssuer(c.Tenant), c.ID),
		Metadata:              c.Metadata,
	}
	if v.RegistrationPolicies == nil {
		v.RegistrationPolicies = []string{}
	}
	return v
}

// DefaultPageSize is the page size of client listings without a limit.
const DefaultPageSize = 100

func (h *handler) listClients(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit := DefaultPageSize
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return engine.Errorf(engine.CodeInvalidRequest, "limit must be a number")
		}
		limit = n
	}
	cs, next, err := h.reg.Clients(r.Context(), mux.Vars(r)["tenant"], q.Get("cursor"), limit)
	if err != nil {
		return err
	}
	out := struct {
		Clients    []clientView `json:"clients"`
		NextCursor string       `json:"next_cursor,omitempty"`
	}{Clients: make([]clientView, 0, len(cs)), NextCursor: next}
	for _, c := range cs {
		out.Clients = append(out.Clients, h.viewClient(c))
	}
	httpio.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (h *handler) getClient(w http.ResponseWriter, r *http.Request) error {
	v := mux.Vars(r)
	c, err := h.reg.Client(r.Context(), v["tenant"], v["client_id"])
	if err != nil {
		return err
	}
	httpio.WriteJSON(w, http.StatusOK, h.viewClient(c))
	return nil
}

func (h *handler) deleteClient(w http.ResponseWriter, r *http.Request) error {
	v := mux.Vars(r)
	if err := h.reg.DeleteClient(r.Context(), v["tenant"], v["client_id"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) mintRAT(w http.ResponseWriter, r *http.Request) error {
	v := mux.Vars(r)
	token, c, err := h.reg.MintRegistrationAccessToken(r.Context(), v["tenant"], v["client_id"])
	if err != nil {
		return err
	}
	httpio.WriteJSON(w, http.StatusCreated, struct {
		ClientID              string `json:"client_id"`
		RegistrationToken     string `json:"registration_access_token"`
		RegistrationClientURI string `json:"registration_client_uri"`
	}{c.ID, token, httpio.ClientURI(h.tenantIssuer(c.Tenant), c.ID)})
	return nil
}
