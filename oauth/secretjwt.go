package oauth

import (
	"context"
	"errors"
	"fmt"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/seal"
)

// verifiesSecretJWT reports whether this server can verify
// client_secret_jwt: it parses assertions, and it has the key-encryption
// keys that open the sealed secrets.
func (s *Server) verifiesSecretJWT() bool {
	return s.assertions != nil && s.kek != nil
}

// checkSecretJWT authenticates a client registered with client_secret_jwt
// (RFC 7523 §2.2 and §3, OpenID Connect Core §9): the assertion's MAC with
// the client's secret, opened from its sealed copy, under an HMAC alg the
// tenant and the client allow; then the claims and the single use of the
// jti exactly as for private_key_jwt. An *engine.Error it returns (the
// store failing) is the answer; any other error is a cause of
// invalid_client.
func (s *Server) checkSecretJWT(ctx context.Context, tenant string, c *engine.Client, p presented, cr *Credentials, audiences []string) error {
	if p != presentedAssertion {
		return errors.New("registered client_secret_jwt, presented another method")
	}
	if !s.verifiesSecretJWT() {
		return errors.New("this server verifies no client_secret_jwt assertions (it needs jose.Assertions and a key-encryption key)")
	}
	secret, err := s.openSecret(tenant, c)
	if err != nil {
		return err
	}
	algs, err := s.assertionAlgs(tenant, c)
	if err != nil {
		return err
	}
	claims, err := s.assertions.VerifySecret(cr.Assertion, secret, algs)
	clear(secret)
	if err != nil {
		return fmt.Errorf("client assertion: %w", err)
	}
	if err := s.acceptAssertion(ctx, tenant, c, claims, audiences); err != nil {
		return err
	}
	s.reseal(ctx, tenant, c)
	return nil
}

// openSecret opens a client's sealed secret, bound to its tenant and ID.
func (s *Server) openSecret(tenant string, c *engine.Client) ([]byte, error) {
	if c.SecretSealed == "" {
		return nil, errors.New("the client has no sealed secret (it was registered while its tenant kept secrets hashed only; an RFC 7592 update to client_secret_jwt issues one)")
	}
	secret, err := s.kek.Open(c.SecretSealed, engine.SecretContext(tenant, c.ID))
	if err != nil {
		return nil, fmt.Errorf("the sealed client secret: %w", err)
	}
	return secret, nil
}

// reseal seals a client's secret again under the key that seals now, when
// an older key sealed it, so that once the clients have authenticated the
// older key can be removed (docs/tokens.md). It runs after a successful
// authentication, at most once per client and key rotation; a failure is
// logged and retried at the next authentication.
func (s *Server) reseal(ctx context.Context, tenant string, c *engine.Client) {
	kid, err := seal.KeyID(c.SecretSealed)
	if err != nil || kid == s.kek.Primary() {
		return
	}
	bound := engine.SecretContext(tenant, c.ID)
	secret, err := s.kek.Open(c.SecretSealed, bound)
	if err != nil {
		return
	}
	sealed, err := s.kek.Seal(secret, bound)
	clear(secret)
	if err != nil {
		s.log.WarnContext(ctx, "cannot seal a client secret again under the current key-encryption key", "tenant", tenant, "client_id", c.ID, "err", err)
		return
	}
	old := c.SecretSealed
	_, err = s.clients.UpdateClient(ctx, tenant, c.ID, func(cur *engine.Client) error {
		if cur.SecretSealed != old {
			return errResealed
		}
		cur.SecretSealed = sealed
		return nil
	})
	switch {
	case err == nil:
		s.log.InfoContext(ctx, "client secret sealed again under the current key-encryption key", "tenant", tenant, "client_id", c.ID, "from", kid, "to", s.kek.Primary())
	case !errors.Is(err, errResealed) && !errors.Is(err, engine.ErrNotFound):
		s.log.WarnContext(ctx, "cannot store a client secret sealed again", "tenant", tenant, "client_id", c.ID, "err", err)
	}
}

// errResealed aborts a reseal whose client changed meanwhile: another
// request resealed it, or an update replaced its secret.
var errResealed = errors.New("the sealed secret changed meanwhile")
