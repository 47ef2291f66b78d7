package jose_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/jose/josetest"
)

var allAlgs = []string{"RS256", "PS256", "ES256", "ES384", "EdDSA", "Ed25519"}

func claims() map[string]any {
	return map[string]any{"iss": "c", "sub": "c", "aud": []string{"a", "b"}, "jti": "j", "exp": 1700000000.5, "iat": 1699999990, "nbf": 1699999990}
}

func TestVerifyAssertion(t *testing.T) {
	a, err := jose.NewAssertions(jose.AssertionsConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ec, ec384, ed := josetest.NewKey(t, "ES256", "ec"), josetest.NewKey(t, "ES384", "ec384"), josetest.NewKey(t, "EdDSA", "ed")
	keys := jose.ClientKeys{JWKS: josetest.JWKS(t, ec, ec384, ed)}
	ctx := context.Background()
	c, err := a.Verify(ctx, ec.Sign(t, nil, claims()), keys, allAlgs)
	if err != nil {
		t.Fatal(err)
	}
	want := jose.Claims{Issuer: "c", Subject: "c", Audience: []string{"a", "b"}, ID: "j",
		ExpiresAt: time.Unix(1700000000, 5e8).UTC(), IssuedAt: time.Unix(1699999990, 0).UTC(), NotBefore: time.Unix(1699999990, 0).UTC(), HasExpiry: true}
	if c.Issuer != want.Issuer || c.Subject != want.Subject || strings.Join(c.Audience, " ") != "a b" || c.ID != want.ID ||
		!c.ExpiresAt.Equal(want.ExpiresAt) || !c.IssuedAt.Equal(want.IssuedAt) || !c.NotBefore.Equal(want.NotBefore) || !c.HasExpiry {
		t.Errorf("claims %+v, want %+v", c, want)
	}
	// Without a kid, the alg's curve picks the key; Ed25519 (RFC 9864) is
	// EdDSA over an Ed25519 key.
	for _, s := range []string{
		ec384.Sign(t, map[string]any{"kid": nil}, claims()),
		ed.Sign(t, map[string]any{"kid": nil}, claims()),
		ed.Sign(t, map[string]any{"kid": nil, "alg": "Ed25519"}, claims()),
	} {
		if _, err := a.Verify(ctx, s, keys, allAlgs); err != nil {
			t.Errorf("%v", err)
		}
	}
	// A jwks_uri needs KeySets.
	if _, err := a.Verify(ctx, ec.Sign(t, nil, claims()), jose.ClientKeys{JWKSURI: "https://keys.example.com/"}, allAlgs); err == nil || !strings.Contains(err.Error(), "no KeySets") {
		t.Errorf("jwks_uri without KeySets: %v", err)
	}
	if a.FetchesKeySets() {
		t.Error("FetchesKeySets without KeySets")
	}
}

func TestVerifyAssertionKeyChoice(t *testing.T) {
	a, _ := jose.NewAssertions(jose.AssertionsConfig{})
	ec := josetest.NewKey(t, "ES256", "ec")
	ec2 := josetest.NewKey(t, "ES256", "ec")
	set := func(keys ...json.RawMessage) jose.ClientKeys {
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = string(k)
		}
		return jose.ClientKeys{JWKS: json.RawMessage(`{"keys":[` + strings.Join(parts, ",") + `]}`)}
	}
	for _, c := range []struct {
		name string
		keys jose.ClientKeys
		want string
	}{
		{"key_ops without verify", set(ec.JWK(t, map[string]any{"key_ops": []string{"encrypt"}})), "key_ops lack verify"},
		{"key for another alg", set(ec.JWK(t, map[string]any{"alg": "ES384"})), `is for alg "ES384"`},
		{"two keys with the kid", set(ec.JWK(t, nil), ec2.JWK(t, nil)), `2 keys of the set have kid "ec"`},
		{"no keys fit", set(josetest.NewKey(t, "EdDSA", "").JWK(t, nil)), "no key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := a.Verify(context.Background(), ec.Sign(t, nil, claims()), c.keys, allAlgs)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to say %q", err, c.want)
			}
		})
	}
	_, err := a.Verify(context.Background(), ec.With("ES256", "gone").Sign(t, nil, claims()), set(ec.JWK(t, nil)), allAlgs)
	if !errors.Is(err, jose.ErrUnknownKeyID) {
		t.Errorf("unknown kid: %v", err)
	}
}

// FuzzUnverifiedClaims: no input makes the parser panic, and what it
// accepts has the three parts of a compact JWS within the size bound.
func FuzzUnverifiedClaims(f *testing.F) {
	k := josetest.MustGenerateKey("ES256", "k")
	f.Add(k.Sign(f, nil, claims()))
	f.Add(k.Sign(f, map[string]any{"jku": "https://x"}, map[string]any{"aud": "x", "exp": "soon"}))
	f.Add("e30.e30.AA")
	f.Add("..")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := jose.UnverifiedClaims(s)
		if err != nil {
			return
		}
		if c == nil || strings.Count(s, ".") != 2 || len(s) > jose.MaxAssertionBytes {
			t.Errorf("accepted %q", s)
		}
	})
}
