package engine

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// SecretStorage says how a tenant keeps its clients' secrets
// (Settings.ClientSecretStorage).
type SecretStorage string

// The client secret storages.
const (
	// SecretHashed keeps only a SHA-256 digest of each secret: a dump of
	// the store yields no usable secret, and client_secret_jwt, which
	// needs the secret as an HMAC key, cannot be offered. The default.
	SecretHashed SecretStorage = "hashed"
	// SecretEncrypted also keeps the secret of each client registered
	// with client_secret_jwt sealed (AES-256-GCM under the server's
	// key-encryption key, bound to the tenant and client_id), so that the
	// token endpoint can check the HMAC of its assertions. Other clients'
	// secrets stay hashed only.
	SecretEncrypted SecretStorage = "encrypted"
)

// MethodSecretJWT is the token_endpoint_auth_method that authenticates
// with an HMAC over the client secret (OpenID Connect Core §9).
const MethodSecretJWT = "client_secret_jwt"

// SecretJWTAlgs are the JWS algorithms of client_secret_jwt assertions,
// advertised in token_endpoint_auth_signing_alg_values_supported by
// tenants that offer it.
var SecretJWTAlgs = []string{"HS256", "HS384", "HS512"}

// SecretSealer seals the client secrets of tenants whose
// client_secret_storage is encrypted; *seal.Keys implements it. The
// engine only seals: the token endpoint opens.
type SecretSealer interface {
	// Seal encrypts plaintext bound to context (SecretContext); the
	// result is printable ASCII.
	Seal(plaintext, context []byte) (string, error)
}

// SecretContext is the additional data a client's sealed secret is bound
// to: the tenant and the client_id, so that a sealed secret copied to
// another client or tenant does not open.
func SecretContext(tenant, clientID string) []byte {
	return []byte("client_secret\x00" + tenant + "\x00" + clientID)
}

// compileSecretStorage checks client_secret_storage against
// token_endpoint_auth_methods_supported: client_secret_jwt is offered by
// default where secrets are encrypted, and cannot be offered elsewhere.
// It runs after compileSupported.
func (t *tenant) compileSecretStorage() error {
	s := t.settings
	switch s.ClientSecretStorage {
	case "", SecretHashed, SecretEncrypted:
	default:
		return fmt.Errorf("client_secret_storage %q: want hashed or encrypted", s.ClientSecretStorage)
	}
	jwt := slices.Contains(t.authMethods, MethodSecretJWT)
	switch {
	case !t.encryptsSecrets() && jwt:
		return errors.New("token_endpoint_auth_methods_supported: client_secret_jwt needs client_secret_storage encrypted (a secret kept only as a hash cannot key an HMAC)")
	case t.encryptsSecrets() && len(s.TokenEndpointAuthMethodsSupported) == 0:
		t.authMethods = append(slices.Clone(defaultAuthMethods), MethodSecretJWT)
	}
	t.authSigningAlgs = t.signingAlgs
	if slices.Contains(t.authMethods, MethodSecretJWT) {
		t.authSigningAlgs = append(slices.Clone(t.signingAlgs), SecretJWTAlgs...)
	}
	return nil
}

// encryptsSecrets reports whether the tenant keeps client_secret_jwt
// secrets sealed.
func (t *tenant) encryptsSecrets() bool {
	return t.settings.ClientSecretStorage == SecretEncrypted
}

// checkSealer refuses encrypted secret storage without a sealer: such a
// tenant could register no client_secret_jwt client.
func (r *Registrar) checkSealer(t *tenant) error {
	if t.encryptsSecrets() && r.secrets == nil {
		return errors.New("client_secret_storage is encrypted but this server has no key-encryption key to seal client secrets with (set --key-encryption-key-file or REGISTRAR_KEY_ENCRYPTION_KEY, or keep client_secret_storage hashed)")
	}
	return nil
}

// sealsSecret reports whether a client with metadata md keeps its secret
// sealed beside the digest: it authenticates with client_secret_jwt.
// Validation has made sure that its tenant encrypts secrets.
func (md Metadata) sealsSecret() bool {
	return md.TokenEndpointAuthMethod == MethodSecretJWT
}

// sealSecret seals secret for c, whose ID is set, when c authenticates
// with client_secret_jwt; it clears c's sealed secret otherwise.
func (r *Registrar) sealSecret(c *Client, secret string) error {
	c.SecretSealed = ""
	if secret == "" || !c.Metadata.sealsSecret() {
		return nil
	}
	if r.secrets == nil {
		return serverError("internal server error", errors.New("a client_secret_jwt client without a secret sealer"))
	}
	sealed, err := r.secrets.Seal([]byte(secret), SecretContext(c.Tenant, c.ID))
	if err != nil {
		return serverError("internal server error", fmt.Errorf("seal the client secret: %w", err))
	}
	c.SecretSealed = sealed
	return nil
}

// authSigningAlg reads token_endpoint_auth_signing_alg: an asymmetric
// algorithm of the tenant for private_key_jwt, an HMAC algorithm for
// client_secret_jwt, and nothing for the other methods.
func (v *validator) authSigningAlg() error {
	const name = "token_endpoint_auth_signing_alg"
	s, ok, err := v.m.str(name)
	if err != nil {
		return metadataError(err)
	}
	if !ok {
		return nil
	}
	switch v.md.TokenEndpointAuthMethod {
	case MethodSecretJWT:
		if !slices.Contains(SecretJWTAlgs, s) {
			return invalid("%s %q does not fit client_secret_jwt, an HMAC over the client secret; use one of: %s", name, truncate(s, 32), strings.Join(SecretJWTAlgs, ", "))
		}
	default:
		if !slices.Contains(v.t.signingAlgs, s) {
			return invalid("%s %q is not supported; use one of: %s", name, truncate(s, 32), strings.Join(v.t.signingAlgs, ", "))
		}
		if v.md.TokenEndpointAuthMethod != "private_key_jwt" {
			return invalid("%s must not be provided unless token_endpoint_auth_method is private_key_jwt or client_secret_jwt", name)
		}
	}
	v.md.TokenEndpointAuthSigningAlg = s
	return nil
}

// secretJWTRefused explains why a tenant refuses client_secret_jwt, or
// returns nil when it offers it (or its list decides).
func (v *validator) secretJWTRefused() error {
	if s, _, _ := v.m.str("token_endpoint_auth_method"); s == MethodSecretJWT && !v.t.encryptsSecrets() {
		return invalid("token_endpoint_auth_method client_secret_jwt is not supported by this tenant: it keeps client secrets only as hashes, which cannot key an HMAC (its client_secret_storage is not encrypted)")
	}
	return nil
}

// needsNewSecret reports whether an update to metadata md must issue
// client c a secret: c has none and md needs one, or md authenticates
// with client_secret_jwt and c's secret is kept only as a digest (it was
// registered with another method), which cannot key an HMAC.
func needsNewSecret(md Metadata, c *Client) bool {
	if !md.needsSecret() {
		return false
	}
	return c.SecretHash == "" || md.sealsSecret() && c.SecretSealed == ""
}

// sealFor seals secret for client c as it will be after an update to
// metadata md; "" when md keeps no sealed secret.
func (r *Registrar) sealFor(c *Client, md Metadata, secret string) (string, error) {
	next := Client{Tenant: c.Tenant, ID: c.ID, Metadata: md}
	if err := r.sealSecret(&next, secret); err != nil {
		return "", err
	}
	return next.SecretSealed, nil
}

// applySecret sets the secret of cur, the client as the store has it, for
// the update: none when the metadata needs none, the new one when cur
// still needs it, and otherwise the one cur has, whose sealed copy goes
// when the client leaves client_secret_jwt. A client that another update
// changed so that the prepared secret no longer fits is a conflict.
func (ch *clientChange) applySecret(cur *Client) error {
	lacks := needsNewSecret(ch.md, cur)
	switch {
	case !ch.md.needsSecret():
		cur.SecretHash, cur.SecretSealed = "", ""
	case lacks && ch.newSecret != "":
		cur.SecretHash, cur.SecretSealed, ch.issued = HashToken(ch.newSecret), ch.sealed, ch.newSecret
	case lacks:
		return Errorf(CodeConflict, "the client changed during the update; retry")
	case !ch.md.sealsSecret():
		cur.SecretSealed = ""
	}
	return nil
}
