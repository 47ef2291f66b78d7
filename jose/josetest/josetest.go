// Package josetest makes keys and signs JWTs for tests of other packages,
// with jwx, so that those packages need no JOSE library of their own. It is
// for tests only: no package of the build imports it (internal/archtest).
package josetest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// Key is a private signing key, its alg and its kid.
type Key struct {
	Alg string
	KID string
	// Private is an *rsa.PrivateKey, *ecdsa.PrivateKey or
	// ed25519.PrivateKey.
	Private crypto.Signer
}

// NewKey generates a key for alg (see GenerateKey) or fails the test.
func NewKey(t testing.TB, alg, kid string) *Key {
	t.Helper()
	k, err := GenerateKey(alg, kid)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// GenerateKey generates a key for alg: RSA 2048 bits for RS* and PS*, the
// alg's curve for ES*, Ed25519 for EdDSA.
func GenerateKey(alg, kid string) (*Key, error) {
	var (
		priv crypto.Signer
		err  error
	)
	switch {
	case strings.HasPrefix(alg, "RS"), strings.HasPrefix(alg, "PS"):
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case alg == "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case alg == "ES384":
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case alg == "ES512":
		priv, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case alg == "EdDSA":
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("josetest: no key for alg %q", alg)
	}
	if err != nil {
		return nil, err
	}
	return &Key{Alg: alg, KID: kid, Private: priv}, nil
}

// MustGenerateKey is GenerateKey for package-level test keys; it panics on
// failure.
func MustGenerateKey(alg, kid string) *Key {
	k, err := GenerateKey(alg, kid)
	if err != nil {
		panic(err)
	}
	return k
}

// With returns a copy of k with another alg and kid (the same key pair).
func (k *Key) With(alg, kid string) *Key {
	return &Key{Alg: alg, KID: kid, Private: k.Private}
}

// JWK returns the public JWK of k, with its kid if it has one, and the
// extra members given.
func (k *Key) JWK(t testing.TB, extra map[string]any) json.RawMessage {
	t.Helper()
	pub, err := jwk.FromRaw(k.Private.Public())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(pub)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if k.KID != "" {
		m["kid"] = k.KID
	}
	for name, v := range extra {
		m[name] = v
	}
	b, err = json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// JWKS returns a JWK Set of the public keys given.
func JWKS(t testing.TB, keys ...*Key) json.RawMessage {
	t.Helper()
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = string(k.JWK(t, nil))
	}
	return json.RawMessage(`{"keys":[` + strings.Join(parts, ",") + `]}`)
}

// Sign returns a compact JWS of claims signed by k with jwx. The protected
// header is {"alg": k.Alg, "kid": k.KID (when set)} with the members of
// header added or replaced (a nil value removes a member).
func (k *Key) Sign(t testing.TB, header, claims map[string]any) string {
	t.Helper()
	input := signingInput(t, k.header(header), claims)
	signer, err := jws.NewSigner(jwa.SignatureAlgorithm(k.Alg))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := signer.Sign([]byte(input), k.Private)
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func (k *Key) header(extra map[string]any) map[string]any {
	h := map[string]any{"alg": k.Alg}
	if k.KID != "" {
		h["kid"] = k.KID
	}
	for name, v := range extra {
		if v == nil {
			delete(h, name)
		} else {
			h[name] = v
		}
	}
	return h
}

// SignHS256 returns a compact JWS of claims with alg HS256 under secret.
func SignHS256(t testing.TB, secret []byte, claims map[string]any) string {
	t.Helper()
	input := signingInput(t, map[string]any{"alg": "HS256"}, claims)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// Unsigned returns a compact JWS with the header and claims given and the
// signature bytes given (none for alg none).
func Unsigned(t testing.TB, header, claims map[string]any, sig []byte) string {
	t.Helper()
	return signingInput(t, header, claims) + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func signingInput(t testing.TB, header, claims map[string]any) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
}
