package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"
)

// AccessTokenFormat is the form of a tenant's access tokens.
type AccessTokenFormat string

// The access token formats.
const (
	// AccessTokenOpaque: a random string; the store keeps only its digest,
	// and resource servers learn what it means by introspection (RFC 7662).
	AccessTokenOpaque AccessTokenFormat = "opaque"
	// AccessTokenJWT: a JWT signed with the tenant's keys (RFC 9068) that
	// resource servers can check on their own.
	AccessTokenJWT AccessTokenFormat = "jwt"
)

// ManagementAuth says what authorises RFC 7592 management of a client.
type ManagementAuth string

// The management authorisations.
const (
	// ManagementByRegistrationToken: the client's registration access
	// token (RFC 7592 §1). The default.
	ManagementByRegistrationToken ManagementAuth = "registration_access_token"
	// ManagementByClientCredentials: an access token that the client got
	// from the token endpoint with the client_credentials grant.
	ManagementByClientCredentials ManagementAuth = "client_credentials"
	// ManagementByEither: either of the two.
	ManagementByEither ManagementAuth = "either"
)

// Bounds of the token settings.
const (
	// DefaultAccessTokenLifetime is the lifetime of an access token when the
	// tenant sets none.
	DefaultAccessTokenLifetime = time.Hour
	// MaxAccessTokenLifetime bounds access_token_lifetime: a bearer token
	// that lives longer than a day is a credential, not a token.
	MaxAccessTokenLifetime = 24 * time.Hour
	// DefaultClientAssertionMaxLifetime bounds how far ahead a client
	// assertion's exp may be when the tenant sets no bound.
	DefaultClientAssertionMaxLifetime = 10 * time.Minute
	// maxClientAssertionLifetime bounds client_assertion_max_lifetime: the
	// replay cache keeps every assertion's jti until its exp.
	maxClientAssertionLifetime = time.Hour
)

// AccessTokenSettings are a tenant's token endpoint settings with their
// defaults filled in.
type AccessTokenSettings struct {
	Format               AccessTokenFormat
	SigningAlg           string
	Lifetime             time.Duration
	ManagementAuth       ManagementAuth
	AssertionMaxLifetime time.Duration
}

// AccessTokens returns the token endpoint settings with their defaults.
func (s Settings) AccessTokens() AccessTokenSettings {
	a := AccessTokenSettings{
		Format: s.AccessTokenFormat, Lifetime: time.Duration(s.AccessTokenLifetime),
		ManagementAuth: s.RegistrationManagementAuth, AssertionMaxLifetime: time.Duration(s.ClientAssertionMaxLifetime),
	}
	if a.Format == "" {
		a.Format = AccessTokenOpaque
	}
	if a.SigningAlg = s.AccessTokenSigningAlg; a.SigningAlg == "" {
		a.SigningAlg = "RS256"
	}
	if a.Lifetime == 0 {
		a.Lifetime = DefaultAccessTokenLifetime
	}
	if a.ManagementAuth == "" {
		a.ManagementAuth = ManagementByRegistrationToken
	}
	if a.AssertionMaxLifetime == 0 {
		a.AssertionMaxLifetime = DefaultClientAssertionMaxLifetime
	}
	return a
}

// compileAccessTokens checks the token endpoint's settings.
func (t *tenant) compileAccessTokens() error {
	s := t.settings
	switch s.AccessTokenFormat {
	case "", AccessTokenOpaque, AccessTokenJWT:
	default:
		return fmt.Errorf("access_token_format %q: want opaque or jwt", s.AccessTokenFormat)
	}
	switch s.AccessTokenSigningAlg {
	case "", "RS256", "ES256":
	default:
		return fmt.Errorf("access_token_signing_alg %q: want RS256 or ES256", s.AccessTokenSigningAlg)
	}
	switch s.RegistrationManagementAuth {
	case "", ManagementByRegistrationToken, ManagementByClientCredentials, ManagementByEither:
	default:
		return fmt.Errorf("registration_management_auth %q: want registration_access_token, client_credentials or either", s.RegistrationManagementAuth)
	}
	if err := checkLifetime("access_token_lifetime", s.AccessTokenLifetime, MaxAccessTokenLifetime); err != nil {
		return err
	}
	if err := checkLifetime("client_assertion_max_lifetime", s.ClientAssertionMaxLifetime, maxClientAssertionLifetime); err != nil {
		return err
	}
	return t.checkAudiences()
}

// checkLifetime checks a lifetime's bounds; zero means the default.
func checkLifetime(field string, d Duration, maxLife time.Duration) error {
	switch v := time.Duration(d); {
	case v != 0 && v < time.Second:
		return fmt.Errorf("%s must be at least one second", field)
	case v > maxLife:
		return fmt.Errorf("%s must be at most %s", field, maxLife)
	}
	return nil
}

// checkAudiences checks resources, default_audience and resource_servers.
func (t *tenant) checkAudiences() error {
	s := t.settings
	for _, r := range s.Resources {
		if err := checkResource(r); err != nil {
			return fmt.Errorf("resources: %w", err)
		}
	}
	if s.DefaultAudience != "" && len(s.DefaultAudience) > 2048 {
		return errors.New("default_audience is longer than 2048 bytes")
	}
	for _, id := range s.ResourceServers {
		if id == "" || len(id) > 255 {
			return errors.New("resource_servers: a client ID must be 1 to 255 bytes")
		}
	}
	return nil
}

// checkResource checks an RFC 8707 resource indicator: an absolute URI
// without a fragment (§2).
func checkResource(r string) error {
	u, err := url.Parse(r)
	if err != nil || !u.IsAbs() || u.Fragment != "" || len(r) > 2048 {
		return fmt.Errorf("%q is not an absolute URI without a fragment (RFC 8707 §2)", r)
	}
	return nil
}

// AccessTokenInput is what an issue_access_token hook receives: the
// token request as the token endpoint has judged it so far.
type AccessTokenInput struct {
	Tenant   string   `json:"tenant"`
	ClientID string   `json:"client_id"`
	Metadata Metadata `json:"metadata"`
	// GrantType is the grant of the request ("client_credentials").
	GrantType string `json:"grant_type"`
	// AuthMethod is how the client authenticated, a
	// token_endpoint_auth_method value.
	AuthMethod string `json:"auth_method"`
	// RequestedScope is the scope parameter split into values; empty when
	// the request named none.
	RequestedScope []string `json:"requested_scope"`
	// AllowedScope is the scope the client registered.
	AllowedScope []string `json:"allowed_scope"`
	// Scope is what the endpoint grants unless the hook narrows it.
	Scope []string `json:"scope"`
	// Resources are the request's RFC 8707 resource parameters.
	Resources []string `json:"resources"`
	// Audience is what the token's aud will be unless the hook changes it.
	Audience []string `json:"audience"`
	// Lifetime is the token's lifetime in seconds unless the hook
	// shortens it; also the most it may grant.
	Lifetime int64 `json:"lifetime"`
	// Policies are the modules the client's tokens named (carried on the
	// client record), in order.
	Policies []string     `json:"policies"`
	Request  RequestFacts `json:"request"`
	// Claims are the claims earlier hooks of the request set; a hook
	// may not set one of them again.
	Claims map[string]json.RawMessage `json:"claims,omitempty"`
	// Config is the module's entry in the tenant's policy_config.
	Config json.RawMessage `json:"config,omitempty"`
}

// AccessTokenOutput is what an issue_access_token hook returns when it
// allows the token. A nil field keeps the input's value.
type AccessTokenOutput struct {
	// Scope, when non-nil, is the granted scope: a subset of the input's
	// Scope.
	Scope []string
	// Audience, when non-nil, replaces the audience.
	Audience []string
	// Lifetime, when positive, is the token's lifetime in seconds: at most
	// the input's Lifetime.
	Lifetime int64
	// Claims are extra claims of the token (JWT claims, or members of the
	// introspection response); a reserved name is refused (see
	// ReservedClaim).
	Claims map[string]json.RawMessage
	// Version is the digest of the module version that ran.
	Version string
}

// reservedClaims are the claim names an issue_access_token hook may not
// set: those of RFC 7519, RFC 9068 and RFC 7662 whose values the token
// endpoint decides.
var reservedClaims = []string{
	"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "client_id", "scope",
	"cnf", "token_type", "active", "username", "auth_time", "acr", "amr",
}

// ReservedClaim reports whether a hook may not set the claim name.
func ReservedClaim(name string) bool { return slices.Contains(reservedClaims, name) }
