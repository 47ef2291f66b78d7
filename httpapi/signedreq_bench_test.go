package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/jose/josetest"
	"github.com/registrar-dev/registrar/memstore"
)

// BenchmarkRegisterSigned is BenchmarkRegisterWithStatement's ES256 case
// sent as a signed request (application/jose) whose statement carries
// the software's key by value: two signatures verified per registration,
// nothing fetched. Neither JWT has a jti, so one request serves every
// iteration.
func BenchmarkRegisterSigned(b *testing.B) {
	const token = "bench-static-token-0123456789"
	dir, sw := josetest.NewKey(b, "ES256", "d"), josetest.NewKey(b, "ES256", "s")
	settings := engine.Settings{InitialAccessToken: engine.TokenStatic, StaticInitialAccessToken: token,
		SoftwareStatement: &engine.StatementSettings{Issuers: []engine.StatementIssuer{{Issuer: directory, JWKS: josetest.JWKS(b, dir)}}}}
	st := dir.Sign(b, nil, map[string]any{"iss": directory, "iat": time.Now().Unix(), "software_id": "sw", "jwks": json.RawMessage(josetest.JWKS(b, sw))})
	claims := benchBodyWith(map[string]any{"software_statement": st, "iss": "sw", "aud": "https://registrar.example", "iat": time.Now().Unix()})
	body := sw.Sign(b, nil, claims)
	statements, _ := jose.NewStatements(jose.StatementsConfig{})
	pub := statementHandler(b, memstore.New(memstore.Config{}), statements, map[string]engine.Settings{"default": settings})
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest(http.MethodPost, "/reg", strings.NewReader(body))
			r.Header.Set("Authorization", "Bearer "+token)
			r.Header.Set("Content-Type", "application/jose")
			w := httptest.NewRecorder()
			pub.ServeHTTP(w, r)
			if w.Code != http.StatusCreated {
				b.Fatalf("register: %d %s", w.Code, w.Body)
			}
		}
	})
}
