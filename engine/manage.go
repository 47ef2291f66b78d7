package engine

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// ManageRequest is an RFC 7592 request to the client configuration endpoint.
type ManageRequest struct {
	Tenant   string
	ClientID string
	// Token is the registration access token presented, "" if none.
	Token string
	// Body is the update request's JSON object; unused by read and delete.
	Body     []byte
	RemoteIP string
}

// forbiddenOnUpdate are the members an update request must not carry
// (RFC 7592 §2.2).
var forbiddenOnUpdate = []string{
	"registration_access_token", "registration_client_uri",
	"client_secret_expires_at", "client_id_issued_at",
}

// authenticateClient checks a registration access token against the client
// it claims to manage. A client that does not exist answers like a wrong
// token (RFC 7592 §2.1: 401), so that tokens cannot probe for clients. A
// token presented at another client's URI is refused but not revoked: a
// mistyped URI must not lock the rightful client out.
func (r *Registrar) authenticateClient(ctx context.Context, req ManageRequest) (*tenant, *Client, error) {
	t, err := r.tenant(req.Tenant)
	if err != nil {
		return nil, nil, err
	}
	if !t.managementOn() {
		return nil, nil, Errorf(CodeAccessDenied, "client management (RFC 7592) is turned off for this tenant")
	}
	if req.Token == "" {
		return nil, nil, errNoToken()
	}
	if !ValidBearerValue(req.Token) || !ValidClientID(req.ClientID) {
		return nil, nil, errInvalidToken(errors.New("malformed token or client ID"))
	}
	c, err := r.store.Client(ctx, t.name, req.ClientID)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, errInvalidToken(fmt.Errorf("client %s not found", req.ClientID))
	}
	if err != nil {
		return nil, nil, storeError("read client", err)
	}
	if !hashEqual(req.Token, c.RegistrationTokenHash) {
		return nil, nil, errInvalidToken(fmt.Errorf("registration access token does not match client %s", req.ClientID))
	}
	return t, c, nil
}

// Read answers an RFC 7592 §2.1 read request. The response carries the
// presented registration access token; it cannot carry the client secret,
// which is stored only as a digest.
func (r *Registrar) Read(ctx context.Context, req ManageRequest) (*ClientInformation, error) {
	t, c, err := r.authenticateClient(ctx, req)
	if err != nil {
		return nil, err
	}
	r.audit(WithActor(ctx, "client:"+c.ID), AuditEvent{Tenant: t.name, Type: AuditClientRead, ClientID: c.ID})
	return &ClientInformation{Client: c, RegistrationAccessToken: req.Token}, nil
}

// Delete answers an RFC 7592 §2.3 delete request: the client and its
// registration access token are removed together.
func (r *Registrar) Delete(ctx context.Context, req ManageRequest) error {
	t, c, err := r.authenticateClient(ctx, req)
	if err != nil {
		return err
	}
	if err := r.store.DeleteClient(ctx, t.name, c.ID); err != nil {
		if errors.Is(err, ErrNotFound) {
			return errInvalidToken(err) // deleted meanwhile
		}
		return storeError("delete client", err)
	}
	r.audit(WithActor(ctx, "client:"+c.ID), AuditEvent{Tenant: t.name, Type: AuditClientDeleted, ClientID: c.ID})
	return nil
}

// Update answers an RFC 7592 §2.2 update request. The request replaces the
// client's metadata completely: omitted members revert to their defaults.
// client_id must be echoed; client_secret, if sent, must be the client's
// secret; server-managed members are refused. The updated metadata runs
// through the client's registration policies and the full validation, and
// the registration access token is rotated unless the tenant decides not
// to. A client that newly needs a secret gets one; a client that no longer
// needs one loses it.
func (r *Registrar) Update(ctx context.Context, req ManageRequest) (*ClientInformation, error) {
	t, c, err := r.authenticateClient(ctx, req)
	if err != nil {
		return nil, err
	}
	ctx = WithActor(ctx, "client:"+c.ID)
	run := r.newRun(t)
	defer run.release()
	info, err := r.update(ctx, t, c, req, run)
	if err != nil {
		r.auditRejection(ctx, t, c.ID, "", run, err)
		return nil, err
	}
	r.audit(ctx, AuditEvent{Tenant: t.name, Type: AuditClientUpdated, ClientID: c.ID, Policies: run.ran})
	return info, nil
}

// update is Update after authentication.
func (r *Registrar) update(ctx context.Context, t *tenant, c *Client, req ManageRequest, run *policyRun) (*ClientInformation, error) {
	obj, err := decodeRequest(req.Body)
	if err != nil {
		return nil, err
	}
	for _, name := range forbiddenOnUpdate {
		if _, ok := obj[name]; ok {
			return nil, Errorf(CodeInvalidRequest, "the update request must not include %s", name)
		}
	}
	var id string
	if err := json.Unmarshal(obj["client_id"], &id); err != nil || id != c.ID {
		return nil, Errorf(CodeInvalidRequest, "client_id must be present and equal to the client's client_id")
	}
	if raw, ok := obj["client_secret"]; ok {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || !hashEqual(s, c.SecretHash) {
			return nil, Errorf(CodeInvalidRequest, "client_secret does not match the client's secret")
		}
	}
	delete(obj, "client_id")
	delete(obj, "client_secret")
	t.applyDefaults(obj)
	// Policies see hosts in the form that will be stored.
	if err := normalizeHosts(obj, r.hosts); err != nil {
		return nil, err
	}
	facts := RequestFacts{RemoteIP: req.RemoteIP}
	tok := TokenFacts{Kind: "registration_access_token", Policies: c.RegistrationPolicies, ClientID: c.ID}
	current := c.Metadata
	requested := memberNames(obj)
	obj, ratPolicies, err := r.runPolicies(ctx, t, run, &PolicyInput{
		Phase: PhaseUpdate, Tenant: t.name, ClientID: c.ID, Metadata: obj,
		Current: &current, Token: tok, Request: facts, Policies: c.RegistrationPolicies,
	})
	if err != nil {
		return nil, err
	}
	md, err := t.validate(obj, r.keys, r.hosts)
	if err != nil {
		return nil, err
	}
	r.warnDropped(ctx, t, c.RegistrationPolicies, requested, obj)
	var newSecret string
	if md.NeedsSecret() && c.SecretHash == "" {
		in := &FactoryInput{Tenant: t.name, Metadata: md, Token: tok, Request: facts}
		if newSecret, err = r.newSecret(ctx, t, run, in); err != nil {
			return nil, err
		}
	}
	rotate, err := r.decide(ctx, t, run, t.settings.RotateRegistrationAccessToken, HookRotateRAT, &DecisionInput{
		Phase: PhaseUpdate, Tenant: t.name, ClientID: c.ID, Metadata: md, Token: tok, Request: facts,
	})
	if err != nil {
		return nil, err
	}
	rat := req.Token
	if rotate {
		if rat, err = newToken(r.rand); err != nil {
			return nil, serverError("internal server error", err)
		}
	}
	presented := HashToken(req.Token)
	var issued string
	now := r.now()
	updated, err := r.store.UpdateClient(ctx, t.name, c.ID, func(cur *Client) error {
		// The token may have been rotated by a concurrent update.
		if subtle.ConstantTimeCompare([]byte(cur.RegistrationTokenHash), []byte(presented)) != 1 {
			return errInvalidToken(errors.New("registration access token rotated by a concurrent request"))
		}
		issued = ""
		switch {
		case !md.NeedsSecret():
			cur.SecretHash = ""
		case cur.SecretHash == "" && newSecret != "":
			cur.SecretHash, issued = HashToken(newSecret), newSecret
		case cur.SecretHash == "":
			return Errorf(CodeConflict, "the client changed during the update; retry")
		}
		cur.Metadata = md
		cur.RegistrationTokenHash = HashToken(rat)
		cur.RegistrationPolicies = ratPolicies
		cur.UpdatedAt = now
		cur.record(Provenance{Event: EventUpdate, At: now, Policies: run.ran, Hooks: slices.Clone(run.hooks)})
		return nil
	})
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, e
		}
		if errors.Is(err, ErrNotFound) {
			return nil, errInvalidToken(err) // deleted meanwhile
		}
		return nil, storeError("update client", err)
	}
	return &ClientInformation{Client: updated, Secret: issued, RegistrationAccessToken: rat}, nil
}
