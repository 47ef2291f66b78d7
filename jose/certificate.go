package jose

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// CertificateKeys matches the self-signed TLS certificates of clients that
// registered self_signed_tls_client_auth (RFC 8705 §2.2) with their
// registered keys. A key matches when it is not for encryption (use enc)
// and either its x5c's first certificate is the client's certificate, byte
// for byte, or, for a key without x5c, it is the certificate's public key:
// the TLS handshake proved that the client holds its private key.
// It implements oauth.CertificateKeys.
type CertificateKeys struct {
	// KeySets fetches the sets of clients that registered a jwks_uri; a
	// set without a match is fetched again once (rate-limited by
	// KeySets), so that a client can rotate its certificate. Default nil:
	// such clients cannot authenticate with a certificate.
	KeySets *KeySets
}

// MatchCertificate returns nil when leaf matches a key of the set given by
// value (jwks) or by reference (jwksURI), and an error saying why not
// otherwise.
func (c CertificateKeys) MatchCertificate(ctx context.Context, jwks json.RawMessage, jwksURI string, leaf *x509.Certificate) error {
	switch {
	case len(jwks) > 0:
		set, err := jwk.Parse(jwks)
		if err != nil {
			return fmt.Errorf("the registered jwks cannot be parsed: %v", err)
		}
		if !matchSet(set, leaf) {
			return errors.New("no key of the registered jwks matches the certificate")
		}
		return nil
	case jwksURI == "":
		return errors.New("the client registered no keys (jwks or jwks_uri)")
	case c.KeySets == nil:
		return errors.New("the client registered a jwks_uri, and this server fetches no key sets")
	}
	set, err := c.KeySets.Get(ctx, jwksURI)
	if err == nil && matchSet(set, leaf) {
		return nil
	}
	if set, err = c.KeySets.Refetch(ctx, jwksURI); err != nil {
		return fmt.Errorf("jwks_uri: %w", err)
	}
	if !matchSet(set, leaf) {
		return errors.New("no key of the set at the registered jwks_uri matches the certificate")
	}
	return nil
}

func matchSet(set jwk.Set, leaf *x509.Certificate) bool {
	for i := range set.Len() {
		if key, ok := set.Key(i); ok && matchKey(key, leaf) {
			return true
		}
	}
	return false
}

func matchKey(key jwk.Key, leaf *x509.Certificate) bool {
	if key.KeyUsage() == string(jwk.ForEncryption) {
		return false
	}
	if chain := key.X509CertChain(); chain != nil && chain.Len() > 0 {
		first, _ := chain.Get(0)
		der, err := base64.StdEncoding.DecodeString(string(first))
		return err == nil && bytes.Equal(der, leaf.Raw)
	}
	var raw any
	if err := key.Raw(&raw); err != nil {
		return false
	}
	pub, ok := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(raw)
}
