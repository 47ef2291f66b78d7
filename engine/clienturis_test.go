package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/memstore"
)

// fakeURIs serves sector documents and key set checks from tables, and
// records what it was asked. The fetching itself (guard, limits, parsing)
// is tested in jose with a real fetch.Client.
type fakeURIs struct {
	mu      sync.Mutex
	sectors map[string][]string
	jwks    map[string]error
	asked   []string
}

func (f *fakeURIs) SectorURIs(_ context.Context, uri string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, "sector "+uri)
	list, ok := f.sectors[uri]
	if !ok {
		return nil, &engine.URICheckError{Outcome: "refused", Reason: "is refused by the guard", Err: errors.New("127.0.0.1 is a loopback address")}
	}
	return list, nil
}

func (f *fakeURIs) CheckJWKSURI(_ context.Context, uri string, algs []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, "jwks "+uri+" "+strings.Join(algs, ","))
	err, ok := f.jwks[uri]
	if !ok {
		return errors.New("dial tcp 10.0.0.53:53: no route") // not a URICheckError
	}
	return err
}

func (f *fakeURIs) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.asked
	f.asked = nil
	return out
}

func newURIRegistrar(t *testing.T, uris engine.URIChecker, s engine.Settings, observe func(engine.URICheck)) *engine.Registrar {
	t.Helper()
	s.InitialAccessToken = engine.TokenNone
	r, err := engine.New(engine.Config{
		Store: memstore.New(memstore.Config{}), Keys: nopKeys{}, URIs: uris, ObserveURICheck: observe,
		Tenants: map[string]engine.Settings{"t": s}, Logger: testkit.DiscardLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSectorIdentifierURI(t *testing.T) {
	uris := &fakeURIs{sectors: map[string][]string{
		"https://sector.example/ok":     {"https://a.example/cb", "https://b.example/cb", "https://c.example/cb"},
		"https://sector.example/partly": {"https://a.example/cb"},
	}}
	var seen []engine.URICheck
	r := newURIRegistrar(t, uris, engine.Settings{SubjectTypesSupported: []string{"public", "pairwise"}}, func(c engine.URICheck) { seen = append(seen, c) })
	ctx := context.Background()
	reg := func(sector string, redirects ...string) (*engine.ClientInformation, error) {
		b, _ := json.Marshal(map[string]any{"redirect_uris": redirects, "sector_identifier_uri": sector, "subject_type": "pairwise"})
		return r.Register(ctx, engine.RegisterRequest{Tenant: "t", Body: b})
	}

	info, err := reg("https://sector.example/ok", "https://a.example/cb", "https://b.example/cb")
	if err != nil {
		t.Fatalf("listed redirect URIs: %v", err)
	}
	_, err = reg("https://sector.example/partly", "https://a.example/cb", "https://b.example/cb")
	if e := wantCode(t, err, engine.CodeInvalidClientMetadata); e != nil && !strings.Contains(e.Description, `"https://b.example/cb"`) {
		t.Errorf("unlisted redirect URI: %q", e.Description)
	}
	_, err = reg("https://internal.example/", "https://a.example/cb")
	if e := wantCode(t, err, engine.CodeInvalidClientMetadata); e != nil {
		if !strings.HasPrefix(e.Description, "sector_identifier_uri: is refused") || strings.Contains(e.Description, "127.0.0.1") {
			t.Errorf("refused: description %q (the guard's reason goes to the log only)", e.Description)
		}
		if e.Err == nil || !strings.Contains(e.Err.Error(), "127.0.0.1") {
			t.Errorf("refused: cause %v, want the guard's reason", e.Err)
		}
	}
	want := []engine.URICheck{
		{Tenant: "t", Member: "sector_identifier_uri", Outcome: "ok"},
		{Tenant: "t", Member: "sector_identifier_uri", Outcome: "mismatch"},
		{Tenant: "t", Member: "sector_identifier_uri", Outcome: "refused"},
	}
	if !slices.Equal(seen, want) {
		t.Errorf("observed %v, want %v", seen, want)
	}

	// An update fetches it again only when it or the redirect URIs change.
	uris.calls()
	update := func(sector string, redirects ...string) error {
		b, _ := json.Marshal(map[string]any{"client_id": info.Client.ID, "redirect_uris": redirects, "sector_identifier_uri": sector, "subject_type": "pairwise"})
		got, err := r.Update(ctx, engine.ManageRequest{Tenant: "t", ClientID: info.Client.ID, Token: info.RegistrationAccessToken, Body: b})
		if err == nil {
			info.RegistrationAccessToken = got.RegistrationAccessToken
		}
		return err
	}
	if err := update("https://sector.example/ok", "https://a.example/cb", "https://b.example/cb"); err != nil {
		t.Fatalf("unchanged update: %v", err)
	}
	if c := uris.calls(); len(c) != 0 {
		t.Errorf("an update that changes neither fetched %v", c)
	}
	if err := update("https://sector.example/ok", "https://a.example/cb", "https://c.example/cb"); err != nil {
		t.Fatalf("update to other listed redirect URIs: %v", err)
	}
	if err := update("https://sector.example/partly", "https://a.example/cb", "https://c.example/cb"); err == nil {
		t.Error("update to a sector that does not list the redirect URIs succeeded")
	}
	if c := uris.calls(); len(c) != 2 {
		t.Errorf("two changing updates fetched %v", c)
	}
}

func TestSectorIdentifierURIWithoutChecker(t *testing.T) {
	r := newURIRegistrar(t, nil, engine.Settings{}, nil)
	_, err := r.Register(context.Background(), engine.RegisterRequest{Tenant: "t", Body: []byte(`{"redirect_uris":["https://a.example/cb"],"sector_identifier_uri":"https://sector.example/"}`)})
	if err != nil {
		t.Errorf("without a URIChecker the member is checked for its form only: %v", err)
	}
}

func TestCheckJWKSURI(t *testing.T) {
	if _, err := engine.New(engine.Config{Store: memstore.New(memstore.Config{}), Keys: nopKeys{},
		Tenants: map[string]engine.Settings{"t": {CheckJWKSURI: true}}}); err == nil || !strings.Contains(err.Error(), "check_jwks_uri") {
		t.Errorf("check_jwks_uri without a URIChecker: %v", err)
	}
	uris := &fakeURIs{jwks: map[string]error{
		"https://keys.example/ok":    nil,
		"https://keys.example/rsa":   &engine.URICheckError{Outcome: "mismatch", Reason: "its JWK Set has no key that verifies ES256"},
		"https://keys.example/empty": &engine.URICheckError{Outcome: "invalid", Reason: "could not be used: not a usable JWK Set"},
	}}
	var seen []engine.URICheck
	observe := func(c engine.URICheck) { seen = append(seen, c) }
	ctx := context.Background()
	body := func(uri, alg string) []byte {
		m := map[string]any{"redirect_uris": []string{"https://a.example/cb"}, "jwks_uri": uri, "token_endpoint_auth_method": "private_key_jwt"}
		if alg != "" {
			m["token_endpoint_auth_signing_alg"] = alg
			m["request_object_signing_alg"] = alg
		}
		b, _ := json.Marshal(m)
		return b
	}

	// Off by default: nothing is fetched.
	off := newURIRegistrar(t, uris, engine.Settings{}, observe)
	if _, err := off.Register(ctx, engine.RegisterRequest{Tenant: "t", Body: body("https://keys.example/unknown", "")}); err != nil {
		t.Errorf("check_jwks_uri off: %v", err)
	}
	if c := uris.calls(); len(c) != 0 {
		t.Errorf("check_jwks_uri off fetched %v", c)
	}

	r := newURIRegistrar(t, uris, engine.Settings{CheckJWKSURI: true}, observe)
	info, err := r.Register(ctx, engine.RegisterRequest{Tenant: "t", Body: body("https://keys.example/ok", "ES256")})
	if err != nil {
		t.Fatalf("a good set: %v", err)
	}
	if c := uris.calls(); !slices.Equal(c, []string{"jwks https://keys.example/ok ES256"}) {
		t.Errorf("asked %v, want the client's signing algorithms once each", c)
	}
	// In this order: the observed outcomes below follow it.
	for _, tc := range []struct{ uri, want string }{
		{"https://keys.example/rsa", "jwks_uri: its JWK Set has no key that verifies ES256"},
		{"https://keys.example/empty", "jwks_uri: could not be used: not a usable JWK Set"},
		{"https://keys.example/unknown", "jwks_uri: could not be fetched"},
	} {
		_, err := r.Register(ctx, engine.RegisterRequest{Tenant: "t", Body: body(tc.uri, "ES256")})
		if e := wantCode(t, err, engine.CodeInvalidClientMetadata); e != nil && e.Description != tc.want {
			t.Errorf("%s: description %q, want %q", tc.uri, e.Description, tc.want)
		}
	}
	wantSeen := []engine.URICheck{
		{Tenant: "t", Member: "jwks_uri", Outcome: "ok"},
		{Tenant: "t", Member: "jwks_uri", Outcome: "mismatch"},
		{Tenant: "t", Member: "jwks_uri", Outcome: "invalid"},
		{Tenant: "t", Member: "jwks_uri", Outcome: "unavailable"},
	}
	if !slices.Equal(seen, wantSeen) {
		t.Errorf("observed %v, want %v", seen, wantSeen)
	}

	// An update checks again when the URI or the algorithms change.
	uris.calls()
	b := body("https://keys.example/ok", "ES256")
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	m["client_id"] = info.Client.ID
	m["client_name"] = "renamed"
	b, _ = json.Marshal(m)
	got, err := r.Update(ctx, engine.ManageRequest{Tenant: "t", ClientID: info.Client.ID, Token: info.RegistrationAccessToken, Body: b})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if c := uris.calls(); len(c) != 0 {
		t.Errorf("an update that changes neither fetched %v", c)
	}
	m["jwks_uri"] = "https://keys.example/rsa"
	b, _ = json.Marshal(m)
	_, err = r.Update(ctx, engine.ManageRequest{Tenant: "t", ClientID: info.Client.ID, Token: got.RegistrationAccessToken, Body: b})
	wantCode(t, err, engine.CodeInvalidClientMetadata)
}

// statementRegistrar is a Registrar of one open tenant that verifies the
// statements it is given by their text.
func statementRegistrar(t *testing.T, clock *testkit.Clock, policy engine.SoftwareIDPolicy, known map[string]*engine.Statement) *engine.Registrar {
	t.Helper()
	store := memstore.New(memstore.Config{Now: clock.Now})
	s := statementTenant()
	s.DefaultPolicies = nil
	s.SoftwareIDPolicy = policy
	r, err := engine.New(engine.Config{
		Store: store, Keys: nopKeys{}, Statements: &fakeStatements{known: known}, Replay: store,
		Tenants: map[string]engine.Settings{"t": s}, Now: clock.Now, Logger: testkit.DiscardLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSoftwareIDPolicy(t *testing.T) {
	clock := newClock()
	iat := jsonTime(clock.Now())
	claims := func(iss, sid string) map[string]json.RawMessage {
		return map[string]json.RawMessage{"iss": json.RawMessage(`"` + iss + `"`), "iat": json.RawMessage(iat), "software_id": json.RawMessage(`"` + sid + `"`)}
	}
	known := map[string]*engine.Statement{
		"a.a.a": {Issuer: "https://dir.example", Claims: claims("https://dir.example", "sw-1")},
		"b.b.b": {Issuer: "https://dir.example", Claims: claims("https://dir.example", "sw-1")},
		"c.c.c": {Issuer: "https://other.example", Claims: claims("https://other.example", "sw-1")},
		"d.d.d": {Issuer: "https://dir.example", Claims: claims("https://dir.example", "sw-2")},
	}
	ctx := context.Background()
	register := func(r *engine.Registrar, body string) (*engine.ClientInformation, error) {
		return r.Register(ctx, engine.RegisterRequest{Tenant: "t", Body: []byte(body)})
	}
	withStatement := func(s string) string {
		return `{"redirect_uris":["https://a.example/cb"],"software_statement":"` + s + `"}`
	}
	const plain = `{"redirect_uris":["https://a.example/cb"],"software_id":"sw-1"}`

	t.Run("allow", func(t *testing.T) {
		r := statementRegistrar(t, clock, "", known)
		for _, body := range []string{withStatement("a.a.a"), withStatement("b.b.b"), plain} {
			if _, err := register(r, body); err != nil {
				t.Errorf("%s: %v", body, err)
			}
		}
	})

	t.Run("unique", func(t *testing.T) {
		r := statementRegistrar(t, clock, engine.SoftwareIDUnique, known)
		first, err := register(r, withStatement("a.a.a"))
		if err != nil {
			t.Fatal(err)
		}
		for _, body := range []string{withStatement("b.b.b"), plain} {
			_, err := register(r, body)
			if e := wantCode(t, err, engine.CodeUnapprovedSoftwareStatement); e != nil && !strings.Contains(e.Description, `"sw-1"`) {
				t.Errorf("%s: %q", body, e.Description)
			}
		}
		if _, err := register(r, withStatement("d.d.d")); err != nil {
			t.Errorf("another software_id: %v", err)
		}
		// An update may not take another software_id.
		body := `{"client_id":"` + first.Client.ID + `","redirect_uris":["https://a.example/cb"],"software_statement":"a.a.a","software_id":"sw-3"}`
		_, err = r.Update(ctx, engine.ManageRequest{Tenant: "t", ClientID: first.Client.ID, Token: first.RegistrationAccessToken, Body: []byte(body)})
		wantCode(t, err, engine.CodeInvalidClientMetadata)
		// Deleting the holder frees the software_id.
		if err := r.Delete(ctx, engine.ManageRequest{Tenant: "t", ClientID: first.Client.ID, Token: first.RegistrationAccessToken}); err != nil {
			t.Fatal(err)
		}
		if _, err := register(r, withStatement("b.b.b")); err != nil {
			t.Errorf("after the holder was deleted: %v", err)
		}
	})

	t.Run("replace", func(t *testing.T) {
		r := statementRegistrar(t, clock, engine.SoftwareIDReplace, known)
		first, err := register(r, withStatement("a.a.a"))
		if err != nil {
			t.Fatal(err)
		}
		again, err := register(r, `{"redirect_uris":["https://b.example/cb"],"software_statement":"b.b.b"}`)
		if err != nil {
			t.Fatalf("re-registration with the same issuer and software_id: %v", err)
		}
		if again.Client.ID != first.Client.ID || again.Secret == "" || again.Secret == first.Secret ||
			again.RegistrationAccessToken == first.RegistrationAccessToken || again.Client.Metadata.RedirectURIs[0] != "https://b.example/cb" {
			t.Errorf("replacement: id %s (want %s), metadata %+v", again.Client.ID, first.Client.ID, again.Client.Metadata)
		}
		if h := again.Client.History; len(h) != 1 || h[0].Event != engine.EventReplace || h[0].SoftwareStatement.SoftwareID != "sw-1" {
			t.Errorf("history %+v", h)
		}
		// The old registration access token is dead.
		_, err = r.Read(ctx, engine.ManageRequest{Tenant: "t", ClientID: first.Client.ID, Token: first.RegistrationAccessToken})
		wantCode(t, err, engine.CodeInvalidToken)
		// Another issuer, or no statement, cannot replace it.
		for _, body := range []string{withStatement("c.c.c"), plain} {
			_, err := register(r, body)
			wantCode(t, err, engine.CodeUnapprovedSoftwareStatement)
		}
	})
}

func TestSoftwareIDPolicySetting(t *testing.T) {
	_, err := engine.New(engine.Config{Store: memstore.New(memstore.Config{}), Keys: nopKeys{},
		Tenants: map[string]engine.Settings{"t": {SoftwareIDPolicy: "sometimes"}}})
	if err == nil || !strings.Contains(err.Error(), "software_id_policy") {
		t.Errorf("New = %v", err)
	}
}
