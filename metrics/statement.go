package metrics

import "github.com/registrar-dev/registrar/engine"

// ObserveStatement counts one software statement check
// (engine.Config.ObserveStatement). An outcome outside the engine's set is
// counted as error, so that no caller can make up label values.
func (m *Metrics) ObserveStatement(o engine.StatementOutcome) {
	outcome := o.Outcome
	switch outcome {
	case "verified", "invalid", "unapproved", "unavailable":
	default:
		outcome = "error"
	}
	m.statements.WithLabelValues(m.tenantLabel(o.Tenant), outcome).Inc()
}
