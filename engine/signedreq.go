package engine

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"
)

// BodyForm is the form of a registration or update request's body, as its
// Content-Type says; the HTTP layer tells it, and the engine refuses a
// form it does not take only once the request is authenticated, so that a
// dead token is a 401 whatever the body.
type BodyForm int

// The body forms.
const (
	// FormJSON is a JSON object of client metadata (application/json).
	// The zero value.
	FormJSON BodyForm = iota
	// FormJWS is a signed request (application/jose): a JWS in compact
	// serialization whose payload is the JSON object, signed with the
	// keys the software statement inside it names (docs/statements.md).
	FormJWS
	// FormOther is any other Content-Type: refused.
	FormOther
)

// MaxSignedRequestBytes bounds a signed request in compact form.
const MaxSignedRequestBytes = 64 << 10

// signedRequest is a signed request that passed every check, with what the
// pipeline needs of it.
type signedRequest struct {
	softwareID string
	kid        string
	jti        string
	markUntil  time.Time
}

// requestObject returns the members of a request body in the given form:
// the JSON object, or the payload of a signed request once verified, with
// its statement (whose request member is the signed request). c is the
// client an update is for (nil for a registration): a signed update must
// carry its statement unchanged.
func (r *Registrar) requestObject(ctx context.Context, t *tenant, form BodyForm, body []byte, issuer string, c *Client) (map[string]json.RawMessage, *verifiedStatement, error) {
	switch {
	case form == FormOther && t.statements == nil:
		return nil, nil, Errorf(CodeInvalidRequest, "the request body must be JSON with Content-Type application/json")
	case form == FormOther:
		return nil, nil, Errorf(CodeInvalidRequest, "the request body must be JSON (Content-Type application/json) or a signed request (application/jose)")
	case form == FormJSON && t.statements != nil && t.statements.RequireSignedRequests:
		return nil, nil, Errorf(CodeInvalidRequest, "this tenant takes signed requests only (Content-Type application/jose; profile %s)", t.profile.Name)
	case form == FormJSON:
		obj, err := decodeRequest(body)
		return obj, nil, err
	case t.statements == nil || t.trust == nil:
		return nil, nil, Errorf(CodeInvalidRequest, "this tenant takes no signed requests: it trusts no software statement issuers, whose statements name the keys")
	}
	return r.openSigned(ctx, t, strings.TrimSpace(string(body)), issuer, c)
}

// openSigned verifies a signed request: its payload's software statement
// (fully on a registration, its signature only on an update, where it was
// verified when the client registered), then the request's signature
// with the keys the statement names, its audience, issuer, times and jti.
// It returns the payload's members less the claims about the JWT, and the
// statement with the request.
func (r *Registrar) openSigned(ctx context.Context, t *tenant, compact, issuer string, c *Client) (map[string]json.RawMessage, *verifiedStatement, error) {
	if issuer == "" {
		return nil, nil, serverError("internal server error", errors.New("a signed request without the tenant's issuer to check its aud"))
	}
	if len(compact) > MaxSignedRequestBytes {
		return nil, nil, requestJWT.errorf("is %d bytes, more than the limit of %d", len(compact), MaxSignedRequestBytes)
	}
	payload, err := t.trust.RequestPayload(compact)
	if err != nil {
		return nil, nil, err
	}
	obj, err := decodeRequest(payload)
	if err != nil {
		return nil, nil, requestJWT.errorf("payload: %s", AsError(err).Description)
	}
	vs, err := r.signedStatement(ctx, t, obj, c)
	if err != nil {
		return nil, nil, err
	}
	keys, err := requestKeys(t.profile, vs.st.Claims)
	if err != nil {
		return nil, nil, err
	}
	sr := &signedRequest{}
	if err := json.Unmarshal(vs.st.Claims["software_id"], &sr.softwareID); err != nil || sr.softwareID == "" {
		return nil, nil, Errorf(CodeInvalidSoftwareStatement, "software_statement has no software_id claim, which a signed request's iss must equal")
	}
	if sr.kid, err = t.trust.VerifyRequest(ctx, compact, keys); err != nil {
		return nil, nil, err
	}
	if err := sr.checkClaims(obj, issuer, *t.statements, r.now()); err != nil {
		return nil, nil, err
	}
	for _, c := range jwtClaims {
		delete(obj, c)
	}
	vs.request = sr
	return obj, vs, nil
}

// signedStatement verifies the statement of a signed request's payload.
// On an update (c set) the statement must be the client's, and only its
// signature is checked again: its times and jti were checked, and the jti
// spent, when the client registered.
func (r *Registrar) signedStatement(ctx context.Context, t *tenant, obj map[string]json.RawMessage, c *Client) (*verifiedStatement, error) {
	var compact string
	if raw, ok := obj["software_statement"]; !ok || json.Unmarshal(raw, &compact) != nil || compact == "" {
		return nil, Errorf(CodeInvalidSoftwareStatement, "a signed request must carry a software_statement, whose claims name the keys that sign the request")
	}
	if c == nil {
		vs, err := r.verifyStatement(ctx, t, compact)
		if err != nil {
			r.observeStatement(ctx, t, err)
		}
		return vs, err
	}
	if compact != c.Metadata.SoftwareStatement {
		return nil, Errorf(CodeInvalidSoftwareStatement, "an update must send the client's software_statement unchanged; register again with a new statement")
	}
	st, err := t.trust.Verify(ctx, compact)
	if err != nil {
		return nil, err
	}
	return &verifiedStatement{raw: compact, st: st}, nil
}

// checkClaims checks the request's aud (the tenant's issuer), iss (the
// statement's software_id), times and jti.
func (sr *signedRequest) checkClaims(c map[string]json.RawMessage, issuer string, s StatementSettings, now time.Time) error {
	var aud []string
	if v, ok := c["aud"]; ok {
		var one string
		if json.Unmarshal(v, &one) == nil {
			aud = []string{one}
		} else if json.Unmarshal(v, &aud) != nil {
			return requestJWT.errorf("has an aud claim that is neither a string nor an array of strings")
		}
	}
	if !slices.Contains(aud, issuer) {
		return requestJWT.errorf("is not addressed to this server: its aud must be %q", issuer)
	}
	var iss string
	if v, ok := c["iss"]; !ok || json.Unmarshal(v, &iss) != nil || iss != sr.softwareID {
		return requestJWT.errorf("must have the software statement's software_id, %q, as its iss", truncate(sr.softwareID, 64))
	}
	var err error
	sr.jti, sr.markUntil, err = requestJWT.check(c, s, now)
	return err
}

// markRequest spends the jti of the signed request that carried vs, if
// any, for every replica; a jti seen before is a replay.
func (r *Registrar) markRequest(ctx context.Context, t *tenant, vs *verifiedStatement) error {
	if vs == nil || vs.request == nil || vs.request.jti == "" {
		return nil
	}
	sr := vs.request
	if r.replay == nil {
		return serverError("internal server error", errors.New("a signed request has a jti but the Registrar has no replay cache"))
	}
	fresh, err := r.replay.Mark(ctx, t.name, sr.markKey(), sr.markUntil)
	if err != nil {
		return storeError("mark signed request jti", err)
	}
	if !fresh {
		return requestJWT.errorf("has been used before (its jti is single use)")
	}
	return nil
}

// markKey is the replay cache key of the signed request's jti.
func (sr *signedRequest) markKey() string {
	return "signed_request:" + sr.softwareID + "\x00" + sr.jti
}

// profileStatement returns the profile's claims of a statement; nil when
// the tenant's profile has no checks or there is no statement.
func (t *tenant) profileStatement(vs *verifiedStatement) (*statementClaims, error) {
	if vs == nil || t.profile.Name == "" || t.profile.Name == ProfileRFC7591 {
		return nil, nil
	}
	sc, err := readStatementClaims(t.profile, vs.st.Claims)
	if err != nil {
		return nil, err
	}
	return &sc, nil
}

// storedStatement verifies again the signature of a client's statement,
// for the profile's checks of an update; nil when the tenant's profile
// has no checks or the client has no statement.
func (r *Registrar) storedStatement(ctx context.Context, t *tenant, stored string) (*verifiedStatement, error) {
	if stored == "" || t.trust == nil || t.profile.Name == "" || t.profile.Name == ProfileRFC7591 {
		return nil, nil
	}
	st, err := t.trust.Verify(ctx, stored)
	if err != nil {
		return nil, err
	}
	return &verifiedStatement{raw: stored, st: st}, nil
}

// requestSigningAlgs are the algorithms of the signed requests the tenant
// takes, for discovery; nil when it takes none.
func (t *tenant) requestSigningAlgs() []string {
	if t.statements == nil {
		return nil
	}
	return slices.Clone(t.statements.Algorithms)
}
