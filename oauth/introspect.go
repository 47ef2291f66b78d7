package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/registrar-dev/registrar/engine"
)

// IntrospectRequest is a request to the introspection endpoint
// (RFC 7662 §2.1). The caller authenticates as at the token endpoint.
type IntrospectRequest struct {
	Tenant string
	Endpoints
	Credentials
	// Token is the token parameter; TokenTypeHint the token_type_hint
	// parameter, which is only a hint (§2.1).
	Token         string
	TokenTypeHint string
	Request       RequestFacts
}

// Introspection is the introspection response (RFC 7662 §2.2). Only
// Active is set when the token is not active.
type Introspection struct {
	Active    bool
	Token     *Token
	Issuer    string
	TokenType string
}

// MarshalJSON writes {"active":false}, or the active token's members and
// its extra claims.
func (in Introspection) MarshalJSON() ([]byte, error) {
	if !in.Active || in.Token == nil {
		return []byte(`{"active":false}`), nil
	}
	t := in.Token
	head, err := json.Marshal(struct {
		Active    bool     `json:"active"`
		ClientID  string   `json:"client_id"`
		Scope     string   `json:"scope,omitempty"`
		TokenType string   `json:"token_type"`
		Exp       int64    `json:"exp"`
		Iat       int64    `json:"iat"`
		Sub       string   `json:"sub"`
		Aud       []string `json:"aud,omitempty"`
		Iss       string   `json:"iss"`
		Jti       string   `json:"jti,omitempty"`
		Cnf       *cnf     `json:"cnf,omitempty"`
	}{
		Active: true, ClientID: t.ClientID, Scope: t.Scope, TokenType: in.TokenType,
		Exp: t.ExpiresAt.Unix(), Iat: t.IssuedAt.Unix(), Sub: t.Subject, Aud: t.Audience,
		Iss: in.Issuer, Jti: t.ID, Cnf: confirmation(t.CertThumbprint),
	})
	if err != nil || len(t.Claims) == 0 {
		return head, err
	}
	claims, err := json.Marshal(t.Claims)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Write(head[:len(head)-1])
	buf.WriteByte(',')
	buf.Write(claims[1:])
	return buf.Bytes(), nil
}

// cnf is the confirmation claim of a certificate-bound token (RFC 8705 §3.1).
type cnf struct {
	X5tS256 string `json:"x5t#S256"`
}

func confirmation(thumbprint string) *cnf {
	if thumbprint == "" {
		return nil
	}
	return &cnf{X5tS256: thumbprint}
}

// Introspect serves the introspection endpoint. A client may introspect
// its own tokens, and the tenant's resource servers every token of the
// tenant; to anyone else, as for an unknown, expired or revoked token,
// the answer is inactive.
func (s *Server) Introspect(ctx context.Context, req IntrospectRequest) (in *Introspection, err error) {
	defer func() { s.observed(req.Tenant, EndpointIntrospect, "", err) }()
	settings, err := s.reg.Settings(req.Tenant)
	if err != nil {
		return nil, err
	}
	who, err := s.authorize(ctx, req.Tenant, settings, &req.Credentials, req.Endpoints, req.Request)
	if err != nil {
		return nil, err
	}
	if who.method == MethodNone {
		// A public client proves nothing: RFC 7662 §2.1 wants the caller
		// authorised, and a resource server that is a public client would
		// open every token of the tenant to anyone who knows its ID.
		return nil, errAuthFailed(fmt.Errorf("client %q is public (none): introspection needs client authentication", who.client.ID))
	}
	if req.Token == "" {
		return nil, engine.Errorf(engine.CodeInvalidRequest, "token is missing")
	}
	t, err := s.lookup(ctx, req.Tenant, req.Token)
	if err != nil || t == nil {
		return &Introspection{}, err
	}
	if t.ClientID != who.client.ID && !slices.Contains(settings.ResourceServers, who.client.ID) {
		return &Introspection{}, nil
	}
	return &Introspection{Active: true, Token: t, Issuer: req.Issuer, TokenType: "Bearer"}, nil
}

// lookup finds the live record of a token of the tenant: nil when the
// token is unknown, expired, revoked, or its client is gone or was
// registered again since.
func (s *Server) lookup(ctx context.Context, tenant, token string) (*Token, error) {
	if !engine.ValidBearerValue(token) {
		return nil, nil
	}
	if isJWT(token) {
		return s.lookupJWT(ctx, tenant, token)
	}
	t, err := s.store.Token(ctx, tenant, engine.HashToken(token))
	if errors.Is(err, engine.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, storeError("token", err)
	}
	if !s.now().Before(t.ExpiresAt) {
		return nil, nil
	}
	c, err := s.clients.Client(ctx, tenant, t.ClientID)
	if errors.Is(err, engine.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, storeError("client", err)
	}
	if !c.IssuedAt.Equal(t.ClientIssuedAt) {
		return nil, nil
	}
	return t, nil
}

// ClientOf returns the client a live access token of the tenant was
// issued to, or "" when the token is not one: what RFC 7592 management
// with client credentials (registration_management_auth) needs to know.
func (s *Server) ClientOf(ctx context.Context, tenant, token string) (string, error) {
	t, err := s.lookup(ctx, tenant, token)
	if err != nil || t == nil {
		return "", err
	}
	return t.ClientID, nil
}
