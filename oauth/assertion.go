package oauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/jose"
)

// AssertionClockSkew is how far the clocks of a client and of this server
// may disagree: an assertion is accepted up to this long after its exp,
// with an iat or nbf up to this long in the future, and with an exp up to
// this long beyond client_assertion_max_lifetime.
const AssertionClockSkew = 30 * time.Second

// maxAssertionID bounds a jti, which becomes part of a store key.
const maxAssertionID = 256

// assertionClientID finds the client an assertion claims to come from,
// before its signature can be checked (RFC 7523 §3): its sub, which its
// iss must equal, and the client_id parameter too when it is sent. Every
// failure is invalid_client.
func assertionClientID(cr *Credentials) (string, error) {
	c, err := jose.UnverifiedClaims(cr.Assertion)
	if err != nil {
		return "", errAuthFailed(fmt.Errorf("client assertion: %w", err))
	}
	switch {
	case c.Subject == "":
		return "", errAuthFailed(errors.New("client assertion: no sub claim"))
	case c.Issuer != c.Subject:
		return "", errAuthFailed(fmt.Errorf("client assertion: iss %q differs from sub %q; both must be the client_id", truncate(c.Issuer), truncate(c.Subject)))
	case cr.ClientID != "" && cr.ClientID != c.Subject:
		return "", errAuthFailed(fmt.Errorf("client assertion: sub %q differs from the client_id parameter %q", truncate(c.Subject), truncate(cr.ClientID)))
	}
	return c.Subject, nil
}

// unverifiedSubject is an assertion's sub before its signature is
// checked, "" when there is none: the client the request claims to be,
// for the lockout and the audit log.
func unverifiedSubject(assertion string) string {
	if assertion == "" {
		return ""
	}
	claims, err := jose.UnverifiedClaims(assertion)
	if err != nil {
		return ""
	}
	return claims.Subject
}

// checkPrivateKeyJWT authenticates a client registered with
// private_key_jwt (RFC 7523 §2.2 and §3, OpenID Connect Core §9): the
// assertion's signature with the client's keys and an allowed alg, its
// claims, and that its jti is used once. An *engine.Error it returns (the
// store failing) is the answer; any other error is a cause of
// invalid_client.
func (s *Server) checkPrivateKeyJWT(ctx context.Context, tenant string, c *engine.Client, p presented, cr *Credentials, audiences []string) error {
	if p != presentedAssertion {
		return errors.New("registered private_key_jwt, presented another method")
	}
	if s.assertions == nil {
		return errors.New("this server verifies no client assertions (no jose.Assertions configured)")
	}
	algs, err := s.assertionAlgs(tenant, c)
	if err != nil {
		return err
	}
	keys := jose.ClientKeys{JWKS: c.Metadata.JWKS, JWKSURI: c.Metadata.JWKSURI}
	claims, err := s.assertions.Verify(ctx, cr.Assertion, keys, algs)
	if err != nil {
		return fmt.Errorf("client assertion: %w", err)
	}
	return s.acceptAssertion(ctx, tenant, c, claims, audiences)
}

// acceptAssertion finishes the authentication of a client by an assertion
// whose signature or MAC verified (private_key_jwt, client_secret_jwt):
// its claims, the registration's (and so the secret's) expiry, and that
// its jti is used once, on every replica. An *engine.Error it returns (the
// store failing) is the answer; any other error is a cause of
// invalid_client.
func (s *Server) acceptAssertion(ctx context.Context, tenant string, c *engine.Client, claims *jose.Claims, audiences []string) error {
	if err := s.checkAssertionClaims(tenant, c.ID, claims, audiences); err != nil {
		return fmt.Errorf("client assertion: %w", err)
	}
	if !c.ExpiresAt.IsZero() && !s.now().Before(c.ExpiresAt) {
		return errors.New("the registration (and its client secret, if any) has expired")
	}
	until := claims.ExpiresAt.Add(AssertionClockSkew)
	fresh, err := s.store.Mark(ctx, tenant, "assertion:"+c.ID+":"+claims.ID, until)
	if err != nil {
		return storeError("mark client assertion", err)
	}
	if !fresh {
		return fmt.Errorf("client assertion: replayed: jti %q was used before", truncate(claims.ID))
	}
	return nil
}

// assertionAlgs are the algorithms a client's assertion may use: the
// tenant's token_endpoint_auth_signing_alg_values_supported, narrowed to
// the client's token_endpoint_auth_signing_alg when it registered one.
func (s *Server) assertionAlgs(tenant string, c *engine.Client) ([]string, error) {
	caps, err := s.reg.Capabilities(tenant)
	if err != nil {
		return nil, err
	}
	algs := caps.TokenEndpointAuthSigningAlgs
	if reg := c.Metadata.TokenEndpointAuthSigningAlg; reg != "" {
		if !slices.Contains(algs, reg) {
			return nil, fmt.Errorf("the tenant no longer supports the client's token_endpoint_auth_signing_alg %s", reg)
		}
		algs = []string{reg}
	}
	return algs, nil
}

// checkAssertionClaims checks the claims of a verified assertion (RFC 7523
// §3): iss and sub are the client, aud names this server, exp is present
// and near, iat and nbf are not in the future, and jti is present.
func (s *Server) checkAssertionClaims(tenant, clientID string, c *jose.Claims, audiences []string) error {
	if c.Issuer != clientID || c.Subject != clientID {
		return fmt.Errorf("iss %q and sub %q must both be the client_id", truncate(c.Issuer), truncate(c.Subject))
	}
	if !audienceMatches(c.Audience, audiences) {
		return fmt.Errorf("aud %q names neither the issuer nor this endpoint (want one of %s)", truncate(strings.Join(c.Audience, " ")), strings.Join(audiences, ", "))
	}
	if err := s.checkAssertionTimes(tenant, c); err != nil {
		return err
	}
	switch {
	case c.ID == "":
		return errors.New("no jti claim; one is required to make the assertion single-use")
	case len(c.ID) > maxAssertionID:
		return fmt.Errorf("the jti is longer than %d bytes", maxAssertionID)
	}
	return nil
}

// audienceMatches reports whether aud holds one of the non-empty values
// of want.
func audienceMatches(aud, want []string) bool {
	for _, w := range want {
		if w != "" && slices.Contains(aud, w) {
			return true
		}
	}
	return false
}

// checkAssertionTimes checks exp, iat and nbf against the clock, allowing
// AssertionClockSkew, and bounds exp by the tenant's
// client_assertion_max_lifetime, so that a jti need not be remembered long.
func (s *Server) checkAssertionTimes(tenant string, c *jose.Claims) error {
	settings, err := s.reg.Settings(tenant)
	if err != nil {
		return err
	}
	maxLife := settings.AccessTokens().AssertionMaxLifetime
	now := s.now()
	switch {
	case !c.HasExpiry:
		return errors.New("no exp claim")
	case !now.Before(c.ExpiresAt.Add(AssertionClockSkew)):
		return fmt.Errorf("expired at %s", c.ExpiresAt.Format(time.RFC3339))
	case c.ExpiresAt.After(now.Add(maxLife + AssertionClockSkew)):
		return fmt.Errorf("exp %s is more than client_assertion_max_lifetime (%s) ahead", c.ExpiresAt.Format(time.RFC3339), maxLife)
	case c.IssuedAt.After(now.Add(AssertionClockSkew)):
		return fmt.Errorf("iat %s is in the future", c.IssuedAt.Format(time.RFC3339))
	case c.NotBefore.After(now.Add(AssertionClockSkew)):
		return fmt.Errorf("nbf %s is in the future", c.NotBefore.Format(time.RFC3339))
	}
	return nil
}
