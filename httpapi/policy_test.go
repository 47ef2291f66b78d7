package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/plugins"
)

// policyHost loads real modules, built from the WAT fixtures of plugins
// and sdk, into a policy folder: every hook runs for real in these tests.
func policyHost(t *testing.T) *plugins.Host {
	t.Helper()
	fixtures := map[string]string{
		"minimal": "../sdk/testdata/minimal.wasm",
	}
	for _, name := range []string{"rat-list", "reject", "loop", "trap", "garbage", "server-managed",
		"fixed-id", "bad-id", "const-secret", "short-secret", "no-rat", "no-rotate"} {
		fixtures[name] = "../plugins/testdata/" + name + ".wasm"
	}
	return hostOf(t, fixtures)
}

// hostOf is a policy host over a folder holding the modules given, each
// copied to <name>.wasm from its path.
func hostOf(t *testing.T, modules map[string]string) *plugins.Host {
	t.Helper()
	dir := t.TempDir()
	for name, src := range modules {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".wasm"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h, err := plugins.New(context.Background(), plugins.Config{Dir: dir, Logger: testkit.DiscardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	return h
}

var policyTenants = map[string]engine.Settings{
	"ids":      {InitialAccessToken: engine.TokenNone, IDFactory: "fixed-id", SecretFactory: "const-secret"},
	"badid":    {InitialAccessToken: engine.TokenNone, IDFactory: "bad-id"},
	"badsec":   {InitialAccessToken: engine.TokenNone, SecretFactory: "short-secret"},
	"norat":    {InitialAccessToken: engine.TokenNone, IssueRegistrationAccessToken: engine.Decision{Module: "no-rat"}},
	"norotate": {InitialAccessToken: engine.TokenNone, RotateRegistrationAccessToken: engine.Decision{Module: "no-rotate"}},
	"strict":   {InitialAccessToken: engine.TokenNone, DefaultPolicies: []string{"minimal"}},
}

func TestPolicyModulesEndToEnd(t *testing.T) {
	host := policyHost(t)
	s := newServerWithModules(t, policyTenants, host)

	t.Run("minting checks the named policies", func(t *testing.T) {
		for _, body := range []string{`{"policies":["nope"]}`, `{"policies":["fixed-id"]}`} {
			r := s.adminDo("POST", "/admin/tenants/default/initial-access-tokens", body)
			wantError(t, r, http.StatusBadRequest, engine.CodeInvalidRequest)
		}
	})

	t.Run("a policy rejects with its own code", func(t *testing.T) {
		iat := s.mintIAT("default", `{"policies":["minimal"]}`)
		r := s.do(s.public, "POST", "/reg", `{"redirect_uris":["https://app.example/cb"],"client_uri":"http://app.example"}`, bearer(iat))
		wantError(t, r, http.StatusBadRequest, engine.CodeInvalidRedirectURI)
		if d := r.json(t)["error_description"]; d != "only https URLs are allowed" {
			t.Errorf("description %v", d)
		}
		s.register("", iat, webClient)
	})

	t.Run("default policies run for open registration", func(t *testing.T) {
		r := s.do(s.public, "POST", "/tenants/strict/reg", `{"redirect_uris":["https://app.example/cb"],"logo_uri":"http://app.example/l.png"}`)
		wantError(t, r, http.StatusBadRequest, engine.CodeInvalidRedirectURI)
	})

	t.Run("policies run in order and carry over to the registration access token", func(t *testing.T) {
		iat := s.mintIAT("default", `{"policies":["rat-list"]}`)
		c := s.register("", iat, `{"redirect_uris":["https://ignored.example/cb"]}`)
		if c["client_name"] != "From rat-list" {
			t.Errorf("the policy's metadata was not used: %v", c)
		}
		id, rat := c["client_id"].(string), c["registration_access_token"].(string)
		if got := s.adminDo("GET", "/admin/tenants/default/clients/"+id, "").json(t)["registration_policies"]; fmt.Sprint(got) != "[minimal]" {
			t.Fatalf("registration policies %v, want the list the policy set", got)
		}
		// Updates now run "minimal", which refuses http URLs.
		r := s.do(s.public, "PUT", "/reg/"+id, fmt.Sprintf(`{"client_id":%q,"redirect_uris":["https://app.example/cb"],"policy_uri":"http://app.example/p"}`, id), bearer(rat))
		wantError(t, r, http.StatusBadRequest, engine.CodeInvalidRedirectURI)
		r = s.do(s.public, "PUT", "/reg/"+id, fmt.Sprintf(`{"client_id":%q,"redirect_uris":["https://app.example/cb"]}`, id), bearer(rat))
		if r.StatusCode != 200 {
			t.Fatalf("update: %d %s", r.StatusCode, r.body)
		}
	})

	t.Run("a chain stops at the first rejection", func(t *testing.T) {
		iat := s.mintIAT("default", `{"policies":["minimal","reject"]}`)
		r := s.do(s.public, "POST", "/reg", webClient, bearer(iat))
		wantError(t, r, http.StatusBadRequest, engine.CodeInvalidClientMetadata)
	})

	t.Run("factories and decisions", func(t *testing.T) {
		c := s.register("/tenants/ids", "", webClient)
		if c["client_id"] != "fixed-client-id" || c["client_secret"] != "0123456789abcdef0123456789abcdef0123456789" {
			t.Errorf("factories not used: %v", c)
		}
		// The module makes the same ID again: the registration fails, naming it.
		r := s.do(s.public, "POST", "/tenants/ids/reg", webClient)
		wantError(t, r, http.StatusInternalServerError, engine.CodeServerError)
		c = s.register("/tenants/norat", "", webClient)
		if _, ok := c["registration_access_token"]; ok {
			t.Errorf("no-rat decided against a token, got %v", c)
		}
		if _, ok := c["registration_client_uri"]; ok {
			t.Errorf("registration_client_uri without a token")
		}
		c = s.register("/tenants/norotate", "", webClient)
		id, rat := c["client_id"].(string), c["registration_access_token"].(string)
		r = s.do(s.public, "PUT", "/tenants/norotate/reg/"+id, fmt.Sprintf(`{"client_id":%q,"redirect_uris":["https://app.example/cb"]}`, id), bearer(rat))
		if r.StatusCode != 200 || r.json(t)["registration_access_token"] != rat {
			t.Errorf("no-rotate: %d %s", r.StatusCode, r.body)
		}
	})

	t.Run("misbehaving modules fail only their own requests", func(t *testing.T) {
		for _, name := range []string{"loop", "trap", "garbage", "server-managed"} {
			iat := s.mintIAT("default", fmt.Sprintf(`{"policies":[%q]}`, name))
			good := s.mintIAT("default", `{"policies":["minimal"]}`)
			var wg sync.WaitGroup
			statuses := make(chan int, 10)
			for range 10 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					statuses <- s.do(s.public, "POST", "/reg", webClient, bearer(good)).StatusCode
				}()
			}
			r := s.do(s.public, "POST", "/reg", webClient, bearer(iat))
			wg.Wait()
			close(statuses)
			wantError(t, r, http.StatusInternalServerError, engine.CodeServerError)
			desc := r.json(t)["error_description"].(string)
			if !strings.Contains(desc, `"`+name+`"`) || strings.Contains(desc, "trapped") || strings.Contains(desc, "deadline") {
				t.Errorf("%s: description %q must name the module and nothing of its internals", name, desc)
			}
			for st := range statuses {
				if st != http.StatusCreated {
					t.Errorf("%s: a good registration beside it got %d", name, st)
				}
			}
		}
		for tenant, module := range map[string]string{"badid": "bad-id", "badsec": "short-secret"} {
			r := s.do(s.public, "POST", "/tenants/"+tenant+"/reg", webClient)
			wantError(t, r, http.StatusInternalServerError, engine.CodeServerError)
			if !strings.Contains(r.json(t)["error_description"].(string), module) {
				t.Errorf("%s: %s", tenant, r.body)
			}
		}
	})
}

// TestPolicyConfigReachesModule checks the config input member with the
// policy run path: the engine passes the tenant's policy_config entry.
func TestPolicyConfigReachesModule(t *testing.T) {
	host := policyHost(t)
	var got json.RawMessage
	spy := spyModules{Host: host, policy: func(in *engine.PolicyInput) { got = in.Config }}
	s := newServerWithModules(t, map[string]engine.Settings{"cfg": {
		InitialAccessToken: engine.TokenNone, DefaultPolicies: []string{"minimal"},
		PolicyConfig: map[string]json.RawMessage{"minimal": json.RawMessage(`{"hosts":["app.example"]}`)},
	}}, spy)
	s.register("/tenants/cfg", "", webClient)
	if string(got) != `{"hosts":["app.example"]}` {
		t.Errorf("config %s", got)
	}
}

// spyModules records what the engine hands the host.
type spyModules struct {
	*plugins.Host
	policy func(*engine.PolicyInput)
}

func (s spyModules) Snapshot(tenant string) engine.ModuleSet {
	return spySet{s.Host.Snapshot(tenant), s.policy}
}

// spySet is a snapshot of spyModules.
type spySet struct {
	engine.ModuleSet
	policy func(*engine.PolicyInput)
}

func (s spySet) Policy(ctx context.Context, name string, in *engine.PolicyInput) (*engine.PolicyOutput, error) {
	s.policy(in)
	return s.ModuleSet.Policy(ctx, name, in)
}
