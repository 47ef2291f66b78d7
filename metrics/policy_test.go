package metrics_test

import (
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/metrics"
)

// TestObservePolicy: the labels of a call as the host reports it; the
// duration lands in the histogram in seconds.
func TestObservePolicy(t *testing.T) {
	m := metrics.New(metrics.Config{KnownTenant: func(string) bool { return true }})
	digest := strings.Repeat("ab", 32)
	m.ObservePolicy(metrics.PolicyCall{Tenant: "acme", Module: "fapi", Digest: digest, Hook: engine.HookPolicy,
		Outcome: "ok", Duration: 3 * time.Millisecond})
	m.ObservePolicy(metrics.PolicyCall{Tenant: "Not A Tenant", Module: "bad name!", Hook: engine.HookPolicy,
		Outcome: "failed", Duration: time.Millisecond})
	text := scrape(t, m)
	checkSamples(t, text, "registrar_policy_calls_total",
		`registrar_policy_calls_total{hook="policy",outcome="ok",policy="fapi",tenant="acme",version="abababababab"} 1`,
		`registrar_policy_calls_total{hook="policy",outcome="failed",policy="invalid",tenant="unknown",version="none"} 1`,
	)
	checkSamples(t, text, "registrar_policy_call_duration_seconds_sum",
		`registrar_policy_call_duration_seconds_sum{hook="policy",policy="fapi",tenant="acme"} 0.003`,
		`registrar_policy_call_duration_seconds_sum{hook="policy",policy="invalid",tenant="unknown"} 0.001`,
	)
	for _, want := range []string{
		`registrar_policy_call_duration_seconds_bucket{hook="policy",policy="fapi",tenant="acme",le="0.0025"} 0`,
		`registrar_policy_call_duration_seconds_bucket{hook="policy",policy="fapi",tenant="acme",le="0.005"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the scrape lacks %s", want)
		}
	}
}
