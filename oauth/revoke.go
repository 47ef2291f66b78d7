package oauth

import (
	"context"
	"errors"

	"github.com/registrar-dev/registrar/engine"
)

// RevokeRequest is a request to the revocation endpoint (RFC 7009 §2.1).
// The caller authenticates as at the token endpoint.
type RevokeRequest struct {
	Tenant string
	Endpoints
	Credentials
	// Token is the token parameter; TokenTypeHint the token_type_hint
	// parameter, which is only a hint.
	Token         string
	TokenTypeHint string
	Request       RequestFacts
}

// Revoke serves the revocation endpoint. A client revokes only its own
// tokens: another client's is refused with unauthorized_client and stays
// active (RFC 7009 §2.1); an unknown, invalid or already inactive token
// is a success (§2.2).
func (s *Server) Revoke(ctx context.Context, req RevokeRequest) (err error) {
	defer func() { s.observed(req.Tenant, EndpointRevoke, "", err) }()
	settings, err := s.reg.Settings(req.Tenant)
	if err != nil {
		return err
	}
	who, err := s.authorize(ctx, req.Tenant, settings, &req.Credentials, req.Endpoints, req.Request)
	if err != nil {
		return err
	}
	if req.Token == "" {
		return engine.Errorf(engine.CodeInvalidRequest, "token is missing")
	}
	t, err := s.lookup(ctx, req.Tenant, req.Token)
	if err != nil || t == nil {
		return err
	}
	if t.ClientID != who.client.ID {
		return engine.Errorf(engine.CodeUnauthorizedClient, "the token was issued to another client")
	}
	if t.Digest == "" { // a JWT: no record to delete
		err = s.revokeJWT(ctx, t)
	} else if err = s.store.DeleteToken(ctx, req.Tenant, t.Digest); errors.Is(err, engine.ErrNotFound) {
		err = nil
	} else if err != nil {
		err = storeError("delete token", err)
	}
	if err != nil {
		return err
	}
	s.audit(ctx, engine.AuditEvent{
		Tenant: req.Tenant, Type: AuditTokenRevoked, Actor: "client:" + t.ClientID, ClientID: t.ClientID,
		TokenID: t.ID, RemoteIP: req.Request.RemoteIP,
	})
	return nil
}
