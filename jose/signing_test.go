package jose_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/jose"
)

func TestSignVerifyJWT(t *testing.T) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwk, err := jose.PublicJWK(&rk.PublicKey, "k1", "RS256")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := jose.ParsePublicJWK(jwk)
	if err != nil || !rk.PublicKey.Equal(pub) {
		t.Fatalf("ParsePublicJWK(PublicJWK) = %v, %v", pub, err)
	}
	if _, err := jose.PublicJWK(rk, "k", "RS256"); err == nil {
		t.Error("PublicJWK of a private key")
	}
	keys := func(kid string) (string, crypto.PublicKey, bool) {
		switch kid {
		case "k1":
			return "RS256", pub, true
		case "e1":
			return "ES256", &ek.PublicKey, true
		}
		return "", nil, false
	}
	claims := `{"sub":"x"}`
	tok, err := jose.SignJWT([]byte(claims), "at+jwt", "k1", "RS256", rk)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := jose.VerifyJWT(tok, "at+jwt", keys); err != nil || string(got) != claims {
		t.Fatalf("VerifyJWT = %s, %v", got, err)
	}
	es, _ := jose.SignJWT([]byte(claims), "at+jwt", "e1", "ES256", ek)
	if _, err := jose.VerifyJWT(es, "at+jwt", keys); err != nil {
		t.Errorf("ES256: %v", err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	forged, _ := jose.SignJWT([]byte(claims), "at+jwt", "k1", "RS256", other)
	wrongTyp, _ := jose.SignJWT([]byte(claims), "JWT", "k1", "RS256", rk)
	unknown, _ := jose.SignJWT([]byte(claims), "at+jwt", "k2", "RS256", rk)
	ps, _ := jose.SignJWT([]byte(claims), "at+jwt", "k1", "PS256", rk)
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"k1","typ":"at+jwt"}`)) + "." + base64.RawURLEncoding.EncodeToString([]byte(claims)) + "."
	for name, v := range map[string]string{
		"another key": forged, "typ JWT": wrongTyp, "unknown kid": unknown, "alg other than the key's": ps,
		"alg none": none, "two parts": tok[:strings.LastIndex(tok, ".")], "oversized": tok + strings.Repeat("A", jose.MaxJWTBytes),
	} {
		if _, err := jose.VerifyJWT(v, "at+jwt", keys); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
}
