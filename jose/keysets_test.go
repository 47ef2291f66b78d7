package jose_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/fetch"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
)

// keyServer serves JWK Sets by path on loopback and counts the requests.
type keyServer struct {
	srv *httptest.Server

	mu       sync.Mutex
	sets     map[string]string // path → body
	header   map[string]string
	status   int
	requests map[string]int
	gate     chan struct{} // when set, each request waits for it
	arrived  chan struct{} // when set, each request is announced
}

func newKeyServer(t *testing.T) *keyServer {
	t.Helper()
	ks := &keyServer{sets: map[string]string{}, header: map[string]string{}, requests: map[string]int{}}
	ks.srv = testkit.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ks.mu.Lock()
		ks.requests[r.URL.Path]++
		gate, arrived, status, body := ks.gate, ks.arrived, ks.status, ks.sets[r.URL.Path]
		for k, v := range ks.header {
			w.Header().Set(k, v)
		}
		ks.mu.Unlock()
		if arrived != nil {
			select {
			case arrived <- struct{}{}:
			default:
			}
		}
		if gate != nil {
			<-gate
		}
		if status != 0 {
			w.WriteHeader(status)
		}
		w.Write([]byte(body))
	}))
	return ks
}

func (ks *keyServer) set(f func(ks *keyServer)) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	f(ks)
}

func (ks *keyServer) count(path string) int {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return ks.requests[path]
}

// keySets returns KeySets fetching from ks through a guarded client that
// allow-lists ks, and its clock.
func keySets(t *testing.T, ks *keyServer, cfg jose.KeySetsConfig) (*jose.KeySets, *testkit.Clock) {
	t.Helper()
	allow, err := fetch.ParseAllowList(ks.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	client, err := fetch.New(fetch.Config{AllowHosts: allow, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	clk := testkit.NewClock(time.Unix(1_800_000_000, 0))
	cfg.Fetcher, cfg.Now = client, clk.Now
	k, err := jose.NewKeySets(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return k, clk
}

// ecJWK returns a public P-256 JWK with the given kid.
func ecJWK(t *testing.T, kid string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Replace(jwkJSON(t, &key.PublicKey), `"kid":"k1"`, `"kid":"`+kid+`"`, 1)
}

func TestKeySetsCacheControl(t *testing.T) {
	for _, tc := range []struct {
		name, cacheControl, age string
		min, max                time.Duration
		fresh, stale            time.Duration // still cached after fresh, fetched again after stale
	}{
		{"max-age", "public, max-age=600", "", time.Minute, time.Hour, 599 * time.Second, 601 * time.Second},
		{"max-age less age", "max-age=600", "590", time.Second, time.Hour, 9 * time.Second, 11 * time.Second},
		{"raised to MinTTL", "max-age=5", "", time.Minute, time.Hour, 59 * time.Second, 61 * time.Second},
		{"lowered to MaxTTL", "max-age=31536000", "", time.Minute, time.Hour, 59 * time.Minute, 61 * time.Minute},
		{"no-store is MinTTL", "no-store, max-age=600", "", time.Minute, time.Hour, 59 * time.Second, 61 * time.Second},
		{"none is MinTTL", "", "", 2 * time.Minute, time.Hour, 119 * time.Second, 121 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ks := newKeyServer(t)
			ks.set(func(ks *keyServer) {
				ks.sets["/jwks"] = string(set(ecJWK(t, "a")))
				ks.header["Cache-Control"] = tc.cacheControl
				ks.header["Age"] = tc.age
			})
			k, clk := keySets(t, ks, jose.KeySetsConfig{MinTTL: tc.min, MaxTTL: tc.max})
			url := ks.srv.URL + "/jwks"
			for range 3 {
				if s, err := k.Get(context.Background(), url); err != nil || s.Len() != 1 {
					t.Fatalf("Get: %v", err)
				}
			}
			clk.Advance(tc.fresh)
			k.Get(context.Background(), url)
			if n := ks.count("/jwks"); n != 1 {
				t.Fatalf("%d requests within the TTL, want 1", n)
			}
			clk.Advance(tc.stale - tc.fresh)
			k.Get(context.Background(), url)
			if n := ks.count("/jwks"); n != 2 {
				t.Fatalf("%d requests after the TTL, want 2", n)
			}
		})
	}
}

// TestKeySetsShareOneFetch: callers that want a set while it is being
// fetched wait for that fetch; the server sees one request.
func TestKeySetsShareOneFetch(t *testing.T) {
	ks := newKeyServer(t)
	gate, arrived := make(chan struct{}), make(chan struct{}, 1)
	ks.set(func(ks *keyServer) {
		ks.sets["/jwks"] = string(set(ecJWK(t, "a")))
		ks.gate, ks.arrived = gate, arrived
	})
	var once sync.Once
	release := func() { once.Do(func() { close(gate) }) }
	t.Cleanup(release) // before the server closes, so that no handler is left waiting
	k, _ := keySets(t, ks, jose.KeySetsConfig{})
	url := ks.srv.URL + "/jwks"
	const callers = 20
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			s, err := k.Get(context.Background(), url)
			if err == nil && s.Len() != 1 {
				err = errors.New("wrong set")
			}
			errs <- err
		})
	}
	<-arrived
	for k.Waiters(url) < callers { // every caller is waiting for the one fetch
		if n := ks.count("/jwks"); n > 1 {
			t.Fatalf("%d requests while the first was in flight, want 1", n)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
	release()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := ks.count("/jwks"); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

// TestKeySetsUnknownKid: an unknown kid refetches the set (a rotation is
// seen at once), but at most once per RefetchInterval however many unknown
// kids arrive.
func TestKeySetsUnknownKid(t *testing.T) {
	ks := newKeyServer(t)
	a, b := ecJWK(t, "a"), ecJWK(t, "b")
	ks.set(func(ks *keyServer) { ks.sets["/jwks"] = string(set(a)) })
	k, clk := keySets(t, ks, jose.KeySetsConfig{RefetchInterval: 10 * time.Second})
	url := ks.srv.URL + "/jwks"
	ctx := context.Background()

	if key, err := k.LookupKeyID(ctx, url, "a"); err != nil || key.KeyID() != "a" {
		t.Fatalf("kid a: %v", err)
	}
	clk.Advance(11 * time.Second)
	ks.set(func(ks *keyServer) { ks.sets["/jwks"] = string(set(a, b)) }) // the server rotates
	if key, err := k.LookupKeyID(ctx, url, "b"); err != nil || key.KeyID() != "b" {
		t.Fatalf("kid b after rotation: %v", err)
	}
	if n := ks.count("/jwks"); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
	for i := range 100 { // an attacker's made-up kids
		_, err := k.LookupKeyID(ctx, url, "made-up")
		if !errors.Is(err, jose.ErrUnknownKeyID) {
			t.Fatalf("made-up kid %d: %v, want ErrUnknownKeyID", i, err)
		}
		clk.Advance(50 * time.Millisecond)
	}
	if n := ks.count("/jwks"); n != 2 {
		t.Fatalf("%d requests after 100 unknown kids within 5s, want still 2", n)
	}
	clk.Advance(6 * time.Second) // 11 s after the last fetch
	for range 10 {
		k.LookupKeyID(ctx, url, "made-up")
	}
	if n := ks.count("/jwks"); n != 3 {
		t.Fatalf("%d requests, want 3: one more after the interval", n)
	}
}

// TestKeySetsInvalid: a body that is not a usable JWK Set is
// fetch.Invalid; the failure is remembered for RefetchInterval.
func TestKeySetsInvalid(t *testing.T) {
	ecPriv := `{"kty":"EC","crv":"P-256","x":"x","y":"y","d":"d"}`
	for name, body := range map[string]string{
		"not JSON":    `{"keys": [`,
		"HTML":        `<html>hello</html>`,
		"no keys":     `{"keys":[]}`,
		"private key": `{"keys":[` + ecPriv + `]}`,
	} {
		t.Run(name, func(t *testing.T) {
			ks := newKeyServer(t)
			ks.set(func(ks *keyServer) { ks.sets["/jwks"] = body })
			k, clk := keySets(t, ks, jose.KeySetsConfig{})
			url := ks.srv.URL + "/jwks"
			_, err := k.Get(context.Background(), url)
			if fetch.KindOf(err) != fetch.Invalid || !strings.Contains(err.Error(), "not a usable JWK Set") {
				t.Fatalf("err = %v (kind %s), want invalid", err, fetch.KindOf(err))
			}
			_, err2 := k.Get(context.Background(), url)
			if fetch.KindOf(err2) != fetch.Invalid || ks.count("/jwks") != 1 {
				t.Errorf("second Get: %v after %d requests; want the remembered error", err2, ks.count("/jwks"))
			}
			clk.Advance(11 * time.Second)
			k.Get(context.Background(), url)
			if n := ks.count("/jwks"); n != 2 {
				t.Errorf("%d requests after the interval, want 2", n)
			}
		})
	}
}

// TestKeySetsUnavailable: a failing server is fetch.Unavailable; a set
// fetched before stays in use for StaleFor past its TTL.
func TestKeySetsUnavailable(t *testing.T) {
	ks := newKeyServer(t)
	ks.set(func(ks *keyServer) {
		ks.sets["/jwks"] = string(set(ecJWK(t, "a")))
		ks.header["Cache-Control"] = "max-age=60"
	})
	k, clk := keySets(t, ks, jose.KeySetsConfig{MinTTL: time.Second, StaleFor: 10 * time.Minute})
	url := ks.srv.URL + "/jwks"
	ctx := context.Background()
	if _, err := k.Get(ctx, url); err != nil {
		t.Fatal(err)
	}
	ks.set(func(ks *keyServer) { ks.status = http.StatusServiceUnavailable })
	clk.Advance(61 * time.Second)
	if s, err := k.Get(ctx, url); err != nil || s.Len() != 1 {
		t.Fatalf("stale set during an outage: %v", err)
	}
	if n := ks.count("/jwks"); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
	clk.Advance(10 * time.Minute)
	_, err := k.Get(ctx, url)
	if fetch.KindOf(err) != fetch.Unavailable || !strings.Contains(err.Error(), "503") {
		t.Fatalf("err = %v (kind %s), want unavailable after StaleFor", err, fetch.KindOf(err))
	}

	// Never fetched: the failure is the answer.
	other := ks.srv.URL + "/other"
	if _, err := k.Get(ctx, other); fetch.KindOf(err) != fetch.Unavailable {
		t.Fatalf("err = %v, want unavailable", err)
	}
}

// TestKeySetsRefused: a URL the guard refuses is fetch.Refused, and
// nothing is requested.
func TestKeySetsRefused(t *testing.T) {
	ks := newKeyServer(t)
	k, _ := keySets(t, ks, jose.KeySetsConfig{})
	for _, url := range []string{"http://keys.example/jwks", "https://169.254.169.254/latest/meta-data/", "https://[::1]/jwks"} {
		if _, err := k.Get(context.Background(), url); fetch.KindOf(err) != fetch.Refused {
			t.Errorf("Get(%s) = %v, want refused", url, err)
		}
	}
}

// TestKeySetsBounded: past MaxEntries the least recently used URL is
// forgotten.
func TestKeySetsBounded(t *testing.T) {
	ks := newKeyServer(t)
	ks.set(func(ks *keyServer) {
		for _, p := range []string{"/a", "/b", "/c"} {
			ks.sets[p] = string(set(ecJWK(t, "k")))
		}
	})
	k, clk := keySets(t, ks, jose.KeySetsConfig{MaxEntries: 2})
	ctx := context.Background()
	for _, p := range []string{"/a", "/b", "/a", "/c", "/a", "/b"} {
		if _, err := k.Get(ctx, ks.srv.URL+p); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
	}
	if k.Entries() != 2 {
		t.Errorf("%d entries, want 2", k.Entries())
	}
	// /b was forgotten for /c, then fetched again; /a stayed.
	if a, b, c := ks.count("/a"), ks.count("/b"), ks.count("/c"); a != 1 || b != 2 || c != 1 {
		t.Errorf("requests a=%d b=%d c=%d, want 1 2 1", a, b, c)
	}
}

func TestNewKeySets(t *testing.T) {
	c, _ := fetch.New(fetch.Config{})
	for _, cfg := range []jose.KeySetsConfig{
		{},
		{Fetcher: c, MinTTL: time.Hour, MaxTTL: time.Minute},
		{Fetcher: c, RefetchInterval: -1},
		{Fetcher: c, MaxEntries: -1},
	} {
		if _, err := jose.NewKeySets(cfg); err == nil {
			t.Errorf("NewKeySets(%+v) = nil error", cfg)
		}
	}
	if _, err := jose.NewKeySets(jose.KeySetsConfig{Fetcher: c, MinTTL: 48 * time.Hour}); err != nil {
		t.Errorf("MinTTL above the default MaxTTL: %v", err)
	}
}

func TestCacheMaxAge(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want int64
		ok   bool
	}{
		{nil, 0, false},
		{[]string{"public"}, 0, false},
		{[]string{"public, max-age=300"}, 300, true},
		{[]string{"Max-Age=\"60\""}, 60, true},
		{[]string{"max-age=60", "max-age=5"}, 60, true},
		{[]string{"max-age=60, no-cache"}, 0, true},
		{[]string{"max-age=-1"}, 0, false},
		{[]string{"max-age=abc, max-age=7"}, 7, true},
		{[]string{"max-age=99999999999999999999"}, 0, false},
		{[]string{"max-age=9999999999999"}, 1 << 32, true},
	} {
		got, ok := jose.CacheMaxAge(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("cacheMaxAge(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzCacheMaxAge: a key server's Cache-Control header never panics the
// parser nor yields a negative or unbounded age.
func FuzzCacheMaxAge(f *testing.F) {
	for _, s := range []string{"max-age=300", "no-store", "public, max-age=\"5\"", "max-age=-3", "max-age=99999999999999999999", ","} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := jose.CacheMaxAge([]string{s})
		if n < 0 || n > 1<<32 || (!ok && n != 0) {
			t.Fatalf("cacheMaxAge(%q) = %d, %v", s, n, ok)
		}
	})
}
