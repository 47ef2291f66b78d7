package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/fetch"
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

func TestObserveURICheckAndFetch(t *testing.T) {
	m := metrics.New(metrics.Config{KnownTenant: func(name string) bool { return name == "acme" }})
	m.ObserveURICheck(engine.URICheck{Tenant: "acme", Member: "sector_identifier_uri", Outcome: "refused"})
	m.ObserveURICheck(engine.URICheck{Tenant: "acme", Member: "jwks_uri", Outcome: "ok"})
	m.ObserveURICheck(engine.URICheck{Tenant: "acme", Member: "made-up", Outcome: "made-up"})
	m.ObserveFetch(fetch.Observation{Host: "evil.example", Kind: fetch.Refused})
	m.ObserveFetch(fetch.Observation{Host: "ok.example", Kind: fetch.OK})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`registrar_client_uri_checks_total{member="sector_identifier_uri",outcome="refused",tenant="acme"} 1`,
		`registrar_client_uri_checks_total{member="jwks_uri",outcome="ok",tenant="acme"} 1`,
		`registrar_client_uri_checks_total{member="other",outcome="error",tenant="acme"} 1`,
		`registrar_outbound_fetches_total{outcome="refused"} 1`,
		`registrar_outbound_fetches_total{outcome="ok"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, "evil.example") {
		t.Error("a fetched host became a label value")
	}
	m.ForgetTenant("acme")
	rec = httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if strings.Contains(rec.Body.String(), `registrar_client_uri_checks_total{member="jwks_uri"`) {
		t.Error("ForgetTenant left the tenant's URI check series")
	}
}
