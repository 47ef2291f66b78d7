package jose_test

import (
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/jose/josetest"
)

func TestSecretAssertions(t *testing.T) {
	secret := []byte(strings.Repeat("s", 64))
	now := time.Now()
	claims := jose.AssertionClaims{Issuer: "c", Subject: "c", Audience: "https://as.example/token", ID: "j1", IssuedAt: now, Expiry: now.Add(time.Minute)}
	a, _ := jose.NewAssertions(jose.AssertionsConfig{})
	all := []string{"HS256", "HS384", "HS512"}
	for _, alg := range all {
		signed, err := jose.SignSecretAssertion(secret, alg, claims)
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		got, err := a.VerifySecret(signed, secret, all)
		if err != nil || got.Subject != "c" || got.ID != "j1" || got.Audience[0] != claims.Audience {
			t.Fatalf("%s: %+v, %v", alg, got, err)
		}
		// One changed byte of the MAC fails it.
		tampered := signed[:len(signed)-2] + map[bool]string{true: "A", false: "B"}[signed[len(signed)-2] != 'A'] + signed[len(signed)-1:]
		if _, err := a.VerifySecret(tampered, secret, all); err == nil {
			t.Errorf("%s: a tampered MAC verifies", alg)
		}
		if _, err := a.VerifySecret(signed, secret, []string{"RS256"}); err == nil {
			t.Errorf("%s: verified though not allowed", alg)
		}
	}
	// The MAC of an independent implementation verifies.
	if _, err := a.VerifySecret(josetest.SignHS256(t, secret, map[string]any{"iss": "c", "sub": "c", "exp": now.Unix() + 60}), secret, all); err != nil {
		t.Errorf("josetest HS256: %v", err)
	}
	// RFC 7518 §3.2: a key shorter than the hash output is refused.
	short := secret[:40]
	signed, _ := jose.SignSecretAssertion(short, "HS512", claims)
	if _, err := a.VerifySecret(signed, short, all); err == nil || !strings.Contains(err.Error(), "shorter") {
		t.Errorf("HS512 with a 40-byte secret: %v", err)
	}
	if _, err := jose.SignSecretAssertion(secret, "RS256", claims); err == nil {
		t.Error("SignSecretAssertion signed RS256")
	}
	if _, err := jose.SignSecretAssertion(nil, "HS256", claims); err == nil {
		t.Error("SignSecretAssertion signed with no secret")
	}
}
