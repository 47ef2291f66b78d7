package oauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// GrantClientCredentials is the grant type of RFC 6749 §4.4, the one grant
// the token endpoint serves.
const GrantClientCredentials = "client_credentials"

// TokenRequest is a request to the token endpoint (RFC 6749 §4.4.2).
type TokenRequest struct {
	Tenant string
	Endpoints
	Credentials
	// GrantType is the grant_type parameter.
	GrantType string
	// Scope is the scope parameter; HasScope reports whether it was sent.
	Scope    string
	HasScope bool
	// Resources are the resource parameters (RFC 8707 §2).
	Resources []string
	Request   RequestFacts
}

// TokenResponse is the successful response of RFC 6749 §5.1.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope,omitempty"`
}

// grant is what the token endpoint decided to issue.
type grant struct {
	scope    []string
	audience []string
	lifetime time.Duration
	claims   map[string]json.RawMessage
	// x5t is the thumbprint of the certificate the token is bound to.
	x5t string
}

// Token serves the token endpoint: it authenticates the client, checks
// the grant, decides scope and audience, and issues an access token.
func (s *Server) Token(ctx context.Context, req TokenRequest) (resp *TokenResponse, err error) {
	var format engine.AccessTokenFormat
	defer func() { s.observed(req.Tenant, EndpointToken, format, err) }()
	settings, err := s.reg.Settings(req.Tenant)
	if err != nil {
		return nil, err
	}
	if err := checkGrantType(req.GrantType); err != nil {
		return nil, err
	}
	if err := s.admit(ctx, req.Tenant, settings, req.Request.RemoteIP); err != nil {
		return nil, err
	}
	id := s.cacheable(settings, &req.Credentials)
	if who := s.remembered(ctx, req, id); who != nil {
		resp, err := s.grant(ctx, req, settings, who, &format)
		if err == nil || serverFailure(err) || !errors.Is(err, errStale) && s.current(ctx, req.Tenant, settings, who) {
			return resp, err
		}
		// The remembered client is not the stored one, or is locked
		// out: the request is made again from the store.
		s.clientCache.forget(req.Tenant, who.client.ID)
		format = ""
	}
	who, err := s.authenticateClient(ctx, req.Tenant, settings, &req.Credentials, req.Endpoints, req.Request)
	if err != nil {
		return nil, err
	}
	if id != "" {
		s.remember(req.Tenant, who)
	}
	return s.grant(ctx, req, settings, who, &format)
}

// grant issues an access token to a client that authenticated, if its
// registration and the tenant's modules allow it; format is set to the
// token's format once the token is being issued.
func (s *Server) grant(ctx context.Context, req TokenRequest, settings engine.Settings, who *authenticated, format *engine.AccessTokenFormat) (*TokenResponse, error) {
	c := who.client
	if who.method == MethodNone || !slices.Contains(c.Metadata.GrantTypes, GrantClientCredentials) {
		return nil, engine.Errorf(engine.CodeUnauthorizedClient, "the client is not registered for the client_credentials grant")
	}
	if settings.IssueAccessToken.Off {
		return nil, engine.Errorf(engine.CodeUnauthorizedClient, "this tenant issues no access tokens")
	}
	g, err := s.decide(req, settings, c)
	if err != nil {
		return nil, err
	}
	if err := s.runHooks(ctx, req, settings, who, g); err != nil {
		return nil, err
	}
	*format = settings.AccessTokens().Format
	return s.issue(ctx, req, settings, who, g)
}

// checkGrantType refuses every grant but client_credentials.
func checkGrantType(gt string) error {
	switch gt {
	case GrantClientCredentials:
		return nil
	case "":
		return engine.Errorf(engine.CodeInvalidRequest, "grant_type is missing")
	}
	return engine.Errorf(engine.CodeUnsupportedGrantType, "grant_type %q is not supported; this server supports client_credentials", truncate(gt))
}

// decide computes the grant without hooks: the scope (RFC 6749 §3.3), the
// audience (RFC 8707, RFC 9068 §2.2) and the lifetime.
func (s *Server) decide(req TokenRequest, settings engine.Settings, c *engine.Client) (*grant, error) {
	allowed := allowedScope(settings, c)
	scope, err := grantedScope(req.Scope, req.HasScope, allowed)
	if err != nil {
		return nil, err
	}
	aud, err := audience(req, settings)
	if err != nil {
		return nil, err
	}
	x5t, err := certificateBinding(c, &req.Credentials)
	if err != nil {
		return nil, err
	}
	return &grant{scope: scope, audience: aud, lifetime: settings.AccessTokens().Lifetime, x5t: x5t}, nil
}

// allowedScope is what a client may ask for: its registered scope, or,
// when it registered none, the tenant's scopes_supported (which may be
// empty: then nothing).
func allowedScope(settings engine.Settings, c *engine.Client) []string {
	if c.Metadata.Scope != "" {
		return strings.Fields(c.Metadata.Scope)
	}
	return settings.ScopesSupported
}

// grantedScope checks the requested scope against the allowed one. No
// scope requested means all that is allowed; a value outside it fails the
// whole request (no silent narrowing).
func grantedScope(requested string, has bool, allowed []string) ([]string, error) {
	if !has {
		return slices.Clone(allowed), nil
	}
	values, err := parseScope(requested)
	if err != nil {
		return nil, err
	}
	for _, v := range values {
		if !slices.Contains(allowed, v) {
			return nil, engine.Errorf(engine.CodeInvalidScope, "scope %q is not among the scopes the client registered", truncate(v))
		}
	}
	return values, nil
}

// parseScope splits a scope parameter into its values, without
// duplicates: scope-tokens separated by single spaces (RFC 6749 §3.3).
func parseScope(s string) ([]string, error) {
	if s == "" {
		return nil, engine.Errorf(engine.CodeInvalidScope, "scope is empty")
	}
	var values []string
	for _, v := range strings.Split(s, " ") {
		if v == "" || strings.ContainsFunc(v, func(r rune) bool { return r < 0x21 || r == '"' || r == '\\' || r > 0x7E }) {
			return nil, engine.Errorf(engine.CodeInvalidScope, "scope is malformed: values are printable ASCII without \" or \\, separated by single spaces (RFC 6749 §3.3)")
		}
		if !slices.Contains(values, v) {
			values = append(values, v)
		}
	}
	return values, nil
}

// audience is the token's aud: the requested resources, each of which the
// tenant must allow (RFC 8707 §2), else the tenant's default audience,
// else its issuer.
func audience(req TokenRequest, settings engine.Settings) ([]string, error) {
	var aud []string
	for _, r := range req.Resources {
		if !slices.Contains(settings.Resources, r) {
			return nil, engine.Errorf(engine.CodeInvalidTarget, "resource %q is not a resource this tenant issues tokens for", truncate(r))
		}
		if !slices.Contains(aud, r) {
			aud = append(aud, r)
		}
	}
	switch {
	case len(aud) > 0:
		return aud, nil
	case settings.DefaultAudience != "":
		return []string{settings.DefaultAudience}, nil
	}
	return []string{req.Issuer}, nil
}

// issue makes the token in the tenant's format and stores what it must.
func (s *Server) issue(ctx context.Context, req TokenRequest, settings engine.Settings, who *authenticated, g *grant) (*TokenResponse, error) {
	now := s.now().Truncate(time.Second)
	jti, err := randomToken(s.rand, 16)
	if err != nil {
		return nil, err
	}
	t := &Token{
		Tenant: req.Tenant, ID: jti, ClientID: who.client.ID, ClientIssuedAt: who.client.IssuedAt,
		Subject: who.client.ID, Scope: strings.Join(g.scope, " "), Audience: g.audience,
		AuthMethod: who.method, IssuedAt: now, ExpiresAt: now.Add(g.lifetime), Claims: g.claims,
		CertThumbprint: g.x5t,
	}
	var value string
	switch format := settings.AccessTokens().Format; format {
	case engine.AccessTokenOpaque:
		value, err = s.issueOpaque(ctx, settings, who, t)
	case engine.AccessTokenJWT:
		value, err = s.issueJWT(ctx, req.Issuer, t)
	default:
		err = fmt.Errorf("access_token_format %s cannot be issued by this server", format)
	}
	if err != nil {
		return nil, err
	}
	return &TokenResponse{AccessToken: value, TokenType: "Bearer", ExpiresIn: int64(g.lifetime / time.Second), Scope: t.Scope}, nil
}

// issueOpaque makes a random token and stores its record under its
// digest; for a remembered client, only if the client is still the stored
// one and not locked out (clientcache.go), else errStale.
func (s *Server) issueOpaque(ctx context.Context, settings engine.Settings, who *authenticated, t *Token) (string, error) {
	value, err := randomToken(s.rand, 32)
	if err != nil {
		return "", err
	}
	t.Digest = engine.HashToken(value)
	if who.cached {
		marked, changed, err := s.clientTokens.PutTokenIf(ctx, t, who.record, s.lockKey(settings, t.ClientID))
		switch {
		case err != nil:
			return "", storeError("put token", err)
		case marked || changed:
			return "", errStale
		}
		return value, nil
	}
	if err := s.store.PutToken(ctx, t); err != nil {
		return "", storeError("put token", err)
	}
	return value, nil
}

// randomToken returns n random bytes, base64url without padding.
func randomToken(r io.Reader, n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", &engine.Error{Code: engine.CodeServerError, Description: "internal server error", Err: fmt.Errorf("randomness: %w", err)}
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// truncate shortens a value quoted in an error description.
func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// authFailed records a failed client authentication (an invalid_client
// error) of the client id claimed to be in the audit log.
func (s *Server) authFailed(ctx context.Context, tenant, id string, rf RequestFacts, err error) {
	e := engine.AsError(err)
	detail := "client authentication failed"
	if e.Err != nil {
		detail = e.Err.Error()
	}
	s.audit(ctx, engine.AuditEvent{
		Tenant: tenant, Type: AuditAuthFailed, Actor: "client:" + truncate(id), ClientID: truncate(id),
		Error: e.Code, Detail: detail, RemoteIP: rf.RemoteIP,
	})
}

// The audit event types of the authorization server.
const (
	// AuditAuthFailed: a client failed to authenticate.
	AuditAuthFailed = "client.authentication_failed"
	// AuditTokenRevoked: a client revoked one of its access tokens.
	AuditTokenRevoked = "access_token.revoked"
)
