package httpapi

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/httpio"
)

// bodyForm is the form of a registration or update body by its
// Content-Type: JSON, or a signed request (application/jose; OBIE's
// clients send application/jwt, the same compact JWS). The engine refuses
// any other once the token is checked, so that a dead token is a 401
// whatever the body.
func bodyForm(r *http.Request) engine.BodyForm {
	mt, err := httpio.MediaType(r.Header.Get("Content-Type"))
	switch {
	case err != nil:
		return engine.FormOther
	case mt == "application/json":
		return engine.FormJSON
	case mt == "application/jose" || mt == "application/jwt":
		return engine.FormJWS
	}
	return engine.FormOther
}

// register serves POST /reg (RFC 7591 §3).
func (h *handler) register(w http.ResponseWriter, r *http.Request) error {
	token, err := httpio.Bearer(r)
	if err != nil {
		return err
	}
	body, err := httpio.ReadBody(w, r, h.maxBody)
	if err != nil {
		return err
	}
	name, issuer := h.tenant(r)
	ip := h.clientIP(r)
	info, err := h.reg.Register(httpio.AuditContext(r, ip), engine.RegisterRequest{
		Tenant: name, Token: token, Body: body, Form: bodyForm(r), Issuer: issuer,
		ClientCertSubject: h.certSubject(r), RemoteIP: ip,
	})
	if err != nil {
		return err
	}
	h.respond(w, http.StatusCreated, issuer, info)
	return nil
}

// certSubject is the DER subject of the request's client certificate, nil
// without one (see certificates). A certificate header from a trusted
// proxy that cannot be read (logged by certificates) counts as none: a
// registration asks for no certificate, and only profiles that check
// subject DNs compare it.
func (h *handler) certSubject(r *http.Request) []byte {
	chain, err := h.certificates(r)
	if err != nil || len(chain) == 0 {
		return nil
	}
	return chain[0].RawSubject
}

// manageRequest reads what every RFC 7592 route needs.
func (h *handler) manageRequest(r *http.Request) (engine.ManageRequest, string, error) {
	token, err := httpio.Bearer(r)
	if err != nil {
		return engine.ManageRequest{}, "", err
	}
	name, issuer := h.tenant(r)
	req := engine.ManageRequest{
		Tenant: name, ClientID: mux.Vars(r)["client_id"], Token: token, Issuer: issuer, RemoteIP: h.clientIP(r),
	}
	if req.AccessTokenClient, err = h.accessTokenClient(r, name, token); err != nil {
		return engine.ManageRequest{}, "", err
	}
	return req, issuer, nil
}

// accessTokenClient finds the client an access token was issued to, for
// tenants whose registration_management_auth lets access tokens manage
// clients; "" otherwise.
func (h *handler) accessTokenClient(r *http.Request, tenant, token string) (string, error) {
	if h.tokens == nil || token == "" {
		return "", nil
	}
	settings, err := h.reg.Settings(tenant)
	if err != nil || settings.AccessTokens().ManagementAuth == engine.ManagementByRegistrationToken {
		return "", nil // an unknown tenant is the engine's to answer
	}
	return h.tokens.ClientOf(r.Context(), tenant, token)
}

// read serves GET /reg/{client_id} (RFC 7592 §2.1).
func (h *handler) read(w http.ResponseWriter, r *http.Request) error {
	req, issuer, err := h.manageRequest(r)
	if err != nil {
		return err
	}
	info, err := h.reg.Read(httpio.AuditContext(r, req.RemoteIP), req)
	if err != nil {
		return err
	}
	h.respond(w, http.StatusOK, issuer, info)
	return nil
}

// update serves PUT /reg/{client_id} (RFC 7592 §2.2).
func (h *handler) update(w http.ResponseWriter, r *http.Request) error {
	req, issuer, err := h.manageRequest(r)
	if err != nil {
		return err
	}
	if req.Body, err = httpio.ReadBody(w, r, h.maxBody); err != nil {
		return err
	}
	req.Form = bodyForm(r)
	info, err := h.reg.Update(httpio.AuditContext(r, req.RemoteIP), req)
	if err != nil {
		return err
	}
	h.respond(w, http.StatusOK, issuer, info)
	return nil
}

// delete serves DELETE /reg/{client_id} (RFC 7592 §2.3).
func (h *handler) delete(w http.ResponseWriter, r *http.Request) error {
	req, _, err := h.manageRequest(r)
	if err != nil {
		return err
	}
	if err := h.reg.Delete(httpio.AuditContext(r, req.RemoteIP), req); err != nil {
		return err
	}
	httpio.NoStore(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// respond writes a client information response, which carries secrets.
func (h *handler) respond(w http.ResponseWriter, status int, issuer string, info *engine.ClientInformation) {
	info.RegistrationClientURI = httpio.ClientURI(issuer, info.Client.ID)
	httpio.NoStore(w)
	httpio.WriteJSON(w, status, info)
}
