package httpapi_test

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/httpapi"
	"github.com/registrar-dev/registrar/internal/testkit"
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
				st := key.Sign(b, nil, map[string]any{"iss": directory, "iat": time.Now().Unix(), "software_id": "sw"})
				var m map[string]any
				json.Unmarshal([]byte(benchBody), &m)
				m["software_statement"] = st
				raw, _ := json.Marshal(m)
				body = string(raw)
			}
			statements, _ := jose.NewStatements(jose.StatementsConfig{})
			store := memstore.New(memstore.Config{})
			reg, err := engine.New(engine.Config{Store: store, Keys: jose.KeySetChecker{}, Statements: statements, Replay: store,
				Tenants: map[string]engine.Settings{"default": settings}, Rand: rand.Reader, Logger: testkit.DiscardLogger()})
			if err != nil {
				b.Fatal(err)
			}
			pub, err := httpapi.New(httpapi.Config{Registrar: reg, Issuer: "https://registrar.example", Logger: testkit.DiscardLogger()})
			if err != nil {
				b.Fatal(err)
			}
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
