package metrics_test

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/metrics"
)

func TestWatchPolicies(t *testing.T) {
	m := metrics.New(metrics.Config{KnownTenant: func(n string) bool { return n == "acme" }})
	digest := strings.Repeat("ab", 32)
	m.WatchPolicies(func() []engine.PolicyStatus {
		return []engine.PolicyStatus{
			{Tenant: "", Name: "shared", Source: "folder", Active: digest, Desired: digest, State: "active", ActivatedAt: time.Unix(1700000000, 0)},
			{Tenant: "acme", Name: "limits", Source: "store", Active: digest, Shadow: strings.Repeat("cd", 32), Desired: strings.Repeat("ef", 32), State: "failed", LastError: "self-test failed"},
			{Tenant: "made-up", Name: "x", Source: "store", State: "activating"},
		}
	})
	want := `
# HELP registrar_policy_module_state State of each policy module in this replica: 1 for its state (active, activating, failed), 0 for the others. failed means the last version offered was refused; the previous one, if any, still serves.
# TYPE registrar_policy_module_state gauge
registrar_policy_module_state{policy="limits",source="store",state="activating",tenant="acme"} 0
registrar_policy_module_state{policy="limits",source="store",state="active",tenant="acme"} 0
registrar_policy_module_state{policy="limits",source="store",state="failed",tenant="acme"} 1
registrar_policy_module_state{policy="shared",source="folder",state="activating",tenant="none"} 0
registrar_policy_module_state{policy="shared",source="folder",state="active",tenant="none"} 1
registrar_policy_module_state{policy="shared",source="folder",state="failed",tenant="none"} 0
registrar_policy_module_state{policy="x",source="store",state="activating",tenant="unknown"} 1
registrar_policy_module_state{policy="x",source="store",state="active",tenant="unknown"} 0
registrar_policy_module_state{policy="x",source="store",state="failed",tenant="unknown"} 0
# HELP registrar_policy_module_info Always 1; labels name the version each policy module serves (first 12 hex digits of its digest) and the one in shadow.
# TYPE registrar_policy_module_info gauge
registrar_policy_module_info{policy="limits",shadow="cdcdcdcdcdcd",source="store",tenant="acme",version="abababababab"} 1
registrar_policy_module_info{policy="shared",shadow="none",source="folder",tenant="none",version="abababababab"} 1
registrar_policy_module_info{policy="x",shadow="none",source="store",tenant="unknown",version="none"} 1
# HELP registrar_policy_module_activated_timestamp_seconds When each policy module's serving version was activated in this replica (Unix time).
# TYPE registrar_policy_module_activated_timestamp_seconds gauge
registrar_policy_module_activated_timestamp_seconds{policy="shared",source="folder",tenant="none"} 1.7e+09
`
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	var got []string
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if strings.HasPrefix(line, "registrar_policy_module_") {
			got = append(got, line)
		}
	}
	var wantLines []string
	for _, line := range strings.Split(want, "\n") {
		if strings.HasPrefix(line, "registrar_") {
			wantLines = append(wantLines, line)
		}
	}
	slices.Sort(got)
	slices.Sort(wantLines)
	if g, w := strings.Join(got, "\n"), strings.Join(wantLines, "\n"); g != w {
		t.Errorf("scrape:\n%s\nwant:\n%s", g, w)
	}
}

func TestObserveShadow(t *testing.T) {
	m := metrics.New(metrics.Config{KnownTenant: func(n string) bool { return n == "acme" }})
	a, s := strings.Repeat("ab", 32), strings.Repeat("cd", 32)
	m.ObserveShadow(metrics.ShadowRun{Tenant: "acme", Policy: "limits", Active: a, Shadow: s, Result: "agree"})
	m.ObserveShadow(metrics.ShadowRun{Tenant: "acme", Policy: "limits", Active: a, Shadow: s, Result: "differ"})
	m.ObserveShadow(metrics.ShadowRun{Tenant: "acme", Policy: "limits", Active: a, Shadow: s, Result: "differ"})
	m.ObserveShadow(metrics.ShadowRun{Tenant: "nope", Policy: "limits", Active: a, Shadow: s, Result: "failed"})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`registrar_policy_shadow_total{active="abababababab",policy="limits",result="agree",shadow="cdcdcdcdcdcd",tenant="acme"} 1`,
		`registrar_policy_shadow_total{active="abababababab",policy="limits",result="differ",shadow="cdcdcdcdcdcd",tenant="acme"} 2`,
		`registrar_policy_shadow_total{active="abababababab",policy="limits",result="failed",shadow="cdcdcdcdcdcd",tenant="unknown"} 1`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
}
