package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// SigningKey is a client's private key, the JWS algorithm it signs with
// and its key ID: what the client side of private_key_jwt (RFC 7523 §2.2)
// needs.
type SigningKey struct {
	// Signer is an *rsa.PrivateKey, *ecdsa.PrivateKey or
	// ed25519.PrivateKey.
	Signer crypto.Signer
	// Alg is the JWS algorithm (RFC 7518 §3.1, RFC 8037): RS256, RS384,
	// RS512, PS256, PS384 or PS512 for RSA; ES256, ES384 or ES512 for the
	// EC key of the matching curve; EdDSA for Ed25519.
	Alg string
	// KeyID is the kid of the JWS header; empty for none.
	KeyID string
}

// GeneratedRSABits is the modulus length of the RSA keys GenerateKey makes.
const GeneratedRSABits = 3072

// GenerateKey makes a new key pair for the JWS algorithm alg (ES256 by
// default: P-256; ES384, ES512: P-384, P-521; RS* and PS*: RSA of
// GeneratedRSABits; EdDSA: Ed25519). Its KeyID is its RFC 7638 thumbprint.
func GenerateKey(alg string) (SigningKey, error) {
	if alg == "" {
		alg = "ES256"
	}
	var signer crypto.Signer
	var err error
	switch {
	case alg == "ES256":
		signer, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case alg == "ES384":
		signer, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case alg == "ES512":
		signer, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case alg == "EdDSA":
		_, signer, err = ed25519.GenerateKey(rand.Reader)
	case slices.Contains(rsaAlgs, alg):
		signer, err = rsa.GenerateKey(rand.Reader, GeneratedRSABits)
	default:
		return SigningKey{}, fmt.Errorf("unsupported algorithm %q; want one of %s", alg, strings.Join(signingAlgs, ", "))
	}
	if err != nil {
		return SigningKey{}, err
	}
	kid, err := Thumbprint(signer.Public())
	if err != nil {
		return SigningKey{}, err
	}
	return SigningKey{Signer: signer, Alg: alg, KeyID: kid}, nil
}

// rsaAlgs are the JWS algorithms of an RSA key, the default first.
var rsaAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}

// signingAlgs are every algorithm a SigningKey may have.
var signingAlgs = append(slices.Clone(rsaAlgs), "ES256", "ES384", "ES512", "EdDSA")

// algsFor returns the algorithms key can sign with, the default first.
func algsFor(key crypto.Signer) ([]string, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < MinRSABits {
			return nil, fmt.Errorf("RSA key of %d bits; at least %d are needed", k.N.BitLen(), MinRSABits)
		}
		return rsaAlgs, nil
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			return []string{"ES256"}, nil
		case elliptic.P384():
			return []string{"ES384"}, nil
		case elliptic.P521():
			return []string{"ES512"}, nil
		}
		return nil, errors.New("EC key on an unsupported curve; want P-256, P-384 or P-521")
	case ed25519.PrivateKey:
		return []string{"EdDSA"}, nil
	}
	return nil, fmt.Errorf("unsupported key type %T; want RSA, EC or Ed25519", key)
}

// ParseSigningKey reads a private key: PEM (PKCS#8 "PRIVATE KEY", PKCS#1
// "RSA PRIVATE KEY" or SEC 1 "EC PRIVATE KEY"; encrypted PEM is refused)
// or a JWK. Its algorithm is alg when given, else the JWK's alg member,
// else the key type's default (RS256, or the ES* of the EC key's curve,
// or EdDSA); an algorithm that does not fit the key is an error. Its
// KeyID is the JWK's kid, else the key's RFC 7638 thumbprint, which is
// the kid GenerateKey gives and registrar register --generate-key
// registers.
func ParseSigningKey(b []byte, alg string) (SigningKey, error) {
	var signer crypto.Signer
	var kid, jwkAlg string
	var err error
	if trimmed := strings.TrimSpace(string(b)); strings.HasPrefix(trimmed, "{") {
		signer, kid, jwkAlg, err = parseJWK([]byte(trimmed))
	} else {
		signer, err = parsePEM(b)
	}
	if err != nil {
		return SigningKey{}, err
	}
	algs, err := algsFor(signer)
	if err != nil {
		return SigningKey{}, err
	}
	if jwkAlg != "" && alg != "" && jwkAlg != alg {
		return SigningKey{}, fmt.Errorf("the key's alg is %s, not %s", jwkAlg, alg)
	}
	if alg == "" {
		alg = jwkAlg
	}
	if alg == "" {
		alg = algs[0]
	}
	if !slices.Contains(algs, alg) {
		return SigningKey{}, fmt.Errorf("algorithm %q does not fit the key; want one of %s", alg, strings.Join(algs, ", "))
	}
	if kid == "" {
		if kid, err = Thumbprint(signer.Public()); err != nil {
			return SigningKey{}, err
		}
	}
	return SigningKey{Signer: signer, Alg: alg, KeyID: kid}, nil
}

// parsePEM reads the first private key block of a PEM file, skipping
// others (such as the EC PARAMETERS block of openssl ecparam -genkey).
func parsePEM(b []byte) (crypto.Signer, error) {
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return nil, errors.New("no PEM private key block (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY) and not a JWK")
		}
		if _, ok := block.Headers["Proc-Type"]; ok || block.Type == "ENCRYPTED PRIVATE KEY" {
			return nil, errors.New("the PEM key is encrypted; decrypt it first (openssl pkey)")
		}
		var key any
		var err error
		switch block.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("PEM %s: %v", block.Type, err)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("PEM %s: unsupported key type %T", block.Type, key)
		}
		return signer, nil
	}
}

// parseJWK reads a private JWK and returns the key, its kid and its alg.
func parseJWK(b []byte) (crypto.Signer, string, string, error) {
	key, err := jwk.ParseKey(b)
	if err != nil {
		return nil, "", "", fmt.Errorf("not a JWK: %v", err)
	}
	if private, err := jwk.IsPrivateKey(key); err != nil || !private {
		return nil, "", "", errors.New("the JWK is not a private key (RSA, EC or OKP with its private members)")
	}
	var raw any
	if err := key.Raw(&raw); err != nil {
		return nil, "", "", fmt.Errorf("the JWK: %v", err)
	}
	signer, ok := raw.(crypto.Signer)
	if !ok {
		return nil, "", "", fmt.Errorf("the JWK: unsupported key type %T", raw)
	}
	if pk, ok := raw.(*ed25519.PrivateKey); ok {
		signer = *pk
	}
	var alg string
	if key.Algorithm() != nil {
		alg = key.Algorithm().String()
	}
	return signer, key.KeyID(), alg, nil
}

// Thumbprint is the RFC 7638 JWK thumbprint (SHA-256, base64url) of an
// RSA, EC or Ed25519 public key.
func Thumbprint(pub crypto.PublicKey) (string, error) {
	key, err := jwk.FromRaw(pub)
	if err != nil {
		return "", err
	}
	sum, err := key.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// PublicJWK is the public half of k as a JWK with its kid, "use": "sig"
// and its alg: the member to register in a client's jwks.
func (k SigningKey) PublicJWK() (json.RawMessage, error) {
	key, err := jwk.PublicKeyOf(k.Signer)
	if err != nil {
		return nil, err
	}
	return k.marshal(key)
}

// PrivateJWK is k as a private JWK with its kid, "use": "sig" and alg.
func (k SigningKey) PrivateJWK() (json.RawMessage, error) {
	key, err := jwk.FromRaw(k.Signer)
	if err != nil {
		return nil, err
	}
	return k.marshal(key)
}

// marshal sets k's members on key and encodes it.
func (k SigningKey) marshal(key jwk.Key) (json.RawMessage, error) {
	set := map[string]any{jwk.KeyUsageKey: "sig", jwk.AlgorithmKey: jwa.SignatureAlgorithm(k.Alg)}
	if k.KeyID != "" {
		set[jwk.KeyIDKey] = k.KeyID
	}
	for name, v := range set {
		if err := key.Set(name, v); err != nil {
			return nil, err
		}
	}
	return json.Marshal(key)
}

// PEM is k's private key as PEM-encoded PKCS#8.
func (k SigningKey) PEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.Signer)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// AssertionClaims are the claims of a client assertion (RFC 7523 §3,
// OpenID Connect Core §9).
type AssertionClaims struct {
	// Issuer and Subject are both the client_id.
	Issuer, Subject string
	// Audience is the authorization server's token endpoint URL.
	Audience string
	// ID is the jti: unique, so that the server can refuse a replay.
	ID string
	// IssuedAt and Expiry are iat and exp.
	IssuedAt, Expiry time.Time
}

// SignClientAssertion signs the claims with key as a compact JWS, with
// key's alg and kid in the protected header.
func SignClientAssertion(key SigningKey, c AssertionClaims) (string, error) {
	if !slices.Contains(signingAlgs, key.Alg) {
		return "", fmt.Errorf("unsupported algorithm %q", key.Alg)
	}
	payload, err := c.payload()
	if err != nil {
		return "", err
	}
	hdr := jws.NewHeaders()
	if key.KeyID != "" {
		if err := hdr.Set(jws.KeyIDKey, key.KeyID); err != nil {
			return "", err
		}
	}
	signed, err := jws.Sign(payload, jws.WithKey(jwa.SignatureAlgorithm(key.Alg), key.Signer, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", err
	}
	return string(signed), nil
}

// payload is the JWT Claims Set of the claims.
func (c AssertionClaims) payload() ([]byte, error) {
	if c.Issuer == "" || c.Subject == "" || c.Audience == "" || c.ID == "" || c.Expiry.IsZero() {
		return nil, errors.New("a client assertion needs iss, sub, aud, jti and exp")
	}
	return json.Marshal(struct {
		Iss string `json:"iss"`
		Sub string `json:"sub"`
		Aud string `json:"aud"`
		Jti string `json:"jti"`
		Exp int64  `json:"exp"`
		Iat int64  `json:"iat"`
	}{c.Issuer, c.Subject, c.Audience, c.ID, c.Expiry.Unix(), c.IssuedAt.Unix()})
}
