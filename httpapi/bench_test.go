package httpapi_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/adminapi"
	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/httpapi"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/memstore"
	"github.com/registrar-dev/registrar/plugins"
)

// benchHandlers returns the public and admin handlers over memstore, with
// real randomness and a silent logger.
func benchHandlers(b *testing.B) (http.Handler, http.Handler) {
	return benchHandlersWith(b, nil, nil)
}

// benchHandlersWith is benchHandlers with policy modules and tenants.
func benchHandlersWith(b *testing.B, modules engine.Modules, tenants map[string]engine.Settings) (http.Handler, http.Handler) {
	log := testkit.DiscardLogger()
	cfg := engine.Config{Store: memstore.New(memstore.Config{}), Keys: jose.KeySetChecker{}, Logger: log, Rand: rand.Reader, Tenants: tenants}
	if modules != nil {
		cfg.Modules = modules
	}
	reg, err := engine.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	pub, err := httpapi.New(httpapi.Config{Registrar: reg, Issuer: "https://registrar.example", Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	adm, err := adminapi.New(adminapi.Config{Registrar: reg, Token: adminToken, Issuer: "https://registrar.example", Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	return pub, adm
}

// serve runs one request through h and returns the recorder.
func serve(h http.Handler, method, path, token, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// benchBody is the registration body of the node-oidc-provider anchor
// (shared/research/oidc-provider.md §2).
const benchBody = `{"redirect_uris":["https://app.example.com/cb"],"grant_types":["authorization_code","refresh_token"],"contacts":["dev@example.com"]}`

func mintBenchIAT(b *testing.B, adm http.Handler) string {
	return mintBenchIATWith(b, adm, `{"expires_in":"PT1H"}`)
}

func mintBenchIATWith(b *testing.B, adm http.Handler, body string) string {
	w := serve(adm, "POST", "/admin/tenants/default/initial-access-tokens", adminToken, body)
	if w.Code != 201 {
		b.Fatalf("mint: %d %s", w.Code, w.Body)
	}
	var m map[string]any
	json.Unmarshal(w.Body.Bytes(), &m)
	return m["initial_access_token"].(string)
}

// BenchmarkRegister measures POST /reg through the full handler stack
// (routing, bearer, body, token lookup, validation, ID, secret and token
// generation, hashing, store, JSON response), in parallel on all CPUs.
func BenchmarkRegister(b *testing.B) {
	pub, adm := benchHandlers(b)
	iat := mintBenchIAT(b, adm)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if w := serve(pub, "POST", "/reg", iat, benchBody); w.Code != http.StatusCreated {
				b.Fatalf("register: %d %s", w.Code, w.Body)
			}
		}
	})
}

// BenchmarkRead measures GET /reg/{client_id} with the registration
// access token, in parallel on all CPUs.
func BenchmarkRead(b *testing.B) {
	pub, adm := benchHandlers(b)
	iat := mintBenchIAT(b, adm)
	w := serve(pub, "POST", "/reg", iat, benchBody)
	var c map[string]any
	json.Unmarshal(w.Body.Bytes(), &c)
	path, rat := "/reg/"+c["client_id"].(string), c["registration_access_token"].(string)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if w := serve(pub, "GET", path, rat, ""); w.Code != http.StatusOK {
				b.Fatalf("read: %d %s", w.Code, w.Body)
			}
		}
	})
}

// BenchmarkRegisterWithPolicy measures POST /reg with an initial access
// token naming one policy module: the hand-written WAT module of
// sdk/ABI.md, and the Go example trusted-hosts (configured to trust the
// benchmark's redirect URI host).
func BenchmarkRegisterWithPolicy(b *testing.B) {
	for _, tc := range []struct{ name, path string }{
		{"wat-minimal", "../sdk/testdata/minimal.wasm"},
		{"go-trusted-hosts", "../policies-examples/trusted-hosts/go/policy.wasm"},
		{"c-trusted-hosts", "../policies-examples/trusted-hosts/c/policy.wasm"},
		{"rust-trusted-hosts", "../policies-examples/trusted-hosts/rust/policy.wasm"},
		{"as-trusted-hosts", "../policies-examples/trusted-hosts/assemblyscript/policy.wasm"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			dir := b.TempDir()
			wasm, err := os.ReadFile(tc.path)
			if err != nil {
				b.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, "p.wasm"), wasm, 0o644)
			host, err := plugins.New(context.Background(), plugins.Config{Dir: dir, Logger: testkit.DiscardLogger()})
			if err != nil {
				b.Fatal(err)
			}
			defer host.Close(context.Background())
			pub, adm := benchHandlersWith(b, host, map[string]engine.Settings{engine.DefaultTenant: {
				PolicyConfig: map[string]json.RawMessage{"p": json.RawMessage(`{"hosts":["app.example.com"]}`)},
			}})
			iat := mintBenchIATWith(b, adm, `{"expires_in":"PT1H","policies":["p"]}`)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if w := serve(pub, "POST", "/reg", iat, benchBody); w.Code != http.StatusCreated {
						b.Fatalf("register: %d %s", w.Code, w.Body)
					}
				}
			})
		})
	}
}
