package jose_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/jose/josetest"
)

func TestStatementsTrust(t *testing.T) {
	st, _ := jose.NewStatements(jose.StatementsConfig{})
	k := josetest.NewKey(t, "ES256", "k")
	for _, c := range []struct {
		name string
		is   engine.StatementIssuer
		want string
	}{
		{"loopback literal", engine.StatementIssuer{Issuer: "x", JWKSURI: "https://[::1]/jwks"}, "outbound guard"},
		{"metadata literal", engine.StatementIssuer{Issuer: "x", JWKSURI: "https://169.254.169.254/jwks"}, "outbound guard"},
		{"plain http", engine.StatementIssuer{Issuer: "x", JWKSURI: "http://keys.example/jwks"}, "outbound guard"},
		{"a name, but nothing fetches", engine.StatementIssuer{Issuer: "x", JWKSURI: "https://keys.example/jwks"}, "fetches no key sets"},
		{"private key inline", engine.StatementIssuer{Issuer: "x", JWKS: privateJWKS(t, k)}, "jwks"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := st.Trust(engine.StatementSettings{Issuers: []engine.StatementIssuer{c.is}, Algorithms: []string{"ES256"}})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Trust = %v, want it to say %q", err, c.want)
			}
		})
	}
	if _, err := st.Trust(engine.StatementSettings{Issuers: []engine.StatementIssuer{{Issuer: "x", JWKS: josetest.JWKS(t, k)}}, Algorithms: []string{"HS256"}}); err == nil {
		t.Error("HS256 trusted")
	}
}

// privateJWKS is a set holding k's private key.
func privateJWKS(t *testing.T, k *josetest.Key) json.RawMessage {
	pub := map[string]any{}
	json.Unmarshal(k.JWK(t, nil), &pub)
	pub["d"] = "AAAA"
	b, _ := json.Marshal(map[string]any{"keys": []any{pub}})
	return b
}

// FuzzStatementVerify: no input makes Verify panic, and whatever it
// accepts is what the trusted key signed: the seed's header and payload
// (an ECDSA signature has a second valid form, so only those are compared).
func FuzzStatementVerify(f *testing.F) {
	k := josetest.MustGenerateKey("ES256", "k")
	st, _ := jose.NewStatements(jose.StatementsConfig{})
	trust, err := st.Trust(engine.StatementSettings{Issuers: []engine.StatementIssuer{{Issuer: "https://dir.example", JWKS: josetest.JWKS(f, k)}}, Algorithms: []string{"ES256"}})
	if err != nil {
		f.Fatal(err)
	}
	good := k.Sign(f, nil, map[string]any{"iss": "https://dir.example", "iat": time.Now().Unix()})
	f.Add(good)
	f.Add(k.Sign(f, map[string]any{"jku": "https://x"}, map[string]any{"iss": "https://dir.example"}))
	f.Add("e30.e30.AA")
	f.Add(`{"payload":"e30","signatures":[]}`)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := trust.Verify(context.Background(), s)
		signed := good[:strings.LastIndexByte(good, '.')]
		if err == nil && (!strings.HasPrefix(s, signed+".") || got.Issuer != "https://dir.example") {
			t.Errorf("accepted %q", s)
		}
	})
}
