package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/plugins"
)

// tokenHookHost loads the token-tiers example (its Go build) and the Go
// SDK's conformance module, which exports every hook and does what its
// config says (sdk/testdata/vectors/README.md).
func tokenHookHost(t *testing.T) *plugins.Host {
	t.Helper()
	return hostOf(t, map[string]string{
		"token-tiers": "../policies-examples/token-tiers/go/policy.wasm",
		"conformance": "../sdk/go/internal/conformance/conformance.wasm",
	})
}

// tiersConfig is the policy_config of the token-tiers tenants.
const tiersConfig = `{"tiers":{"gold":["read","write","admin"],"silver":["read","write"]},"audience":["https://api.example.com"],"max_lifetime":900}`

func tokenHookTenants() map[string]engine.Settings {
	tiers := engine.Settings{
		InitialAccessToken: engine.TokenNone, ExtraClientMetadata: []string{"tier"},
		IssueAccessToken: engine.Decision{Module: "token-tiers"},
		PolicyConfig:     map[string]json.RawMessage{"token-tiers": json.RawMessage(tiersConfig)},
	}
	chained := tiers
	chained.InitialAccessToken = engine.TokenStored
	chained.PolicyConfig = map[string]json.RawMessage{
		"token-tiers": json.RawMessage(tiersConfig),
		"conformance": json.RawMessage(`{"scope":["read"],"lifetime":300,"claims":{"region":"eu"}}`),
	}
	clash := chained
	clash.PolicyConfig = map[string]json.RawMessage{
		"token-tiers": json.RawMessage(tiersConfig),
		"conformance": json.RawMessage(`{"claims":{"tier":"gold"}}`),
	}
	return map[string]engine.Settings{
		"tiers": tiers, "chained": chained, "clash": clash,
		"missing": {InitialAccessToken: engine.TokenNone, IssueAccessToken: engine.Decision{Module: "token-tiers"}},
	}
}

// tieredClient registers a client_credentials client with a tier.
func (s *server) tieredClient(prefix, iat, tier string) string {
	s.t.Helper()
	body := `{"grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],"token_endpoint_auth_method":"client_secret_basic","scope":"read write admin"`
	if tier != "" {
		body += `,"tier":"` + tier + `"`
	}
	c := s.register(prefix, iat, body+"}")
	return basicAuth(c["client_id"].(string), c["client_secret"].(string))
}

// TestTokenHookNarrows: the tenant's issue_access_token module (the
// token-tiers example) narrows the scope to the client's tier, sets the
// audience and lifetime from its config, and adds a claim, which
// introspection shows.
func TestTokenHookNarrows(t *testing.T) {
	s := newServerWithModules(t, tokenHookTenants(), tokenHookHost(t))
	const prefix = "/tenants/tiers"
	auth := s.tieredClient(prefix, "", "silver")
	tok := s.token(prefix+"/token", "grant_type=client_credentials", auth)
	if tok["scope"] != "read write" || tok["expires_in"] != float64(900) {
		t.Errorf("token response %v; want scope narrowed to the silver tier and a 900 s lifetime", tok)
	}
	in := s.introspect(prefix, tok["access_token"].(string), auth)
	want := map[string]any{
		"active": true, "scope": "read write", "aud": []any{"https://api.example.com"},
		"exp": float64(epoch.Unix() + 900), "tier": "silver",
	}
	for k, v := range want {
		if !equalJSON(in[k], v) {
			t.Errorf("introspection %s = %v, want %v", k, in[k], v)
		}
	}
	gold := s.tieredClient(prefix, "", "gold")
	if tok := s.token(prefix+"/token", "grant_type=client_credentials&scope=admin", gold); tok["scope"] != "admin" {
		t.Errorf("gold asking for admin: %v", tok)
	}
}

// TestTokenHookDenies: each denial of the module reaches the client with
// its RFC 6749 code and status, and a module that is missing or fails is
// a server_error naming it.
func TestTokenHookDenies(t *testing.T) {
	s := newServerWithModules(t, tokenHookTenants(), tokenHookHost(t))
	const prefix = "/tenants/tiers"
	silver := s.tieredClient(prefix, "", "silver")
	r := s.post(prefix+"/token", "grant_type=client_credentials&scope=read%20admin", silver)
	wantError(t, r, 400, engine.CodeInvalidScope)
	if !strings.Contains(string(r.body), "beyond the silver tier") {
		t.Errorf("the module's description is lost: %s", r.body)
	}
	wantError(t, s.post(prefix+"/token", "grant_type=client_credentials", s.tieredClient(prefix, "", "")), 400, engine.CodeUnauthorizedClient)
	wantError(t, s.post(prefix+"/token", "grant_type=client_credentials", s.tieredClient(prefix, "", "platinum")), 403, engine.CodeAccessDenied)
	// The tenant has no policy_config for the module: the module fails.
	r = s.post("/tenants/missing/token", "grant_type=client_credentials", s.tieredClient("/tenants/missing", "", ""))
	wantError(t, r, 500, engine.CodeServerError)
	if !strings.Contains(string(r.body), "token-tiers") {
		t.Errorf("the failure does not name the module: %s", r.body)
	}
}

// TestTokenHookChain: after the tenant's module, each of the client's
// registration policies with the hook runs on what the previous one left;
// a later module may not set a claim an earlier one set.
func TestTokenHookChain(t *testing.T) {
	s := newServerWithModules(t, tokenHookTenants(), tokenHookHost(t))
	const prefix = "/tenants/chained"
	auth := s.tieredClient(prefix, s.mintIAT("chained", `{"policies":["conformance"]}`), "gold")
	tok := s.token(prefix+"/token", "grant_type=client_credentials", auth)
	if tok["scope"] != "read" || tok["expires_in"] != float64(300) {
		t.Errorf("token response %v; want the client's policy to narrow after the tenant's module", tok)
	}
	in := s.introspect(prefix, tok["access_token"].(string), auth)
	for k, v := range map[string]any{"tier": "gold", "region": "eu", "aud": []any{"https://api.example.com"}} {
		if !equalJSON(in[k], v) {
			t.Errorf("introspection %s = %v, want %v", k, in[k], v)
		}
	}
	const clash = "/tenants/clash"
	auth = s.tieredClient(clash, s.mintIAT("clash", `{"policies":["conformance"]}`), "gold")
	r := s.post(clash+"/token", "grant_type=client_credentials", auth)
	wantError(t, r, 500, engine.CodeServerError)
	if !strings.Contains(string(r.body), "conformance") {
		t.Errorf("the failure does not name the module: %s", r.body)
	}
}
