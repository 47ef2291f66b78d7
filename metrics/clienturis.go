package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/fetch"
)

// clientURIMetrics are the counters of outbound fetches and of the checks
// of clients' URI members.
type clientURIMetrics struct {
	uriChecks *prometheus.CounterVec
	fetches   *prometheus.CounterVec
}

func newClientURIMetrics() clientURIMetrics {
	return clientURIMetrics{
		uriChecks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "registrar_client_uri_checks_total",
			Help: "Checks of clients' sector_identifier_uri and jwks_uri at registration and update, by tenant, member and outcome (ok; refused: by the outbound fetch guard; invalid: not a usable document; unavailable: no answer; mismatch: a redirect URI or a key is missing; error).",
		}, []string{"tenant", "member", "outcome"}),
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "registrar_outbound_fetches_total",
			Help: "Documents fetched through the outbound guard (key sets, sector_identifier_uri), by outcome (ok, refused, unavailable, invalid).",
		}, []string{"outcome"}),
	}
}

// ObserveURICheck counts one check of a client's URI member
// (engine.Config.ObserveURICheck). A member or outcome outside the
// engine's sets is counted as error.
func (m *Metrics) ObserveURICheck(c engine.URICheck) {
	member, outcome := c.Member, c.Outcome
	if member != "sector_identifier_uri" && member != "jwks_uri" {
		member = "other"
	}
	switch outcome {
	case "ok", "refused", "invalid", "unavailable", "mismatch":
	default:
		outcome = "error"
	}
	m.uriChecks.WithLabelValues(m.tenantLabel(c.Tenant), member, outcome).Inc()
}

// ObserveFetch counts one outbound fetch (fetch.Config.Observe). The
// host is not a label: whoever names a URL chooses it.
func (m *Metrics) ObserveFetch(o fetch.Observation) {
	m.fetches.WithLabelValues(o.Kind.String()).Inc()
}
