package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/metrics"
)

func TestObserveOAuth(t *testing.T) {
	m := metrics.New(metrics.Config{KnownTenant: func(name string) bool { return name == "acme" }})
	m.ObserveOAuth(metrics.OAuthRequest{Tenant: "acme", Endpoint: "token", Format: "opaque"})
	m.ObserveOAuth(metrics.OAuthRequest{Tenant: "acme", Endpoint: "token", Code: engine.CodeInvalidClient})
	m.ObserveOAuth(metrics.OAuthRequest{Tenant: "made-up", Endpoint: "weird", Code: "made_up_code", Format: "x"})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`registrar_oauth_requests_total{endpoint="token",format="opaque",outcome="ok",tenant="acme"} 1`,
		`registrar_oauth_requests_total{endpoint="token",format="",outcome="invalid_client",tenant="acme"} 1`,
		`registrar_oauth_requests_total{endpoint="other",format="other",outcome="server_error",tenant="` + metrics.UnknownTenant + `"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
