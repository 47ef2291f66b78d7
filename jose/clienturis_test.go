package jose_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/fetch"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/jose/josetest"
	"github.com/registrar-dev/registrar/memstore"
)

// publicAddr stands for a public address (TEST-NET-3, never routed): the
// resolver gives it for example.com, and the dialer replaces it with the
// test server's loopback address.
const publicAddr = "203.0.113.10"

// hostileWorld is a registrar whose client URIs go through a real
// fetch.Client, KeySets and ClientURIs, with a resolver and a dialer that
// reach only the loopback test server.
type hostileWorld struct {
	reg      *engine.Registrar
	dialer   *testkit.Dialer
	resolver *testkit.Resolver
	mu       sync.Mutex
	fetches  []fetch.Kind
	checks   []engine.URICheck
}

func newHostileWorld(t *testing.T) *hostileWorld {
	t.Helper()
	key := josetest.NewKey(t, "ES256", "k1")
	released := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/sector", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `["https://a.example/cb","https://b.example/cb"]`)
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, _ *http.Request) { w.Write(josetest.JWKS(t, key)) })
	mux.HandleFunc("/private-jwks", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`)
	})
	mux.Handle("/to-private", http.RedirectHandler("https://10.0.0.1/sector", http.StatusFound))
	mux.Handle("/to-metadata-name", http.RedirectHandler("https://metadata.example.net/latest/meta-data", http.StatusFound))
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		// 100 MB, chunked (no Content-Length), so that only the cap on
		// reading stops it.
		chunk := []byte("[" + strings.Repeat(`"https://a.example/cb",`, 4096))
		for sent := 0; sent < 100<<20 && r.Context().Err() == nil; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `["https://a.example/cb"`)
		w.(http.Flusher).Flush()
		select { // the rest never comes
		case <-r.Context().Done():
		case <-released:
		}
	})
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(released) }) // runs before srv.Close
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())

	w := &hostileWorld{
		dialer: &testkit.Dialer{StandIn: srv.Listener.Addr().String()},
		resolver: &testkit.Resolver{Hosts: map[string][]string{
			"example.com":          {publicAddr},
			"intranet.example.net": {"10.20.30.40"},
			"metadata.example.net": {"169.254.169.254"},
			"loopback.example.net": {"127.0.0.1"},
		}},
	}
	client, err := fetch.New(fetch.Config{
		Resolver: w.resolver, Dialer: w.dialer, RootCAs: roots,
		Timeout: 500 * time.Millisecond, // the slow body: the total time covers it
		Observe: func(o fetch.Observation) { w.mu.Lock(); w.fetches = append(w.fetches, o.Kind); w.mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	sets, err := jose.NewKeySets(jose.KeySetsConfig{Fetcher: client})
	if err != nil {
		t.Fatal(err)
	}
	uris, err := jose.NewClientURIs(jose.ClientURIsConfig{Fetcher: client, KeySets: sets})
	if err != nil {
		t.Fatal(err)
	}
	w.reg, err = engine.New(engine.Config{
		Store: memstore.New(memstore.Config{}), Keys: jose.KeySetChecker{}, URIs: uris,
		ObserveURICheck: func(c engine.URICheck) { w.mu.Lock(); w.checks = append(w.checks, c); w.mu.Unlock() },
		Tenants: map[string]engine.Settings{"t": {
			InitialAccessToken: engine.TokenNone, CheckJWKSURI: true,
			SubjectTypesSupported: []string{"public", "pairwise"},
		}},
		Logger: testkit.DiscardLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// register registers a client whose member names uri, and returns the
// error, the outcome observed, and the kinds of the fetches made.
func (w *hostileWorld) register(t *testing.T, member, uri string) (*engine.Error, string, []fetch.Kind) {
	t.Helper()
	md := map[string]any{"redirect_uris": []string{"https://a.example/cb"}}
	md[member] = uri
	if member == "jwks_uri" {
		md["token_endpoint_auth_method"] = "private_key_jwt"
		md["token_endpoint_auth_signing_alg"] = "ES256"
	}
	body, _ := json.Marshal(md)
	_, err := w.reg.Register(context.Background(), engine.RegisterRequest{Tenant: "t", Body: body})
	w.mu.Lock()
	defer w.mu.Unlock()
	outcome := ""
	if n := len(w.checks); n > 0 {
		outcome = w.checks[n-1].Outcome
	}
	fetches := w.fetches
	w.checks, w.fetches = nil, nil
	if err == nil {
		return nil, outcome, fetches
	}
	return engine.AsError(err), outcome, fetches
}

// TestClientURIGuard points sector_identifier_uri and jwks_uri at what the
// outbound guard must refuse, through the whole registration: each is
// refused with invalid_client_metadata, a reason, a counted outcome, and
// without a connection to a refused address.
func TestClientURIGuard(t *testing.T) {
	w := newHostileWorld(t)
	cases := []struct {
		name, path    string // path: for jwks_uri, "jwks" replaces "sector"
		outcome       string
		kind          fetch.Kind
		reason        string
		dials         []string // the addresses the fetch may dial
		hideFromReply string   // what the client must not be told
	}{
		{"loopback literal", "https://127.0.0.1/sector", "refused", fetch.Refused, "is refused by the server's outbound fetch policy", nil, ""},
		{"private literal", "https://10.0.0.1/sector", "refused", fetch.Refused, "is refused", nil, ""},
		{"metadata literal", "https://169.254.169.254/latest/meta-data", "refused", fetch.Refused, "is refused", nil, ""},
		{"name resolving to private", "https://intranet.example.net/sector", "refused", fetch.Refused, "is refused", nil, "10.20.30.40"},
		{"name resolving to metadata", "https://metadata.example.net/sector", "refused", fetch.Refused, "is refused", nil, "169.254"},
		{"name resolving to loopback", "https://loopback.example.net/sector", "refused", fetch.Refused, "is refused", nil, "127.0.0.1"},
		{"redirect to private", "https://example.com/to-private", "refused", fetch.Refused, "is refused", []string{publicAddr + ":443"}, "10.0.0.1"},
		{"redirect to a name resolving to metadata", "https://example.com/to-metadata-name", "refused", fetch.Refused, "is refused", []string{publicAddr + ":443"}, "169.254"},
		{"100 MB body", "https://example.com/huge", "invalid", fetch.Invalid, "could not be used: the body is more than the limit of 524288 bytes", []string{publicAddr + ":443"}, ""},
		{"slow body", "https://example.com/slow", "unavailable", fetch.Unavailable, "could not be fetched: no complete answer in time", []string{publicAddr + ":443"}, ""},
	}
	for _, member := range []string{"sector_identifier_uri", "jwks_uri"} {
		for _, tc := range cases {
			t.Run(member+"/"+tc.name, func(t *testing.T) {
				uri := tc.path
				if member == "jwks_uri" {
					uri = strings.Replace(uri, "sector", "jwks", 1) + "?" + member // a URL of its own: KeySets remembers failures
				}
				read, dialled := w.dialer.BytesRead(), len(w.dialer.Dials())
				e, outcome, fetches := w.register(t, member, uri)
				if e == nil {
					t.Fatal("registered")
				}
				if e.Code != engine.CodeInvalidClientMetadata || !strings.HasPrefix(e.Description, member+": "+tc.reason) {
					t.Errorf("error %s %q, want invalid_client_metadata %q", e.Code, e.Description, member+": "+tc.reason)
				}
				if tc.hideFromReply != "" && strings.Contains(e.Description, tc.hideFromReply) {
					t.Errorf("the reply tells where the name resolves: %q", e.Description)
				}
				if e.Err == nil || fetch.KindOf(e.Err) != tc.kind {
					t.Errorf("cause %v, want a fetch error of kind %s for the log", e.Err, tc.kind)
				}
				if outcome != tc.outcome || len(fetches) != 1 || fetches[0] != tc.kind {
					t.Errorf("observed outcome %q and fetches %v, want %q and [%s]", outcome, fetches, tc.outcome, tc.kind)
				}
				for _, d := range w.dialer.Dials()[dialled:] {
					if !slices.Contains(tc.dials, d) {
						t.Errorf("dialled %s, want at most %v (a kept-alive connection may serve): a refused address must be judged before any connection", d, tc.dials)
					}
				}
				if n := w.dialer.BytesRead() - read; n > 4<<20 {
					t.Errorf("read %d bytes of the body, want it cut near the cap", n)
				}
			})
		}
	}
}

// TestClientURIsAccepted checks the good documents, and documents of the
// wrong shape, through the same world.
func TestClientURIsAccepted(t *testing.T) {
	w := newHostileWorld(t)
	for _, tc := range []struct {
		member, uri, want string
	}{
		{"sector_identifier_uri", "https://example.com/sector", ""},
		{"jwks_uri", "https://example.com/jwks", ""},
		{"sector_identifier_uri", "https://example.com/jwks", "sector_identifier_uri: its document is not a JSON array"},
		{"jwks_uri", "https://example.com/sector", "jwks_uri: could not be used: not a usable JWK Set"},
		{"jwks_uri", "https://example.com/private-jwks", "jwks_uri: could not be used: not a usable JWK Set"},
		{"jwks_uri", "https://example.com/nothing", "jwks_uri: could not be used: the server answered 404 Not Found"},
	} {
		e, outcome, _ := w.register(t, tc.member, tc.uri)
		switch {
		case tc.want == "" && e != nil:
			t.Errorf("%s %s: %v", tc.member, tc.uri, e)
		case tc.want == "" && outcome != "ok":
			t.Errorf("%s %s: outcome %q", tc.member, tc.uri, outcome)
		case tc.want != "" && (e == nil || !strings.HasPrefix(e.Description, tc.want)):
			t.Errorf("%s %s: %v, want %q", tc.member, tc.uri, e, tc.want)
		}
	}
}
