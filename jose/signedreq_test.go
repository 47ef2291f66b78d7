package jose_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/jose/josetest"
)

// FuzzVerifyRequest: no input makes RequestPayload or VerifyRequest
// panic, and whatever VerifyRequest accepts is what the software's key
// signed: the seed's header and payload.
func FuzzVerifyRequest(f *testing.F) {
	dir, sw := josetest.MustGenerateKey("ES256", "d"), josetest.MustGenerateKey("ES256", "s")
	st, _ := jose.NewStatements(jose.StatementsConfig{})
	trust, err := st.Trust(engine.StatementSettings{Issuers: []engine.StatementIssuer{{Issuer: "https://dir.example", JWKS: josetest.JWKS(f, dir)}}, Algorithms: []string{"ES256"}})
	if err != nil {
		f.Fatal(err)
	}
	keys := engine.RequestKeys{JWKS: josetest.JWKS(f, sw)}
	good := sw.Sign(f, nil, map[string]any{"iss": "sw", "aud": "https://as.example", "iat": time.Now().Unix(), "redirect_uris": []string{"https://a.example/cb"}})
	f.Add(good)
	f.Add(sw.Sign(f, map[string]any{"jwk": "x"}, map[string]any{"iss": "sw"}))
	f.Add(dir.Sign(f, nil, map[string]any{"iss": "sw"}))
	f.Add("e30.e30.AA")
	f.Add("e30..AA")
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := trust.RequestPayload(s); err != nil && engine.AsError(err).Code != engine.CodeInvalidClientMetadata {
			t.Errorf("RequestPayload(%q): %v", s, err)
		}
		_, err := trust.VerifyRequest(context.Background(), s, keys)
		signed := good[:strings.LastIndexByte(good, '.')]
		if err == nil && !strings.HasPrefix(s, signed+".") {
			t.Errorf("accepted %q", s)
		}
	})
}

// TestVerifyRequestKeys: the statement's keys verify, by value; another
// key, an alg outside the tenant's and keys that are no public key set
// are refused.
func TestVerifyRequestKeys(t *testing.T) {
	dir, sw := josetest.NewKey(t, "PS256", "d"), josetest.NewKey(t, "PS256", "s")
	st, _ := jose.NewStatements(jose.StatementsConfig{})
	trust, err := st.Trust(engine.StatementSettings{Issuers: []engine.StatementIssuer{{Issuer: "https://dir.example", JWKS: josetest.JWKS(t, dir)}}, Algorithms: []string{"PS256"}})
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]any{"iss": "sw"}
	keys := engine.RequestKeys{JWKS: josetest.JWKS(t, sw)}
	if kid, err := trust.VerifyRequest(context.Background(), sw.Sign(t, nil, claims), keys); err != nil || kid != "s" {
		t.Fatalf("VerifyRequest = %q, %v", kid, err)
	}
	for name, c := range map[string]struct {
		jws  string
		keys engine.RequestKeys
		code engine.ErrorCode
	}{
		"another key":          {dir.Sign(t, map[string]any{"kid": "s"}, claims), keys, engine.CodeInvalidClientMetadata},
		"RS256":                {sw.With("RS256", "s").Sign(t, nil, claims), keys, engine.CodeInvalidClientMetadata},
		"private key by value": {sw.Sign(t, nil, claims), engine.RequestKeys{JWKS: []byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`)}, engine.CodeInvalidSoftwareStatement},
		"guarded URL":          {sw.Sign(t, nil, claims), engine.RequestKeys{JWKSURI: "https://10.0.0.1/jwks"}, engine.CodeInvalidSoftwareStatement},
	} {
		if _, err := trust.VerifyRequest(context.Background(), c.jws, c.keys); engine.AsError(err).Code != c.code {
			t.Errorf("%s: %v, want %s", name, err, c.code)
		}
	}
}
