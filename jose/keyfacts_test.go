package jose

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// TestParseCompactRefusesRepeatedMembers: a header or claims set with a
// member twice is refused (RFC 7515 §4 and RFC 7519 §4 leave the choice
// between that and taking the last one; two readers must never read one
// token two ways).
func TestParseCompactRefusesRepeatedMembers(t *testing.T) {
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	sig := b64("not checked here")
	for _, tc := range []struct{ header, claims, want string }{
		{`{"alg":"ES256","kid":"k","alg":"none"}`, `{"iss":"a"}`, "JOSE header"},
		{`{"alg":"ES256"}`, `{"iss":"a","iss":"b"}`, "claims"},
		{`{"alg":"ES256"}`, "{\"iss\":\"\xff\"}", "claims"},
	} {
		_, err := parseCompact(b64(tc.header) + "." + b64(tc.claims) + "." + sig)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("header %s, claims %s: %v, want an error about the %s", tc.header, tc.claims, err, tc.want)
		}
	}
	as, err := parseCompact(b64(`{"alg":"ES256","kid":"k"}`) + "." + b64(`{"iss":"a","aud":"x","iat":1700000000.5}`) + "." + sig)
	if err != nil || as.alg != "ES256" || as.kid != "k" || as.claims.Issuer != "a" || len(as.claims.Audience) != 1 || as.claims.IssuedAt.UnixMilli() != 1700000000500 {
		t.Fatalf("parseCompact of a plain token: %+v, %v", as, err)
	}
}

// publicKey returns a new P-256 public JWK.
func publicKey(t *testing.T) jwk.Key {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := jwk.FromRaw(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// valueKey is a jwk.Key that is not a pointer: it cannot be a map key
// once it holds one that is not comparable, so it is never remembered.
type valueKey struct {
	jwk.Key
	_ []byte
}

// TestKeyFacts: a key's facts are worked out once and remembered by the
// key's identity, a refused key stays refused, and the memory is bounded.
func TestKeyFacts(t *testing.T) {
	k := publicKey(t)
	f := factsOf(k)
	if f.bad != nil || f.rawErr != nil {
		t.Fatalf("facts of a good key: %+v", f)
	}
	if _, ok := f.raw.(*ecdsa.PublicKey); !ok {
		t.Fatalf("raw key %T", f.raw)
	}
	if factsOf(k) != f {
		t.Error("the facts of a key were worked out again")
	}
	// Another key with the same members is another key.
	same, _ := jwk.FromRaw(f.raw)
	if factsOf(same) == f {
		t.Error("two parsed keys share facts")
	}
	v := valueKey{Key: k}
	if first, again := factsOf(v), factsOf(v); first == again || first.raw == nil {
		t.Error("a key that is not a pointer was remembered, or has no raw key")
	}

	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	bad, _ := jwk.FromRaw(&weak.PublicKey)
	set := jwk.NewSet()
	set.AddKey(bad)
	for range 2 {
		if _, err := pickKey(set, "RS256", ""); err == nil || !strings.Contains(err.Error(), "1024 bits") {
			t.Fatalf("pickKey of a 1024-bit RSA key: %v", err)
		}
	}

	for range maxKnownKeys + 5 {
		factsOf(publicKey(t))
	}
	knownKeys.Lock()
	n := len(knownKeys.m)
	knownKeys.Unlock()
	if n > maxKnownKeys || n == 0 {
		t.Errorf("%d keys remembered, bound %d", n, maxKnownKeys)
	}
}
