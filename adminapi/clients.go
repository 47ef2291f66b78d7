package adminapi

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/httpio"
	"github.com/registrar-dev/registrar/internal/seal"
)

// provenanceView is one entry of a client's history.
type provenanceView struct {
	Event string    `json:"event"`
	At    timestamp `json:"at"`
	// Token is the ID of the initial access token of a registration.
	Token    string                 `json:"initial_access_token,omitempty"`
	Policies []engine.PolicyVersion `json:"policies"`
	// Hooks are the module versions whose factory and decision hooks ran.
	Hooks []engine.HookVersion `json:"hooks,omitempty"`
	// SoftwareStatement is the verified software statement of a
	// registration: its issuer, kid, jti and software_id.
	SoftwareStatement engine.StatementProvenance `json:"software_statement,omitzero"`
}

// clientView is a client as the admin API shows it: its metadata and the
// registration's bookkeeping and provenance, never a secret or token
// digest.
type clientView struct {
	ClientID string `json:"client_id"`
	Tenant   string `json:"tenant"`
	// CreatedAt is when it registered: the RFC 7592 client_id_issued_at,
	// named and written as every other admin time is.
	CreatedAt timestamp `json:"created_at"`
	UpdatedAt timestamp `json:"updated_at"`
	// ExpiresAt is left out when the registration does not expire.
	ExpiresAt timestamp `json:"expires_at,omitzero"`
	// InitialAccessToken is the ID of the token it registered with, as the
	// initial_access_token filter takes it.
	InitialAccessToken    string           `json:"initial_access_token,omitempty"`
	HasSecret             bool             `json:"has_client_secret"`
	HasRegistrationToken  bool             `json:"has_registration_access_token"`
	RegistrationPolicies  []string         `json:"registration_policies"`
	RegistrationClientURI string           `json:"registration_client_uri"`
	History               []provenanceView `json:"history"`
	Metadata              engine.Metadata  `json:"metadata"`

	// SecretKEK is the ID of the key-encryption key that seals the
	// secret of a client_secret_jwt client; never the sealed value.
	SecretKEK string `json:"client_secret_kek,omitempty"`
}

func (h *handler) viewClient(c *engine.Client) clientView {
	v := clientView{
		ClientID: c.ID, Tenant: c.Tenant, CreatedAt: timestamp(c.IssuedAt),
		UpdatedAt: timestamp(c.UpdatedAt), ExpiresAt: timestamp(c.ExpiresAt), InitialAccessToken: c.IssuedBy,
		HasSecret: c.SecretHash != "", HasRegistrationToken: c.RegistrationTokenHash != "",
		RegistrationPolicies:  c.RegistrationPolicies,
		RegistrationClientURI: httpio.ClientURI(h.tenantIssuer(c.Tenant), c.ID),
		History:               make([]provenanceView, 0, len(c.History)),
		Metadata:              c.Metadata,
	}
	if c.SecretSealed != "" {
		v.SecretKEK, _ = seal.KeyID(c.SecretSealed)
	}
	if v.RegistrationPolicies == nil {
		v.RegistrationPolicies = []string{}
	}
	for _, p := range c.History {
		pv := provenanceView{Event: p.Event, At: timestamp(p.At), Token: p.Token, Policies: p.Policies}
		if pv.Policies == nil {
			pv.Policies = []engine.PolicyVersion{}
		}
		pv.Hooks, pv.SoftwareStatement = p.Hooks, p.SoftwareStatement
		v.History = append(v.History, pv)
	}
	return v
}

// filter reads the client filter of a listing or bulk delete:
// initial_access_token=<token id> and policy=<name>@<digest>.
func filter(r *http.Request) (engine.ClientFilter, error) {
	q := r.URL.Query()
	f := engine.ClientFilter{IssuedBy: q.Get("initial_access_token")}
	if p := q.Get("policy"); p != "" {
		v, err := engine.ParsePolicyVersion(p)
		if err != nil {
			return f, err
		}
		f.Policy = v
	}
	return f, nil
}

func (h *handler) listClients(w http.ResponseWriter, r *http.Request) error {
	after, n, err := pageParams(r, listClients, engine.ValidClientID)
	if err != nil {
		return err
	}
	f, err := filter(r)
	if err != nil {
		return err
	}
	cs, next, err := h.reg.Clients(r.Context(), mux.Vars(r)["tenant"], f, after, n)
	if err != nil {
		return err
	}
	out := struct {
		Clients    []clientView `json:"clients"`
		NextCursor string       `json:"next_cursor,omitempty"`
	}{Clients: make([]clientView, 0, len(cs)), NextCursor: nextCursor(listClients, next)}
	for _, c := range cs {
		out.Clients = append(out.Clients, h.viewClient(c))
	}
	httpio.WriteJSON(w, http.StatusOK, out)
	return nil
}

// deleteClients deletes, in bulk, the clients a filter selects; a filter
// is required.
func (h *handler) deleteClients(w http.ResponseWriter, r *http.Request) error {
	f, err := filter(r)
	if err != nil {
		return err
	}
	n, err := h.reg.DeleteClients(r.Context(), mux.Vars(r)["tenant"], f)
	if err != nil {
		return err
	}
	httpio.WriteJSON(w, http.StatusOK, struct {
		Deleted int `json:"deleted"`
	}{n})
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
