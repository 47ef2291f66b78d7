package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/metrics"
	"github.com/registrar-dev/registrar/plugins"
)

// scrapeMetrics returns m's text exposition.
func scrapeMetrics(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: %d", rec.Code)
	}
	return rec.Body.String()
}

// checkSamples compares the sample lines of one series name with want (in
// any order).
func checkSamples(t *testing.T, text, name string, want ...string) {
	t.Helper()
	var got []string
	for line := range strings.Lines(text) {
		line = strings.TrimSuffix(line, "\n")
		if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
			got = append(got, line)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s:\ngot\n\t%s\nwant\n\t%s", name, strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// TestPolicyCalls: calls through a real plugins.Host, with the observers
// of a metrics.Metrics as its Observe hook, are counted by tenant, module, version, hook and
// outcome, and timed by tenant, module and hook.
func TestPolicyCalls(t *testing.T) {
	dir := t.TempDir()
	for name, src := range map[string]string{
		"minimal.wasm":     "../../sdk/testdata/minimal.wasm",
		"reject.wasm":      "../../plugins/testdata/reject.wasm",
		"acme/trap.wasm":   "../../plugins/testdata/trap.wasm",
		"acme/ids.wasm":    "../../plugins/testdata/fixed-id.wasm",
		"ghost/trap.wasm":  "../../plugins/testdata/trap.wasm",
		"decide.wasm":      "../../plugins/testdata/no-rat.wasm",
		"acme/secret.wasm": "../../plugins/testdata/const-secret.wasm",
	} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatalf("%v (run plugins/testdata/build.sh)", err)
		}
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := metrics.New(metrics.Config{KnownTenant: func(name string) bool { return name == "acme" }})
	observe, _ := observers(m)
	h, err := plugins.New(context.Background(), plugins.Config{
		Dir: dir, Observe: observe, Logger: testkit.DiscardLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	version := map[string]string{}
	for _, i := range h.Modules() {
		version[i.Tenant+"/"+i.Name] = i.Digest[:12]
	}

	ctx := context.Background()
	in := func(tenant string) *engine.PolicyInput {
		return &engine.PolicyInput{Phase: engine.PhaseRegister, Tenant: tenant, Metadata: map[string]json.RawMessage{
			"redirect_uris": json.RawMessage(`["https://app.example/cb"]`),
		}}
	}
	for range 3 {
		if _, err := h.Policy(ctx, "acme", "minimal", in("acme")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.Policy(ctx, engine.DefaultTenant, "minimal", in(engine.DefaultTenant)); err != nil {
		t.Fatal(err)
	}
	h.Policy(ctx, "acme", "reject", in("acme"))
	h.Policy(ctx, "acme", "trap", in("acme"))
	h.Policy(ctx, "ghost", "trap", in("ghost")) // a tenant KnownTenant does not vouch for
	h.Policy(ctx, "acme", "missing", in("acme"))
	h.ClientID(ctx, "acme", "ids", &engine.FactoryInput{Tenant: "acme"})
	h.ClientSecret(ctx, "acme", "secret", &engine.FactoryInput{Tenant: "acme"})
	h.Decide(ctx, "acme", "decide", engine.HookIssueRAT, &engine.DecisionInput{Tenant: "acme"})

	text := scrapeMetrics(t, m)
	checkSamples(t, text, "registrar_policy_calls_total",
		`registrar_policy_calls_total{hook="policy",outcome="ok",policy="minimal",tenant="acme",version="`+version["/minimal"]+`"} 3`,
		`registrar_policy_calls_total{hook="policy",outcome="ok",policy="minimal",tenant="default",version="`+version["/minimal"]+`"} 1`,
		`registrar_policy_calls_total{hook="policy",outcome="rejected",policy="reject",tenant="acme",version="`+version["/reject"]+`"} 1`,
		`registrar_policy_calls_total{hook="policy",outcome="failed",policy="trap",tenant="acme",version="`+version["acme/trap"]+`"} 1`,
		`registrar_policy_calls_total{hook="policy",outcome="failed",policy="trap",tenant="unknown",version="`+version["ghost/trap"]+`"} 1`,
		`registrar_policy_calls_total{hook="policy",outcome="failed",policy="missing",tenant="acme",version="none"} 1`,
		`registrar_policy_calls_total{hook="id_factory",outcome="ok",policy="ids",tenant="acme",version="`+version["acme/ids"]+`"} 1`,
		`registrar_policy_calls_total{hook="secret_factory",outcome="ok",policy="secret",tenant="acme",version="`+version["acme/secret"]+`"} 1`,
		`registrar_policy_calls_total{hook="issue_registration_access_token",outcome="ok",policy="decide",tenant="acme",version="`+version["/decide"]+`"} 1`,
	)
	checkSamples(t, text, "registrar_policy_call_duration_seconds_count",
		`registrar_policy_call_duration_seconds_count{hook="policy",policy="minimal",tenant="acme"} 3`,
		`registrar_policy_call_duration_seconds_count{hook="policy",policy="minimal",tenant="default"} 1`,
		`registrar_policy_call_duration_seconds_count{hook="policy",policy="reject",tenant="acme"} 1`,
		`registrar_policy_call_duration_seconds_count{hook="policy",policy="trap",tenant="acme"} 1`,
		`registrar_policy_call_duration_seconds_count{hook="policy",policy="trap",tenant="unknown"} 1`,
		`registrar_policy_call_duration_seconds_count{hook="policy",policy="missing",tenant="acme"} 1`,
		`registrar_policy_call_duration_seconds_count{hook="id_factory",policy="ids",tenant="acme"} 1`,
		`registrar_policy_call_duration_seconds_count{hook="secret_factory",policy="secret",tenant="acme"} 1`,
		`registrar_policy_call_duration_seconds_count{hook="issue_registration_access_token",policy="decide",tenant="acme"} 1`,
	)
}

// TestShadowObserver: a shadow run the host reports is counted with its
// tenant, policy, both versions and result in their own labels.
func TestShadowObserver(t *testing.T) {
	m := metrics.New(metrics.Config{KnownTenant: func(n string) bool { return n == "acme" }})
	_, shadow := observers(m)
	a, s := strings.Repeat("ab", 32), strings.Repeat("cd", 32)
	shadow(plugins.ShadowResult{Tenant: "acme", Policy: "limits", Active: a, Shadow: s, Result: plugins.ShadowDiffer})
	checkSamples(t, scrapeMetrics(t, m), "registrar_policy_shadow_total",
		`registrar_policy_shadow_total{active="abababababab",policy="limits",result="differ",shadow="cdcdcdcdcdcd",tenant="acme"} 1`)
}
