package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/idn"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
)

const staticToken = "static-initial-access-token-0123456789"

// harness is a Registrar over fakes, with a fixed clock and deterministic
// randomness.
type harness struct {
	t     *testing.T
	r     *engine.Registrar
	store *fakeStore
	mods  *fakeModules
	clock *testkit.Clock
}

func newHarness(t *testing.T, tenants map[string]engine.Settings) *harness {
	t.Helper()
	clk := newClock()
	h := &harness{t: t, store: newFakeStore(clk.Now), mods: newFakeModules(), clock: clk}
	r, err := engine.New(engine.Config{
		Store: h.store, Keys: jose.KeySetChecker{}, Hosts: idn.Normalizer{}, Modules: h.mods, Tenants: tenants,
		Now: clk.Now, Rand: testkit.Rand(1), Logger: testkit.DiscardLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	h.r = r
	return h
}

// open is a tenant with open registration.
var open = engine.Settings{InitialAccessToken: engine.TokenNone}

func (h *harness) mint(tenant string, req engine.MintRequest) string {
	h.t.Helper()
	tok, _, err := h.r.MintInitialAccessToken(context.Background(), tenant, req)
	if err != nil {
		h.t.Fatalf("mint: %v", err)
	}
	return tok
}

func (h *harness) register(tenant, token, body string) (*engine.ClientInformation, error) {
	return h.r.Register(context.Background(), engine.RegisterRequest{Tenant: tenant, Token: token, Body: []byte(body), RemoteIP: "192.0.2.1"})
}

func (h *harness) mustRegister(tenant, token, body string) *engine.ClientInformation {
	h.t.Helper()
	ci, err := h.register(tenant, token, body)
	if err != nil {
		h.t.Fatalf("register: %v", err)
	}
	return ci
}

func (h *harness) read(tenant, id, token string) (*engine.ClientInformation, error) {
	return h.r.Read(context.Background(), engine.ManageRequest{Tenant: tenant, ClientID: id, Token: token})
}

func (h *harness) update(tenant, id, token, body string) (*engine.ClientInformation, error) {
	return h.r.Update(context.Background(), engine.ManageRequest{Tenant: tenant, ClientID: id, Token: token, Body: []byte(body)})
}

func (h *harness) mustUpdate(tenant, id, token, body string) *engine.ClientInformation {
	h.t.Helper()
	ci, err := h.update(tenant, id, token, body)
	if err != nil {
		h.t.Fatalf("update: %v", err)
	}
	return ci
}

func (h *harness) delete(tenant, id, token string) error {
	return h.r.Delete(context.Background(), engine.ManageRequest{Tenant: tenant, ClientID: id, Token: token})
}

// stored returns the stored client, or nil.
func (h *harness) stored(tenant, id string) *engine.Client {
	c, err := h.store.Client(context.Background(), tenant, id)
	if err != nil {
		return nil
	}
	return c
}

func (h *harness) iat(tenant, token string) *engine.InitialAccessToken {
	h.t.Helper()
	iat, err := h.store.InitialAccessToken(context.Background(), tenant, engine.HashToken(token))
	if err != nil {
		h.t.Fatalf("initial access token: %v", err)
	}
	return iat
}

// response is the client information response as JSON members, with the
// configuration endpoint set as the HTTP layer would set it.
func response(t *testing.T, ci *engine.ClientInformation) map[string]json.RawMessage {
	t.Helper()
	c := *ci
	c.RegistrationClientURI = "https://issuer.example/reg/" + ci.Client.ID
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// str decodes a string member of a response, "" if absent.
func str(t *testing.T, m map[string]json.RawMessage, name string) string {
	t.Helper()
	var s string
	if raw, ok := m[name]; ok {
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return s
}

// wantCode fails unless err is an *engine.Error with code.
func wantCode(t *testing.T, err error, code engine.ErrorCode) *engine.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("succeeded, want %s", code)
	}
	var e *engine.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want an *engine.Error %s", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("code = %s (%s), want %s", e.Code, e.Description, code)
	}
	return e
}

func TestRegisterTokenModes(t *testing.T) {
	h := newHarness(t, map[string]engine.Settings{
		"open":   open,
		"static": {InitialAccessToken: engine.TokenStatic, StaticInitialAccessToken: staticToken},
	})
	openIAT := h.mint("open", engine.MintRequest{})
	// A static-mode tenant never accepts stored tokens, so none is minted.
	if _, _, err := h.r.MintInitialAccessToken(context.Background(), "static", engine.MintRequest{}); err == nil {
		t.Error("minted a stored token for a static-mode tenant")
	}
	storedIAT := h.mint("default", engine.MintRequest{})
	tests := []struct {
		name, tenant, token string
		code                engine.ErrorCode // "" for success
		issuedBy            string
	}{
		{name: "open without token", tenant: "open"},
		{name: "open with stored token", tenant: "open", token: openIAT, issuedBy: engine.HashToken(openIAT)},
		{name: "open with unknown token", tenant: "open", token: "unknown-token", code: engine.CodeInvalidToken},
		{name: "open with malformed token", tenant: "open", token: "not a token", code: engine.CodeInvalidToken},
		{name: "open with another tenant's token", tenant: "open", token: storedIAT, code: engine.CodeInvalidToken},
		{name: "static with its token", tenant: "static", token: staticToken},
		{name: "static without token", tenant: "static", code: engine.CodeInvalidToken},
		{name: "static with wrong token", tenant: "static", token: staticToken + "x", code: engine.CodeInvalidToken},
		{name: "static with a stored token", tenant: "static", token: storedIAT, code: engine.CodeInvalidToken},
		{name: "stored with token", tenant: "default", token: storedIAT, issuedBy: engine.HashToken(storedIAT)},
		{name: "stored without token", tenant: "default", code: engine.CodeInvalidToken},
		{name: "stored with wrong token", tenant: "default", token: storedIAT[:len(storedIAT)-1], code: engine.CodeInvalidToken},
		{name: "stored with static token", tenant: "default", token: staticToken, code: engine.CodeInvalidToken},
		{name: "stored with malformed token", tenant: "default", token: "bad\x00token", code: engine.CodeInvalidToken},
		{name: "unknown tenant", tenant: "nobody", token: storedIAT, code: engine.CodeNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ci, err := h.register(tc.tenant, tc.token, rp())
			if tc.code != "" {
				wantCode(t, err, tc.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ci.Client.IssuedBy != tc.issuedBy {
				t.Errorf("IssuedBy = %q, want %q", ci.Client.IssuedBy, tc.issuedBy)
			}
			if h.stored(tc.tenant, ci.Client.ID) == nil {
				t.Error("client not stored")
			}
		})
	}
	t.Run("invalid_token says nothing more", func(t *testing.T) {
		_, err1 := h.register("default", "unknown-token", rp())
		_, err2 := h.register("open", storedIAT, rp())
		e1, e2 := wantCode(t, err1, engine.CodeInvalidToken), wantCode(t, err2, engine.CodeInvalidToken)
		if e1.Description != e2.Description {
			t.Errorf("descriptions differ: %q, %q", e1.Description, e2.Description)
		}
	})
}

func TestRegisterInitialAccessTokenLifecycle(t *testing.T) {
	t.Run("max uses", func(t *testing.T) {
		h := newHarness(t, nil)
		tok := h.mint("default", engine.MintRequest{MaxUses: 2})
		for i := range 2 {
			ci := h.mustRegister("default", tok, rp())
			if got := h.iat("default", tok).Uses; got != int64(i+1) {
				t.Fatalf("after %d registrations Uses = %d", i+1, got)
			}
			if ci.Client.IssuedBy != engine.HashToken(tok) {
				t.Errorf("IssuedBy = %q", ci.Client.IssuedBy)
			}
		}
		_, err := h.register("default", tok, rp())
		wantCode(t, err, engine.CodeInvalidToken)
		if got := h.iat("default", tok).Uses; got != 2 {
			t.Errorf("Uses = %d after refusal", got)
		}
		cs, _, err := h.r.Clients(context.Background(), "default", engine.ClientFilter{}, "", 10)
		if err != nil || len(cs) != 2 {
			t.Errorf("clients = %d, %v; want 2", len(cs), err)
		}
	})
	t.Run("failed registration uses nothing", func(t *testing.T) {
		h := newHarness(t, nil)
		tok := h.mint("default", engine.MintRequest{MaxUses: 1})
		_, err := h.register("default", tok, rp(`"application_type":"desktop"`))
		wantCode(t, err, engine.CodeInvalidClientMetadata)
		_, err = h.register("default", tok, `{`)
		wantCode(t, err, engine.CodeInvalidRequest)
		if got := h.iat("default", tok).Uses; got != 0 {
			t.Fatalf("Uses = %d after failures", got)
		}
		h.mustRegister("default", tok, rp())
	})
	t.Run("unlimited", func(t *testing.T) {
		h := newHarness(t, nil)
		tok := h.mint("default", engine.MintRequest{})
		for range 5 {
			h.mustRegister("default", tok, rp())
		}
		if got := h.iat("default", tok).Uses; got != 5 {
			t.Errorf("Uses = %d", got)
		}
	})
	t.Run("expired", func(t *testing.T) {
		h := newHarness(t, nil)
		tok := h.mint("default", engine.MintRequest{ExpiresIn: time.Hour})
		h.clock.Advance(time.Hour - time.Second)
		h.mustRegister("default", tok, rp())
		h.clock.Advance(time.Second)
		_, err := h.register("default", tok, rp())
		wantCode(t, err, engine.CodeInvalidToken)
	})
	t.Run("default lifetime", func(t *testing.T) {
		h := newHarness(t, nil)
		tok := h.mint("default", engine.MintRequest{})
		if got, want := h.iat("default", tok).ExpiresAt, h.clock.Now().Add(engine.DefaultTokenLifetime); !got.Equal(want) {
			t.Errorf("ExpiresAt = %v, want %v", got, want)
		}
		h.clock.Advance(engine.DefaultTokenLifetime)
		_, err := h.register("default", tok, rp())
		wantCode(t, err, engine.CodeInvalidToken)
	})
	t.Run("revoked", func(t *testing.T) {
		h := newHarness(t, nil)
		tok := h.mint("default", engine.MintRequest{})
		if err := h.r.RevokeInitialAccessToken(context.Background(), "default", engine.HashToken(tok)); err != nil {
			t.Fatal(err)
		}
		_, err := h.register("default", tok, rp())
		wantCode(t, err, engine.CodeInvalidToken)
		err = h.r.RevokeInitialAccessToken(context.Background(), "default", engine.HashToken(tok))
		wantCode(t, err, engine.CodeNotFound)
	})
	t.Run("store down", func(t *testing.T) {
		h := newHarness(t, nil)
		tok := h.mint("default", engine.MintRequest{})
		h.store.setDown(true)
		_, err := h.register("default", tok, rp())
		wantCode(t, err, engine.CodeTemporarilyUnavailable)
	})
}

// TestRegisterMaxUsesUnderContention: concurrent registrations never use an
// initial access token more often than it allows.
func TestRegisterMaxUsesUnderContention(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.mint("default", engine.MintRequest{MaxUses: 5})
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	for range 32 {
		wg.Go(func() {
			_, err := h.register("default", tok, rp())
			mu.Lock()
			defer mu.Unlock()
			var e *engine.Error
			switch {
			case err == nil:
				ok++
			case errors.As(err, &e) && e.Code == engine.CodeInvalidToken:
				refused++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
	wg.Wait()
	if ok != 5 || refused != 27 {
		t.Errorf("%d registered, %d refused; want 5 and 27", ok, refused)
	}
	if got := h.iat("default", tok).Uses; got != 5 {
		t.Errorf("Uses = %d", got)
	}
}

func TestRegisterClientDefaults(t *testing.T) {
	defaults := func(members map[string]string) engine.Settings {
		s := engine.Settings{InitialAccessToken: engine.TokenNone, DefaultPolicies: []string{"watch"}, ClientDefaults: map[string]json.RawMessage{
			"client_name":                  json.RawMessage(`"Default Name"`),
			"token_endpoint_auth_method":   json.RawMessage(`"none"`),
			"id_token_signed_response_alg": json.RawMessage(`"ES256"`),
		}}
		for k, v := range members {
			s.ClientDefaults[k] = json.RawMessage(v)
		}
		return s
	}
	h := newHarness(t, map[string]engine.Settings{
		"grants":    defaults(map[string]string{"grant_types": `["authorization_code", "refresh_token"]`}),
		"responses": defaults(map[string]string{"response_types": `["code id_token"]`}),
	})
	h.mods.add("grants", "watch", &fakeModule{})
	h.mods.add("responses", "watch", &fakeModule{})
	tests := []struct {
		name   string
		tenant string
		body   string
		client string
		grants []string
		rtypes []string
		method string
	}{
		{"defaults applied", "grants", rp(), "Default Name", []string{"authorization_code", "refresh_token"}, []string{"code"}, "none"},
		{"request wins", "grants", rp(`"client_name":"Mine"`, `"token_endpoint_auth_method":"client_secret_post"`), "Mine", []string{"authorization_code", "refresh_token"}, []string{"code"}, "client_secret_post"},
		{"null is absent", "grants", rp(`"client_name":null`, `"grant_types":null`), "Default Name", []string{"authorization_code", "refresh_token"}, []string{"code"}, "none"},
		{"response_types in request: grant_types derived, not defaulted", "grants", rp(`"response_types":["code id_token"]`), "Default Name", []string{"authorization_code", "implicit"}, []string{"code id_token"}, "none"},
		{"grant_types in request win", "grants", obj(`"grant_types":["client_credentials"]`, `"token_endpoint_auth_method":"client_secret_basic"`), "Default Name", []string{"client_credentials"}, []string{}, "client_secret_basic"},
		{"response_types default applied", "responses", rp(), "Default Name", []string{"authorization_code", "implicit"}, []string{"code id_token"}, "none"},
		{"grant_types in request: response_types derived, not defaulted", "responses", obj(`"grant_types":["client_credentials"]`, `"token_endpoint_auth_method":"private_key_jwt"`, `"jwks_uri":"https://rp.example/jwks"`), "Default Name", []string{"client_credentials"}, []string{}, "private_key_jwt"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ci := h.mustRegister(tc.tenant, "", tc.body)
			md := ci.Client.Metadata
			eq(t, "client_name", md.ClientName, tc.client)
			eq(t, "grant_types", md.GrantTypes, tc.grants)
			eq(t, "response_types", md.ResponseTypes, tc.rtypes)
			eq(t, "token_endpoint_auth_method", md.TokenEndpointAuthMethod, tc.method)
			eq(t, "id_token_signed_response_alg", md.IDTokenSignedResponseAlg, "ES256")
			calls := h.mods.Calls()
			if len(calls) != 1 {
				t.Fatalf("calls = %+v", calls)
			}
			// The policy sees the defaults already applied.
			if got := string(calls[0].Metadata["id_token_signed_response_alg"]); got != `"ES256"` {
				t.Errorf("policy saw id_token_signed_response_alg %s", got)
			}
		})
	}
	t.Run("both pair members defaulted", func(t *testing.T) {
		// Both defaults apply when the request has neither, whatever the
		// order in which applyDefaults visits them (20 tries cover map order).
		h := newHarness(t, map[string]engine.Settings{"t": {InitialAccessToken: engine.TokenNone, ClientDefaults: map[string]json.RawMessage{
			"grant_types":    json.RawMessage(`["authorization_code","refresh_token"]`),
			"response_types": json.RawMessage(`["code"]`),
		}}})
		for range 20 {
			md := h.mustRegister("t", "", rp()).Client.Metadata
			eq(t, "grant_types", md.GrantTypes, []string{"authorization_code", "refresh_token"})
			eq(t, "response_types", md.ResponseTypes, []string{"code"})
		}
	})
	t.Run("invalid default refused by New", func(t *testing.T) {
		// Refused at load, not at every registration afterwards.
		_, err := engine.New(engine.Config{Store: newFakeStore(time.Now), Keys: jose.KeySetChecker{}, Tenants: map[string]engine.Settings{
			"t": {InitialAccessToken: engine.TokenNone, ClientDefaults: map[string]json.RawMessage{"scope": json.RawMessage(`"a  b"`)}},
		}})
		if err == nil || !strings.Contains(err.Error(), "client_defaults: scope") {
			t.Fatalf("err = %v, want client_defaults: scope ...", err)
		}
	})
	t.Run("server-managed default refused by New", func(t *testing.T) {
		_, err := engine.New(engine.Config{Store: newFakeStore(time.Now), Keys: jose.KeySetChecker{}, Tenants: map[string]engine.Settings{
			"t": {ClientDefaults: map[string]json.RawMessage{"client_id": json.RawMessage(`"x"`)}},
		}})
		if err == nil {
			t.Fatal("accepted")
		}
	})
}

func TestRegisterPolicies(t *testing.T) {
	newPolicyHarness := func(t *testing.T, policies ...string) *harness {
		return newHarness(t, map[string]engine.Settings{"t": {InitialAccessToken: engine.TokenNone, DefaultPolicies: policies}})
	}
	t.Run("run in order on each other's output", func(t *testing.T) {
		h := newPolicyHarness(t, "first", "second")
		h.mods.add("t", "first", &fakeModule{policy: setMembers(map[string]string{"client_name": `"from first"`, "scope": `"openid"`})})
		h.mods.add("t", "second", &fakeModule{policy: setMembers(map[string]string{"client_name": `"from second"`, "client_uri": `"https://rp.example"`})})
		ci := h.mustRegister("t", "", rp(`"client_name":"from client"`))
		md := ci.Client.Metadata
		eq(t, "client_name", md.ClientName, "from second")
		eq(t, "scope", md.Scope, "openid")
		eq(t, "client_uri", md.ClientURI, "https://rp.example")
		calls := h.mods.Calls()
		if len(calls) != 2 || calls[0].Module != "first" || calls[1].Module != "second" {
			t.Fatalf("calls = %+v", calls)
		}
		eq(t, "first saw", string(calls[0].Metadata["client_name"]), `"from client"`)
		eq(t, "second saw", string(calls[1].Metadata["client_name"]), `"from first"`)
		for _, c := range calls {
			eq(t, "phase", c.Phase, engine.PhaseRegister)
			eq(t, "token kind", c.Token.Kind, "none")
			eq(t, "token policies", c.Token.Policies, []string{"first", "second"})
		}
	})
	t.Run("server-managed members never reach policies", func(t *testing.T) {
		h := newPolicyHarness(t, "p")
		h.mods.add("t", "p", &fakeModule{})
		h.mustRegister("t", "", rp(`"client_id":"mine"`, `"client_secret":"mine"`, `"registration_access_token":"x"`))
		calls := h.mods.Calls()
		for _, m := range []string{"client_id", "client_secret", "registration_access_token"} {
			if _, ok := calls[0].Metadata[m]; ok {
				t.Errorf("policy saw %s", m)
			}
		}
	})
	t.Run("output is validated", func(t *testing.T) {
		h := newPolicyHarness(t, "p")
		h.mods.add("t", "p", &fakeModule{policy: setMembers(map[string]string{"redirect_uris": `["http://rp.example/cb"]`})})
		_, err := h.register("t", "", rp())
		wantCode(t, err, engine.CodeInvalidRedirectURI)
	})
	for _, code := range []engine.ErrorCode{
		engine.CodeInvalidClientMetadata, engine.CodeInvalidRedirectURI, engine.CodeInvalidSoftwareStatement,
		engine.CodeUnapprovedSoftwareStatement, engine.CodeInvalidRequest,
	} {
		t.Run("rejection "+string(code)+" passes through", func(t *testing.T) {
			h := newPolicyHarness(t, "gate", "after")
			h.mods.add("t", "gate", &fakeModule{policy: rejectWith(code, "policy says no")})
			h.mods.add("t", "after", &fakeModule{})
			_, err := h.register("t", "", rp())
			e := wantCode(t, err, code)
			eq(t, "description", e.Description, "policy says no")
			if calls := h.mods.Calls(); len(calls) != 1 {
				t.Errorf("policies after a rejection ran: %+v", calls)
			}
			if cs, _, _ := h.r.Clients(context.Background(), "t", engine.ClientFilter{}, "", 10); len(cs) != 0 {
				t.Error("client stored")
			}
		})
	}
	for _, code := range []engine.ErrorCode{engine.CodeAccessDenied, engine.CodeInvalidToken, engine.CodeServerError, engine.CodeConflict, "made_up"} {
		t.Run("rejection "+string(code)+" is a module failure", func(t *testing.T) {
			h := newPolicyHarness(t, "gate")
			h.mods.add("t", "gate", &fakeModule{policy: rejectWith(code, "internal detail")})
			_, err := h.register("t", "", rp())
			e := wantCode(t, err, engine.CodeServerError)
			if !strings.Contains(e.Description, `"gate"`) || strings.Contains(e.Description, "internal detail") {
				t.Errorf("description %q", e.Description)
			}
		})
	}
	t.Run("plain error", func(t *testing.T) {
		h := newPolicyHarness(t, "broken")
		cause := errors.New("wasm trap: secret stack details")
		h.mods.add("t", "broken", &fakeModule{policy: func(*engine.PolicyInput) (*engine.PolicyOutput, error) { return nil, cause }})
		_, err := h.register("t", "", rp())
		e := wantCode(t, err, engine.CodeServerError)
		if !strings.Contains(e.Description, `"broken"`) {
			t.Errorf("description %q does not name the policy", e.Description)
		}
		if strings.Contains(e.Description, "trap") {
			t.Errorf("description %q leaks the cause", e.Description)
		}
		if !errors.Is(err, cause) {
			t.Error("cause not kept for the log")
		}
	})
	t.Run("no output", func(t *testing.T) {
		h := newPolicyHarness(t, "empty")
		h.mods.add("t", "empty", &fakeModule{policy: func(*engine.PolicyInput) (*engine.PolicyOutput, error) { return &engine.PolicyOutput{}, nil }})
		_, err := h.register("t", "", rp())
		e := wantCode(t, err, engine.CodeServerError)
		if !strings.Contains(e.Description, `"empty"`) {
			t.Errorf("description %q", e.Description)
		}
	})
	t.Run("missing module", func(t *testing.T) {
		h := newPolicyHarness(t, "present", "ghost")
		h.mods.add("t", "present", &fakeModule{})
		_, err := h.register("t", "", rp())
		e := wantCode(t, err, engine.CodeServerError)
		if !strings.Contains(e.Description, `"ghost"`) {
			t.Errorf("description %q does not name the missing policy", e.Description)
		}
	})
	t.Run("module of another tenant", func(t *testing.T) {
		h := newPolicyHarness(t, "p")
		h.mods.add("default", "p", &fakeModule{})
		_, err := h.register("t", "", rp())
		wantCode(t, err, engine.CodeServerError)
		if calls := h.mods.Calls(); len(calls) != 0 {
			t.Errorf("another tenant's module ran: %+v", calls)
		}
	})
	for _, m := range []string{"client_id", "client_secret", "client_id_issued_at", "client_secret_expires_at", "registration_access_token", "registration_client_uri"} {
		t.Run("policy sets "+m, func(t *testing.T) {
			h := newPolicyHarness(t, "sneaky")
			h.mods.add("t", "sneaky", &fakeModule{policy: setMembers(map[string]string{m: `"x"`})})
			_, err := h.register("t", "", rp())
			e := wantCode(t, err, engine.CodeServerError)
			if !strings.Contains(e.Description, `"sneaky"`) {
				t.Errorf("description %q", e.Description)
			}
		})
	}
	t.Run("stored token runs its own policies, not the defaults", func(t *testing.T) {
		h := newHarness(t, map[string]engine.Settings{"t": {DefaultPolicies: []string{"default-policy"}}})
		h.mods.add("t", "default-policy", &fakeModule{})
		h.mods.add("t", "token-policy", &fakeModule{})
		tok := h.mint("t", engine.MintRequest{Policies: []string{"token-policy"}})
		h.mustRegister("t", tok, rp())
		calls := h.mods.Calls()
		if len(calls) != 1 || calls[0].Module != "token-policy" {
			t.Fatalf("calls = %+v", calls)
		}
		eq(t, "token kind", calls[0].Token.Kind, "initial_access_token")
		eq(t, "token id", calls[0].Token.ID, engine.HashToken(tok))
	})
	t.Run("static token runs the defaults", func(t *testing.T) {
		h := newHarness(t, map[string]engine.Settings{"t": {
			InitialAccessToken: engine.TokenStatic, StaticInitialAccessToken: staticToken, DefaultPolicies: []string{"d"},
		}})
		h.mods.add("t", "d", &fakeModule{})
		h.mustRegister("t", staticToken, rp())
		calls := h.mods.Calls()
		if len(calls) != 1 || calls[0].Module != "d" || calls[0].Token.Kind != "static" {
			t.Fatalf("calls = %+v", calls)
		}
	})
	t.Run("policy removed after minting", func(t *testing.T) {
		h := newHarness(t, nil)
		h.mods.add("default", "p", &fakeModule{})
		tok := h.mint("default", engine.MintRequest{Policies: []string{"p"}})
		h.mods.remove("default", "p")
		_, err := h.register("default", tok, rp())
		e := wantCode(t, err, engine.CodeServerError)
		if !strings.Contains(e.Description, `"p"`) {
			t.Errorf("description %q", e.Description)
		}
		if got := h.iat("default", tok).Uses; got != 0 {
			t.Errorf("Uses = %d", got)
		}
	})
}

func TestRegistrationPolicies(t *testing.T) {
	t.Run("inherited from the initial access token", func(t *testing.T) {
		h := newHarness(t, nil)
		h.mods.add("default", "a", &fakeModule{})
		h.mods.add("default", "b", &fakeModule{})
		tok := h.mint("default", engine.MintRequest{Policies: []string{"a", "b"}})
		ci := h.mustRegister("default", tok, rp())
		eq(t, "RegistrationPolicies", ci.Client.RegistrationPolicies, []string{"a", "b"})
		eq(t, "stored", h.stored("default", ci.Client.ID).RegistrationPolicies, []string{"a", "b"})
		h.mods.Calls()

		// Update runs them, in the update phase.
		h.mustUpdate("default", ci.Client.ID, ci.RegistrationAccessToken, rp(`"client_id":`+q(ci.Client.ID), `"client_name":"v2"`))
		calls := h.mods.Calls()
		var policies []string
		for _, c := range calls {
			if c.Hook == engine.HookPolicy {
				policies = append(policies, c.Module)
				eq(t, "phase", c.Phase, engine.PhaseUpdate)
				eq(t, "client_id", c.ClientID, ci.Client.ID)
				eq(t, "token kind", c.Token.Kind, "registration_access_token")
				if c.Current == nil || c.Current.ClientName != "" {
					t.Errorf("current = %+v", c.Current)
				}
				eq(t, "metadata client_name", string(c.Metadata["client_name"]), `"v2"`)
				if _, ok := c.Metadata["client_id"]; ok {
					t.Error("update policy saw client_id")
				}
			}
		}
		eq(t, "update policies", policies, []string{"a", "b"})
	})
	t.Run("overridden by a policy", func(t *testing.T) {
		h := newHarness(t, nil)
		h.mods.add("default", "onboard", &fakeModule{policy: setRegistrationPolicies("maintain")})
		h.mods.add("default", "maintain", &fakeModule{})
		tok := h.mint("default", engine.MintRequest{Policies: []string{"onboard"}})
		ci := h.mustRegister("default", tok, rp())
		eq(t, "RegistrationPolicies", ci.Client.RegistrationPolicies, []string{"maintain"})
		h.mods.Calls()
		h.mustUpdate("default", ci.Client.ID, ci.RegistrationAccessToken, rp(`"client_id":`+q(ci.Client.ID)))
		calls := h.mods.Calls()
		if len(calls) != 1 || calls[0].Module != "maintain" {
			t.Fatalf("update calls = %+v", calls)
		}
	})
	t.Run("overridden with none", func(t *testing.T) {
		h := newHarness(t, nil)
		h.mods.add("default", "onboard", &fakeModule{policy: setRegistrationPolicies()})
		tok := h.mint("default", engine.MintRequest{Policies: []string{"onboard"}})
		ci := h.mustRegister("default", tok, rp())
		if len(ci.Client.RegistrationPolicies) != 0 {
			t.Fatalf("RegistrationPolicies = %v", ci.Client.RegistrationPolicies)
		}
		h.mods.Calls()
		h.mustUpdate("default", ci.Client.ID, ci.RegistrationAccessToken, rp(`"client_id":`+q(ci.Client.ID)))
		if calls := h.mods.Calls(); len(calls) != 0 {
			t.Fatalf("update calls = %+v", calls)
		}
	})
	t.Run("unavailable policy named", func(t *testing.T) {
		h := newHarness(t, nil)
		h.mods.add("default", "onboard", &fakeModule{policy: setRegistrationPolicies("ghost")})
		tok := h.mint("default", engine.MintRequest{Policies: []string{"onboard"}})
		_, err := h.register("default", tok, rp())
		e := wantCode(t, err, engine.CodeServerError)
		if !strings.Contains(e.Description, `"onboard"`) {
			t.Errorf("description %q", e.Description)
		}
	})
	t.Run("update policy can refuse", func(t *testing.T) {
		h := newHarness(t, nil)
		calls := 0
		h.mods.add("default", "freeze", &fakeModule{policy: func(in *engine.PolicyInput) (*engine.PolicyOutput, error) {
			calls++
			if in.Phase == engine.PhaseUpdate {
				return nil, &engine.Error{Code: engine.CodeInvalidClientMetadata, Description: "frozen"}
			}
			return &engine.PolicyOutput{Metadata: in.Metadata}, nil
		}})
		tok := h.mint("default", engine.MintRequest{Policies: []string{"freeze"}})
		ci := h.mustRegister("default", tok, rp())
		_, err := h.update("default", ci.Client.ID, ci.RegistrationAccessToken, rp(`"client_id":`+q(ci.Client.ID)))
		wantCode(t, err, engine.CodeInvalidClientMetadata)
		// The refused update changed nothing: the token still works.
		if _, err := h.read("default", ci.Client.ID, ci.RegistrationAccessToken); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRegisterFactories(t *testing.T) {
	settings := engine.Settings{InitialAccessToken: engine.TokenNone, IDFactory: "ids", SecretFactory: "secrets"}
	goodSecret := strings.Repeat("s", 40)
	t.Run("outputs used", func(t *testing.T) {
		h := newHarness(t, map[string]engine.Settings{"t": settings})
		n := 0
		h.mods.add("t", "ids", &fakeModule{clientID: func(in *engine.FactoryInput) (string, error) {
			n++
			if in.Metadata.ClientName != "App" || in.Tenant != "t" {
				t.Errorf("factory input %+v", in)
			}
			return fmt.Sprintf("app-%d", n), nil
		}})
		h.mods.add("t", "secrets", &fakeModule{secret: func(*engine.FactoryInput) (string, error) { return goodSecret, nil }})
		ci := h.mustRegister("t", "", rp(`"client_name":"App"`))
		eq(t, "client_id", ci.Client.ID, "app-1")
		eq(t, "secret", ci.Secret, goodSecret)
		eq(t, "secret hash", ci.Client.SecretHash, engine.HashToken(goodSecret))
		// A public client gets no secret: the secret factory is not asked.
		h.mods.Calls()
		ci = h.mustRegister("t", "", rp(`"client_name":"App"`, `"token_endpoint_auth_method":"none"`))
		eq(t, "client_id", ci.Client.ID, "app-2")
		eq(t, "secret", ci.Secret, "")
		for _, c := range h.mods.Calls() {
			if c.Hook == engine.HookSecretFactory {
				t.Error("secret factory called for a public client")
			}
		}
	})
	badIDs := map[string]string{"space": "a b", "empty": "", "slash": "a/b", "dot": ".", "dotdot": "..", "too long": strings.Repeat("a", 129), "unicode": "é"}
	for name, id := range badIDs {
		t.Run("bad client id "+name, func(t *testing.T) {
			h := newHarness(t, map[string]engine.Settings{"t": settings})
			h.mods.add("t", "ids", &fakeModule{clientID: func(*engine.FactoryInput) (string, error) { return id, nil }})
			h.mods.add("t", "secrets", &fakeModule{secret: func(*engine.FactoryInput) (string, error) { return goodSecret, nil }})
			_, err := h.register("t", "", rp())
			e := wantCode(t, err, engine.CodeServerError)
			if !strings.Contains(e.Description, `"ids"`) {
				t.Errorf("description %q", e.Description)
			}
		})
	}
	badSecrets := map[string]string{"short": strings.Repeat("s", 31), "space": strings.Repeat("s", 20) + " " + strings.Repeat("s", 20), "long": strings.Repeat("s", 513), "non-ASCII": strings.Repeat("é", 20), "empty": ""}
	for name, secret := range badSecrets {
		t.Run("bad secret "+name, func(t *testing.T) {
			h := newHarness(t, map[string]engine.Settings{"t": settings})
			h.mods.add("t", "ids", &fakeModule{clientID: func(*engine.FactoryInput) (string, error) { return "x", nil }})
			h.mods.add("t", "secrets", &fakeModule{secret: func(*engine.FactoryInput) (string, error) { return secret, nil }})
			_, err := h.register("t", "", rp())
			e := wantCode(t, err, engine.CodeServerError)
			if !strings.Contains(e.Description, `"secrets"`) {
				t.Errorf("description %q", e.Description)
			}
		})
	}
	t.Run("factory errors", func(t *testing.T) {
		h := newHarness(t, map[string]engine.Settings{"t": settings})
		h.mods.add("t", "ids", &fakeModule{clientID: func(*engine.FactoryInput) (string, error) { return "", errors.New("boom") }})
		h.mods.add("t", "secrets", &fakeModule{secret: func(*engine.FactoryInput) (string, error) { return goodSecret, nil }})
		_, err := h.register("t", "", rp())
		wantCode(t, err, engine.CodeServerError)
		h.mods.add("t", "ids", &fakeModule{clientID: func(*engine.FactoryInput) (string, error) {
			return "", &engine.Error{Code: engine.CodeInvalidClientMetadata, Description: "no ID for you"}
		}})
		_, err = h.register("t", "", rp())
		wantCode(t, err, engine.CodeInvalidClientMetadata)
	})
	t.Run("factory repeats an ID", func(t *testing.T) {
		h := newHarness(t, map[string]engine.Settings{"t": settings})
		h.mods.add("t", "ids", &fakeModule{clientID: func(*engine.FactoryInput) (string, error) { return "same", nil }})
		h.mods.add("t", "secrets", &fakeModule{secret: func(*engine.FactoryInput) (string, error) { return goodSecret, nil }})
		first := h.mustRegister("t", "", rp(`"client_name":"first"`))
		_, err := h.register("t", "", rp(`"client_name":"second"`))
		wantCode(t, err, engine.CodeServerError)
		eq(t, "stored client_name", h.stored("t", "same").Metadata.ClientName, "first")
		if _, err := h.read("t", "same", first.RegistrationAccessToken); err != nil {
			t.Errorf("first client's token broken: %v", err)
		}
	})
	t.Run("missing factory module", func(t *testing.T) {
		h := newHarness(t, map[string]engine.Settings{"t": settings})
		h.mods.add("t", "secrets", &fakeModule{secret: func(*engine.FactoryInput) (string, error) { return goodSecret, nil }})
		_, err := h.register("t", "", rp())
		e := wantCode(t, err, engine.CodeServerError)
		if !strings.Contains(e.Description, `"ids"`) {
			t.Errorf("description %q", e.Description)
		}
		h.mods.add("t", "ids", &fakeModule{clientID: func(*engine.FactoryInput) (string, error) { return "x", nil }})
		h.mods.remove("t", "secrets")
		_, err = h.register("t", "", rp())
		e = wantCode(t, err, engine.CodeServerError)
		if !strings.Contains(e.Description, `"secrets"`) {
			t.Errorf("description %q", e.Description)
		}
	})
	t.Run("built-in factories", func(t *testing.T) {
		h := newHarness(t, map[string]engine.Settings{"t": open})
		ci := h.mustRegister("t", "", rp())
		if len(ci.Client.ID) != 21 || !engine.ValidClientID(ci.Client.ID) {
			t.Errorf("client_id %q", ci.Client.ID)
		}
		if len(ci.Secret) != 86 || !engine.ValidBearerValue(ci.Secret) {
			t.Errorf("client_secret %q", ci.Secret)
		}
		if len(ci.RegistrationAccessToken) != 43 || !engine.ValidBearerValue(ci.RegistrationAccessToken) {
			t.Errorf("registration_access_token %q", ci.RegistrationAccessToken)
		}
		// The same seed gives the same values: randomness comes only from Rand.
		h2 := newHarness(t, map[string]engine.Settings{"t": open})
		ci2 := h2.mustRegister("t", "", rp())
		eq(t, "client_id", ci2.Client.ID, ci.Client.ID)
		eq(t, "secret", ci2.Secret, ci.Secret)
		eq(t, "registration_access_token", ci2.RegistrationAccessToken, ci.RegistrationAccessToken)
		ci3 := h.mustRegister("t", "", rp())
		if ci3.Client.ID == ci.Client.ID || ci3.Secret == ci.Secret {
			t.Error("two registrations got the same values")
		}
	})
}

func TestIssueRegistrationAccessTokenDecision(t *testing.T) {
	tests := []struct {
		name     string
		decision engine.Decision
		answer   bool
		fail     bool
		want     bool
	}{
		{name: "default yes", want: true},
		{name: "off", decision: engine.Decision{Off: true}},
		{name: "module yes", decision: engine.Decision{Module: "decider"}, answer: true, want: true},
		{name: "module no", decision: engine.Decision{Module: "decider"}},
		{name: "module wins over off", decision: engine.Decision{Module: "decider", Off: true}, answer: true, want: true},
		{name: "module fails", decision: engine.Decision{Module: "decider"}, fail: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, map[string]engine.Settings{"t": {InitialAccessToken: engine.TokenNone, IssueRegistrationAccessToken: tc.decision}})
			h.mods.add("t", "decider", &fakeModule{decide: func(hook engine.Hook, in *engine.DecisionInput) (bool, error) {
				if hook != engine.HookIssueRAT || in.Phase != engine.PhaseRegister || in.ClientID == "" || in.Metadata.ClientName != "App" {
					t.Errorf("decision input %s %+v", hook, in)
				}
				if tc.fail {
					return false, errors.New("boom")
				}
				return tc.answer, nil
			}})
			ci, err := h.register("t", "", rp(`"client_name":"App"`))
			if tc.fail {
				e := wantCode(t, err, engine.CodeServerError)
				if !strings.Contains(e.Description, `"decider"`) {
					t.Errorf("description %q", e.Description)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			resp := response(t, ci)
			_, hasRAT := resp["registration_access_token"]
			_, hasURI := resp["registration_client_uri"]
			if hasRAT != tc.want || hasURI != tc.want {
				t.Errorf("registration_access_token %v, registration_client_uri %v; want %v", hasRAT, hasURI, tc.want)
			}
			stored := h.stored("t", ci.Client.ID)
			if (stored.RegistrationTokenHash != "") != tc.want {
				t.Errorf("stored token hash %q", stored.RegistrationTokenHash)
			}
			if tc.want {
				eq(t, "token hash", stored.RegistrationTokenHash, engine.HashToken(ci.RegistrationAccessToken))
				return
			}
			// Without a token no request can manage the client.
			for _, tok := range []string{"x", engine.HashToken("")} {
				_, err := h.read("t", ci.Client.ID, tok)
				wantCode(t, err, engine.CodeInvalidToken)
			}
		})
	}
}

func TestManagementOff(t *testing.T) {
	off := false
	h := newHarness(t, map[string]engine.Settings{"t": {InitialAccessToken: engine.TokenNone, Management: &off}})
	ci := h.mustRegister("t", "", rp())
	if ci.RegistrationAccessToken != "" || h.stored("t", ci.Client.ID).RegistrationTokenHash != "" {
		t.Fatal("registration access token issued with management off")
	}
	resp := response(t, ci)
	for _, m := range []string{"registration_access_token", "registration_client_uri"} {
		if _, ok := resp[m]; ok {
			t.Errorf("response has %s", m)
		}
	}
	_, err := h.read("t", ci.Client.ID, "some-token")
	wantCode(t, err, engine.CodeAccessDenied)
	_, err = h.update("t", ci.Client.ID, "some-token", rp(`"client_id":`+q(ci.Client.ID)))
	wantCode(t, err, engine.CodeAccessDenied)
	wantCode(t, h.delete("t", ci.Client.ID, "some-token"), engine.CodeAccessDenied)
	_, _, err = h.r.MintRegistrationAccessToken(context.Background(), "t", ci.Client.ID)
	wantCode(t, err, engine.CodeConflict)
	if h.stored("t", ci.Client.ID) == nil {
		t.Error("client gone")
	}
}

func TestReservedClientID(t *testing.T) {
	t.Run("without replacement", func(t *testing.T) {
		h := newHarness(t, map[string]engine.Settings{"default": {IDFactory: "ids"}})
		h.mods.add("default", "ids", &fakeModule{clientID: func(*engine.FactoryInput) (string, error) { return "from-factory", nil }})
		tok := h.mint("default", engine.MintRequest{ClientID: "reserved-app"})
		ci := h.mustRegister("default", tok, rp(`"client_name":"first"`))
		eq(t, "client_id", ci.Client.ID, "reserved-app")
		for _, c := range h.mods.Calls() {
			if c.Hook == engine.HookIDFactory {
				t.Error("id factory asked despite a reserved client_id")
			}
		}
		_, err := h.register("default", tok, rp(`"client_name":"second"`))
		e := wantCode(t, err, engine.CodeInvalidRequest)
		if !strings.Contains(e.Description, "reserved-app") {
			t.Errorf("description %q", e.Description)
		}
		eq(t, "uses", h.iat("default", tok).Uses, int64(1))
		eq(t, "client_name", h.stored("default", "reserved-app").Metadata.ClientName, "first")
		if _, err := h.read("default", "reserved-app", ci.RegistrationAccessToken); err != nil {
			t.Errorf("first registration's token broken: %v", err)
		}
		// Minting another token for the taken ID is a conflict.
		_, _, err = h.r.MintInitialAccessToken(context.Background(), "default", engine.MintRequest{ClientID: "reserved-app"})
		wantCode(t, err, engine.CodeConflict)
	})
	t.Run("with replacement", func(t *testing.T) {
		h := newHarness(t, nil)
		tok := h.mint("default", engine.MintRequest{ClientID: "replaceable", Replacement: true})
		first := h.mustRegister("default", tok, rp(`"client_name":"first"`))
		h.clock.Advance(time.Minute)
		second := h.mustRegister("default", tok, rp(`"client_name":"second"`, `"token_endpoint_auth_method":"none"`))
		eq(t, "client_id", second.Client.ID, "replaceable")
		if second.RegistrationAccessToken == first.RegistrationAccessToken {
			t.Fatal("same registration access token")
		}
		_, err := h.read("default", "replaceable", first.RegistrationAccessToken)
		wantCode(t, err, engine.CodeInvalidToken)
		got, err := h.read("default", "replaceable", second.RegistrationAccessToken)
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "client_name", got.Client.Metadata.ClientName, "second")
		eq(t, "secret hash", got.Client.SecretHash, "")
		eq(t, "issued at", got.Client.IssuedAt, h.clock.Now())
		eq(t, "uses", h.iat("default", tok).Uses, int64(2))
		cs, _, _ := h.r.Clients(context.Background(), "default", engine.ClientFilter{}, "", 10)
		eq(t, "clients", len(cs), 1)
		// A token with replacement may be minted while the client exists.
		h.mint("default", engine.MintRequest{ClientID: "replaceable", Replacement: true})
	})
	t.Run("replacement token after expiry", func(t *testing.T) {
		h := newHarness(t, nil)
		tok := h.mint("default", engine.MintRequest{ClientID: "r", Replacement: true, ExpiresIn: time.Hour})
		h.mustRegister("default", tok, rp())
		h.clock.Advance(time.Hour)
		_, err := h.register("default", tok, rp())
		wantCode(t, err, engine.CodeInvalidToken)
	})
}

func TestClientSecrets(t *testing.T) {
	h := newHarness(t, map[string]engine.Settings{"t": open})
	t.Run("confidential", func(t *testing.T) {
		ci := h.mustRegister("t", "", rp())
		if ci.Secret == "" {
			t.Fatal("no secret")
		}
		stored := h.stored("t", ci.Client.ID)
		eq(t, "stored hash", stored.SecretHash, engine.HashToken(ci.Secret))
		raw, err := json.Marshal(stored)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), ci.Secret) || strings.Contains(string(raw), ci.RegistrationAccessToken) {
			t.Error("stored client holds a secret in the clear")
		}
		resp := response(t, ci)
		eq(t, "client_secret", str(t, resp, "client_secret"), ci.Secret)
		eq(t, "client_secret_expires_at", string(resp["client_secret_expires_at"]), "0")
		eq(t, "client_id", str(t, resp, "client_id"), ci.Client.ID)
		eq(t, "client_id_issued_at", string(resp["client_id_issued_at"]), fmt.Sprint(h.clock.Now().Unix()))
		eq(t, "registration_access_token", str(t, resp, "registration_access_token"), ci.RegistrationAccessToken)
		eq(t, "registration_client_uri", str(t, resp, "registration_client_uri"), "https://issuer.example/reg/"+ci.Client.ID)
		for _, m := range []string{"redirect_uris", "grant_types", "response_types", "token_endpoint_auth_method"} {
			if _, ok := resp[m]; !ok {
				t.Errorf("response lacks %s", m)
			}
		}
		// The secret is shown once: reading the client does not return it.
		got, err := h.read("t", ci.Client.ID, ci.RegistrationAccessToken)
		if err != nil {
			t.Fatal(err)
		}
		read := response(t, got)
		if _, ok := read["client_secret"]; ok {
			t.Error("read returns client_secret")
		}
		eq(t, "read client_secret_expires_at", string(read["client_secret_expires_at"]), "0")
		eq(t, "read registration_access_token", str(t, read, "registration_access_token"), ci.RegistrationAccessToken)
	})
	for _, tc := range []struct{ name, body string }{
		{"none", rp(`"token_endpoint_auth_method":"none"`)},
		{"private_key_jwt", rp(`"token_endpoint_auth_method":"private_key_jwt"`, `"jwks":`+jwks(ecJWK))},
		{"tls_client_auth", rp(`"token_endpoint_auth_method":"tls_client_auth"`, `"tls_client_auth_san_dns":"c.rp.example"`)},
	} {
		t.Run("no secret for "+tc.name, func(t *testing.T) {
			ci := h.mustRegister("t", "", tc.body)
			if ci.Secret != "" || ci.Client.SecretHash != "" {
				t.Fatalf("secret %q, hash %q", ci.Secret, ci.Client.SecretHash)
			}
			resp := response(t, ci)
			for _, m := range []string{"client_secret", "client_secret_expires_at"} {
				if _, ok := resp[m]; ok {
					t.Errorf("response has %s", m)
				}
			}
		})
	}
}

func TestRead(t *testing.T) {
	h := newHarness(t, map[string]engine.Settings{"t": open})
	ci := h.mustRegister("t", "", rp(`"client_name":"App"`))
	other := h.mustRegister("t", "", rp(`"client_name":"Other"`))
	got, err := h.read("t", ci.Client.ID, ci.RegistrationAccessToken)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "client_name", got.Client.Metadata.ClientName, "App")
	eq(t, "token", got.RegistrationAccessToken, ci.RegistrationAccessToken)
	eq(t, "secret", got.Secret, "")
	for _, tc := range []struct{ name, id, token string }{
		{"no token", ci.Client.ID, ""},
		{"wrong token", ci.Client.ID, ci.RegistrationAccessToken + "x"},
		{"another client's token", ci.Client.ID, other.RegistrationAccessToken},
		{"the client secret", ci.Client.ID, ci.Secret},
		{"token hash", ci.Client.ID, engine.HashToken(ci.RegistrationAccessToken)},
		{"unknown client", "nobody", ci.RegistrationAccessToken},
		{"malformed client id", "../" + ci.Client.ID, ci.RegistrationAccessToken},
		{"malformed token", ci.Client.ID, "a b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.read("t", tc.id, tc.token)
			wantCode(t, err, engine.CodeInvalidToken)
		})
	}
	// A token presented at the wrong client is refused, not revoked.
	if _, err := h.read("t", other.Client.ID, other.RegistrationAccessToken); err != nil {
		t.Errorf("other client's token revoked: %v", err)
	}
	_, err = h.read("nobody", ci.Client.ID, ci.RegistrationAccessToken)
	wantCode(t, err, engine.CodeNotFound)
}

func TestUpdate(t *testing.T) {
	newClient := func(t *testing.T, s engine.Settings, members ...string) (*harness, *engine.ClientInformation) {
		h := newHarness(t, map[string]engine.Settings{"t": s})
		return h, h.mustRegister("t", "", rp(members...))
	}
	idMember := func(ci *engine.ClientInformation) string { return `"client_id":` + q(ci.Client.ID) }

	t.Run("replaces the metadata completely", func(t *testing.T) {
		h, ci := newClient(t, open, `"client_name":"App"`, `"scope":"openid"`, `"contacts":["ops@rp.example"]`, `"default_max_age":60`)
		h.clock.Advance(time.Hour)
		up := h.mustUpdate("t", ci.Client.ID, ci.RegistrationAccessToken, web([]string{"https://rp.example/new"}, idMember(ci), `"client_uri":"https://rp.example"`))
		md := up.Client.Metadata
		eq(t, "redirect_uris", md.RedirectURIs, []string{"https://rp.example/new"})
		eq(t, "client_uri", md.ClientURI, "https://rp.example")
		eq(t, "client_name", md.ClientName, "")
		eq(t, "scope", md.Scope, "")
		eq(t, "contacts", md.Contacts, []string(nil))
		eq(t, "default_max_age", md.DefaultMaxAge, (*int64)(nil))
		eq(t, "stored", h.stored("t", ci.Client.ID).Metadata, md)
		eq(t, "issued at", up.Client.IssuedAt, ci.Client.IssuedAt)
		eq(t, "updated at", up.Client.UpdatedAt, h.clock.Now())
		eq(t, "secret hash kept", up.Client.SecretHash, ci.Client.SecretHash)
		eq(t, "no new secret", up.Secret, "")
		resp := response(t, up)
		if _, ok := resp["client_secret"]; ok {
			t.Error("update response has client_secret")
		}
		eq(t, "client_secret_expires_at", string(resp["client_secret_expires_at"]), "0")
	})
	for _, tc := range []struct{ name, member string }{
		{"client_id missing", ""},
		{"client_id wrong", `"client_id":"someone-else"`},
		{"client_id null", `"client_id":null`},
		{"client_id number", `"client_id":5`},
		{"client_id empty", `"client_id":""`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, ci := newClient(t, open)
			members := []string{}
			if tc.member != "" {
				members = append(members, tc.member)
			}
			_, err := h.update("t", ci.Client.ID, ci.RegistrationAccessToken, rp(members...))
			e := wantCode(t, err, engine.CodeInvalidRequest)
			if !strings.Contains(e.Description, "client_id") {
				t.Errorf("description %q", e.Description)
			}
		})
	}
	t.Run("client_secret", func(t *testing.T) {
		h, ci := newClient(t, open)
		for _, bad := range []string{q(ci.Secret + "x"), q(""), `null`, `5`, q(engine.HashToken(ci.Secret))} {
			_, err := h.update("t", ci.Client.ID, ci.RegistrationAccessToken, rp(idMember(ci), `"client_secret":`+bad))
			e := wantCode(t, err, engine.CodeInvalidRequest)
			if !strings.Contains(e.Description, "client_secret") {
				t.Errorf("description %q", e.Description)
			}
		}
		// Refusals rotated nothing.
		up := h.mustUpdate("t", ci.Client.ID, ci.RegistrationAccessToken, rp(idMember(ci), `"client_secret":`+q(ci.Secret)))
		// Absent is fine too.
		h.mustUpdate("t", ci.Client.ID, up.RegistrationAccessToken, rp(idMember(ci)))
	})
	t.Run("client_secret of a public client", func(t *testing.T) {
		h, ci := newClient(t, open, `"token_endpoint_auth_method":"none"`)
		_, err := h.update("t", ci.Client.ID, ci.RegistrationAccessToken, rp(idMember(ci), `"token_endpoint_auth_method":"none"`, `"client_secret":"guess"`))
		wantCode(t, err, engine.CodeInvalidRequest)
	})
	for _, m := range []string{"registration_access_token", "registration_client_uri", "client_secret_expires_at", "client_id_issued_at"} {
		for _, v := range []string{`null`, `"x"`, `0`} {
			t.Run("forbidden "+m+"="+v, func(t *testing.T) {
				h, ci := newClient(t, open)
				_, err := h.update("t", ci.Client.ID, ci.RegistrationAccessToken, rp(idMember(ci), q(m)+":"+v))
				e := wantCode(t, err, engine.CodeInvalidRequest)
				if !strings.Contains(e.Description, m) {
					t.Errorf("description %q", e.Description)
				}
				// Nothing changed: the old token still works.
				if _, err := h.read("t", ci.Client.ID, ci.RegistrationAccessToken); err != nil {
					t.Error(err)
				}
			})
		}
	}
	t.Run("rotation", func(t *testing.T) {
		h, ci := newClient(t, open)
		up := h.mustUpdate("t", ci.Client.ID, ci.RegistrationAccessToken, rp(idMember(ci)))
		if up.RegistrationAccessToken == ci.RegistrationAccessToken || up.RegistrationAccessToken == "" {
			t.Fatalf("token not rotated: %q", up.RegistrationAccessToken)
		}
		for _, call := range []func(tok string) error{
			func(tok string) error { _, err := h.read("t", ci.Client.ID, tok); return err },
			func(tok string) error {
				_, err := h.update("t", ci.Client.ID, tok, rp(idMember(ci)))
				return err
			},
			func(tok string) error { return h.delete("t", ci.Client.ID, tok) },
		} {
			wantCode(t, call(ci.RegistrationAccessToken), engine.CodeInvalidToken)
		}
		eq(t, "response token", str(t, response(t, up), "registration_access_token"), up.RegistrationAccessToken)
		if _, err := h.read("t", ci.Client.ID, up.RegistrationAccessToken); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("rotation off", func(t *testing.T) {
		s := open
		s.RotateRegistrationAccessToken = engine.Decision{Off: true}
		h, ci := newClient(t, s)
		up := h.mustUpdate("t", ci.Client.ID, ci.RegistrationAccessToken, rp(idMember(ci), `"client_name":"v2"`))
		eq(t, "token", up.RegistrationAccessToken, ci.RegistrationAccessToken)
		got, err := h.read("t", ci.Client.ID, ci.RegistrationAccessToken)
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "client_name", got.Client.Metadata.ClientName, "v2")
	})
	t.Run("rotation by module", func(t *testing.T) {
		s := open
		s.RotateRegistrationAccessToken = engine.Decision{Module: "rotator"}
		h, ci := newClient(t, s)
		answer := false
		h.mods.add("t", "rotator", &fakeModule{decide: func(hook engine.Hook, in *engine.DecisionInput) (bool, error) {
			if hook != engine.HookRotateRAT || in.Phase != engine.PhaseUpdate || in.ClientID != ci.Client.ID || in.Token.Kind != "registration_access_token" {
				t.Errorf("decision input %s %+v", hook, in)
			}
			return answer, nil
		}})
		up := h.mustUpdate("t", ci.Client.ID, ci.RegistrationAccessToken, rp(idMember(ci)))
		eq(t, "kept", up.RegistrationAccessToken, ci.RegistrationAccessToken)
		answer = true
		up = h.mustUpdate("t", ci.Client.ID, ci.RegistrationAccessToken, rp(idMember(ci)))
		if up.RegistrationAccessToken == ci.RegistrationAccessToken {
			t.Error("not rotated")
		}
		h.mods.remove("t", "rotator")
		_, err := h.update("t", ci.Client.ID, up.RegistrationAccessToken, rp(idMember(ci)))
		wantCode(t, err, engine.CodeServerError)
	})
	t.Run("secret follows the auth method", func(t *testing.T) {
		h, ci := newClient(t, open)
		up := h.mustUpdate("t", ci.Client.ID, ci.RegistrationAccessToken, rp(idMember(ci), `"token_endpoint_auth_method":"none"`))
		eq(t, "secret", up.Secret, "")
		eq(t, "hash", h.stored("t", ci.Client.ID).SecretHash, "")
		resp := response(t, up)
		for _, m := range []string{"client_secret", "client_secret_expires_at"} {
			if _, ok := resp[m]; ok {
				t.Errorf("public client's response has %s", m)
			}
		}
		// The old secret is gone: sending it now is an error.
		_, err := h.update("t", ci.Client.ID, up.RegistrationAccessToken, rp(idMember(ci), `"client_secret":`+q(ci.Secret)))
		wantCode(t, err, engine.CodeInvalidRequest)

		back := h.mustUpdate("t", ci.Client.ID, up.RegistrationAccessToken, rp(idMember(ci), `"token_endpoint_auth_method":"client_secret_post"`))
		if back.Secret == "" || back.Secret == ci.Secret {
			t.Fatalf("new secret %q (old %q)", back.Secret, ci.Secret)
		}
		eq(t, "hash", h.stored("t", ci.Client.ID).SecretHash, engine.HashToken(back.Secret))
		eq(t, "response secret", str(t, response(t, back), "client_secret"), back.Secret)
		// And it is the one that counts now.
		h.mustUpdate("t", ci.Client.ID, back.RegistrationAccessToken, rp(idMember(ci), `"client_secret":`+q(back.Secret)))
	})
	t.Run("invalid metadata changes nothing", func(t *testing.T) {
		h, ci := newClient(t, open, `"client_name":"App"`)
		_, err := h.update("t", ci.Client.ID, ci.RegistrationAccessToken, web([]string{"http://rp.example/cb"}, idMember(ci)))
		wantCode(t, err, engine.CodeInvalidRedirectURI)
		_, err = h.update("t", ci.Client.ID, ci.RegistrationAccessToken, `[]`)
		wantCode(t, err, engine.CodeInvalidRequest)
		_, err = h.update("t", ci.Client.ID, ci.RegistrationAccessToken, rp(idMember(ci), idMember(ci)))
		wantCode(t, err, engine.CodeInvalidRequest)
		got, err := h.read("t", ci.Client.ID, ci.RegistrationAccessToken)
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "metadata", got.Client.Metadata, ci.Client.Metadata)
	})
	t.Run("token checked before the body", func(t *testing.T) {
		h, ci := newClient(t, open)
		_, err := h.update("t", ci.Client.ID, "wrong", `not json`)
		wantCode(t, err, engine.CodeInvalidToken)
	})
	t.Run("client defaults apply", func(t *testing.T) {
		s := open
		s.ClientDefaults = map[string]json.RawMessage{"client_name": json.RawMessage(`"Default"`)}
		h, ci := newClient(t, s, `"client_name":"Mine"`)
		up := h.mustUpdate("t", ci.Client.ID, ci.RegistrationAccessToken, rp(idMember(ci)))
		eq(t, "client_name", up.Client.Metadata.ClientName, "Default")
	})
}

func TestDelete(t *testing.T) {
	h := newHarness(t, map[string]engine.Settings{"t": open})
	a := h.mustRegister("t", "", rp())
	b := h.mustRegister("t", "", rp())
	// B's token cannot touch A.
	wantCode(t, h.delete("t", a.Client.ID, b.RegistrationAccessToken), engine.CodeInvalidToken)
	_, err := h.update("t", a.Client.ID, b.RegistrationAccessToken, rp(`"client_id":`+q(a.Client.ID)))
	wantCode(t, err, engine.CodeInvalidToken)
	wantCode(t, h.delete("t", a.Client.ID, ""), engine.CodeInvalidToken)
	if h.stored("t", a.Client.ID) == nil {
		t.Fatal("A deleted by B's token")
	}

	if err := h.delete("t", a.Client.ID, a.RegistrationAccessToken); err != nil {
		t.Fatal(err)
	}
	if h.stored("t", a.Client.ID) != nil {
		t.Fatal("client still stored")
	}
	_, err = h.read("t", a.Client.ID, a.RegistrationAccessToken)
	wantCode(t, err, engine.CodeInvalidToken)
	_, err = h.update("t", a.Client.ID, a.RegistrationAccessToken, rp(`"client_id":`+q(a.Client.ID)))
	wantCode(t, err, engine.CodeInvalidToken)
	wantCode(t, h.delete("t", a.Client.ID, a.RegistrationAccessToken), engine.CodeInvalidToken)
	_, err = h.r.Client(context.Background(), "t", a.Client.ID)
	wantCode(t, err, engine.CodeNotFound)
	// B is untouched.
	if _, err := h.read("t", b.Client.ID, b.RegistrationAccessToken); err != nil {
		t.Fatal(err)
	}
}

func TestTenantIsolation(t *testing.T) {
	h := newHarness(t, map[string]engine.Settings{"acme": {}, "globex": {}})
	acmeIAT := h.mint("acme", engine.MintRequest{ClientID: "shared-id"})
	for _, tenant := range []string{"globex", "default"} {
		_, err := h.register(tenant, acmeIAT, rp())
		wantCode(t, err, engine.CodeInvalidToken)
	}
	_, err := h.r.InitialAccessToken(context.Background(), "globex", engine.HashToken(acmeIAT))
	wantCode(t, err, engine.CodeNotFound)
	err = h.r.RevokeInitialAccessToken(context.Background(), "globex", engine.HashToken(acmeIAT))
	wantCode(t, err, engine.CodeNotFound)

	acme := h.mustRegister("acme", acmeIAT, rp(`"client_name":"acme"`))
	// The same client_id may exist in another tenant.
	globex := h.mustRegister("globex", h.mint("globex", engine.MintRequest{ClientID: "shared-id"}), rp(`"client_name":"globex"`))
	eq(t, "ids", acme.Client.ID, globex.Client.ID)

	_, err = h.read("globex", "shared-id", acme.RegistrationAccessToken)
	wantCode(t, err, engine.CodeInvalidToken)
	_, err = h.update("globex", "shared-id", acme.RegistrationAccessToken, rp(`"client_id":"shared-id"`))
	wantCode(t, err, engine.CodeInvalidToken)
	wantCode(t, h.delete("globex", "shared-id", acme.RegistrationAccessToken), engine.CodeInvalidToken)
	_, err = h.read("default", "shared-id", acme.RegistrationAccessToken)
	wantCode(t, err, engine.CodeInvalidToken)

	got, err := h.read("globex", "shared-id", globex.RegistrationAccessToken)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "globex client_name", got.Client.Metadata.ClientName, "globex")
	got, err = h.read("acme", "shared-id", acme.RegistrationAccessToken)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "acme client_name", got.Client.Metadata.ClientName, "acme")

	// Policies are per tenant too.
	h.mods.add("acme", "acme-only", &fakeModule{})
	_, _, err = h.r.MintInitialAccessToken(context.Background(), "globex", engine.MintRequest{Policies: []string{"acme-only"}})
	wantCode(t, err, engine.CodeInvalidRequest)
	// And the admin view.
	cs, _, err := h.r.Clients(context.Background(), "globex", engine.ClientFilter{}, "", 10)
	if err != nil || len(cs) != 1 || cs[0].Metadata.ClientName != "globex" {
		t.Errorf("globex clients = %+v, %v", cs, err)
	}
	_, err = h.register("nobody", "", rp())
	wantCode(t, err, engine.CodeNotFound)
	_, err = h.read("nobody", "shared-id", acme.RegistrationAccessToken)
	wantCode(t, err, engine.CodeNotFound)
}

func TestRegistrationValidity(t *testing.T) {
	s := open
	s.RegistrationValidity = engine.Duration(time.Hour)
	h := newHarness(t, map[string]engine.Settings{"t": s})
	start := h.clock.Now()
	ci := h.mustRegister("t", "", rp())
	eq(t, "ExpiresAt", ci.Client.ExpiresAt, start.Add(time.Hour))
	eq(t, "client_secret_expires_at", string(response(t, ci)["client_secret_expires_at"]), fmt.Sprint(start.Add(time.Hour).Unix()))
	public := h.mustRegister("t", "", rp(`"token_endpoint_auth_method":"none"`))
	eq(t, "public ExpiresAt", public.Client.ExpiresAt, start.Add(time.Hour))
	if _, ok := response(t, public)["client_secret_expires_at"]; ok {
		t.Error("public client has client_secret_expires_at")
	}
	// An update does not extend the registration.
	h.clock.Advance(30 * time.Minute)
	up := h.mustUpdate("t", ci.Client.ID, ci.RegistrationAccessToken, rp(`"client_id":`+q(ci.Client.ID)))
	eq(t, "ExpiresAt after update", up.Client.ExpiresAt, start.Add(time.Hour))

	h.clock.Advance(30 * time.Minute)
	_, err := h.read("t", ci.Client.ID, up.RegistrationAccessToken)
	wantCode(t, err, engine.CodeInvalidToken)
	_, err = h.r.Client(context.Background(), "t", ci.Client.ID)
	wantCode(t, err, engine.CodeNotFound)

	t.Run("forever by default", func(t *testing.T) {
		h := newHarness(t, map[string]engine.Settings{"t": open})
		ci := h.mustRegister("t", "", rp())
		if !ci.Client.ExpiresAt.IsZero() {
			t.Errorf("ExpiresAt = %v", ci.Client.ExpiresAt)
		}
		h.clock.Advance(100 * 365 * 24 * time.Hour)
		if _, err := h.read("t", ci.Client.ID, ci.RegistrationAccessToken); err != nil {
			t.Fatal(err)
		}
	})
}

func TestMintInitialAccessToken(t *testing.T) {
	h := newHarness(t, nil)
	h.mods.add("default", "p1", &fakeModule{})
	h.mods.add("default", "p2", &fakeModule{})
	h.mustRegister("default", h.mint("default", engine.MintRequest{ClientID: "taken"}), rp())
	refused := []struct {
		name   string
		tenant string
		req    engine.MintRequest
		code   engine.ErrorCode
	}{
		{"unknown policy", "default", engine.MintRequest{Policies: []string{"p1", "ghost"}}, engine.CodeInvalidRequest},
		{"invalid policy name", "default", engine.MintRequest{Policies: []string{"bad name"}}, engine.CodeInvalidRequest},
		{"policy twice", "default", engine.MintRequest{Policies: []string{"p1", "p2", "p1"}}, engine.CodeInvalidRequest},
		{"replacement without client_id", "default", engine.MintRequest{Replacement: true}, engine.CodeInvalidRequest},
		{"negative lifetime", "default", engine.MintRequest{ExpiresIn: -time.Second}, engine.CodeInvalidRequest},
		{"negative max uses", "default", engine.MintRequest{MaxUses: -1}, engine.CodeInvalidRequest},
		{"invalid client_id", "default", engine.MintRequest{ClientID: "a b"}, engine.CodeInvalidRequest},
		{"client_id dot dot", "default", engine.MintRequest{ClientID: ".."}, engine.CodeInvalidRequest},
		{"reserved client_id registered", "default", engine.MintRequest{ClientID: "taken"}, engine.CodeConflict},
		{"unknown tenant", "nobody", engine.MintRequest{}, engine.CodeNotFound},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			tok, iat, err := h.r.MintInitialAccessToken(context.Background(), tc.tenant, tc.req)
			wantCode(t, err, tc.code)
			if tok != "" || iat != nil {
				t.Error("token returned with an error")
			}
		})
	}
	t.Run("valid", func(t *testing.T) {
		req := engine.MintRequest{Policies: []string{"p2", "p1"}, ExpiresIn: 2 * time.Hour, MaxUses: 3, ClientID: "taken", Replacement: true}
		tok, iat, err := h.r.MintInitialAccessToken(context.Background(), "default", req)
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) != 43 || !engine.ValidBearerValue(tok) {
			t.Errorf("token %q", tok)
		}
		want := &engine.InitialAccessToken{
			Tenant: "default", ID: engine.HashToken(tok), CreatedAt: h.clock.Now(), ExpiresAt: h.clock.Now().Add(2 * time.Hour),
			Policies: []string{"p2", "p1"}, MaxUses: 3, ClientID: "taken", Replacement: true,
		}
		eq(t, "record", iat, want)
		eq(t, "stored", h.iat("default", tok), want)
		got, err := h.r.InitialAccessToken(context.Background(), "default", iat.ID)
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "admin view", got, want)
		// The caller's slice is not shared.
		req.Policies[0] = "changed"
		eq(t, "policies", h.iat("default", tok).Policies, []string{"p2", "p1"})
	})
	t.Run("store down", func(t *testing.T) {
		h := newHarness(t, nil)
		h.store.setDown(true)
		_, _, err := h.r.MintInitialAccessToken(context.Background(), "default", engine.MintRequest{})
		wantCode(t, err, engine.CodeTemporarilyUnavailable)
	})
}

func TestAdminMintRegistrationAccessToken(t *testing.T) {
	h := newHarness(t, map[string]engine.Settings{"t": open})
	ci := h.mustRegister("t", "", rp())
	h.clock.Advance(time.Minute)
	tok, c, err := h.r.MintRegistrationAccessToken(context.Background(), "t", ci.Client.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tok == ci.RegistrationAccessToken || !engine.ValidBearerValue(tok) {
		t.Fatalf("token %q", tok)
	}
	eq(t, "hash", c.RegistrationTokenHash, engine.HashToken(tok))
	eq(t, "updated at", c.UpdatedAt, h.clock.Now())
	_, err = h.read("t", ci.Client.ID, ci.RegistrationAccessToken)
	wantCode(t, err, engine.CodeInvalidToken)
	if _, err := h.read("t", ci.Client.ID, tok); err != nil {
		t.Fatal(err)
	}
	// It also works for a client that was registered without a token.
	s := open
	s.IssueRegistrationAccessToken = engine.Decision{Off: true}
	h2 := newHarness(t, map[string]engine.Settings{"t": s})
	bare := h2.mustRegister("t", "", rp())
	tok, _, err = h2.r.MintRegistrationAccessToken(context.Background(), "t", bare.Client.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h2.read("t", bare.Client.ID, tok); err != nil {
		t.Fatal(err)
	}
	_, _, err = h.r.MintRegistrationAccessToken(context.Background(), "t", "nobody")
	wantCode(t, err, engine.CodeNotFound)
	_, _, err = h.r.MintRegistrationAccessToken(context.Background(), "nobody", ci.Client.ID)
	wantCode(t, err, engine.CodeNotFound)
}

func TestAdminClients(t *testing.T) {
	h := newHarness(t, map[string]engine.Settings{"t": open})
	var ids []string
	for range 5 {
		ids = append(ids, h.mustRegister("t", "", rp()).Client.ID)
	}
	slices.Sort(ids)
	var got []string
	cursor := ""
	for {
		cs, next, err := h.r.Clients(context.Background(), "t", engine.ClientFilter{}, cursor, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			got = append(got, c.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	eq(t, "ids", got, ids)
	for _, limit := range []int{0, -1, engine.MaxPageSize + 1} {
		_, _, err := h.r.Clients(context.Background(), "t", engine.ClientFilter{}, "", limit)
		wantCode(t, err, engine.CodeInvalidRequest)
	}
	if err := h.r.DeleteClient(context.Background(), "t", ids[0]); err != nil {
		t.Fatal(err)
	}
	wantCode(t, h.r.DeleteClient(context.Background(), "t", ids[0]), engine.CodeNotFound)
}

func TestNewConfig(t *testing.T) {
	st := newFakeStore(time.Now)
	for name, cfg := range map[string]engine.Config{
		"no store":          {Keys: jose.KeySetChecker{}},
		"no keys":           {Store: st},
		"bad tenant name":   {Store: st, Keys: jose.KeySetChecker{}, Tenants: map[string]engine.Settings{"Bad_Name": {}}},
		"short static":      {Store: st, Keys: jose.KeySetChecker{}, Tenants: map[string]engine.Settings{"t": {InitialAccessToken: engine.TokenStatic, StaticInitialAccessToken: "short"}}},
		"static not static": {Store: st, Keys: jose.KeySetChecker{}, Tenants: map[string]engine.Settings{"t": {StaticInitialAccessToken: staticToken}}},
		"unknown mode":      {Store: st, Keys: jose.KeySetChecker{}, Tenants: map[string]engine.Settings{"t": {InitialAccessToken: "maybe"}}},
		"bad module name":   {Store: st, Keys: jose.KeySetChecker{}, Tenants: map[string]engine.Settings{"t": {IDFactory: "bad name"}}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := engine.New(cfg); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	r, err := engine.New(engine.Config{Store: st, Keys: jose.KeySetChecker{}})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "tenants", r.TenantNames(), []string{"default"})
	s, err := r.Settings("default")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "default mode", s.InitialAccessToken, engine.TokenStored)
}
