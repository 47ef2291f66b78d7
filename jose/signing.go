package jose

import (
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// The signing side: JWTs that Registrar signs with a tenant's keys (RFC
// 9068 access tokens), and the JWKs it publishes for them. Keys come and
// go as crypto types, so that no jwx type leaves this package.

// MaxJWTBytes bounds a JWT that VerifyJWT looks at.
const MaxJWTBytes = 16 << 10

// PublicJWK returns the JWK of a public key, with kid, alg and use "sig".
func PublicJWK(pub crypto.PublicKey, kid, alg string) (json.RawMessage, error) {
	k, err := jwk.FromRaw(pub)
	if err != nil {
		return nil, fmt.Errorf("jose: %w", err)
	}
	if ok, _ := jwk.IsPrivateKey(k); ok {
		return nil, errors.New("jose: PublicJWK was given a private key")
	}
	for name, v := range map[string]any{jwk.KeyIDKey: kid, jwk.AlgorithmKey: jwa.SignatureAlgorithm(alg), jwk.KeyUsageKey: "sig"} {
		if err := k.Set(name, v); err != nil {
			return nil, fmt.Errorf("jose: %w", err)
		}
	}
	return json.Marshal(k)
}

// SignJWT signs a JWT's claims (a JSON object) with key as a compact JWS
// whose protected header is alg, kid and typ.
func SignJWT(claims []byte, typ, kid, alg string, key crypto.Signer) (string, error) {
	h := jws.NewHeaders()
	if err := h.Set(jws.KeyIDKey, kid); err != nil {
		return "", fmt.Errorf("jose: %w", err)
	}
	if err := h.Set(jws.TypeKey, typ); err != nil {
		return "", fmt.Errorf("jose: %w", err)
	}
	b, err := jws.Sign(claims, jws.WithKey(jwa.SignatureAlgorithm(alg), key, jws.WithProtectedHeaders(h)))
	if err != nil {
		return "", fmt.Errorf("jose: sign: %w", err)
	}
	return string(b), nil
}

// PublicKeys finds the key a JWT names by its kid: the key and the one
// algorithm it verifies.
type PublicKeys func(kid string) (alg string, key crypto.PublicKey, ok bool)

// VerifyJWT checks a compact JWS that Registrar signed: its typ must be
// typ, its kid one of keys, its alg that key's algorithm, and its
// signature good. It returns the claims, unchecked.
func VerifyJWT(compact, typ string, keys PublicKeys) ([]byte, error) {
	if len(compact) > MaxJWTBytes || strings.Count(compact, ".") != 2 {
		return nil, errors.New("not a compact JWS")
	}
	msg, err := jws.Parse([]byte(compact))
	if err != nil {
		return nil, fmt.Errorf("malformed JWS: %w", err)
	}
	sigs := msg.Signatures()
	if len(sigs) != 1 {
		return nil, errors.New("not one signature")
	}
	h := sigs[0].ProtectedHeaders()
	if h.Type() != typ {
		return nil, fmt.Errorf("typ %q, want %q", h.Type(), typ)
	}
	if len(h.Critical()) > 0 {
		return nil, errors.New("the header has crit")
	}
	alg, key, ok := keys(h.KeyID())
	if !ok {
		return nil, fmt.Errorf("unknown kid %q", h.KeyID())
	}
	if h.Algorithm().String() != alg {
		return nil, fmt.Errorf("alg %q, but key %q is for %s", h.Algorithm(), h.KeyID(), alg)
	}
	payload, err := jws.Verify([]byte(compact), jws.WithKey(jwa.SignatureAlgorithm(alg), key))
	if err != nil {
		return nil, fmt.Errorf("bad signature: %w", err)
	}
	return payload, nil
}

// ParsePublicJWK returns the public key of a JWK.
func ParsePublicJWK(raw json.RawMessage) (crypto.PublicKey, error) {
	k, err := jwk.ParseKey(raw)
	if err != nil {
		return nil, fmt.Errorf("jose: %w", err)
	}
	if ok, _ := jwk.IsPrivateKey(k); ok {
		return nil, errors.New("jose: the JWK is a private key")
	}
	var pub any
	if err := k.Raw(&pub); err != nil {
		return nil, fmt.Errorf("jose: %w", err)
	}
	return pub, nil
}
