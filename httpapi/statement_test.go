package httpapi_test

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/fetch"
	"github.com/registrar-dev/registrar/httpapi"
	"github.com/registrar-dev/registrar/idn"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/jose/josetest"
	"github.com/registrar-dev/registrar/memstore"
)

// directory is the trusted issuer of the statement tests.
const directory = "https://directory.example"

// statementEnv is what the statement tests share: the issuer's keys, the
// store (two servers may share it), and the outcomes reported for metrics.
type statementEnv struct {
	k1, k2   *josetest.Key // the directory's keys (RS256 "k1", ES256 "k2")
	store    *memstore.Store
	mu       sync.Mutex
	outcomes []string
}

func newStatementEnv(t *testing.T) *statementEnv {
	return &statementEnv{
		k1: josetest.NewKey(t, "RS256", "k1"), k2: josetest.NewKey(t, "ES256", "k2"),
		store: memstore.New(memstore.Config{Now: func() time.Time { return epoch }}),
	}
}

// seen returns the outcomes reported so far, space-separated.
func (e *statementEnv) seen() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.outcomes, " ")
}

// settings trusts the directory with its keys inline.
func (e *statementEnv) settings(t *testing.T, required bool) engine.Settings {
	return engine.Settings{
		InitialAccessToken: engine.TokenNone,
		SoftwareStatement: &engine.StatementSettings{
			Required: required, RequireJTI: true, MaxAge: engine.Duration(5 * time.Minute),
			Algorithms: []string{"RS256", "ES256"},
			Issuers:    []engine.StatementIssuer{{Issuer: directory, JWKS: josetest.JWKS(t, e.k1, e.k2)}},
		},
	}
}

// server serves tenants with statements verified by st over e's store.
func (e *statementEnv) server(t *testing.T, tenants map[string]engine.Settings, st *jose.Statements) *server {
	t.Helper()
	return e.serve(t, engine.Config{
		Tenants: tenants, Statements: st,
		ObserveStatement: func(o engine.StatementOutcome) {
			e.mu.Lock()
			e.outcomes = append(e.outcomes, o.Tenant+":"+o.Outcome)
			e.mu.Unlock()
		},
	})
}

// serve serves a Registrar of cfg over e's store (its replay cache too)
// with the fixed clock, on the public and admin APIs. cfg gives the
// tenants, the statements and whatever else the test needs; serve sets
// the store, keys, host normaliser, clock and logger.
func (e *statementEnv) serve(t *testing.T, cfg engine.Config) *server {
	t.Helper()
	log := testkit.DiscardLogger()
	cfg.Store, cfg.Replay = e.store, e.store
	cfg.Keys, cfg.Hosts = jose.KeySetChecker{}, idn.Normalizer{}
	cfg.Now, cfg.Logger = func() time.Time { return epoch }, log
	reg, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return serveAPIs(t, httpapi.Config{Registrar: reg, Issuer: "https://registrar.example", Logger: log, MaxBodyBytes: 64 << 10})
}

func inlineStatements(t *testing.T) *jose.Statements {
	st, err := jose.NewStatements(jose.StatementsConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

var jtiSeq atomic.Int64

// statementClaims are a valid statement's claims: a fresh jti each call.
func statementClaims() map[string]any {
	return map[string]any{
		"iss": directory, "iat": epoch.Unix(), "exp": epoch.Add(time.Hour).Unix(),
		"jti": "jti-" + time.Duration(jtiSeq.Add(1)).String(), "software_id": "sw-1",
		"client_name": "Vouched", "redirect_uris": []string{"https://app.example/cb"},
	}
}

// with returns claims with members changed (a nil value removes one).
func with(c map[string]any, changes map[string]any) map[string]any {
	for k, v := range changes {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// regBody is a registration request carrying a statement.
func regBody(statement string) string {
	b, _ := json.Marshal(map[string]any{
		"redirect_uris": []string{"https://plain.example/cb"}, "client_name": "Plain",
		"software_statement": statement,
	})
	return string(b)
}

func TestStatementRegisters(t *testing.T) {
	e := newStatementEnv(t)
	s := e.server(t, map[string]engine.Settings{"fed": e.settings(t, true)}, inlineStatements(t))
	claims := statementClaims()
	statement := e.k1.Sign(t, nil, claims)
	m := s.register("/tenants/fed", "", regBody(statement))
	// The statement's claims win over the plain members (RFC 7591 §2.3),
	// and the statement is echoed as sent (§3.2.1).
	if m["client_name"] != "Vouched" || m["software_id"] != "sw-1" || m["software_statement"] != statement {
		t.Errorf("response %v", m)
	}
	if uris, _ := m["redirect_uris"].([]any); len(uris) != 1 || uris[0] != "https://app.example/cb" {
		t.Errorf("redirect_uris %v, want the statement's", m["redirect_uris"])
	}
	r := s.adminDo(http.MethodGet, "/admin/tenants/fed/clients/"+m["client_id"].(string), "")
	h := r.json(t)["history"].([]any)[0].(map[string]any)["software_statement"].(map[string]any)
	if h["issuer"] != directory || h["kid"] != "k1" || h["jti"] != claims["jti"] || h["software_id"] != "sw-1" {
		t.Errorf("provenance %v", h)
	}
	// Key rotation: the second key of the issuer's set verifies too.
	s.register("/tenants/fed", "", regBody(e.k2.Sign(t, nil, statementClaims())))
	if got := e.seen(); got != "fed:verified fed:verified" {
		t.Errorf("outcomes %v", got)
	}
}

func TestStatementRefusals(t *testing.T) {
	e := newStatementEnv(t)
	s := e.server(t, map[string]engine.Settings{"fed": e.settings(t, true)}, inlineStatements(t))
	other := josetest.NewKey(t, "ES256", "k2")
	untrusted := josetest.NewKey(t, "ES256", "u")
	publicJWK := e.k1.JWK(t, nil)
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"` + directory + `"}`))
	tamper := func(jws string) string {
		i := strings.LastIndexByte(jws, '.')
		sig, _ := base64.RawURLEncoding.DecodeString(jws[i+1:])
		sig[0] ^= 1
		return jws[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
	}
	big := strings.Repeat("x", engine.MaxStatementBytes)
	// A JWS whose payload is another JWS (cty JWT), not a claims set.
	nested := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"k1","cty":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(e.k1.Sign(t, nil, statementClaims()))) + ".AAAA"
	unapproved := engine.CodeUnapprovedSoftwareStatement
	for _, c := range []struct {
		name, body string
		code       engine.ErrorCode
	}{
		{"missing while required", `{"redirect_uris":["https://plain.example/cb"]}`, ""},
		{"malformed", regBody("not-a-jws"), ""},
		{"not a string", `{"redirect_uris":["https://plain.example/cb"],"software_statement":{"iss":"x"}}`, ""},
		{"bad signature", regBody(tamper(e.k1.Sign(t, nil, statementClaims()))), ""},
		{"kid of a trusted key over another key's signature", regBody(other.Sign(t, nil, statementClaims())), ""},
		{"HS256 with the public key as secret", regBody(josetest.SignHS256(t, publicJWK, statementClaims())), ""},
		{"alg none", regBody(josetest.Unsigned(t, map[string]any{"alg": "none"}, statementClaims(), nil)), ""},
		{"alg outside the allowlist", regBody(e.k1.With("PS256", "k1").Sign(t, nil, statementClaims())), ""},
		{"jku", regBody(e.k1.Sign(t, map[string]any{"jku": "https://evil.example/jwks"}, statementClaims())), ""},
		{"x5u", regBody(e.k1.Sign(t, map[string]any{"x5u": "https://evil.example/cert"}, statementClaims())), ""},
		{"jwk", regBody(e.k1.Sign(t, map[string]any{"jwk": json.RawMessage(publicJWK)}, statementClaims())), ""},
		{"x5c", regBody(e.k1.Sign(t, map[string]any{"x5c": []string{"MIIB"}}, statementClaims())), ""},
		{"crit", regBody(e.k1.Sign(t, map[string]any{"crit": []string{"exp"}}, statementClaims())), ""},
		{"JSON serialisation", regBody(`{"payload":"` + payload + `","signatures":[{"protected":"eyJhbGciOiJSUzI1NiJ9","signature":"AA"}]}`), ""},
		{"nested JWT", regBody(nested), ""},
		{"JWE", regBody("eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d"), ""},
		{"oversized", regBody(e.k1.Sign(t, nil, with(statementClaims(), map[string]any{"pad": big}))), ""},
		{"no iss", regBody(e.k1.Sign(t, nil, with(statementClaims(), map[string]any{"iss": nil}))), ""},
		{"untrusted issuer", regBody(untrusted.Sign(t, nil, with(statementClaims(), map[string]any{"iss": "https://rogue.example"}))), unapproved},
		{"no iat", regBody(e.k1.Sign(t, nil, with(statementClaims(), map[string]any{"iat": nil}))), ""},
		{"iat in the future", regBody(e.k1.Sign(t, nil, with(statementClaims(), map[string]any{"iat": epoch.Add(2 * time.Minute).Unix()}))), ""},
		{"older than max_age", regBody(e.k1.Sign(t, nil, with(statementClaims(), map[string]any{"iat": epoch.Add(-10 * time.Minute).Unix()}))), ""},
		{"expired", regBody(e.k1.Sign(t, nil, with(statementClaims(), map[string]any{"exp": epoch.Add(-time.Minute).Unix()}))), ""},
		{"no jti under require_jti", regBody(e.k1.Sign(t, nil, with(statementClaims(), map[string]any{"jti": nil}))), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			code := c.code
			if code == "" {
				code = engine.CodeInvalidSoftwareStatement
			}
			r := s.do(s.public, http.MethodPost, "/tenants/fed/reg", c.body)
			wantError(t, r, http.StatusBadRequest, code)
		})
	}
	// Within the skew, iat slightly ahead is fine.
	s.register("/tenants/fed", "", regBody(e.k1.Sign(t, nil, with(statementClaims(), map[string]any{"iat": epoch.Add(20 * time.Second).Unix()}))))
}

func TestStatementReplayAcrossReplicas(t *testing.T) {
	e := newStatementEnv(t)
	tenants := map[string]engine.Settings{"fed": e.settings(t, false)}
	a, b := e.server(t, tenants, inlineStatements(t)), e.server(t, tenants, inlineStatements(t))
	statement := e.k1.Sign(t, nil, statementClaims())
	a.register("/tenants/fed", "", regBody(statement))
	wantError(t, b.do(b.public, http.MethodPost, "/tenants/fed/reg", regBody(statement)), http.StatusBadRequest, engine.CodeInvalidSoftwareStatement)
	// A statement refused for its metadata is not spent: sent again, it
	// is refused for the same reason, not as a replay.
	s2 := e.k1.Sign(t, nil, with(statementClaims(), map[string]any{"redirect_uris": []string{"http://insecure.example/cb"}}))
	for range 2 {
		wantError(t, b.do(b.public, http.MethodPost, "/tenants/fed/reg", regBody(s2)), http.StatusBadRequest, engine.CodeInvalidRedirectURI)
	}
}

func TestStatementRequiredByToken(t *testing.T) {
	e := newStatementEnv(t)
	opt := e.settings(t, false)
	opt.InitialAccessToken = engine.TokenStored
	s := e.server(t, map[string]engine.Settings{"fed": opt, "plain": {}}, inlineStatements(t))
	tok := s.mintIAT("fed", `{"software_statement_required":true}`)
	r := s.do(s.public, http.MethodPost, "/tenants/fed/reg", `{"redirect_uris":["https://plain.example/cb"]}`, bearer(tok))
	wantError(t, r, http.StatusBadRequest, engine.CodeInvalidSoftwareStatement)
	s.register("/tenants/fed", tok, regBody(e.k1.Sign(t, nil, statementClaims())))
	// Without the token's requirement the statement is optional.
	s.register("/tenants/fed", s.mintIAT("fed", `{}`), `{"redirect_uris":["https://plain.example/cb"]}`)
	// A tenant that verifies no statements cannot require one.
	wantError(t, s.adminDo(http.MethodPost, "/admin/tenants/plain/initial-access-tokens", `{"software_statement_required":true}`), http.StatusBadRequest, engine.CodeInvalidRequest)
}

func TestStatementSettingsRefused(t *testing.T) {
	e := newStatementEnv(t)
	s := e.server(t, nil, newIssuerKeyServer(t).statements(t))
	jwks := string(josetest.JWKS(t, e.k1))
	for _, c := range []struct{ name, setting, want string }{
		{"no issuers", `{"issuers":[]}`, "at least one"},
		{"http jwks_uri", `{"issuers":[{"issuer":"x","jwks_uri":"http://keys.example/jwks"}]}`, "https"},
		{"loopback jwks_uri", `{"issuers":[{"issuer":"x","jwks_uri":"https://127.0.0.1/jwks"}]}`, "outbound guard"},
		{"private jwks_uri", `{"issuers":[{"issuer":"x","jwks_uri":"https://10.1.2.3/jwks"}]}`, "outbound guard"},
		{"metadata jwks_uri", `{"issuers":[{"issuer":"x","jwks_uri":"https://169.254.169.254/jwks"}]}`, "outbound guard"},
		{"both", `{"issuers":[{"issuer":"x","jwks":` + jwks + `,"jwks_uri":"https://keys.example/jwks"}]}`, "not both"},
		{"neither", `{"issuers":[{"issuer":"x"}]}`, "set jwks or jwks_uri"},
		{"symmetric key", `{"issuers":[{"issuer":"x","jwks":{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}}]}`, "jwks"},
		{"twice", `{"issuers":[{"issuer":"x","jwks":` + jwks + `},{"issuer":"x","jwks":` + jwks + `}]}`, "twice"},
		{"HS256", `{"issuers":[{"issuer":"x","jwks":` + jwks + `}],"algorithms":["HS256"]}`, "HS256"},
		{"open-finance-brasil RS256", `{"issuers":[{"issuer":"x","jwks":` + jwks + `}],"profile":"open-finance-brasil","algorithms":["PS256","RS256"]}`, "allows only PS256"},
		{"open-finance-brasil max_age", `{"issuers":[{"issuer":"x","jwks":` + jwks + `}],"profile":"open-finance-brasil","max_age":"PT10M"}`, "at most 5m0s"},
		{"role_scopes without roles", `{"issuers":[{"issuer":"x","jwks":` + jwks + `}],"role_scopes":{"AISP":["openid"]}}`, "checks no roles"},
		{"role_scopes", `{"issuers":[{"issuer":"x","jwks":` + jwks + `}],"profile":"obie","role_scopes":{"AISP":["bad scope"]}}`, "role_scopes"},
		{"unknown profile", `{"issuers":[{"issuer":"x","jwks":` + jwks + `}],"profile":"mine"}`, "profile"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := s.adminDo(http.MethodPut, "/admin/tenants/t1", `{"software_statement":`+c.setting+`}`)
			wantError(t, r, http.StatusBadRequest, engine.CodeInvalidRequest)
			if d := r.json(t)["error_description"].(string); !strings.Contains(d, c.want) {
				t.Errorf("description %q, want it to say %q", d, c.want)
			}
		})
	}
	if r := s.adminDo(http.MethodPut, "/admin/tenants/t1", `{"software_statement":{"issuers":[{"issuer":"x","jwks":`+jwks+`}],"max_age":"PT5M"}}`); r.StatusCode != http.StatusCreated {
		t.Errorf("a good setting: %d %s", r.StatusCode, r.body)
	}
}

// issuerKeyServer serves the directory's key set over TLS on loopback
// under the name keys.example.com (an httptest certificate names
// example.com), reached through a test resolver and dialer, so that the
// outbound guard runs as in production and nothing leaves the machine.
type issuerKeyServer struct {
	srv    *httptest.Server
	mu     sync.Mutex
	body   string
	status int
	hits   int
}

func newIssuerKeyServer(t *testing.T) *issuerKeyServer {
	ks := &issuerKeyServer{}
	ks.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ks.mu.Lock()
		defer ks.mu.Unlock()
		ks.hits++
		if ks.status != 0 {
			w.WriteHeader(ks.status)
		}
		w.Write([]byte(ks.body))
	}))
	t.Cleanup(ks.srv.Close)
	return ks
}

func (ks *issuerKeyServer) count() int {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return ks.hits
}

func (ks *issuerKeyServer) serve(body string, status int) {
	ks.mu.Lock()
	ks.body, ks.status = body, status
	ks.mu.Unlock()
}

// statements returns Statements that fetch through a guarded client whose
// DNS says example.com is a public address and whose dialer connects to
// ks instead.
func (ks *issuerKeyServer) statements(t *testing.T) *jose.Statements {
	pool := x509.NewCertPool()
	pool.AddCert(ks.srv.Certificate())
	client, err := fetch.New(fetch.Config{
		RootCAs:  pool,
		Resolver: &testkit.Resolver{Hosts: map[string][]string{"example.com": {"93.184.215.14"}}},
		Dialer:   &testkit.Dialer{StandIn: ks.srv.Listener.Addr().String()},
		Timeout:  10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	sets, err := jose.NewKeySets(jose.KeySetsConfig{Fetcher: client, RefetchInterval: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	st, err := jose.NewStatements(jose.StatementsConfig{KeySets: sets, CheckURL: client.CheckURL})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestStatementIssuerJWKSURI(t *testing.T) {
	e := newStatementEnv(t)
	ks := newIssuerKeyServer(t)
	ks.serve(string(josetest.JWKS(t, e.k1)), 0)
	settings := e.settings(t, false)
	settings.SoftwareStatement.Issuers = []engine.StatementIssuer{{Issuer: directory, JWKSURI: "https://example.com/jwks"}}
	s := e.server(t, map[string]engine.Settings{"fed": settings}, ks.statements(t))
	s.register("/tenants/fed", "", regBody(e.k1.Sign(t, nil, statementClaims())))
	// The issuer rotates to k2: the unknown kid makes one refetch.
	ks.serve(string(josetest.JWKS(t, e.k1, e.k2)), 0)
	s.register("/tenants/fed", "", regBody(e.k2.Sign(t, nil, statementClaims())))
	if n := ks.count(); n != 2 {
		t.Errorf("key server asked %d times, want 2", n)
	}
	// A kid the set still lacks after the refetch is the statement's fault.
	r := s.do(s.public, http.MethodPost, "/tenants/fed/reg", regBody(e.k2.With("ES256", "k3").Sign(t, nil, statementClaims())))
	wantError(t, r, http.StatusBadRequest, engine.CodeInvalidSoftwareStatement)
}

func TestStatementIssuerKeysUnavailable(t *testing.T) {
	e := newStatementEnv(t)
	ks := newIssuerKeyServer(t)
	ks.serve("down", http.StatusServiceUnavailable)
	settings := e.settings(t, false)
	settings.SoftwareStatement.Issuers = []engine.StatementIssuer{{Issuer: directory, JWKSURI: "https://example.com/jwks"}}
	s := e.server(t, map[string]engine.Settings{"fed": settings}, ks.statements(t))
	r := s.do(s.public, http.MethodPost, "/tenants/fed/reg", regBody(e.k1.Sign(t, nil, statementClaims())))
	wantError(t, r, http.StatusServiceUnavailable, engine.CodeTemporarilyUnavailable)
	if r.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if got := e.seen(); got != "fed:unavailable" {
		t.Errorf("outcomes %v", got)
	}
}
