package engine_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/memstore"
)

// replicas returns two Registrars over one store, as two processes over
// one Redis are.
func replicas(t *testing.T, mods engine.Modules) (a, b *engine.Registrar, store *memstore.Store) {
	t.Helper()
	store = memstore.New(memstore.Config{})
	mk := func() *engine.Registrar {
		r, err := engine.New(engine.Config{
			Store: store, AuditLog: store, Limiter: store, Keys: jose.KeySetChecker{}, Modules: mods,
			Logger: testkit.DiscardLogger(),
		})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	return mk(), mk(), store
}

func TestStoredTenantsAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	a, b, _ := replicas(t, nil)
	if _, created, err := a.PutTenant(ctx, "team", engine.Settings{InitialAccessToken: engine.TokenNone}, 0); err != nil || !created {
		t.Fatalf("put: %v %v", created, err)
	}
	if !a.HasTenant("team") {
		t.Fatal("the replica that created the tenant does not serve it")
	}
	if b.HasTenant("team") {
		t.Fatal("b serves the tenant before refreshing (the test is wrong)")
	}
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	ci, err := b.Register(ctx, engine.RegisterRequest{Tenant: "team", Body: []byte(rp()), RemoteIP: "192.0.2.1"})
	if err != nil {
		t.Fatalf("register at b: %v", err)
	}
	// Replace on b; a sees the new settings after its refresh.
	if _, _, err := b.PutTenant(ctx, "team", engine.Settings{}, 1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.PutTenant(ctx, "team", engine.Settings{}, 1); engine.AsError(err).Code != engine.CodePreconditionFailed {
		t.Errorf("stale If-Match: %v", err)
	}
	if err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if caps, _ := a.Capabilities("team"); caps.OpenRegistration {
		t.Error("a still serves the old settings after a refresh")
	}
	// Delete on a: b, not yet refreshed, can no longer write into it.
	if err := a.DeleteTenant(ctx, "team"); err != nil {
		t.Fatal(err)
	}
	if !b.HasTenant("team") {
		t.Fatal("b dropped the tenant before refreshing (the test is wrong)")
	}
	if _, err := b.Register(ctx, engine.RegisterRequest{Tenant: "team", Body: []byte(rp()), RemoteIP: "192.0.2.1"}); err == nil {
		t.Error("a stale replica registered a client into a deleted tenant")
	}
	if _, _, err := b.MintInitialAccessToken(ctx, "team", engine.MintRequest{}); err == nil {
		t.Error("a stale replica minted a token in a deleted tenant")
	}
	if _, err := b.Client(ctx, "team", ci.Client.ID); engine.AsError(err).Code != engine.CodeNotFound {
		t.Errorf("the deleted tenant's client is still there: %v", err)
	}
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if b.HasTenant("team") {
		t.Error("b serves a deleted tenant after refreshing")
	}
}

func TestConfiguredTenantsWin(t *testing.T) {
	ctx := context.Background()
	store := memstore.New(memstore.Config{})
	if _, err := store.PutTenant(ctx, &engine.TenantRecord{Name: "acme", Settings: engine.Settings{InitialAccessToken: engine.TokenNone}}, 0); err != nil {
		t.Fatal(err)
	}
	r, err := engine.New(engine.Config{
		Store: store, Keys: jose.KeySetChecker{}, Logger: testkit.DiscardLogger(),
		Tenants: map[string]engine.Settings{"acme": {}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if caps, _ := r.Capabilities("acme"); caps.OpenRegistration {
		t.Error("a stored tenant overrides the configuration file's")
	}
	info, err := r.Tenant(ctx, "acme")
	if err != nil || info.Source != engine.SourceConfig {
		t.Errorf("Tenant = %+v, %v", info, err)
	}
	// A stored default replaces the built-in one.
	if _, _, err := r.PutTenant(ctx, engine.DefaultTenant, engine.Settings{InitialAccessToken: engine.TokenNone}, 0); err != nil {
		t.Fatal(err)
	}
	if caps, _ := r.Capabilities(engine.DefaultTenant); !caps.OpenRegistration {
		t.Error("the stored default tenant is not served")
	}
}

func TestRefreshKeepsLastGoodSettings(t *testing.T) {
	ctx := context.Background()
	a, _, store := replicas(t, nil)
	if _, _, err := a.PutTenant(ctx, "team", engine.Settings{InitialAccessToken: engine.TokenNone}, 0); err != nil {
		t.Fatal(err)
	}
	// A record that no longer compiles (written behind the engine's back,
	// as an older or newer version might).
	if _, err := store.PutTenant(ctx, &engine.TenantRecord{Name: "team", Settings: engine.Settings{InitialAccessToken: "sometimes"}}, 0); err != nil {
		t.Fatal(err)
	}
	if err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if caps, err := a.Capabilities("team"); err != nil || !caps.OpenRegistration {
		t.Errorf("the last good settings were dropped: %+v %v", caps, err)
	}
}

// Every registration and update records the policy versions that ran; a
// listing by policy version shows the clients whose current metadata that
// version shaped.
func TestProvenance(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, map[string]engine.Settings{"t": {}})
	p := &fakeModule{version: "1"}
	h.mods.add("t", "p", p)
	h.mods.add("t", "q", &fakeModule{version: "1"})
	tok := h.mint("t", engine.MintRequest{Policies: []string{"p", "q"}})
	ci := h.mustRegister("t", tok, rp())
	c := h.stored("t", ci.Client.ID)
	v1 := engine.PolicyVersion{Name: "p", Digest: p.digest()}
	if len(c.History) != 1 || c.History[0].Event != engine.EventRegister || c.History[0].Token != c.IssuedBy ||
		len(c.History[0].Policies) != 2 || c.History[0].Policies[0] != v1 || c.History[0].Policies[1].Name != "q" {
		t.Fatalf("history after registration: %+v", c.History)
	}
	list := func(v engine.PolicyVersion) int {
		cs, _, err := h.r.Clients(ctx, "t", engine.ClientFilter{Policy: v}, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(cs)
	}
	if list(v1) != 1 {
		t.Error("the client is not listed under the policy version that admitted it")
	}
	// A new version of p runs at the next update.
	p.version = "2"
	v2 := engine.PolicyVersion{Name: "p", Digest: p.digest()}
	rat := ci.RegistrationAccessToken
	for i := 0; i < engine.MaxHistory+4; i++ {
		rat = h.mustUpdate("t", ci.Client.ID, rat, rp(`"client_id":"`+ci.Client.ID+`"`)).RegistrationAccessToken
	}
	c = h.stored("t", ci.Client.ID)
	if len(c.History) != engine.MaxHistory || c.History[0].Event != engine.EventRegister || c.History[len(c.History)-1].Event != engine.EventUpdate {
		t.Errorf("history after many updates: %d entries, first %+v", len(c.History), c.History[0])
	}
	if c.History[len(c.History)-1].Policies[0] != v2 {
		t.Errorf("last update's policies: %+v", c.History[len(c.History)-1].Policies)
	}
	if list(v1) != 0 || list(v2) != 1 {
		t.Errorf("listing by version after the update: v1 %d, v2 %d", list(v1), list(v2))
	}
	if n, err := h.r.DeleteClients(ctx, "t", engine.ClientFilter{Policy: v2}); err != nil || n != 1 {
		t.Errorf("bulk delete by policy version: %d %v", n, err)
	}
}

// A registration a policy refuses is an audit event naming the policy and
// its version.
func TestAuditRejection(t *testing.T) {
	ctx := context.Background()
	store := memstore.New(memstore.Config{})
	mods := newFakeModules()
	gate := &fakeModule{version: "7", policy: rejectWith(engine.CodeInvalidClientMetadata, "no")}
	mods.add("t", "gate", gate)
	r, err := engine.New(engine.Config{
		Store: store, AuditLog: store, Keys: jose.KeySetChecker{}, Modules: mods, Logger: testkit.DiscardLogger(),
		Tenants: map[string]engine.Settings{"t": {InitialAccessToken: engine.TokenNone, DefaultPolicies: []string{"gate"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rctx := engine.WithRequest(ctx, engine.RequestInfo{ID: "req-1", RemoteIP: "192.0.2.7"})
	if _, err := r.Register(rctx, engine.RegisterRequest{Tenant: "t", Body: []byte(rp()), RemoteIP: "192.0.2.7"}); err == nil {
		t.Fatal("registration passed the gate")
	}
	es, _, err := r.AuditEvents(ctx, "t", "", 10)
	if err != nil || len(es) != 1 {
		t.Fatalf("events: %+v %v", es, err)
	}
	e := es[0]
	if e.Type != engine.AuditClientRejected || e.Policy == nil || *e.Policy != (engine.PolicyVersion{Name: "gate", Digest: gate.digest()}) ||
		e.Error != engine.CodeInvalidClientMetadata || e.Actor != "anonymous" || e.RequestID != "req-1" || e.RemoteIP != "192.0.2.7" {
		t.Errorf("event: %+v", e)
	}
}

func TestRegistrationRateLimit(t *testing.T) {
	ctx := context.Background()
	store := memstore.New(memstore.Config{})
	r, err := engine.New(engine.Config{
		Store: store, Limiter: store, Keys: jose.KeySetChecker{}, Logger: testkit.DiscardLogger(),
		Tenants: map[string]engine.Settings{
			"open":  {InitialAccessToken: engine.TokenNone},
			"busy":  {InitialAccessToken: engine.TokenNone, RegistrationRateLimit: engine.RateLimit{PerTenant: engine.Rate{Events: 2, Per: 60e9}}},
			"free":  {InitialAccessToken: engine.TokenNone, RegistrationRateLimit: engine.RateLimit{Off: true}},
			"token": {},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	reg := func(tenant, ip string) error {
		_, err := r.Register(ctx, engine.RegisterRequest{Tenant: tenant, Body: []byte(rp()), RemoteIP: ip})
		return err
	}
	// Open registration: 20 a minute per address by default; an IPv6
	// client counts by its /64.
	for i := 0; i < engine.DefaultOpenRegistrationRate.Events; i++ {
		if err := reg("open", "2001:db8:1:2::"+string(rune('a'+i%6))); err != nil {
			t.Fatalf("registration %d: %v", i, err)
		}
	}
	err = reg("open", "2001:db8:1:2:ffff::1")
	if e := engine.AsError(err); e.Code != engine.CodeTooManyRequests || e.RetryAfter <= 0 {
		t.Fatalf("over the limit: %+v", err)
	}
	if err := reg("open", "2001:db8:1:3::1"); err != nil {
		t.Errorf("another /64: %v", err)
	}
	if err := reg("open", "192.0.2.1"); err != nil {
		t.Errorf("an IPv4 client: %v", err)
	}
	// A per-tenant limit counts everyone.
	if reg("busy", "192.0.2.1") != nil || reg("busy", "192.0.2.2") != nil {
		t.Fatal("busy tenant refused within its limit")
	}
	if engine.AsError(reg("busy", "192.0.2.3")).Code != engine.CodeTooManyRequests {
		t.Error("busy tenant over its limit")
	}
	for i := 0; i < 30; i++ {
		if err := reg("free", "192.0.2.1"); err != nil {
			t.Fatalf("a tenant with limits off: %v", err)
		}
	}
	// Tenants with tokens have no default limit.
	if engine.AsError(reg("token", "192.0.2.1")).Code != engine.CodeInvalidToken {
		t.Error("token tenant")
	}
	// Without a limiter, a configured limit is refused at start.
	_, err = engine.New(engine.Config{Store: store, Keys: jose.KeySetChecker{}, Tenants: map[string]engine.Settings{"busy": {RegistrationRateLimit: engine.RateLimit{PerIP: engine.Rate{Events: 1, Per: 1e9}}}}})
	if err == nil {
		t.Error("a rate limit without a limiter was accepted")
	}
}

// TestClientDefaultsValidated: client_defaults are validated against the
// tenant's own rules when settings are saved (PutTenant) and loaded (New),
// so defaults that would make every registration fail are refused with the
// reason; defaults that a client's own members complete are accepted.
func TestClientDefaultsValidated(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		settings engine.Settings
		defaults string
		mention  string // "" = accepted
	}{
		{name: "unknown auth method", defaults: `{"token_endpoint_auth_method":"bogus"}`, mention: "token_endpoint_auth_method"},
		{name: "auth method the tenant does not offer", settings: engine.Settings{TokenEndpointAuthMethodsSupported: []string{"private_key_jwt"}}, defaults: `{"token_endpoint_auth_method":"client_secret_basic"}`, mention: "token_endpoint_auth_method"},
		{name: "grant type not offered", settings: engine.Settings{GrantTypesSupported: []string{"client_credentials"}}, defaults: `{"grant_types":["authorization_code"]}`, mention: "grant_types"},
		{name: "empty grant_types", defaults: `{"grant_types":[]}`, mention: "grant_types"},
		{name: "implicit without response types", defaults: `{"grant_types":["implicit"]}`, mention: "grant_types implicit"},
		{name: "inconsistent pair", defaults: `{"grant_types":["authorization_code"],"response_types":["id_token"]}`, mention: "response_types"},
		{name: "wrong type", defaults: `{"contacts":"ops@rp.example"}`, mention: "contacts"},
		{name: "bad scope", defaults: `{"scope":"a  b"}`, mention: "scope"},
		{name: "scope not offered", settings: engine.Settings{ScopesSupported: []string{"openid"}}, defaults: `{"scope":"admin"}`, mention: "scope"},
		{name: "alg not offered", defaults: `{"id_token_signed_response_alg":"none"}`, mention: "id_token_signed_response_alg"},
		{name: "http logo", defaults: `{"logo_uri":"javascript:alert(1)"}`, mention: "logo_uri"},
		{name: "bad redirect uri", defaults: `{"redirect_uris":["http://rp.example/cb"]}`, mention: "redirect_uris"},
		{name: "private jwks", defaults: `{"jwks":` + jwks(rsaPrivateJWK) + `}`, mention: "jwks"},
		{name: "signing alg without private_key_jwt", defaults: `{"token_endpoint_auth_signing_alg":"RS256"}`, mention: "token_endpoint_auth_signing_alg"},
		{name: "subject type not offered", defaults: `{"subject_type":"pairwise"}`, mention: "subject_type"},

		{name: "none", defaults: `{}`},
		{name: "typical", defaults: `{"grant_types":["authorization_code","refresh_token"],"response_types":["code"],"token_endpoint_auth_method":"client_secret_basic","id_token_signed_response_alg":"RS256"}`},
		// The client supplies its redirect URIs, keys and TLS identity itself.
		{name: "private_key_jwt without keys", defaults: `{"token_endpoint_auth_method":"private_key_jwt","token_endpoint_auth_signing_alg":"ES256"}`},
		{name: "tls_client_auth without identity", defaults: `{"token_endpoint_auth_method":"tls_client_auth"}`},
		{name: "request object alg without keys", defaults: `{"request_object_signing_alg":"ES256"}`},
		// A tenant that offers no RFC default leaves the choice to each client.
		{name: "no RFC defaults offered", settings: engine.Settings{GrantTypesSupported: []string{"client_credentials"}, TokenEndpointAuthMethodsSupported: []string{"private_key_jwt"}}, defaults: `{}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.settings
			if err := json.Unmarshal([]byte(tc.defaults), &s.ClientDefaults); err != nil {
				t.Fatal(err)
			}
			a, _, _ := replicas(t, nil)
			_, _, err := a.PutTenant(ctx, "team", s, 0)
			_, newErr := engine.New(engine.Config{Store: memstore.New(memstore.Config{}), Keys: jose.KeySetChecker{}, Tenants: map[string]engine.Settings{"team": s}})
			if tc.mention == "" {
				if err != nil || newErr != nil {
					t.Fatalf("refused: PutTenant %v; New %v", err, newErr)
				}
				return
			}
			wantError(t, err, engine.CodeInvalidRequest, "client_defaults: "+tc.mention)
			if newErr == nil || !strings.Contains(newErr.Error(), "client_defaults: "+tc.mention) {
				t.Errorf("New: %v, want an error about client_defaults: %s", newErr, tc.mention)
			}
			if a.HasTenant("team") {
				t.Error("refused settings were saved")
			}
		})
	}
}

// TestRefreshServesStoredBadDefaults: a tenant stored before client_defaults
// were validated (written behind the engine's back here) is still served,
// so its clients can be read and managed; only PutTenant and the
// configuration file refuse such defaults.
func TestRefreshServesStoredBadDefaults(t *testing.T) {
	ctx := context.Background()
	a, _, store := replicas(t, nil)
	s := engine.Settings{InitialAccessToken: engine.TokenNone, ClientDefaults: map[string]json.RawMessage{"token_endpoint_auth_method": json.RawMessage(`"bogus"`)}}
	if _, err := store.PutTenant(ctx, &engine.TenantRecord{Name: "legacy", Settings: s}, 0); err != nil {
		t.Fatal(err)
	}
	if err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if !a.HasTenant("legacy") {
		t.Fatal("the stored tenant is not served")
	}
	_, err := a.Register(ctx, engine.RegisterRequest{Tenant: "legacy", Body: []byte(rp()), RemoteIP: "192.0.2.1"})
	wantError(t, err, engine.CodeInvalidClientMetadata, "token_endpoint_auth_method")
}

// TestOneVersionPerRequest: a request runs every hook on the versions of
// the modules it found when it started, however often a new version goes
// live meanwhile, and the client's history names the version of every
// module that ran - factories and decisions too. Every snapshot taken is
// released.
func TestOneVersionPerRequest(t *testing.T) {
	settings := engine.Settings{
		InitialAccessToken: engine.TokenNone, DefaultPolicies: []string{"m"}, IDFactory: "m", SecretFactory: "m",
		IssueRegistrationAccessToken:  engine.Decision{Module: "m"},
		RotateRegistrationAccessToken: engine.Decision{Module: "m"},
	}
	h := newHarness(t, map[string]engine.Settings{"t": settings})
	// version returns version v of module m, whose policy hook makes
	// version next live, as a reload in the middle of the request would.
	var version func(v, next string) *fakeModule
	version = func(v, next string) *fakeModule {
		return &fakeModule{
			version: v,
			policy: func(in *engine.PolicyInput) (*engine.PolicyOutput, error) {
				h.mods.add("t", "m", version(next, v))
				return setMembers(map[string]string{"client_name": `"` + v + `"`})(in)
			},
			clientID: func(*engine.FactoryInput) (string, error) { return v + "-client", nil },
			secret:   func(*engine.FactoryInput) (string, error) { return strings.Repeat(v, 20), nil },
			decide:   func(engine.Hook, *engine.DecisionInput) (bool, error) { return true, nil },
		}
	}
	v1, v2 := version("v1", "v2"), version("v2", "v1")
	h.mods.add("t", "m", v1)
	ci := h.mustRegister("t", "", rp())
	c := h.stored("t", ci.Client.ID)
	eq(t, "client_id", c.ID, "v1-client")
	eq(t, "client_name", c.Metadata.ClientName, "v1")
	eq(t, "secret", ci.Secret, strings.Repeat("v1", 20))
	want := engine.Provenance{
		Event: engine.EventRegister, At: c.IssuedAt,
		Policies: []engine.PolicyVersion{{Name: "m", Digest: v1.digest()}},
		Hooks: []engine.HookVersion{
			{Hook: engine.HookSecretFactory, Name: "m", Digest: v1.digest()},
			{Hook: engine.HookIDFactory, Name: "m", Digest: v1.digest()},
			{Hook: engine.HookIssueRAT, Name: "m", Digest: v1.digest()},
		},
	}
	if len(c.History) != 1 || !reflect.DeepEqual(c.History[0], want) {
		t.Errorf("history after registration:\n got %+v\nwant %+v", c.History, want)
	}

	// The update finds v2 live (v1's policy hook made it so) and runs v2
	// throughout, though its policy hook makes v1 live again.
	h.mustUpdate("t", c.ID, ci.RegistrationAccessToken, rp(`"client_id":"v1-client"`))
	c = h.stored("t", c.ID)
	eq(t, "client_name after update", c.Metadata.ClientName, "v2")
	want = engine.Provenance{
		Event: engine.EventUpdate, At: c.UpdatedAt,
		Policies: []engine.PolicyVersion{{Name: "m", Digest: v2.digest()}},
		Hooks:    []engine.HookVersion{{Hook: engine.HookRotateRAT, Name: "m", Digest: v2.digest()}},
	}
	if len(c.History) != 2 || !reflect.DeepEqual(c.History[1], want) {
		t.Errorf("history after update:\n got %+v\nwant %+v", c.History, want)
	}
	// A request refused by a module releases its snapshot too.
	h.mods.add("t", "m", &fakeModule{policy: rejectWith(engine.CodeInvalidClientMetadata, "no")})
	h.register("t", "", rp())
	if n := h.mods.Open(); n != 0 {
		t.Errorf("%d module snapshots were not released", n)
	}
}
