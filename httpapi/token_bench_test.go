package httpapi_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/httpapi"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/memstore"
	"github.com/registrar-dev/registrar/oauth"
)

// BenchmarkToken measures the token endpoint over memstore: one
// client_credentials request with client_secret_basic, the op of the
// side-by-side benchmark, from parsing the form to writing the answer.
func BenchmarkToken(b *testing.B) {
	log := testkit.DiscardLogger()
	store := memstore.New(memstore.Config{})
	reg, err := engine.New(engine.Config{
		Store: store, Limiter: store, Keys: jose.KeySetChecker{}, Logger: log, Rand: rand.Reader,
		Tenants: map[string]engine.Settings{engine.DefaultTenant: {InitialAccessToken: engine.TokenNone}},
	})
	if err != nil {
		b.Fatal(err)
	}
	tokens, err := oauth.New(oauth.Config{Registrar: reg, Clients: store, Store: store, Limiter: store, Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	pub, err := httpapi.New(httpapi.Config{Registrar: reg, Tokens: tokens, Issuer: "https://registrar.example", Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	w := serveNoToken(pub, "POST", "/reg", `{"grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],"token_endpoint_auth_method":"client_secret_basic","client_name":"bench m2m"}`)
	var c map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &c); err != nil || w.Code != 201 {
		b.Fatalf("register: %d %s", w.Code, w.Body)
	}
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(c["client_id"].(string))+":"+url.QueryEscape(c["client_secret"].(string))))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/token", strings.NewReader("grant_type=client_credentials"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Authorization", auth)
		w := httptest.NewRecorder()
		pub.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatalf("token: %d %s", w.Code, w.Body)
		}
	}
}

// serveNoToken is serve without an Authorization header.
func serveNoToken(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}
