// Package jose is Registrar's one user of a JOSE library (lestrrat-go/jwx):
// it checks the JWK Sets that clients register, and fetches and caches the
// sets that clients and issuers publish by URL (KeySets, through the
// guarded fetch.Client). Later it will verify software statements and hold
// tenant signing keys.
package jose

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"

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
	// Look at the members first: a private member must be refused even
	// where the library would read the key as something else.
	var set struct {
		Keys []map[string]json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil || set.Keys == nil {
		return errors.New(`want an object with a "keys" array of JWK objects`)
	}
	if len(set.Keys) == 0 {
		return errors.New("the set has no keys")
	}
	if len(set.Keys) > MaxKeys {
		return fmt.Errorf("the set has more than %d keys", MaxKeys)
	}
	for i, k := range set.Keys {
		for _, m := range privateMembers {
			if _, ok := k[m]; ok {
				return fmt.Errorf("key %d has the private or symmetric member %q; register public keys only", i, m)
			}
		}
	}
	keys, err := jwk.Parse(raw)
	if err != nil {
		return fmt.Errorf("cannot parse the set: %v", err)
	}
	if keys.Len() != len(set.Keys) {
		return errors.New("the set has keys that cannot be parsed")
	}
	for i := range keys.Len() {
		key, _ := keys.Key(i)
		switch key.KeyType() {
		case jwa.RSA, jwa.EC, jwa.OKP:
		case jwa.OctetSeq:
			return fmt.Errorf("key %d is symmetric (kty oct); register public keys only", i)
		default:
			return fmt.Errorf("key %d has unsupported kty %q", i, key.KeyType())
		}
		pk, err := jwk.IsPrivateKey(key)
		if err == nil && pk {
			return fmt.Errorf("key %d is a private key; register public keys only", i)
		}
		if err := checkPublicKey(key); err != nil {
			return fmt.Errorf("key %d is not a usable public key: %v", i, err)
		}
	}
	return nil
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
		if k.N.BitLen() < MinRSABits {
			return fmt.Errorf("RSA modulus of %d bits; at least %d are needed", k.N.BitLen(), MinRSABits)
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
