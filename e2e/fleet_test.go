package e2e_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// client is a plain HTTP client for the processes' APIs.
type client struct {
	t *testing.T
	h *http.Client
}

func (c client) do(method, url, bearer, contentType string, body []byte) response {
	c.t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.h.Do(req)
	if err != nil {
		return response{status: -1, raw: err.Error()}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	if len(bytes.TrimSpace(b)) > 0 {
		_ = json.Unmarshal(b, &out.body)
	}
	return out
}

// version returns module bytes with a custom section that makes them a
// distinct version of the same code.
func version(code []byte, n int) []byte {
	name := "registrar.test-version"
	payload := []byte(fmt.Sprintf("%08d", n))
	var sec []byte
	sec = appendULEB(sec, uint64(len(name)))
	sec = append(sec, name...)
	sec = append(sec, payload...)
	out := slices.Clone(code)
	out = append(out, 0) // custom section id
	out = appendULEB(out, uint64(len(sec)))
	return append(out, sec...)
}

func appendULEB(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			c |= 0x80
		}
		b = append(b, c)
		if v == 0 {
			return b
		}
	}
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// serving returns the digest of the version of a tenant's policy that a
// process serves, as its admin API says.
func serving(c client, p *process, tenant, name string) string {
	r := c.do("GET", p.admin+"/admin/tenants/"+tenant+"/policies/"+name, adminToken, "", nil)
	s, _ := r.body["serving"].(map[string]any)
	d, _ := s["digest"].(string)
	return d
}

// waitServing polls every process until each serves want, and returns how
// long each took from start.
func waitServing(t *testing.T, c client, ps []*process, tenant, name, want string, start time.Time) []time.Duration {
	t.Helper()
	lat := make([]time.Duration, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A bound against a hang, not a speed check.
			for time.Since(start) < time.Minute {
				if serving(c, p, tenant, name) == want {
					lat[i] = time.Since(start)
					return
				}
				time.Sleep(2 * time.Millisecond)
			}
			lat[i] = -1
		}()
	}
	wg.Wait()
	return lat
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*p)]
}

// TestFleetHotReload runs two registrar processes on one Redis under
// continuous registration load, uploads 200 versions of a policy through
// their admin APIs (alternating between them) with rollbacks and a broken
// upload between, and rewrites a module of the policy folder: no request
// may fail, every replica must serve each new version, and memory must not
// grow with the swaps. How long a version takes to reach every replica is
// measured and logged (the goal is a second), not asserted: on a loaded
// 2-core machine it says more about the machine than about Registrar. The
// policy timeout is raised for the same reason: a call starved of CPU must
// not pass for a failure of the swaps.
func TestFleetHotReload(t *testing.T) {
	if testing.Short() {
		t.Skip("the fleet test takes about half a minute")
	}
	addr := startRedis(t)
	dir := t.TempDir()
	code, err := os.ReadFile(filepath.Join("..", "policies-examples", "max-redirect-uris", "c", "policy.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	folderFile := filepath.Join(dir, "folder-limits.wasm")
	if err := os.WriteFile(folderFile, version(code, 100000), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "registrar.yaml")
	if err := os.WriteFile(cfg, []byte("policy_limits:\n  timeout: 10s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--redis-url", "redis://" + addr, "--policy-dir", dir, "--log-level", "warn", "--config", cfg}
	a, b := startProcess(t, args...), startProcess(t, args...)
	ps := []*process{a, b}
	c := client{t: t, h: &http.Client{Timeout: 10 * time.Second}}

	must(t, "create tenant", c.do("PUT", a.admin+"/admin/tenants/fleet", adminToken, "application/json", []byte(`{}`)), 201)
	v0 := version(code, 0)
	must(t, "first upload", c.do("PUT", a.admin+"/admin/tenants/fleet/policies/limits", adminToken, "application/wasm", v0), 201)
	if lat := waitServing(t, c, ps, "fleet", "limits", digest(v0), time.Now()); slices.Contains(lat, -1) {
		t.Fatalf("first version not served everywhere: %v", lat)
	}
	iat := must(t, "token", c.do("POST", a.admin+"/admin/tenants/fleet/initial-access-tokens", adminToken, "application/json", []byte(`{"policies":["limits","folder-limits"],"expires_in":"PT1H"}`)), 201).str("initial_access_token")

	// Continuous load: four workers registering on both processes.
	var ok, failed atomic.Int64
	var firstFailure atomic.Value
	stop := make(chan struct{})
	var load sync.WaitGroup
	for w := 0; w < 4; w++ {
		load.Add(1)
		go func() {
			defer load.Done()
			p := ps[w%2]
			for {
				select {
				case <-stop:
					return
				default:
				}
				r := c.do("POST", p.public+"/tenants/fleet/reg", iat, "application/json", []byte(body))
				if r.status == 201 {
					ok.Add(1)
				} else {
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, fmt.Sprintf("%d %s", r.status, r.raw))
				}
			}
		}()
	}

	// lats: from the start of the upload to each replica serving it;
	// calls: how long the upload call took; spread: from the upload's
	// answer to the other replica serving it (the answering one serves it
	// when it answers).
	var lats, calls, spread []time.Duration
	record := func(what string, l []time.Duration, call time.Duration) {
		for i, d := range l {
			if d < 0 {
				t.Fatalf("%s: replica %d never served it", what, i)
			}
			lats = append(lats, d)
			spread = append(spread, max(0, d-call))
		}
		calls = append(calls, call)
	}
	var rssWarm int64
	prev := digest(v0)
	for i := 1; i <= 200; i++ {
		p := ps[i%2]
		v := version(code, i)
		start := time.Now()
		r := c.do("PUT", p.admin+"/admin/tenants/fleet/policies/limits", adminToken, "application/wasm", v)
		call := time.Since(start)
		if r.status != 200 {
			t.Fatalf("upload %d: %d %s", i, r.status, r.raw)
		}
		if got := serving(c, p, "fleet", "limits"); got != digest(v) {
			t.Errorf("upload %d: the answering replica serves %s after answering", i, got)
		}
		record(fmt.Sprintf("upload %d", i), waitServing(t, c, ps, "fleet", "limits", digest(v), start), call)
		if i%25 == 0 {
			// Roll back to the previous version, then forward again.
			start = time.Now()
			r := c.do("POST", ps[(i+1)%2].admin+"/admin/tenants/fleet/policies/limits/activate", adminToken, "application/json", []byte(`{"digest":"`+prev+`"}`))
			call := time.Since(start)
			if r.status != 200 {
				t.Fatalf("rollback %d: %d %s", i, r.status, r.raw)
			}
			record("rollback", waitServing(t, c, ps, "fleet", "limits", prev, start), call)
			r = c.do("POST", p.admin+"/admin/tenants/fleet/policies/limits/activate", adminToken, "application/json", []byte(`{"digest":"`+digest(v)+`"}`))
			if r.status != 200 {
				t.Fatalf("roll forward %d: %d %s", i, r.status, r.raw)
			}
			waitServing(t, c, ps, "fleet", "limits", digest(v), time.Now())
		}
		if i == 100 {
			// A broken upload is refused and the serving version stays.
			r := c.do("PUT", p.admin+"/admin/tenants/fleet/policies/limits", adminToken, "application/wasm", []byte("\x00asm\x01\x00\x00\x00garbage"))
			if r.status != 400 {
				t.Errorf("broken upload: %d %s", r.status, r.raw)
			}
			for _, q := range ps {
				if got := serving(c, q, "fleet", "limits"); got != digest(v) {
					t.Errorf("after a broken upload a replica serves %s, want %s", got, digest(v))
				}
			}
		}
		if i == 20 {
			rssWarm = a.rss(t) + b.rss(t)
		}
		prev = digest(v)
	}

	// A changed module file in the policy folder is live within a second.
	nv := version(code, 100001)
	start := time.Now()
	half := len(nv) / 2
	f, err := os.OpenFile(folderFile, os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(nv[:half])
	time.Sleep(30 * time.Millisecond) // a slow writer: the half must never activate
	f.Write(nv[half:])
	f.Close()
	folderLat := waitServing(t, c, ps, "fleet", "folder-limits", digest(nv), start)

	close(stop)
	load.Wait()
	rssEnd := a.rss(t) + b.rss(t)

	if failed.Load() != 0 {
		t.Errorf("%d of %d registrations failed during the swaps; first: %v", failed.Load(), ok.Load()+failed.Load(), firstFailure.Load())
	}
	if ok.Load() == 0 {
		t.Error("no registration succeeded")
	}
	t.Logf("registrations during the swaps: %d, failed: %d", ok.Load(), failed.Load())
	dist := func(ds []time.Duration) string {
		return fmt.Sprintf("p50 %v, p90 %v, p99 %v, max %v", percentile(ds, .5).Round(time.Microsecond*100), percentile(ds, .9).Round(time.Microsecond*100),
			percentile(ds, .99).Round(time.Microsecond*100), percentile(ds, 1).Round(time.Microsecond*100))
	}
	t.Logf("from the start of an upload or rollback to a replica serving it (%d observations): %s", len(lats), dist(lats))
	t.Logf("the upload or rollback call itself (verify, store, activate on the answering replica; %d calls): %s", len(calls), dist(calls))
	t.Logf("from the call's answer to the other replica serving it: %s", dist(spread))
	if m := percentile(lats, 1); m > time.Second {
		t.Logf("the slowest replica took %v to serve a new version (goal: 1s)", m)
	}
	for i, d := range folderLat {
		if d < 0 {
			t.Errorf("replica %d never served the rewritten folder module", i)
		}
	}
	t.Logf("folder change live after %v and %v", folderLat[0], folderLat[1])
	t.Logf("resident memory of both processes: %d MiB after 20 swaps, %d MiB after 200", rssWarm>>20, rssEnd>>20)
	if grow := rssEnd - rssWarm; grow > 64<<20 {
		t.Errorf("resident memory grew by %d MiB over 180 swaps", grow>>20)
	}
}
