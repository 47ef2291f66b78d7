package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/plugins"
)

// BenchmarkNoisyNeighbour measures the registrations of one tenant, made
// one at a time over loopback HTTP through its policy (the minimal WAT
// module), while 8 goroutines register without pause at another tenant
// with tokens that name its hostile modules: none (idle), the endless
// loop, the memory bomb, or both (4 each). It reports the benign
// registrations' median, 99th percentile and longest latency and how many
// failed. The goal: under attack, the median within 2× of idle.
func BenchmarkNoisyNeighbour(b *testing.B) {
	for _, attack := range [][]string{nil, {"loop"}, {"grow"}, {"loop", "grow"}} {
		name := strings.Join(attack, "+")
		if name == "" {
			name = "idle"
		}
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			for name, src := range map[string]string{"minimal": "../sdk/testdata/minimal.wasm", "loop": "../plugins/testdata/loop.wasm", "grow": "../plugins/testdata/grow.wasm"} {
				wasm, err := os.ReadFile(src)
				if err != nil {
					b.Fatal(err)
				}
				tenant := "evil"
				if name == "minimal" {
					tenant = "benign"
				}
				os.MkdirAll(filepath.Join(dir, tenant), 0o755)
				os.WriteFile(filepath.Join(dir, tenant, name+".wasm"), wasm, 0o644)
			}
			host, err := plugins.New(context.Background(), plugins.Config{Dir: dir, Logger: testkit.DiscardLogger()})
			if err != nil {
				b.Fatal(err)
			}
			defer host.Close(context.Background())
			pub, adm := benchHandlersWith(b, host, map[string]engine.Settings{
				"benign": {InitialAccessToken: engine.TokenNone, DefaultPolicies: []string{"minimal"}},
				"evil":   {},
			})
			srv := testkit.NewServer(b, pub)
			client := srv.Client()
			register := func(tenant, token string) (int, error) {
				req, _ := http.NewRequest("POST", srv.URL+"/tenants/"+tenant+"/reg", strings.NewReader(benchBody))
				req.Header.Set("Content-Type", "application/json")
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				resp, err := client.Do(req)
				if err != nil {
					return 0, err
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				return resp.StatusCode, nil
			}

			stop := make(chan struct{})
			var attackers sync.WaitGroup
			for i := range 8 {
				if attack == nil {
					break
				}
				w := serve(adm, "POST", "/admin/tenants/evil/initial-access-tokens", adminToken, `{"expires_in":"PT1H","policies":["`+attack[i%len(attack)]+`"]}`)
				var m map[string]any
				json.Unmarshal(w.Body.Bytes(), &m)
				iat, _ := m["initial_access_token"].(string)
				if iat == "" {
					b.Fatalf("mint: %d %s", w.Code, w.Body)
				}
				attackers.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						register("evil", iat)
					}
				})
			}
			if attack != nil {
				time.Sleep(300 * time.Millisecond) // let the attack reach its stride
			}
			took := make([]time.Duration, 0, b.N)
			failed := 0
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				if code, err := register("benign", ""); err != nil || code != http.StatusCreated {
					failed++
				}
				took = append(took, time.Since(start))
			}
			b.StopTimer()
			close(stop)
			attackers.Wait()
			testkit.ReportLatencies(b, took)
			b.ReportMetric(float64(failed), "failed")
		})
	}
}
