package oauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/memstore"
	"github.com/registrar-dev/registrar/oauth"
)

// hookFunc is a fake module's issue_access_token hook; nil means the
// module has a policy hook only.
type hookFunc func(in *engine.AccessTokenInput) (*engine.AccessTokenOutput, error)

// fakeModules are modules whose policy hook accepts metadata as it is and
// whose issue_access_token hook is a Go function; they record each
// issue_access_token input and count snapshots.
type fakeModules struct {
	hooks map[string]hookFunc

	mu       sync.Mutex
	inputs   []engine.AccessTokenInput
	names    []string
	open     int
	released int
}

func (f *fakeModules) Has(_, name string, hook engine.Hook) bool {
	h, ok := f.hooks[name]
	return ok && (hook == engine.HookPolicy || hook == engine.HookIssueAccessToken && h != nil)
}

func (f *fakeModules) Snapshot(string) engine.ModuleSet {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.open++
	return &fakeSet{f: f}
}

type fakeSet struct {
	engine.ModuleSet // the hooks this test does not call
	f                *fakeModules
	released         bool
}

func (s *fakeSet) Has(name string, hook engine.Hook) bool { return s.f.Has("", name, hook) }

func (s *fakeSet) Version(name string) string { return "v-" + name }

func (s *fakeSet) Policy(_ context.Context, name string, in *engine.PolicyInput) (*engine.PolicyOutput, error) {
	return &engine.PolicyOutput{Metadata: in.Metadata, Version: "v-" + name}, nil
}

func (s *fakeSet) IssueAccessToken(_ context.Context, name string, in *engine.AccessTokenInput) (*engine.AccessTokenOutput, error) {
	if s.released {
		panic("fake: used after Release")
	}
	s.f.mu.Lock()
	c := *in
	c.Scope, c.Audience, c.Claims = slices.Clone(in.Scope), slices.Clone(in.Audience), maps.Clone(in.Claims)
	s.f.inputs = append(s.f.inputs, c)
	s.f.names = append(s.f.names, name)
	s.f.mu.Unlock()
	out, err := s.f.hooks[name](in)
	if out != nil {
		out.Version = "v-" + name
	}
	return out, err
}

func (s *fakeSet) Release() {
	s.released = true
	s.f.mu.Lock()
	s.f.released++
	s.f.mu.Unlock()
}

// hookFixture is a Registrar whose default tenant runs the fake modules:
// tenantModule (if any) as its issue_access_token, and policies as its
// default_policies, which every client carries as registration policies.
// The oauth.Server gets the modules only if serverModules.
func hookFixture(t *testing.T, mods *fakeModules, tenantModule string, policies []string, serverModules bool) *fixture {
	t.Helper()
	clock := testkit.NewClock(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	store := memstore.New(memstore.Config{Now: clock.Now})
	settings := engine.Settings{
		InitialAccessToken: engine.TokenNone, DefaultPolicies: policies, ScopesSupported: []string{"read", "write", "admin"},
		PolicyConfig: map[string]json.RawMessage{"tiers": json.RawMessage(`{"cap":900}`)},
	}
	if tenantModule != "" {
		settings.IssueAccessToken = engine.Decision{Module: tenantModule}
	}
	reg, err := engine.New(engine.Config{
		Store: store, Keys: jose.KeySetChecker{}, Modules: mods, Now: clock.Now,
		Tenants: map[string]engine.Settings{engine.DefaultTenant: settings}, Logger: testkit.DiscardLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, clock: clock, store: store, reg: reg}
	cfg := oauth.Config{Registrar: reg, Clients: store, Store: store, Now: clock.Now, Logger: testkit.DiscardLogger()}
	if serverModules {
		cfg.Modules = mods
	}
	if f.srv, err = oauth.New(cfg); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) tokenScope(cr oauth.Credentials, scope string) (*oauth.TokenResponse, error) {
	return f.srv.Token(context.Background(), oauth.TokenRequest{
		Tenant: engine.DefaultTenant, Endpoints: oauth.Endpoints{Issuer: issuer, Endpoint: issuer + "/token"},
		Credentials: cr, GrantType: oauth.GrantClientCredentials, Scope: scope, HasScope: scope != "",
		Request: oauth.RequestFacts{RemoteIP: "203.0.113.7"},
	})
}

// TestHooksChain: the tenant's module runs first, then each client policy
// with the hook, once, on one snapshot; each sees what the previous one
// left; the token carries the result.
func TestHooksChain(t *testing.T) {
	mods := &fakeModules{hooks: map[string]hookFunc{
		"tiers": func(in *engine.AccessTokenInput) (*engine.AccessTokenOutput, error) {
			return &engine.AccessTokenOutput{Scope: []string{"read", "write"}, Audience: []string{"https://api.example.com"}, Lifetime: 900,
				Claims: map[string]json.RawMessage{"tier": json.RawMessage(`"gold"`)}}, nil
		},
		"policy-only": nil,
		"region": func(in *engine.AccessTokenInput) (*engine.AccessTokenOutput, error) {
			return &engine.AccessTokenOutput{Scope: in.Scope[:1], Lifetime: 300, Claims: map[string]json.RawMessage{"region": json.RawMessage(`"eu"`)}}, nil
		},
	}}
	f := hookFixture(t, mods, "tiers", []string{"policy-only", "tiers", "region"}, true)
	body := `{"grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],"token_endpoint_auth_method":"client_secret_basic","scope":"read write admin"}`
	info, err := f.reg.Register(context.Background(), engine.RegisterRequest{Tenant: engine.DefaultTenant, Body: []byte(body)})
	if err != nil {
		t.Fatal(err)
	}
	id, secret := info.Client.ID, info.Secret
	resp, err := f.tokenScope(basic(id, secret), "read write admin")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Scope != "read" || resp.ExpiresIn != 300 {
		t.Errorf("response %+v; want the last module's scope and lifetime", resp)
	}
	if !slices.Equal(mods.names, []string{"tiers", "region"}) {
		t.Errorf("modules ran %v; want the tenant's, then each client policy with the hook once", mods.names)
	}
	first, second := mods.inputs[0], mods.inputs[1]
	if first.ClientID != id || first.GrantType != "client_credentials" || first.AuthMethod != "client_secret_basic" ||
		!slices.Equal(first.RequestedScope, []string{"read", "write", "admin"}) || !slices.Equal(first.Scope, []string{"read", "write", "admin"}) ||
		first.Lifetime != 3600 || string(first.Config) != `{"cap":900}` || first.Claims != nil || first.Request.RemoteIP != "203.0.113.7" ||
		!slices.Equal(first.Policies, []string{"policy-only", "tiers", "region"}) {
		t.Errorf("the first module's input: %+v", first)
	}
	if !slices.Equal(second.Scope, []string{"read", "write"}) || second.Lifetime != 900 || !slices.Equal(second.Audience, []string{"https://api.example.com"}) ||
		string(second.Claims["tier"]) != `"gold"` || second.Config != nil {
		t.Errorf("the second module's input: %+v; want the first one's result", second)
	}
	if mods.open != 1+1 || mods.released != mods.open {
		// One snapshot for the registration, one for the token.
		t.Errorf("%d snapshots, %d released", mods.open, mods.released)
	}
	in, err := f.srv.Introspect(context.Background(), oauth.IntrospectRequest{
		Tenant: engine.DefaultTenant, Endpoints: oauth.Endpoints{Issuer: issuer, Endpoint: issuer + "/introspect"},
		Credentials: basic(id, secret), Token: resp.AccessToken,
	})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(in)
	for _, want := range []string{`"tier":"gold"`, `"region":"eu"`, `"aud":["https://api.example.com"]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("introspection %s lacks %s", b, want)
		}
	}
}

// TestHooksRefuse: a denial reaches the client with its code; a module
// that fails, a later module that sets an earlier one's claim, and a
// tenant module the server cannot run are server_error naming the module.
func TestHooksRefuse(t *testing.T) {
	deny := func(*engine.AccessTokenInput) (*engine.AccessTokenOutput, error) {
		return nil, engine.Errorf(engine.CodeInvalidScope, "not for you")
	}
	broken := func(*engine.AccessTokenInput) (*engine.AccessTokenOutput, error) {
		return nil, &engine.Error{Code: engine.CodeInvalidClientMetadata, Description: "a registration code"}
	}
	claim := func(*engine.AccessTokenInput) (*engine.AccessTokenOutput, error) {
		return &engine.AccessTokenOutput{Claims: map[string]json.RawMessage{"tier": json.RawMessage(`"x"`)}}, nil
	}
	cases := []struct {
		name, tenantModule string
		policies           []string
		serverModules      bool
		code               engine.ErrorCode
		description        string
	}{
		{"denial", "deny", nil, true, engine.CodeInvalidScope, "not for you"},
		{"a denial stops the chain", "deny", []string{"claim"}, true, engine.CodeInvalidScope, "not for you"},
		{"a registration code is a failure", "broken", nil, true, engine.CodeServerError, `"broken"`},
		{"an earlier module's claim", "claim", []string{"claim2"}, true, engine.CodeServerError, `"claim2"`},
		{"no modules in the server", "claim", nil, false, engine.CodeServerError, `"claim"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mods := &fakeModules{hooks: map[string]hookFunc{"deny": deny, "broken": broken, "claim": claim, "claim2": claim}}
			f := hookFixture(t, mods, c.tenantModule, c.policies, c.serverModules)
			id, secret := f.register("")
			_, err := f.tokenScope(basic(id, secret), "")
			var e *engine.Error
			if !errors.As(err, &e) || e.Code != c.code || !strings.Contains(e.Description, c.description) {
				t.Fatalf("got %v; want %s naming %s", err, c.code, c.description)
			}
			if c.name == "a denial stops the chain" && len(mods.names) != 1 {
				t.Errorf("modules ran %v after the denial", mods.names)
			}
		})
	}
}
