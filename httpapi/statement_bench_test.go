package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/jose/josetest"
	"github.com/registrar-dev/registrar/memstore"
)

// BenchmarkRegisterWithStatement is BenchmarkRegister's counterpart (with a static
// token) with a software statement verified against an inline issuer
// key (a cached issuer: nothing is fetched), per signature algorithm; and
// the same registration without a statement, for the ratio. The statement
// has no jti, so one statement serves every iteration.
func BenchmarkRegisterWithStatement(b *testing.B) {
	for _, alg := range []string{"", "RS256", "ES256"} {
		name := alg
		if name == "" {
			name = "none"
		}
		b.Run(name, func(b *testing.B) {
			const token = "bench-static-token-0123456789"
			settings := engine.Settings{InitialAccessToken: engine.TokenStatic, StaticInitialAccessToken: token}
			body := benchBody
			if alg != "" {
				key := josetest.NewKey(b, alg, "k")
				settings.SoftwareStatement = &engine.StatementSettings{Issuers: []engine.StatementIssuer{{Issuer: directory, JWKS: josetest.JWKS(b, key)}}}
				body = withStatement(key.Sign(b, nil, map[string]any{"iss": directory, "iat": time.Now().Unix(), "software_id": "sw"}))
			}
			statements, _ := jose.NewStatements(jose.StatementsConfig{})
			pub := statementHandler(b, memstore.New(memstore.Config{}), statements, map[string]engine.Settings{"default": settings})
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if w := serve(pub, "POST", "/reg", token, body); w.Code != http.StatusCreated {
						b.Fatalf("register: %d %s", w.Code, w.Body)
					}
				}
			})
		})
	}
}
