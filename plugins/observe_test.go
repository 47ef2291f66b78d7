package plugins_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/plugins"
)

// TestObserve: every hook call is reported exactly once, with the tenant
// it was made for, the module's name and digest, the hook, how it ended
// and how long it took; a policy's output carries the digest of the module
// that ran.
func TestObserve(t *testing.T) {
	dir := policyDir(t, map[string]string{
		"minimal.wasm":      "minimal",
		"reject.wasm":       "reject",
		"trap.wasm":         "trap",
		"garbage.wasm":      "garbage",
		"loop.wasm":         "loop",
		"decide.wasm":       "no-rat",
		"acme/ids.wasm":     "fixed-id",
		"acme/secrets.wasm": "const-secret",
		"tokens.wasm":       "token-const",
		"deny.wasm":         "token-deny",
	})
	var obs testkit.Recorder[plugins.Call]
	timeout := 50 * time.Millisecond
	h := newHost(t, plugins.Config{Dir: dir, Observe: obs.Add, Limits: plugins.Limits{Timeout: timeout}})
	digests := map[string]string{}
	for _, i := range h.Modules() {
		digests[i.Name] = i.Digest
	}
	ctx := context.Background()
	in := &engine.PolicyInput{Phase: engine.PhaseRegister, Tenant: "acme", Metadata: map[string]json.RawMessage{
		"redirect_uris": json.RawMessage(`["https://app.example/cb"]`),
	}}

	cases := []struct {
		name    string
		call    func() error
		tenant  string
		module  string
		hook    engine.Hook
		outcome plugins.Outcome
		atLeast time.Duration
	}{
		{"accepting policy", func() error {
			out, err := h.Policy(ctx, "acme", "minimal", in)
			if err == nil && out.Version != digests["minimal"] {
				return errors.New("PolicyOutput.Version is " + out.Version + ", want the module's digest " + digests["minimal"])
			}
			return err
		}, "acme", "minimal", engine.HookPolicy, plugins.OutcomeOK, 0},
		{"rejecting policy", func() error {
			out, err := h.Policy(ctx, "globex", "reject", in)
			var e *engine.Error
			if !errors.As(err, &e) {
				return errors.New("no rejection")
			}
			if out == nil || out.Version != digests["reject"] || out.Metadata != nil || out.RegistrationPolicies != nil {
				return fmt.Errorf("a rejection came with %+v, want only the Version %s", out, digests["reject"])
			}
			return nil
		}, "globex", "reject", engine.HookPolicy, plugins.OutcomeRejected, 0},
		{"trapping policy", func() error {
			out, err := h.Policy(ctx, "default", "trap", in)
			if err == nil || out != nil {
				return fmt.Errorf("a trap returned %+v, %v", out, err)
			}
			return nil
		}, "default", "trap", engine.HookPolicy, plugins.OutcomeFailed, 0},
		{"output that breaks the ABI", func() error {
			if _, err := h.Policy(ctx, "default", "garbage", in); err == nil {
				return errors.New("garbage output accepted")
			}
			return nil
		}, "default", "garbage", engine.HookPolicy, plugins.OutcomeFailed, 0},
		{"policy past its deadline", func() error {
			if _, err := h.Policy(ctx, "default", "loop", in); err == nil {
				return errors.New("an endless loop returned")
			}
			return nil
		}, "default", "loop", engine.HookPolicy, plugins.OutcomeFailed, timeout},
		{"id factory", func() error {
			id, err := h.ClientID(ctx, "acme", "ids", &engine.FactoryInput{Tenant: "acme"})
			if err == nil && id != "fixed-client-id" {
				return errors.New("client_id " + id)
			}
			return err
		}, "acme", "ids", engine.HookIDFactory, plugins.OutcomeOK, 0},
		{"secret factory", func() error {
			_, err := h.ClientSecret(ctx, "acme", "secrets", &engine.FactoryInput{Tenant: "acme"})
			return err
		}, "acme", "secrets", engine.HookSecretFactory, plugins.OutcomeOK, 0},
		{"decision", func() error {
			_, err := h.Decide(ctx, "acme", "decide", engine.HookIssueRAT, &engine.DecisionInput{Tenant: "acme"})
			return err
		}, "acme", "decide", engine.HookIssueRAT, plugins.OutcomeOK, 0},
		{"access token hook", func() error {
			out, err := h.IssueAccessToken(ctx, "acme", "tokens", &engine.AccessTokenInput{Tenant: "acme", Scope: []string{"read", "write"}, Lifetime: 3600})
			if err != nil {
				return err
			}
			if out.Version != digests["tokens"] || len(out.Scope) != 1 || out.Lifetime != 60 || string(out.Claims["tier"]) != `"gold"` {
				return fmt.Errorf("output %+v", out)
			}
			return nil
		}, "acme", "tokens", engine.HookIssueAccessToken, plugins.OutcomeOK, 0},
		{"access token hook beyond the grant", func() error {
			// The module's constant answer widens this input's scope.
			if out, err := h.IssueAccessToken(ctx, "acme", "tokens", &engine.AccessTokenInput{Tenant: "acme", Scope: []string{"write"}, Lifetime: 3600}); err == nil {
				return fmt.Errorf("a wider scope was accepted: %+v", out)
			}
			return nil
		}, "acme", "tokens", engine.HookIssueAccessToken, plugins.OutcomeFailed, 0},
		{"access token denied", func() error {
			_, err := h.IssueAccessToken(ctx, "acme", "deny", &engine.AccessTokenInput{Tenant: "acme", Scope: []string{"read"}, Lifetime: 3600})
			var e *engine.Error
			if !errors.As(err, &e) || e.Code != engine.CodeAccessDenied || e.Description != "no tokens today" {
				return fmt.Errorf("got %v, want the module's access_denied", err)
			}
			return nil
		}, "acme", "deny", engine.HookIssueAccessToken, plugins.OutcomeRejected, 0},
		{"module the tenant cannot see", func() error {
			if _, err := h.ClientID(ctx, "globex", "ids", &engine.FactoryInput{Tenant: "globex"}); err == nil {
				return errors.New("globex reached acme's module")
			}
			return nil
		}, "globex", "ids", engine.HookIDFactory, plugins.OutcomeFailed, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.call(); err != nil {
				t.Fatal(err)
			}
			calls := obs.Take()
			if len(calls) != 1 {
				t.Fatalf("%d calls reported, want 1: %+v", len(calls), calls)
			}
			got := calls[0]
			want := plugins.Call{Tenant: c.tenant, Module: c.module, Digest: digests[c.module], Hook: c.hook, Outcome: c.outcome, Duration: got.Duration}
			if c.tenant == "globex" && c.module == "ids" {
				want.Digest = "" // no module ran
			}
			if got != want {
				t.Errorf("reported %+v, want %+v", got, want)
			}
			if got.Duration <= 0 || got.Duration < c.atLeast {
				t.Errorf("duration %s, want more than zero and at least %s", got.Duration, c.atLeast)
			}
		})
	}

	// Not a hook call: nothing is reported.
	if _, err := h.Decide(ctx, "acme", "decide", engine.HookPolicy, &engine.DecisionInput{}); err == nil {
		t.Error("Decide ran a hook that is not a decision hook")
	}
	if calls := obs.Take(); len(calls) != 0 {
		t.Errorf("a refused Decide reported %+v", calls)
	}
}

// TestObserveConcurrent: calls made at the same time are each reported
// once, under -race.
func TestObserveConcurrent(t *testing.T) {
	var obs testkit.Recorder[plugins.Call]
	h := newHost(t, plugins.Config{Dir: policyDir(t, map[string]string{"minimal.wasm": "minimal"}), Observe: obs.Add})
	in := &engine.PolicyInput{Tenant: "default", Metadata: map[string]json.RawMessage{
		"redirect_uris": json.RawMessage(`["https://app.example/cb"]`),
	}}
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			if _, err := h.Policy(context.Background(), "default", "minimal", in); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	calls := obs.Take()
	if len(calls) != 32 {
		t.Fatalf("%d calls reported, want 32", len(calls))
	}
	for _, c := range calls {
		if c.Outcome != plugins.OutcomeOK {
			t.Errorf("%+v", c)
		}
	}
}
