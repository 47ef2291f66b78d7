package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/metrics"
)

func TestObserveStatement(t *testing.T) {
	m := metrics.New(metrics.Config{KnownTenant: func(name string) bool { return name == "acme" }})
	m.ObserveStatement(engine.StatementOutcome{Tenant: "acme", Outcome: "verified"})
	m.ObserveStatement(engine.StatementOutcome{Tenant: "acme", Outcome: "unavailable"})
	m.ObserveStatement(engine.StatementOutcome{Tenant: "acme", Outcome: "unavailable"})
	m.ObserveStatement(engine.StatementOutcome{Tenant: "made-up", Outcome: "made-up"})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`registrar_software_statements_total{outcome="verified",tenant="acme"} 1`,
		`registrar_software_statements_total{outcome="unavailable",tenant="acme"} 2`,
		`registrar_software_statements_total{outcome="error",tenant="` + metrics.UnknownTenant + `"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
