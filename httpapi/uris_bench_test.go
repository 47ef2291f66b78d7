package httpapi_test

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/fetch"
	"github.com/registrar-dev/registrar/httpapi"
	"github.com/registrar-dev/registrar/internal/redistest"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/jose/josetest"
	"github.com/registrar-dev/registrar/memstore"
	"github.com/registrar-dev/registrar/redisstore"
)

// BenchmarkRegisterP50 measures the median latency of one registration,
// one at a time, as p50-ns: plain; with an ES256 or PS256 statement whose
// issuer's keys are in the KeySets cache (a jwks_uri fetched once, before
// the timer), with a fresh jti each time (so the replay cache is
// written); and the same with software_id_policy "unique" (the store's
// software_id check); and without a jti (no replay cache write); against
// memstore and Redis.
// The ratio of the statement runs to the plain one is the figure of issue
// 18 (goal: at most 1.5).
func BenchmarkRegisterP50(b *testing.B) {
	keys := map[string]*josetest.Key{"ES256": josetest.NewKey(b, "ES256", "es"), "PS256": josetest.NewKey(b, "PS256", "ps")}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Write(josetest.JWKS(b, keys["ES256"], keys["PS256"]))
	}))
	b.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	allow, err := fetch.ParseAllowList(strings.TrimPrefix(srv.URL, "https://"))
	if err != nil {
		b.Fatal(err)
	}
	type store interface {
		engine.Store
		engine.ReplayCache
	}
	stores := map[string]func(b *testing.B) store{
		"memstore": func(*testing.B) store { return memstore.New(memstore.Config{}) },
		"redis": func(b *testing.B) store {
			redistest.Require(b)
			srv := redistest.Start(b, redistest.Options{})
			s, err := redisstore.Open(b.Context(), "redis://"+srv.Addr, redisstore.OpenOptions{Prefix: "bench-" + randomJTI()})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		},
	}
	for _, storeName := range []string{"memstore", "redis"} {
		for _, tc := range []struct {
			name   string
			policy engine.SoftwareIDPolicy
			alg    string // "": no statement
		}{
			{"plain", "", ""},
			{"statement-ES256", "", "ES256"},
			{"statement-PS256", "", "PS256"},
			{"statement-ES256-unique-software-id", engine.SoftwareIDUnique, "ES256"},
			{"statement-ES256-no-jti", "", "ES256-no-jti"},
		} {
			b.Run(storeName+"/"+tc.name, func(b *testing.B) {
				alg, noJTI := strings.CutSuffix(tc.alg, "-no-jti")
				benchRegisterP50(b, stores[storeName](b), tc.policy, alg != "", !noJTI, keys[alg], srv.URL, roots, allow)
			})
		}
	}
}

// benchRegisterP50 is one run of BenchmarkRegisterP50.
func benchRegisterP50(b *testing.B, store interface {
	engine.Store
	engine.ReplayCache
}, policy engine.SoftwareIDPolicy, stmt, jti bool, key *josetest.Key, keysURL string, roots *x509.CertPool, allow fetch.AllowList) {
	{
		{
			client, err := fetch.New(fetch.Config{AllowHosts: allow, RootCAs: roots})
			if err != nil {
				b.Fatal(err)
			}
			sets, _ := jose.NewKeySets(jose.KeySetsConfig{Fetcher: client})
			statements, _ := jose.NewStatements(jose.StatementsConfig{KeySets: sets, CheckURL: client.CheckURL})
			const token = "bench-static-token-0123456789"
			settings := engine.Settings{InitialAccessToken: engine.TokenStatic, StaticInitialAccessToken: token, SoftwareIDPolicy: policy}
			if stmt {
				settings.SoftwareStatement = &engine.StatementSettings{Issuers: []engine.StatementIssuer{{Issuer: directory, JWKSURI: keysURL + "/jwks"}}, RequireJTI: jti}
			}
			reg, err := engine.New(engine.Config{Store: store, Keys: jose.KeySetChecker{}, Statements: statements, Replay: store,
				Tenants: map[string]engine.Settings{"default": settings}, Rand: rand.Reader, Logger: testkit.DiscardLogger()})
			if err != nil {
				b.Fatal(err)
			}
			pub, err := httpapi.New(httpapi.Config{Registrar: reg, Issuer: "https://registrar.example", Logger: testkit.DiscardLogger()})
			if err != nil {
				b.Fatal(err)
			}
			// The bodies are made before the timer: signing is the
			// directory's work, not ours.
			bodies := make([]string, b.N+1)
			for i := range bodies {
				bodies[i] = benchBody
				if stmt {
					claims := map[string]any{"iss": directory, "iat": time.Now().Unix(), "jti": randomJTI(), "software_id": "sw-" + randomJTI()}
					if !jti {
						delete(claims, "jti")
					}
					st := key.Sign(b, nil, claims)
					var m map[string]any
					json.Unmarshal([]byte(benchBody), &m)
					m["software_statement"] = st
					raw, _ := json.Marshal(m)
					bodies[i] = string(raw)
				}
			}
			// The first registration fetches the issuer's keys.
			if w := serve(pub, "POST", "/reg", token, bodies[b.N]); w.Code != http.StatusCreated {
				b.Fatalf("register: %d %s", w.Code, w.Body)
			}
			took := make([]time.Duration, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				start := time.Now()
				w := serve(pub, "POST", "/reg", token, bodies[i])
				took[i] = time.Since(start)
				if w.Code != http.StatusCreated {
					b.Fatalf("register: %d %s", w.Code, w.Body)
				}
			}
			b.StopTimer()
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Nanoseconds()), "p50-ns")
		}
	}
}

// randomJTI returns 16 random bytes in hex.
func randomJTI() string {
	return strings.ToLower(rand.Text())
}
