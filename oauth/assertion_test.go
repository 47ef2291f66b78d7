package oauth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/fetch"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/jose/josetest"
	"github.com/registrar-dev/registrar/memstore"
	"github.com/registrar-dev/registrar/oauth"
)

const (
	issuer        = "https://registrar.example"
	tokenEndpoint = issuer + "/token"
	assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	// keysHost is the key server's name: the resolver maps it to a
	// documentation address, which the dialer replaces with the loopback
	// TLS server (whose certificate holds *.example.com).
	keysHost = "keys.example.com"
)

// root is the tenant served at the issuer's root.
const root = engine.DefaultTenant

var epoch = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

// testKeys are the signing keys of the tests, made once: RSA keys are slow
// to generate.
var testKeys = sync.OnceValue(func() map[string]*josetest.Key {
	return map[string]*josetest.Key{
		"rsa":   josetest.MustGenerateKey("RS256", "rsa"),
		"rsa2":  josetest.MustGenerateKey("RS256", "rsa2"),
		"ec":    josetest.MustGenerateKey("ES256", "ec"),
		"ed":    josetest.MustGenerateKey("EdDSA", "ed"),
		"other": josetest.MustGenerateKey("RS256", "rsa"), // a stranger's key with the same kid
	}
})

func key(name string) *josetest.Key { return testKeys()[name] }

// keyServer is a loopback TLS server of JWK Sets by path, with hostile
// routes, and counts the requests of each path.
type keyServer struct {
	srv      *httptest.Server
	mu       sync.Mutex
	sets     map[string]json.RawMessage
	hits     map[string]int
	slowIn   chan struct{} // receives when /slow is entered
	resolver *testkit.Resolver
	dialer   *testkit.Dialer
	roots    *x509.CertPool
}

func newKeyServer(t *testing.T) *keyServer {
	k := &keyServer{sets: map[string]json.RawMessage{}, hits: map[string]int{}, slowIn: make(chan struct{}, 1)}
	mux := http.NewServeMux()
	mux.HandleFunc("/jwks/", func(w http.ResponseWriter, r *http.Request) {
		k.mu.Lock()
		k.hits[r.URL.Path]++
		set, ok := k.sets[r.URL.Path]
		k.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Write(set)
	})
	mux.Handle("/redirect-literal", http.RedirectHandler("https://169.254.169.254/latest/meta-data/", http.StatusFound))
	mux.Handle("/redirect-name", http.RedirectHandler("https://metadata.example.com/latest/meta-data/", http.StatusFound))
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		k.slowIn <- struct{}{}
		<-r.Context().Done()
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(`{"keys":[` + strings.Repeat(" ", 64<<10))
		for range (100 << 20) / len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/invalid", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"keys": [ this is not JSON`))
	})
	k.srv = httptest.NewTLSServer(mux)
	t.Cleanup(k.srv.Close)
	k.roots = x509.NewCertPool()
	k.roots.AddCert(k.srv.Certificate())
	k.resolver = &testkit.Resolver{Hosts: map[string][]string{
		keysHost:               {"203.0.113.10"},
		"metadata.example.com": {"169.254.169.254"},
	}}
	k.dialer = &testkit.Dialer{StandIn: k.srv.Listener.Addr().String()}
	return k
}

// publish serves set at https://keys.example.com/jwks/<name> and returns
// that URL.
func (k *keyServer) publish(name string, set json.RawMessage) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.sets["/jwks/"+name] = set
	return "https://" + keysHost + "/jwks/" + name
}

func (k *keyServer) fetches(name string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.hits["/jwks/"+name]
}

// world is an authorization server over a memstore with a fixed clock,
// fetching key sets from a keyServer.
type world struct {
	t     *testing.T
	clock *testkit.Clock
	store *memstore.Store
	reg   *engine.Registrar
	srv   *oauth.Server
	keys  *keyServer
	fetch *fetch.Client
}

// tenants: the root tenant allows every alg Registrar knows by default;
// "es" only ES256. (No tenant can support client_secret_jwt yet: the
// engine does not know the method.)
func tenants() map[string]engine.Settings {
	return map[string]engine.Settings{
		engine.DefaultTenant: {InitialAccessToken: engine.TokenNone},
		"es":                 {InitialAccessToken: engine.TokenNone, SigningAlgValuesSupported: []string{"ES256"}},
	}
}

func newWorld(t *testing.T, fetchTimeout time.Duration) *world {
	t.Helper()
	w := &world{t: t, clock: testkit.NewClock(epoch), keys: newKeyServer(t)}
	w.store = memstore.New(memstore.Config{Now: w.clock.Now})
	var err error
	w.fetch, err = fetch.New(fetch.Config{Resolver: w.keys.resolver, Dialer: w.keys.dialer, RootCAs: w.keys.roots, Timeout: fetchTimeout})
	if err != nil {
		t.Fatal(err)
	}
	w.reg, w.srv = w.replica(true)
	return w
}

// replica builds a Registrar and an oauth.Server over the world's store,
// as another replica of the same deployment would.
func (w *world) replica(assertions bool) (*engine.Registrar, *oauth.Server) {
	w.t.Helper()
	reg, err := engine.New(engine.Config{
		Store: w.store, Keys: jose.KeySetChecker{}, Tenants: tenants(), Now: w.clock.Now, Logger: testkit.DiscardLogger(),
	})
	if err != nil {
		w.t.Fatal(err)
	}
	cfg := oauth.Config{Registrar: reg, Clients: w.store, Store: w.store, Now: w.clock.Now, Logger: testkit.DiscardLogger()}
	if assertions {
		sets, err := jose.NewKeySets(jose.KeySetsConfig{Fetcher: w.fetch, Now: w.clock.Now})
		if err != nil {
			w.t.Fatal(err)
		}
		if cfg.Assertions, err = jose.NewAssertions(jose.AssertionsConfig{KeySets: sets}); err != nil {
			w.t.Fatal(err)
		}
	}
	srv, err := oauth.New(cfg)
	if err != nil {
		w.t.Fatal(err)
	}
	return reg, srv
}

// registerClientCredentials registers with reg, at tenant, a
// client_credentials client that authenticates with method, with the
// metadata members given, and returns what Register returned.
func registerClientCredentials(t *testing.T, reg *engine.Registrar, tenant, method string, members map[string]any) *engine.ClientInformation {
	t.Helper()
	md := map[string]any{
		"grant_types": []string{"client_credentials"}, "response_types": []string{}, "redirect_uris": []string{},
		"token_endpoint_auth_method": method,
	}
	for k, v := range members {
		md[k] = v
	}
	body, _ := json.Marshal(md)
	info, err := reg.Register(context.Background(), engine.RegisterRequest{Tenant: tenant, Body: body})
	if err != nil {
		t.Fatalf("register %s: %v", body, err)
	}
	return info
}

// register registers a private_key_jwt client_credentials client at
// tenant with the metadata members given, and returns its ID.
func (w *world) register(t *testing.T, tenant string, members map[string]any) string {
	t.Helper()
	return registerClientCredentials(t, w.reg, tenant, "private_key_jwt", members).Client.ID
}

// inline registers a client with the keys given as its jwks.
func (w *world) inline(t *testing.T, keys ...*josetest.Key) string {
	t.Helper()
	return w.register(t, root, map[string]any{"jwks": josetest.JWKS(t, keys...)})
}

// assertionClaims are valid claims of a client assertion by client id for
// aud, issued at now with a random jti, with changes (nil removes).
func assertionClaims(id, aud string, now time.Time, changes map[string]any) map[string]any {
	jti := make([]byte, 16)
	rand.Read(jti)
	iat := now.Unix()
	c := map[string]any{"iss": id, "sub": id, "aud": aud, "exp": iat + 60, "iat": iat, "jti": hex.EncodeToString(jti)}
	for k, v := range changes {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// claims are valid claims of client id, with changes (nil removes).
func (w *world) claims(id string, changes map[string]any) map[string]any {
	return assertionClaims(id, issuer, w.clock.Now(), changes)
}

// token asks for a token with an assertion at tenant.
func (w *world) token(srv *oauth.Server, tenant, assertion string, cr oauth.Credentials) (*oauth.TokenResponse, error) {
	cr.AssertionType, cr.Assertion = assertionType, assertion
	if cr.AssertionType == "-" {
		cr.AssertionType = ""
	}
	return srv.Token(context.Background(), oauth.TokenRequest{
		Tenant: tenant, Endpoints: oauth.Endpoints{Issuer: issuer, Endpoint: tokenEndpoint},
		Credentials: cr, GrantType: oauth.GrantClientCredentials,
	})
}

// wantToken fails the test unless the assertion gets a token.
func (w *world) wantToken(t *testing.T, tenant, assertion string) {
	t.Helper()
	res, err := w.token(w.srv, tenant, assertion, oauth.Credentials{})
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	if res.AccessToken == "" || res.TokenType != "Bearer" {
		t.Fatalf("token response %+v", res)
	}
}

// wantRefused fails the test unless err is invalid_client with a cause
// that says want.
func wantRefused(t *testing.T, err error, want string) {
	t.Helper()
	var e *engine.Error
	if !errors.As(err, &e) || e.Code != engine.CodeInvalidClient {
		t.Fatalf("err = %v, want invalid_client (%s)", err, want)
	}
	if e.Err == nil || !strings.Contains(e.Err.Error(), want) {
		t.Fatalf("cause = %v, want it to say %q", e.Err, want)
	}
}

func TestPrivateKeyJWTAlgorithms(t *testing.T) {
	w := newWorld(t, 0)
	for _, k := range []*josetest.Key{key("rsa"), key("rsa").With("PS256", "rsa"), key("ec"), key("ed")} {
		t.Run(k.Alg+" inline", func(t *testing.T) {
			id := w.inline(t, k)
			w.wantToken(t, root, k.Sign(t, nil, w.claims(id, nil)))
			// Without a kid: the one key that fits is used.
			w.wantToken(t, root, k.Sign(t, map[string]any{"kid": nil}, w.claims(id, map[string]any{"aud": []string{"https://other.example", tokenEndpoint}})))
		})
		t.Run(k.Alg+" jwks_uri", func(t *testing.T) {
			uri := w.keys.publish(k.Alg, josetest.JWKS(t, k, key("rsa2")))
			id := w.register(t, root, map[string]any{"jwks_uri": uri})
			w.wantToken(t, root, k.Sign(t, nil, w.claims(id, nil)))
			w.wantToken(t, root, k.Sign(t, nil, w.claims(id, nil)))
			if n := w.keys.fetches(k.Alg); n != 1 {
				t.Errorf("the set was fetched %d times, want once (then cached)", n)
			}
		})
	}
}

func TestPrivateKeyJWTAtIntrospectionAndRevocation(t *testing.T) {
	w := newWorld(t, 0)
	id := w.inline(t, key("ec"))
	res, err := w.token(w.srv, engine.DefaultTenant, key("ec").Sign(t, nil, w.claims(id, nil)), oauth.Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	in, err := w.srv.Introspect(ctx, oauth.IntrospectRequest{
		Tenant: engine.DefaultTenant, Endpoints: oauth.Endpoints{Issuer: issuer, Endpoint: issuer + "/introspect"},
		Credentials: oauth.Credentials{AssertionType: assertionType, Assertion: key("ec").Sign(t, nil, w.claims(id, map[string]any{"aud": issuer + "/introspect"}))},
		Token:       res.AccessToken,
	})
	if err != nil || !in.Active {
		t.Fatalf("introspection: %+v, %v", in, err)
	}
	err = w.srv.Revoke(ctx, oauth.RevokeRequest{
		Tenant: engine.DefaultTenant, Endpoints: oauth.Endpoints{Issuer: issuer, Endpoint: issuer + "/revoke"},
		Credentials: oauth.Credentials{AssertionType: assertionType, Assertion: key("ec").Sign(t, nil, w.claims(id, map[string]any{"aud": issuer + "/revoke"}))},
		Token:       res.AccessToken,
	})
	if err != nil {
		t.Fatal(err)
	}
	// An assertion for the token endpoint is not one for the revocation
	// endpoint (the issuer would be).
	err = w.srv.Revoke(ctx, oauth.RevokeRequest{
		Tenant: engine.DefaultTenant, Endpoints: oauth.Endpoints{Issuer: issuer, Endpoint: issuer + "/revoke"},
		Credentials: oauth.Credentials{AssertionType: assertionType, Assertion: key("ec").Sign(t, nil, w.claims(id, map[string]any{"aud": tokenEndpoint}))},
		Token:       res.AccessToken,
	})
	wantRefused(t, err, "aud")
}

func TestPrivateKeyJWTRefusals(t *testing.T) {
	w := newWorld(t, 0)
	rsa, ec := key("rsa"), key("ec")
	id := w.inline(t, rsa, ec)
	two := w.inline(t, rsa, key("rsa2"))
	pinned := w.register(t, root, map[string]any{"jwks": josetest.JWKS(t, rsa, ec), "token_endpoint_auth_signing_alg": "ES256"})
	esOnly := w.register(t, "es", map[string]any{"jwks": josetest.JWKS(t, rsa, ec)})
	secret := w.register(t, root, map[string]any{"token_endpoint_auth_method": "client_secret_basic"})
	restricted := w.register(t, root, map[string]any{"jwks": json.RawMessage(`{"keys":[` + string(ec.JWK(t, map[string]any{"use": "enc"})) + `]}`)})
	now := w.clock.Now().Unix()
	cases := []struct {
		name, tenant, assertion, clientID, cause string
	}{
		{"alg none", root, josetest.Unsigned(t, map[string]any{"alg": "none"}, w.claims(id, nil), nil), "", `alg "none"`},
		{"alg none with a signature", root, josetest.Unsigned(t, map[string]any{"alg": "none"}, w.claims(id, nil), []byte("x")), "", `alg "none"`},
		{"HS256", root, josetest.SignHS256(t, []byte("a shared secret of thirty-two bytes"), w.claims(id, nil)), "", "MAC"},
		{"alg outside the tenant's", "es", rsa.Sign(t, nil, w.claims(esOnly, nil)), "", `alg "RS256" is not allowed`},
		{"alg other than the client's registered one", root, rsa.Sign(t, nil, w.claims(pinned, nil)), "", `alg "RS256" is not allowed`},
		{"key type does not fit alg", root, rsa.Sign(t, map[string]any{"alg": "ES256"}, w.claims(id, nil)), "", "does not fit alg ES256"},
		{"jku", root, rsa.Sign(t, map[string]any{"jku": "https://evil.example/jwks"}, w.claims(id, nil)), "", `"jku"`},
		{"x5u", root, rsa.Sign(t, map[string]any{"x5u": "https://evil.example/cert"}, w.claims(id, nil)), "", `"x5u"`},
		{"jwk", root, rsa.Sign(t, map[string]any{"jwk": json.RawMessage(rsa.JWK(t, nil))}, w.claims(id, nil)), "", `"jwk"`},
		{"x5c", root, rsa.Sign(t, map[string]any{"x5c": []string{"MIIB"}}, w.claims(id, nil)), "", `"x5c"`},
		{"crit", root, rsa.Sign(t, map[string]any{"crit": []string{"exp"}}, w.claims(id, nil)), "", `"crit"`},
		{"no kid, several keys fit", root, rsa.Sign(t, map[string]any{"kid": nil}, w.claims(two, nil)), "", "no kid and 2 keys"},
		{"unknown kid", root, rsa.With("RS256", "nope").Sign(t, nil, w.claims(id, nil)), "", "no key with that kid"},
		{"key for encryption", root, ec.Sign(t, nil, w.claims(restricted, nil)), "", `use "enc"`},
		{"over the size cap", root, rsa.Sign(t, nil, w.claims(id, map[string]any{"pad": strings.Repeat("x", jose.MaxAssertionBytes)})), "", "more than the limit of 8192"},
		{"not a JWS", root, "a.b", "", "not a compact JWS"},
		{"wrong signer", root, key("other").Sign(t, nil, w.claims(id, nil)), "", "signature does not verify"},
		{"iss differs from sub", root, rsa.Sign(t, nil, w.claims(id, map[string]any{"iss": "someone"})), "", "differs from sub"},
		{"sub differs from client_id", root, rsa.Sign(t, nil, w.claims(id, nil)), two, "differs from the client_id parameter"},
		{"no sub", root, rsa.Sign(t, nil, w.claims(id, map[string]any{"sub": nil, "iss": nil})), "", "no sub"},
		{"unknown client", root, rsa.Sign(t, nil, w.claims("nobody", nil)), "", `no client "nobody"`},
		{"wrong aud", root, rsa.Sign(t, nil, w.claims(id, map[string]any{"aud": "https://other.example"})), "", "aud"},
		{"no aud", root, rsa.Sign(t, nil, w.claims(id, map[string]any{"aud": nil})), "", "aud"},
		{"aud of the wrong type", root, rsa.Sign(t, nil, w.claims(id, map[string]any{"aud": 7})), "", `"aud" must be`},
		{"no exp", root, rsa.Sign(t, nil, w.claims(id, map[string]any{"exp": nil})), "", "no exp"},
		{"expired past the skew", root, rsa.Sign(t, nil, w.claims(id, map[string]any{"exp": now - 31})), "", "expired"},
		{"exp too far ahead", root, rsa.Sign(t, nil, w.claims(id, map[string]any{"exp": now + 601 + 30})), "", "client_assertion_max_lifetime"},
		{"iat in the future", root, rsa.Sign(t, nil, w.claims(id, map[string]any{"iat": now + 31})), "", "iat"},
		{"nbf in the future", root, rsa.Sign(t, nil, w.claims(id, map[string]any{"nbf": now + 31})), "", "nbf"},
		{"exp not a number", root, rsa.Sign(t, nil, w.claims(id, map[string]any{"exp": "soon"})), "", `"exp" must be`},
		{"no jti", root, rsa.Sign(t, nil, w.claims(id, map[string]any{"jti": nil})), "", "no jti"},
		{"secret client presents an assertion", root, rsa.Sign(t, nil, w.claims(secret, nil)), "", "registered client_secret_basic, presented another method"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := w.token(w.srv, c.tenant, c.assertion, oauth.Credentials{ClientID: c.clientID})
			wantRefused(t, err, c.cause)
		})
	}
	// The clock skew allowed: an assertion just expired, and one issued a
	// little in the future, are accepted.
	w.wantToken(t, root, rsa.Sign(t, nil, w.claims(id, map[string]any{"exp": now - 29})))
	w.wantToken(t, root, rsa.Sign(t, nil, w.claims(id, map[string]any{"iat": now + 29, "nbf": now + 29, "exp": now + 600 + 29})))
	// The client registered ES256 and the tenant allows only ES256: ES256
	// assertions are accepted.
	w.wantToken(t, root, ec.Sign(t, nil, w.claims(pinned, nil)))
	w.wantToken(t, "es", ec.Sign(t, nil, w.claims(esOnly, nil)))
}

func TestPrivateKeyJWTMethodMismatch(t *testing.T) {
	w := newWorld(t, 0)
	id := w.inline(t, key("ec"))
	// A private_key_jwt client that presents a secret.
	_, err := w.srv.Token(context.Background(), oauth.TokenRequest{
		Tenant: root, Endpoints: oauth.Endpoints{Issuer: issuer, Endpoint: tokenEndpoint},
		Credentials: oauth.Credentials{ClientID: id, ClientSecret: "guess"}, GrantType: oauth.GrantClientCredentials,
	})
	wantRefused(t, err, "registered private_key_jwt, presented another method")
	// A wrong client_assertion_type is a malformed request.
	_, err = w.srv.Token(context.Background(), oauth.TokenRequest{
		Tenant: root, Endpoints: oauth.Endpoints{Issuer: issuer, Endpoint: tokenEndpoint},
		Credentials: oauth.Credentials{AssertionType: "urn:other", Assertion: key("ec").Sign(t, nil, w.claims(id, nil))}, GrantType: oauth.GrantClientCredentials,
	})
	var e *engine.Error
	if !errors.As(err, &e) || e.Code != engine.CodeInvalidRequest {
		t.Errorf("wrong client_assertion_type: %v, want invalid_request", err)
	}
}

func TestPrivateKeyJWTWithoutAssertions(t *testing.T) {
	w := newWorld(t, 0)
	_, plain := w.replica(false)
	id := w.inline(t, key("ec"))
	_, err := w.token(plain, root, key("ec").Sign(t, nil, w.claims(id, nil)), oauth.Credentials{})
	wantRefused(t, err, "verifies no client assertions")
	all := []string{"client_secret_basic", "private_key_jwt", "none"}
	if got := strings.Join(plain.AuthMethods(all), " "); got != "client_secret_basic none" {
		t.Errorf("without Assertions, AuthMethods = %s", got)
	}
	if got := strings.Join(w.srv.AuthMethods(all), " "); got != "client_secret_basic private_key_jwt none" {
		t.Errorf("with Assertions, AuthMethods = %s", got)
	}
}

func TestPrivateKeyJWTReplay(t *testing.T) {
	w := newWorld(t, 0)
	id := w.inline(t, key("ed"))
	a := key("ed").Sign(t, nil, w.claims(id, nil))
	w.wantToken(t, root, a)
	_, err := w.token(w.srv, root, a, oauth.Credentials{})
	wantRefused(t, err, "replayed")
	// Another replica over the same store refuses it too, and a fresh
	// assertion used first there is refused here.
	_, other := w.replica(true)
	_, err = w.token(other, root, a, oauth.Credentials{})
	wantRefused(t, err, "replayed")
	b := key("ed").Sign(t, nil, w.claims(id, nil))
	if _, err := w.token(other, root, b, oauth.Credentials{}); err != nil {
		t.Fatal(err)
	}
	_, err = w.token(w.srv, root, b, oauth.Credentials{})
	wantRefused(t, err, "replayed")
	// Concurrent uses of one assertion on both replicas: exactly one wins.
	c := key("ed").Sign(t, nil, w.claims(id, nil))
	var ok atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			srv := w.srv
			if i%2 == 1 {
				srv = other
			}
			if _, err := w.token(srv, root, c, oauth.Credentials{}); err == nil {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Errorf("%d concurrent uses of one assertion succeeded, want 1", ok.Load())
	}
	// A replayed jti of another client is that client's own.
	id2 := w.inline(t, key("ed"))
	w.wantToken(t, root, key("ed").Sign(t, nil, w.claims(id2, map[string]any{"jti": "shared"})))
	w.wantToken(t, root, key("ed").Sign(t, nil, w.claims(id, map[string]any{"jti": "shared"})))
}

func TestPrivateKeyJWTKeyRotation(t *testing.T) {
	w := newWorld(t, 0)
	uri := w.keys.publish("rotating", josetest.JWKS(t, key("ec")))
	id := w.register(t, root, map[string]any{"jwks_uri": uri})
	w.wantToken(t, root, key("ec").Sign(t, nil, w.claims(id, nil)))
	// Some time later, an unknown kid refetches the set once; it is still
	// unknown. (Right after a fetch, the set is not fetched again.)
	w.clock.Advance(jose.DefaultKeySetRefetchInterval)
	_, err := w.token(w.srv, root, key("ec").With("ES256", "made-up-1").Sign(t, nil, w.claims(id, nil)), oauth.Credentials{})
	wantRefused(t, err, "no key with that kid")
	if n := w.keys.fetches("rotating"); n != 2 {
		t.Fatalf("fetches after an unknown kid: %d, want 2", n)
	}
	// More made-up kids within the refetch interval cost the key server
	// nothing.
	for i := range 5 {
		_, err := w.token(w.srv, root, key("ec").With("ES256", "made-up-x"+string(rune('a'+i))).Sign(t, nil, w.claims(id, nil)), oauth.Credentials{})
		wantRefused(t, err, "no key with that kid")
	}
	if n := w.keys.fetches("rotating"); n != 2 {
		t.Fatalf("fetches after more unknown kids: %d, want still 2", n)
	}
	// The client rotates to a new key; once the interval has passed, the
	// new kid is found by one refetch.
	w.keys.publish("rotating", josetest.JWKS(t, key("ed")))
	w.clock.Advance(jose.DefaultKeySetRefetchInterval)
	w.wantToken(t, root, key("ed").Sign(t, nil, w.claims(id, nil)))
	if n := w.keys.fetches("rotating"); n != 3 {
		t.Fatalf("fetches after the rotation: %d, want 3", n)
	}
}

// TestPrivateKeyJWTHostileKeyServers: jwks_uri sets that cannot be had or
// used each fail the client's authentication with invalid_client; nothing
// is dialled but the key server (whatever a redirect names), and the token
// endpoint keeps serving other clients.
func TestPrivateKeyJWTHostileKeyServers(t *testing.T) {
	w := newWorld(t, 0)
	good := w.inline(t, key("ec"))
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weakKey := &josetest.Key{Alg: "RS256", KID: "weak", Private: weak}
	cases := []struct{ path, cause string }{
		{"/redirect-literal", "169.254.169.254"},
		{"/redirect-name", "metadata.example.com resolves to 169.254.169.254"},
		{"/huge", "more than the limit"},
		{"/invalid", "not a usable JWK Set"},
		{"/jwks/weak", "RSA modulus of 1024 bits"},
		{"/jwks/absent", "404"},
	}
	w.keys.publish("weak", josetest.JWKS(t, weakKey))
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			id := w.register(t, root, map[string]any{"jwks_uri": "https://" + keysHost + c.path})
			_, err := w.token(w.srv, root, key("ec").Sign(t, nil, w.claims(id, nil)), oauth.Credentials{})
			wantRefused(t, err, c.cause)
			w.wantToken(t, root, key("ec").Sign(t, nil, w.claims(good, nil)))
		})
	}
	dials := w.keys.dialer.Dials()
	if len(dials) == 0 {
		t.Fatal("no dials recorded: the key server was never reached")
	}
	for _, d := range dials {
		if d != "203.0.113.10:443" {
			t.Errorf("dialled %s; only the key server's address may be", d)
		}
	}
	if !slices.Contains(w.keys.resolver.Lookups(), "metadata.example.com") {
		t.Error("the redirect to metadata.example.com was not even resolved: the test did not test the guard")
	}
}

// TestPrivateKeyJWTSlowKeyServer: a key server that never answers fails
// the authentication at the fetch timeout; meanwhile other clients are
// served.
func TestPrivateKeyJWTSlowKeyServer(t *testing.T) {
	w := newWorld(t, 500*time.Millisecond)
	good := w.inline(t, key("ec"))
	id := w.register(t, root, map[string]any{"jwks_uri": "https://" + keysHost + "/slow"})
	errc := make(chan error, 1)
	go func() {
		_, err := w.token(w.srv, root, key("ec").Sign(t, nil, w.claims(id, nil)), oauth.Credentials{})
		errc <- err
	}()
	<-w.keys.slowIn
	w.wantToken(t, root, key("ec").Sign(t, nil, w.claims(good, nil)))
	wantRefused(t, <-errc, "timed out")
}
