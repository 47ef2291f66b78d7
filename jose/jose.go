// Package jose is Registrar's one user of a JOSE library (lestrrat-go/jwx):
// it checks the JWK Sets that clients register, and fetches and caches the
// sets that clients and issuers publish by URL (KeySets, through the
// guarded fetch.Client), verifies the JWTs clients authenticate with at
// the token endpoint (Assertions, private_key_jwt), and signs and verifies
// the JWTs that tenants sign with their keys (signing.go). Later it will
// verify software statements.
package jose

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/x25519"

	"github.com/registrar-dev/registrar/engine"
)

// MaxKeys bounds the keys of one registered JWK Set.
const MaxKeys = 64

// KeySetChecker checks a client's jwks member: a JWK Set of one to MaxKeys
// public, asymmetric keys (RSA, EC or OKP). It implements engine.KeySetChecker.
type KeySetChecker struct{}

var _ engine.KeySetChecker = KeySetChecker{}

// privateMembers are the JWK members that carry private or symmetric key
// material (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"}

// CheckKeySet implements engine.KeySetChecker.
func (KeySetChecker) CheckKeySet(raw json.RawMessage) error {
	names, err := checkMembers(raw)
	if err != nil {
		return err
	}
	keys, err := jwk.Parse(raw)
	if err != nil {
		return fmt.Errorf("cannot parse the set: %v", err)
	}
	if keys.Len() != len(names) {
		return errors.New("the set has keys that cannot be parsed")
	}
	for i := range keys.Len() {
		key, _ := keys.Key(i)
		if err := checkParsedKey(key); err != nil {
			return fmt.Errorf("%s %v", names[i], err)
		}
	}
	return nil
}

// checkMembers looks at the set's members before any parsing, since a
// private member must be refused even where the library would read the key
// as something else, and returns each key's name for errors (its kid, or
// its index).
func checkMembers(raw json.RawMessage) ([]string, error) {
	var set struct {
		Keys []map[string]json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil || set.Keys == nil {
		return nil, errors.New(`want an object with a "keys" array of JWK objects`)
	}
	if len(set.Keys) == 0 {
		return nil, errors.New("the set has no keys")
	}
	if len(set.Keys) > MaxKeys {
		return nil, fmt.Errorf("the set has more than %d keys", MaxKeys)
	}
	names := make([]string, len(set.Keys))
	for i, k := range set.Keys {
		names[i] = keyName(i, k)
		for _, m := range privateMembers {
			if _, ok := k[m]; ok {
				return nil, fmt.Errorf("%s has the private or symmetric member %q; register public keys only", names[i], m)
			}
		}
		var kty string
		if json.Unmarshal(k["kty"], &kty) == nil && kty == "RSA" {
			if err := checkRSAMembers(k); err != nil {
				return nil, fmt.Errorf("%s is a weak or malformed RSA key: %v", names[i], err)
			}
		}
	}
	return names, nil
}

// checkParsedKey refuses a parsed key that is symmetric, of an unknown
// type, private, or not usable as a public key; the error follows the
// key's name.
func checkParsedKey(key jwk.Key) error {
	switch key.KeyType() {
	case jwa.RSA, jwa.EC, jwa.OKP:
	case jwa.OctetSeq:
		return errors.New("is symmetric (kty oct); register public keys only")
	default:
		return fmt.Errorf("has unsupported kty %q", key.KeyType())
	}
	if pk, err := jwk.IsPrivateKey(key); err == nil && pk {
		return errors.New("is a private key; register public keys only")
	}
	if err := checkPublicKey(key); err != nil {
		return fmt.Errorf("is not a usable public key: %v", err)
	}
	return nil
}

// keyName names the i-th key of a set in an error: by its kid when it has
// a printable one, else by its index.
func keyName(i int, k map[string]json.RawMessage) string {
	var kid string
	if json.Unmarshal(k["kid"], &kid) == nil && kid != "" && len(kid) <= 64 {
		printable := true
		for _, r := range kid {
			if r < 0x20 || r == 0x7F {
				printable = false
			}
		}
		if printable {
			return fmt.Sprintf("key %d (kid %q)", i, kid)
		}
	}
	return fmt.Sprintf("key %d", i)
}

// RSA public exponent bounds: odd, at least 65537 (NIST SP 800-56B §6.2.1,
// FIPS 186-5 §A.1.1) and below 2^32. A small exponent makes unpadded or
// badly padded messages recoverable; an even one is no RSA key at all.
var (
	minRSAExponent = big.NewInt(65537)
	maxRSAExponent = new(big.Int).Lsh(big.NewInt(1), 32)
)

// checkRSAMembers checks the n and e members of an RSA JWK as sent, before
// a library turns them into numbers (and, for e = 0 or an empty e, into
// something else or an unnamed error).
func checkRSAMembers(k map[string]json.RawMessage) error {
	e, err := base64urlUInt(k, "e")
	if err != nil {
		return err
	}
	if e.Bit(0) == 0 || e.Cmp(minRSAExponent) < 0 || e.Cmp(maxRSAExponent) >= 0 {
		return fmt.Errorf("public exponent e = %s; it must be odd, at least 65537 and below 2^32", e)
	}
	n, err := base64urlUInt(k, "n")
	if err != nil {
		return err
	}
	if n.Bit(0) == 0 {
		return errors.New("the modulus n is even")
	}
	if n.BitLen() < MinRSABits {
		return fmt.Errorf("RSA modulus of %d bits; at least %d are needed", n.BitLen(), MinRSABits)
	}
	return nil
}

// base64urlUInt reads a Base64urlUInt member (RFC 7518 §2): a non-empty
// unpadded base64url string.
func base64urlUInt(k map[string]json.RawMessage, name string) (*big.Int, error) {
	var s string
	if err := json.Unmarshal(k[name], &s); err != nil {
		return nil, fmt.Errorf("member %q must be a base64url string", name)
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("member %q must be a non-empty unpadded base64url string", name)
	}
	return new(big.Int).SetBytes(b), nil
}

// MinRSABits is the smallest RSA modulus accepted (NIST SP 800-57, FAPI).
const MinRSABits = 2048

// checkPublicKey turns a key into its crypto/* form, which checks what the
// JWK parser does not: that an EC point is on a known curve, and that an
// RSA modulus is long enough.
func checkPublicKey(key jwk.Key) error {
	var raw any
	if err := key.Raw(&raw); err != nil {
		return err
	}
	switch k := raw.(type) {
	case *rsa.PublicKey:
		// checkRSAMembers has checked the members as sent; this checks the
		// numbers the library made of them.
		if k.N.BitLen() < MinRSABits || k.N.Bit(0) == 0 {
			return fmt.Errorf("RSA modulus of %d bits; an odd one of at least %d is needed", k.N.BitLen(), MinRSABits)
		}
		if k.E < 65537 || k.E%2 == 0 || int64(k.E) >= 1<<32 {
			return fmt.Errorf("RSA public exponent %d; it must be odd, at least 65537 and below 2^32", k.E)
		}
	case *ecdsa.PublicKey:
		if _, err := k.ECDH(); err != nil {
			return errors.New("the EC point is not on a supported curve")
		}
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return errors.New("an Ed25519 key must be 32 bytes")
		}
	case x25519.PublicKey:
		if len(k) != x25519.PublicKeySize {
			return errors.New("an X25519 key must be 32 bytes")
		}
	default:
		return fmt.Errorf("unsupported key type %T", raw)
	}
	return nil
}
