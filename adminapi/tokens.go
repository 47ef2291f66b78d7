package adminapi

import (
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/httpio"
)

// mintRequest is the body of POST /admin/tenants/{t}/initial-access-tokens.
type mintRequest struct {
	Policies []string `json:"policies"`
	// ExpiresIn is seconds, or a Go or ISO 8601 duration string ("PT2H").
	ExpiresIn   engine.Duration `json:"expires_in"`
	ClientID    string          `json:"client_id"`
	Replacement bool            `json:"replacement"`
	MaxUses     int64           `json:"max_uses"`
	// SoftwareStatementRequired: registrations with the token must carry a
	// software statement.
	SoftwareStatementRequired bool `json:"software_statement_required"`
}

// iatView is an initial access token as the admin API shows it.
type iatView struct {
	Token       string    `json:"initial_access_token,omitempty"`
	ID          string    `json:"id"`
	Tenant      string    `json:"tenant"`
	CreatedAt   timestamp `json:"created_at"`
	ExpiresAt   timestamp `json:"expires_at,omitzero"`
	Policies    []string  `json:"policies"`
	MaxUses     int64     `json:"max_uses"`
	Uses        int64     `json:"uses"`
	ClientID    string    `json:"client_id,omitempty"`
	Replacement bool      `json:"replacement"`
	// SoftwareStatementRequired is shown only when set.
	SoftwareStatementRequired bool `json:"software_statement_required,omitempty"`
}

func viewIAT(t *engine.InitialAccessToken, token string) iatView {
	v := iatView{
		Token: token, ID: t.ID, Tenant: t.Tenant, CreatedAt: timestamp(t.CreatedAt),
		ExpiresAt: timestamp(t.ExpiresAt), Policies: t.Policies, MaxUses: t.MaxUses,
		Uses: t.Uses, ClientID: t.ClientID, Replacement: t.Replacement,
		SoftwareStatementRequired: t.SoftwareStatementRequired,
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
		SoftwareStatementRequired: req.SoftwareStatementRequired,
	})
	if err != nil {
		return err
	}
	httpio.WriteJSON(w, http.StatusCreated, viewIAT(iat, token))
	return nil
}

func (h *handler) listIATs(w http.ResponseWriter, r *http.Request) error {
	after, n, err := pageParams(r, listIATs, validDigest)
	if err != nil {
		return err
	}
	ts, next, err := h.reg.InitialAccessTokens(r.Context(), mux.Vars(r)["tenant"], after, n)
	if err != nil {
		return err
	}
	out := struct {
		Tokens     []iatView `json:"initial_access_tokens"`
		NextCursor string    `json:"next_cursor,omitempty"`
	}{Tokens: make([]iatView, 0, len(ts)), NextCursor: nextCursor(listIATs, next)}
	for _, t := range ts {
		out.Tokens = append(out.Tokens, viewIAT(t, ""))
	}
	httpio.WriteJSON(w, http.StatusOK, out)
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

// adminTokenRequest is the body of POST /admin/tenants/{t}/admin-tokens.
type adminTokenRequest struct {
	Description string `json:"description"`
	// ExpiresIn is seconds or a duration string; default 90 days.
	ExpiresIn engine.Duration `json:"expires_in"`
}

// adminTokenView is a tenant admin token as the admin API shows it.
type adminTokenView struct {
	Token       string    `json:"admin_token,omitempty"`
	ID          string    `json:"id"`
	Tenant      string    `json:"tenant"`
	Description string    `json:"description,omitempty"`
	CreatedAt   timestamp `json:"created_at"`
	ExpiresAt   timestamp `json:"expires_at,omitzero"`
}

func viewAdminToken(t *engine.AdminToken, token string) adminTokenView {
	return adminTokenView{
		Token: token, ID: t.ID, Tenant: t.Tenant, Description: t.Description,
		CreatedAt: timestamp(t.CreatedAt), ExpiresAt: timestamp(t.ExpiresAt),
	}
}

func (h *handler) mintAdminToken(w http.ResponseWriter, r *http.Request) error {
	var req adminTokenRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	token, at, err := h.reg.MintAdminToken(r.Context(), mux.Vars(r)["tenant"], req.Description, time.Duration(req.ExpiresIn))
	if err != nil {
		return err
	}
	httpio.WriteJSON(w, http.StatusCreated, viewAdminToken(at, token))
	return nil
}

func (h *handler) listAdminTokens(w http.ResponseWriter, r *http.Request) error {
	after, n, err := pageParams(r, listAdminTokens, validDigest)
	if err != nil {
		return err
	}
	all, err := h.reg.AdminTokens(r.Context(), mux.Vars(r)["tenant"])
	if err != nil {
		return err
	}
	ts, next := page(all, func(t *engine.AdminToken) string { return t.ID }, listAdminTokens, after, n)
	out := struct {
		Tokens     []adminTokenView `json:"admin_tokens"`
		NextCursor string           `json:"next_cursor,omitempty"`
	}{Tokens: make([]adminTokenView, 0, len(ts)), NextCursor: next}
	for _, t := range ts {
		out.Tokens = append(out.Tokens, viewAdminToken(t, ""))
	}
	httpio.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (h *handler) revokeAdminToken(w http.ResponseWriter, r *http.Request) error {
	v := mux.Vars(r)
	if err := h.reg.RevokeAdminToken(r.Context(), v["tenant"], v["id"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
