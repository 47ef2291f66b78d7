package jose_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/registrar-dev/registrar/jose"
)

// verifyAssertion checks a compact JWS with the public JWK pub and returns
// its header and claims.
func verifyAssertion(t *testing.T, token string, pub json.RawMessage, alg string) (jws.Headers, map[string]any) {
	t.Helper()
	key, err := jwk.ParseKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := jws.Verify([]byte(token), jws.WithKey(jwa.SignatureAlgorithm(alg), key))
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	msg, err := jws.Parse([]byte(token))
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return msg.Signatures()[0].ProtectedHeaders(), claims
}

func TestGenerateSignVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	for _, alg := range []string{"ES256", "ES384", "ES512", "RS256", "PS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			key, err := jose.GenerateKey(alg)
			if err != nil {
				t.Fatal(err)
			}
			if key.Alg != alg {
				t.Fatalf("alg %q", key.Alg)
			}
			if rk, ok := key.Signer.(*rsa.PrivateKey); ok && rk.N.BitLen() != jose.GeneratedRSABits {
				t.Fatalf("RSA key of %d bits", rk.N.BitLen())
			}
			pub, err := key.PublicJWK()
			if err != nil {
				t.Fatal(err)
			}
			var members map[string]any
			_ = json.Unmarshal(pub, &members)
			if members["kid"] != key.KeyID || members["use"] != "sig" || members["alg"] != alg || members["d"] != nil {
				t.Fatalf("public JWK %s", pub)
			}
			// The set it makes is one Registrar accepts.
			if err := (jose.KeySetChecker{}).CheckKeySet(json.RawMessage(`{"keys":[` + string(pub) + `]}`)); err != nil {
				t.Fatalf("CheckKeySet: %v", err)
			}
			if tp, _ := jose.Thumbprint(key.Signer.Public()); tp != key.KeyID {
				t.Fatalf("kid %q is not the thumbprint %q", key.KeyID, tp)
			}
			token, err := jose.SignClientAssertion(key, jose.AssertionClaims{
				Issuer: "c1", Subject: "c1", Audience: "https://as.example/token", ID: "j1",
				IssuedAt: now, Expiry: now.Add(time.Minute),
			})
			if err != nil {
				t.Fatal(err)
			}
			hdr, claims := verifyAssertion(t, token, pub, alg)
			if hdr.KeyID() != key.KeyID || hdr.Algorithm().String() != alg {
				t.Fatalf("header kid %q alg %q", hdr.KeyID(), hdr.Algorithm())
			}
			want := map[string]any{"iss": "c1", "sub": "c1", "aud": "https://as.example/token", "jti": "j1", "iat": float64(now.Unix()), "exp": float64(now.Unix() + 60)}
			if len(claims) != len(want) {
				t.Fatalf("claims %v", claims)
			}
			for k, v := range want {
				if claims[k] != v {
					t.Fatalf("claim %s = %v, want %v", k, claims[k], v)
				}
			}
			// The private forms read back as the same key.
			for name, enc := range map[string]func() ([]byte, error){"PEM": key.PEM, "JWK": func() ([]byte, error) { return key.PrivateJWK() }} {
				b, err := enc()
				if err != nil {
					t.Fatal(err)
				}
				// A PEM key has no alg: RSA defaults to RS256, so PS256 is given.
				given := ""
				if name == "PEM" && alg == "PS256" {
					given = alg
				}
				back, err := jose.ParseSigningKey(b, given)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if back.Alg != alg || back.KeyID != key.KeyID {
					t.Fatalf("%s read back as alg %q kid %q", name, back.Alg, back.KeyID)
				}
				tok, err := jose.SignClientAssertion(back, jose.AssertionClaims{Issuer: "c1", Subject: "c1", Audience: "a", ID: "j2", Expiry: now})
				if err != nil {
					t.Fatal(err)
				}
				verifyAssertion(t, tok, pub, alg)
			}
		})
	}
}

func TestGenerateKeyRefusesAlgorithms(t *testing.T) {
	for _, alg := range []string{"HS256", "none", "RSA-OAEP", "es256"} {
		if _, err := jose.GenerateKey(alg); err == nil {
			t.Errorf("GenerateKey(%q) succeeded", alg)
		}
	}
	if k, err := jose.GenerateKey(""); err != nil || k.Alg != "ES256" {
		t.Fatalf("default: %v %v", k.Alg, err)
	}
}

// TestThumbprint computes RFC 7638's canonical form by hand.
func TestThumbprint(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	b64 := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	x, y := make([]byte, 32), make([]byte, 32)
	k.X.FillBytes(x)
	k.Y.FillBytes(y)
	sum := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + b64(x) + `","y":"` + b64(y) + `"}`))
	if got, err := jose.Thumbprint(k.Public()); err != nil || got != b64(sum[:]) {
		t.Fatalf("Thumbprint = %q, %v; want %q", got, err, b64(sum[:]))
	}
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	sum = sha256.Sum256([]byte(`{"crv":"Ed25519","kty":"OKP","x":"` + b64(ed.Public().(ed25519.PublicKey)) + `"}`))
	if got, _ := jose.Thumbprint(ed.Public()); got != b64(sum[:]) {
		t.Fatalf("Ed25519 thumbprint = %q, want %q", got, b64(sum[:]))
	}
}

func TestParseSigningKey(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	sec1, _ := x509.MarshalECPrivateKey(ec)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	weak, _ := rsa.GenerateKey(rand.Reader, 1024)
	pemOf := func(typ string, der []byte, headers map[string]string) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: typ, Headers: headers, Bytes: der})
	}
	params := pemOf("EC PARAMETERS", []byte{6, 5, 43, 129, 4, 0, 34}, nil)
	gen, _ := jose.GenerateKey("ES256")
	genJWK, _ := gen.PrivateJWK()
	pubJWK, _ := gen.PublicJWK()
	var m map[string]any
	_ = json.Unmarshal(genJWK, &m)
	delete(m, "kid")
	delete(m, "alg")
	bare, _ := json.Marshal(m)
	ecTP, _ := jose.Thumbprint(ec.Public())
	tests := []struct {
		name, alg       string
		in              []byte
		wantAlg, wantID string
		wantErr         string
	}{
		{name: "SEC1 after EC PARAMETERS", in: append(params, pemOf("EC PRIVATE KEY", sec1, nil)...), wantAlg: "ES384", wantID: ecTP},
		{name: "PKCS#1 default RS256", in: pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey), nil), wantAlg: "RS256"},
		{name: "PKCS#1 as PS256", alg: "PS256", in: pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey), nil), wantAlg: "PS256"},
		{name: "JWK keeps kid and alg", in: genJWK, wantAlg: "ES256", wantID: gen.KeyID},
		{name: "JWK without kid gets the thumbprint", in: bare, wantAlg: "ES256", wantID: gen.KeyID},
		{name: "alg that does not fit", alg: "RS256", in: genJWK, wantErr: "the key's alg is ES256"},
		{name: "alg that does not fit the curve", alg: "ES256", in: pemOf("EC PRIVATE KEY", sec1, nil), wantErr: "does not fit"},
		{name: "HS256", alg: "HS256", in: pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey), nil), wantErr: "does not fit"},
		{name: "public JWK", in: pubJWK, wantErr: "not a private key"},
		{name: "symmetric JWK", in: []byte(`{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0"}`), wantErr: "not a private key"},
		{name: "weak RSA", in: pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(weak), nil), wantErr: "1024 bits"},
		{name: "encrypted PEM", in: pemOf("RSA PRIVATE KEY", []byte{1}, map[string]string{"Proc-Type": "4,ENCRYPTED"}), wantErr: "encrypted"},
		{name: "encrypted PKCS#8", in: pemOf("ENCRYPTED PRIVATE KEY", []byte{1}, nil), wantErr: "encrypted"},
		{name: "a certificate only", in: pemOf("CERTIFICATE", []byte{1}, nil), wantErr: "no PEM private key"},
		{name: "garbage PKCS#8", in: pemOf("PRIVATE KEY", []byte{1, 2, 3}, nil), wantErr: "PEM PRIVATE KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := jose.ParseSigningKey(tt.in, tt.alg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if k.Alg != tt.wantAlg || (tt.wantID != "" && k.KeyID != tt.wantID) {
				t.Fatalf("alg %q kid %q; want %q %q", k.Alg, k.KeyID, tt.wantAlg, tt.wantID)
			}
		})
	}
}

func TestSignClientAssertionRefuses(t *testing.T) {
	key, _ := jose.GenerateKey("ES256")
	full := jose.AssertionClaims{Issuer: "c", Subject: "c", Audience: "a", ID: "j", Expiry: time.Now()}
	if _, err := jose.SignClientAssertion(key, full); err != nil {
		t.Fatal(err)
	}
	missing := full
	missing.ID = ""
	if _, err := jose.SignClientAssertion(key, missing); err == nil {
		t.Error("an assertion without jti was signed")
	}
	none := key
	none.Alg = "none"
	if _, err := jose.SignClientAssertion(none, full); err == nil {
		t.Error(`alg "none" was accepted`)
	}
}
