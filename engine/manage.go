package engine

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// ManageRequest is an RFC 7592 request to the client configuration endpoint.
type ManageRequest struct {
	Tenant   string
	ClientID string
	// Token is the bearer token presented, "" if none: the registration
	// access token, or, where the tenant's registration_management_auth
	// allows, an access token.
	Token string
	// AccessTokenClient is the client that Token was issued to as an
	// access token (client_credentials grant), as the token endpoint's
	// records say; empty when Token is no live access token. The HTTP
	// layer sets it only for tenants whose registration_management_auth
	// is client_credentials or either; the engine decides what it
	// authorises.
	AccessTokenClient string
	// Body is the update request's body, in Form; unused by read and
	// delete.
	Body []byte
	// Form is the body's form, from its Content-Type. Default FormJSON.
	Form BodyForm
	// Issuer is the tenant's issuer: the aud of a signed update.
	Issuer   string
	RemoteIP string
}

// forbiddenOnUpdate are the members an update request must not carry
// (RFC 7592 §2.2).
var forbiddenOnUpdate = []string{
	"registration_access_token", "registration_client_uri",
	"client_secret_expires_at", "client_id_issued_at",
}

// authenticateClient checks the presented token against the client it
// claims to manage: its registration access token, or an access token
// issued to it, as the tenant's registration_management_auth allows. It
// reports which one authorised the request. A client that does not exist
// answers like a wrong token (RFC 7592 §2.1: 401), so that tokens cannot
// probe for clients. A token presented at another client's URI is refused
// but not revoked: a mistyped URI must not lock the rightful client out.
func (r *Registrar) authenticateClient(ctx context.Context, req ManageRequest) (*tenant, *Client, bool, error) {
	t, c, byRAT, _, err := r.authenticateAudited(ctx, req, nil)
	return t, c, byRAT, err
}

// authenticateAudited is authenticateClient that, given an event, records
// it with the client's read when the store can (AuditedClientReader) and
// the request authenticates with the registration access token, and
// reports whether it did: the event is then in the audit log, written in
// the same step as the read it records.
func (r *Registrar) authenticateAudited(ctx context.Context, req ManageRequest, e *AuditEvent) (t *tenant, c *Client, byRAT, audited bool, err error) {
	t, err = r.tenant(req.Tenant)
	if err != nil {
		return nil, nil, false, false, err
	}
	if !t.managementOn() {
		return nil, nil, false, false, Errorf(CodeAccessDenied, "client management (RFC 7592) is turned off for this tenant")
	}
	if req.Token == "" {
		return nil, nil, false, false, errNoToken()
	}
	if !ValidBearerValue(req.Token) || !ValidClientID(req.ClientID) {
		return nil, nil, false, false, errInvalidToken(errors.New("malformed token or client ID"))
	}
	mode := t.settings.AccessTokens().ManagementAuth
	ar, fold := r.store.(AuditedClientReader)
	if fold = fold && e != nil && r.storeAudits && mode != ManagementByClientCredentials; fold {
		c, audited, err = ar.ClientAudited(ctx, t.name, req.ClientID, HashToken(req.Token), e)
	} else {
		c, err = r.store.Client(ctx, t.name, req.ClientID)
	}
	if errors.Is(err, ErrNotFound) {
		return nil, nil, false, false, errInvalidToken(fmt.Errorf("client %s not found", req.ClientID))
	}
	if err != nil {
		return nil, nil, false, false, storeError("read client", err)
	}
	byRAT = mode != ManagementByClientCredentials && hashEqual(req.Token, c.RegistrationTokenHash)
	byAccessToken := mode != ManagementByRegistrationToken && req.AccessTokenClient != "" && req.AccessTokenClient == c.ID
	if fold && audited != byRAT {
		r.log.ErrorContext(ctx, "the store's audited read disagrees with the token check", "tenant", t.name, "client_id", c.ID, "audited", audited, "by_registration_token", byRAT)
	}
	if !byRAT && !byAccessToken {
		return nil, nil, false, false, errInvalidToken(fmt.Errorf("the token authorises no management of client %s (registration_management_auth %s)", req.ClientID, mode))
	}
	return t, c, byRAT, audited, nil
}

// Read answers an RFC 7592 §2.1 read request. The response carries the
// presented registration access token; it cannot carry the client secret,
// which is stored only as a digest.
func (r *Registrar) Read(ctx context.Context, req ManageRequest) (*ClientInformation, error) {
	var ev *AuditEvent
	if t, err := r.tenant(req.Tenant); err == nil && (t.settings.AuditReads == nil || *t.settings.AuditReads) {
		ev = &AuditEvent{Tenant: t.name, Type: AuditClientRead, ClientID: req.ClientID, Actor: "client:" + req.ClientID}
		r.complete(ctx, ev)
	}
	_, c, byRAT, audited, err := r.authenticateAudited(ctx, req, ev)
	if err != nil {
		return nil, err
	}
	if ev != nil {
		r.logAudit(ctx, ev)
		if !audited { // else the store appended it with the read
			r.appendAudit(ctx, ev)
		}
	}
	info := &ClientInformation{Client: c}
	if byRAT {
		info.RegistrationAccessToken = req.Token
	}
	return info, nil
}

// Delete answers an RFC 7592 §2.3 delete request: the client and its
// registration access token are removed together.
func (r *Registrar) Delete(ctx context.Context, req ManageRequest) error {
	t, c, _, err := r.authenticateClient(ctx, req)
	if err != nil {
		return err
	}
	if err := r.store.DeleteClient(ctx, t.name, c.ID); err != nil {
		if errors.Is(err, ErrNotFound) {
			return errInvalidToken(err) // deleted meanwhile
		}
		return storeError("delete client", err)
	}
	r.audit(ctx, AuditEvent{Tenant: t.name, Type: AuditClientDeleted, ClientID: c.ID, Actor: "client:" + c.ID})
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
	t, c, byRAT, err := r.authenticateClient(ctx, req)
	if err != nil {
		return nil, err
	}
	ctx = WithActor(ctx, "client:"+c.ID)
	run := r.newRun(t)
	defer run.release()
	if !byRAT {
		// An access token is no registration access token: it is neither
		// checked against the record nor echoed, and nothing rotates.
		req.Token = ""
	}
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
	obj, vs, err := r.requestObject(ctx, t, req.Form, req.Body, req.Issuer, c)
	if err != nil {
		return nil, err
	}
	if err := updateMembers(obj, c, vs != nil); err != nil {
		return nil, err
	}
	facts := RequestFacts{RemoteIP: req.RemoteIP}
	tok := TokenFacts{Kind: "registration_access_token", Policies: c.RegistrationPolicies, ClientID: c.ID}
	if req.Token == "" {
		tok.Kind = "access_token"
	}
	md, ratPolicies, err := r.updateMetadata(ctx, t, c, obj, vs, tok, facts, run)
	if err != nil {
		return nil, err
	}
	if err := r.markRequest(ctx, t, vs); err != nil {
		return nil, err
	}
	var newSecret, sealed string
	if needsNewSecret(md, c) {
		in := &FactoryInput{Tenant: t.name, Metadata: md, Token: tok, Request: facts}
		if newSecret, err = r.newSecret(ctx, t, run, in); err != nil {
			return nil, err
		}
		if sealed, err = r.sealFor(c, md, newSecret); err != nil {
			return nil, err
		}
	}
	rat, err := r.nextRAT(ctx, t, run, req.Token, &DecisionInput{
		Phase: PhaseUpdate, Tenant: t.name, ClientID: c.ID, Metadata: md, Token: tok, Request: facts,
	})
	if err != nil {
		return nil, err
	}
	ch := clientChange{md: md, newSecret: newSecret, sealed: sealed, rat: rat, ratPolicies: ratPolicies, now: r.now(), run: run}
	if req.Token != "" {
		ch.presented = HashToken(req.Token)
	}
	updated, err := r.store.UpdateClient(ctx, t.name, c.ID, ch.apply)
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
	return &ClientInformation{Client: updated, Secret: ch.issued, RegistrationAccessToken: rat}, nil
}

// nextRAT is the registration access token after an update authorised by
// presented: the same, or a new one if the tenant rotates. An update
// authorised by an access token (presented is "") keeps the client's
// token as it is and returns "".
func (r *Registrar) nextRAT(ctx context.Context, t *tenant, run *policyRun, presented string, in *DecisionInput) (string, error) {
	if presented == "" {
		return "", nil
	}
	rotate, err := r.decide(ctx, t, run, t.settings.RotateRegistrationAccessToken, HookRotateRAT, func() *DecisionInput { return in })
	if err != nil || !rotate {
		return presented, err
	}
	rat, err := newToken(r.rand)
	if err != nil {
		return "", serverError("internal server error", err)
	}
	return rat, nil
}

// updateMembers checks the members of an RFC 7592 §2.2 update request:
// it must echo the client's client_id (a signed request may leave it out:
// the path names the client, and the signature vouches for the rest),
// may send its client_secret (which must match), and must not send the
// members the server manages. Both are removed from obj.
func updateMembers(obj map[string]json.RawMessage, c *Client, signed bool) error {
	for _, name := range forbiddenOnUpdate {
		if _, ok := obj[name]; ok {
			return Errorf(CodeInvalidRequest, "the update request must not include %s", name)
		}
	}
	raw, hasID := obj["client_id"]
	var id string
	if (hasID || !signed) && (json.Unmarshal(raw, &id) != nil || id != c.ID) {
		return Errorf(CodeInvalidRequest, "client_id must be present and equal to the client's client_id")
	}
	if raw, ok := obj["client_secret"]; ok {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || !hashEqual(s, c.SecretHash) {
			return Errorf(CodeInvalidRequest, "client_secret does not match the client's secret")
		}
	}
	delete(obj, "client_id")
	delete(obj, "client_secret")
	return nil
}

// updateMetadata turns an update's members into the metadata to store, as
// registrationMetadata does for a registration, with the client's current
// metadata in the policies' input. The profile's checks run with the
// client's statement: vs, verified with a signed update, or the stored
// one, whose signature is verified again.
func (r *Registrar) updateMetadata(ctx context.Context, t *tenant, c *Client, obj map[string]json.RawMessage, vs *verifiedStatement, tok TokenFacts, facts RequestFacts, run *policyRun) (Metadata, []string, error) {
	sc, err := r.updateStatement(ctx, t, c, vs)
	if err != nil {
		return Metadata{}, nil, err
	}
	if sc != nil {
		t.profile.prepare(obj, *sc)
	}
	t.applyDefaults(obj)
	// Policies see hosts in the form that will be stored.
	if err := normalizeHosts(obj, r.hosts); err != nil {
		return Metadata{}, nil, err
	}
	current := c.Metadata
	requested := memberNames(obj)
	obj, ratPolicies, err := r.runPolicies(ctx, t, run, &PolicyInput{
		Phase: PhaseUpdate, Tenant: t.name, ClientID: c.ID, Metadata: obj,
		Current: &current, Token: tok, Request: facts, Policies: c.RegistrationPolicies,
	})
	if err != nil {
		return Metadata{}, nil, err
	}
	md, err := t.validate(obj, r.keys, r.hosts)
	if err != nil {
		return Metadata{}, nil, err
	}
	if t.settings.SoftwareStatement != nil && md.SoftwareStatement != current.SoftwareStatement {
		// Only a registration verifies a statement (docs/statements.md).
		return Metadata{}, nil, Errorf(CodeInvalidSoftwareStatement, "an update must send the client's software_statement unchanged; register again with a new statement")
	}
	if err := checkSoftwareIDUpdate(t, &current, &md); err != nil {
		return Metadata{}, nil, err
	}
	if sc != nil {
		if err := t.profile.check(md, *sc, t.roleScopes); err != nil {
			return Metadata{}, nil, err
		}
	}
	if err := r.checkClientURIs(ctx, t, &md, &current); err != nil {
		return Metadata{}, nil, err
	}
	r.warnDropped(ctx, t, c.RegistrationPolicies, requested, obj)
	return md, ratPolicies, nil
}

// updateStatement returns the profile's claims of the client's statement
// for an update: vs's, or the stored statement's; nil when the profile
// checks nothing or the client has no statement.
func (r *Registrar) updateStatement(ctx context.Context, t *tenant, c *Client, vs *verifiedStatement) (*statementClaims, error) {
	if vs == nil {
		var err error
		if vs, err = r.storedStatement(ctx, t, c.Metadata.SoftwareStatement); err != nil {
			return nil, err
		}
	}
	return t.profileStatement(vs)
}

// clientChange is what an update writes; apply runs inside the store's
// read-modify-write.
type clientChange struct {
	md          Metadata
	newSecret   string // a secret made for a client that had none, or none it could keep sealed
	sealed      string // newSecret sealed, for a client_secret_jwt client
	presented   string // the digest of the presented registration access token; "" when an access token authorised the update
	rat         string // the registration access token after the update; "" keeps the client's
	ratPolicies []string
	now         time.Time
	run         *policyRun
	issued      string // set by apply: the secret issued, if any
}

// apply changes cur, unless a concurrent update rotated the token.
func (ch *clientChange) apply(cur *Client) error {
	if ch.presented != "" && subtle.ConstantTimeCompare([]byte(cur.RegistrationTokenHash), []byte(ch.presented)) != 1 {
		return errInvalidToken(errors.New("registration access token rotated by a concurrent request"))
	}
	ch.issued = ""
	if err := ch.applySecret(cur); err != nil {
		return err
	}
	cur.Metadata = ch.md
	if ch.rat != "" {
		cur.RegistrationTokenHash = HashToken(ch.rat)
	}
	cur.RegistrationPolicies = ch.ratPolicies
	cur.UpdatedAt = ch.now
	cur.record(Provenance{Event: EventUpdate, At: ch.now, Policies: ch.run.ran, Hooks: slices.Clone(ch.run.hooks)})
	return nil
}
