package httpapi_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/adminapi"
	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/httpapi"
	"github.com/registrar-dev/registrar/idn"
	"github.com/registrar-dev/registrar/internal/seal"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/memstore"
	"github.com/registrar-dev/registrar/oauth"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// adminToken is the admin token of every test server.
const adminToken = "test-admin-token-0123456789"

// epoch is the fixed clock of the golden tests.
var epoch = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// server is a Registrar served over real HTTP, the public and admin APIs
// each on their own listener, with a fixed clock and seeded randomness so
// that responses are reproducible.
type server struct {
	t      *testing.T
	public *httptest.Server
	admin  *httptest.Server
	issuer string
}

func newServer(t *testing.T, tenants map[string]engine.Settings) *server {
	t.Helper()
	return newServerWith(t, tenants, func(s engine.Store) engine.Store { return s })
}

// newServerWith is newServer with the memstore wrapped by wrap.
func newServerWith(t *testing.T, tenants map[string]engine.Settings, wrap func(engine.Store) engine.Store) *server {
	t.Helper()
	return newTestServer(t, tenants, wrap, nil)
}

// newServerWithModules is newServer with policy modules.
func newServerWithModules(t *testing.T, tenants map[string]engine.Settings, modules engine.Modules) *server {
	t.Helper()
	return newTestServer(t, tenants, func(s engine.Store) engine.Store { return s }, modules)
}

func newTestServer(t *testing.T, tenants map[string]engine.Settings, wrap func(engine.Store) engine.Store, modules engine.Modules) *server {
	t.Helper()
	log := testkit.DiscardLogger()
	now := func() time.Time { return epoch }
	store := memstore.New(memstore.Config{Now: now})
	clients := wrap(store)
	kek, err := seal.Generate(nil)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := engine.New(engine.Config{
		Secrets: kek,
		Store:   clients,
		Keys:    jose.KeySetChecker{},
		Hosts:   idn.Normalizer{},
		Modules: modules,
		Tenants: tenants,
		Now:     now,
		Rand:    testkit.Rand(0),
		Logger:  log,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Client assertions are verified against registered jwks only: the
	// harness fetches no jwks_uri.
	assertions, err := jose.NewAssertions(jose.AssertionsConfig{})
	if err != nil {
		t.Fatal(err)
	}
	const issuer = "https://registrar.example"
	tokens, err := oauth.New(oauth.Config{Registrar: reg, Clients: clients, Store: store, Assertions: assertions, Modules: modules, KeyEncryption: kek, Now: now, Rand: testkit.Rand(1), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return serveAPIs(t, httpapi.Config{Registrar: reg, Tokens: tokens, Issuer: issuer, Logger: log, MaxBodyBytes: 4096})
}

// serveAPIs serves the public API of cfg, and the admin API of the same
// Registrar, issuer and logger with adminToken, each on its own loopback
// listener until the test ends.
func serveAPIs(t *testing.T, cfg httpapi.Config) *server {
	t.Helper()
	pub, err := httpapi.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	adm, err := adminapi.New(adminapi.Config{Registrar: cfg.Registrar, Token: adminToken, Issuer: cfg.Issuer, Logger: cfg.Logger})
	if err != nil {
		t.Fatal(err)
	}
	return &server{t: t, public: testkit.NewServer(t, pub), admin: testkit.NewServer(t, adm), issuer: cfg.Issuer}
}

// response is a response read completely.
type response struct {
	*http.Response
	body []byte
}

// json decodes the body as a JSON object.
func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

// do sends a request with optional JSON body and headers ("Name: value";
// see testkit.Do).
func (s *server) do(base *httptest.Server, method, path, body string, headers ...string) response {
	s.t.Helper()
	r := testkit.Do(s.t, base, method, path, body, headers...)
	return response{r.Response, r.Bytes}
}

func (s *server) get(path string, headers ...string) response {
	return s.do(s.public, http.MethodGet, path, "", headers...)
}

func bearer(token string) string { return "Authorization: Bearer " + token }

// adminDo calls the admin API with the admin token.
func (s *server) adminDo(method, path, body string) response {
	return s.do(s.admin, method, path, body, bearer(adminToken))
}

// mintIAT mints an initial access token for a tenant.
func (s *server) mintIAT(tenant, body string) string {
	s.t.Helper()
	r := s.adminDo(http.MethodPost, "/admin/tenants/"+tenant+"/initial-access-tokens", body)
	if r.StatusCode != http.StatusCreated {
		s.t.Fatalf("mint IAT: %d %s", r.StatusCode, r.body)
	}
	return r.json(s.t)["initial_access_token"].(string)
}

// register registers a client at a tenant path prefix ("" or
// "/tenants/x") and returns the response's JSON, failing unless 201.
func (s *server) register(prefix, token, body string) map[string]any {
	s.t.Helper()
	var headers []string
	if token != "" {
		headers = append(headers, bearer(token))
	}
	r := s.do(s.public, http.MethodPost, prefix+"/reg", body, headers...)
	if r.StatusCode != http.StatusCreated {
		s.t.Fatalf("register: %d %s", r.StatusCode, r.body)
	}
	return r.json(s.t)
}

// goldenHeaders are the headers a golden file records.
var goldenHeaders = []string{"Allow", "Cache-Control", "Content-Type", "Pragma", "Retry-After", "Www-Authenticate"}

// golden compares a response with testdata/<name>.golden: the status, the
// headers that matter, and the body (JSON indented).
func golden(t *testing.T, name string, r response) {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(r.Status + "\n")
	for _, h := range goldenHeaders {
		if v := r.Header.Values(h); len(v) > 0 {
			b.WriteString(h + ": " + strings.Join(v, ", ") + "\n")
		}
	}
	b.WriteString("\n")
	var ind bytes.Buffer
	if json.Indent(&ind, r.body, "", "  ") == nil {
		b.Write(ind.Bytes())
	} else {
		b.Write(r.body)
	}
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./httpapi -update to create it)", err)
	}
	if !bytes.Equal(want, b.Bytes()) {
		t.Errorf("response differs from %s (run with -update if the change is intended)\n--- want\n%s\n--- got\n%s", path, want, b.Bytes())
	}
}

// wantError checks an error response: status, error code, JSON body with
// a description, no-store caching.
func wantError(t *testing.T, r response, status int, code engine.ErrorCode) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", r.StatusCode, status, r.body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	m := r.json(t)
	if m["error"] != string(code) {
		t.Errorf("error %v, want %s; body %s", m["error"], code, r.body)
	}
	if d, _ := m["error_description"].(string); d == "" {
		t.Errorf("no error_description: %s", r.body)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", r.Header.Get("Cache-Control"))
	}
	challenge := `Bearer error="invalid_token"`
	if code == engine.CodeInvalidClient {
		challenge = `Basic realm="`
	}
	if status == http.StatusUnauthorized && !strings.Contains(r.Header.Get("WWW-Authenticate"), challenge) {
		t.Errorf("WWW-Authenticate %q, want %s...", r.Header.Get("WWW-Authenticate"), challenge)
	}
	if status != http.StatusUnauthorized && r.Header.Get("WWW-Authenticate") != "" {
		t.Errorf("WWW-Authenticate on a %d", status)
	}
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
