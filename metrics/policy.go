package metrics

import (
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// versionDigits is how much of a module's digest the version label keeps:
// enough to tell versions apart, short enough to read.
const versionDigits = 12

// PolicyCall is one finished hook call of a policy module, as the policy
// host reports it. The metrics package defines it, rather than importing
// the host's type, so that a program that only counts does not link the
// WebAssembly runtime; cmd/registrar converts the host's report.
type PolicyCall struct {
	// Tenant is the tenant the call was made for.
	Tenant string
	// Module is the module's name.
	Module string
	// Digest is the version that ran (hex SHA-256); "" when no module of
	// that name was found.
	Digest string
	// Hook is the hook that was called.
	Hook engine.Hook
	// Outcome is how the call ended: "ok", "rejected" or "failed".
	Outcome string
	// Duration is how long the call took.
	Duration time.Duration
}

// ShadowRun is the outcome of one run of a policy version in shadow
// against the active one, as the policy host reports it.
type ShadowRun struct {
	Tenant string
	Policy string
	// Active and Shadow are the digests of the two versions.
	Active, Shadow string
	// Result is "agree", "differ" or "failed".
	Result string
}

// ObservePolicy counts and times one policy hook call. The tenant label
// follows Config.KnownTenant, the policy label is the module's name
// ("invalid" for a name that is not a module name), and the version label
// the first 12 hex digits of its digest ("none" when no module of that
// name was found).
func (m *Metrics) ObservePolicy(c PolicyCall) {
	tenant := m.tenantLabel(c.Tenant)
	policy := c.Module
	if !engine.ValidModuleName(policy) {
		policy = "invalid"
	}
	version := c.Digest
	switch {
	case version == "":
		version = "none"
	case len(version) > versionDigits:
		version = version[:versionDigits]
	}
	m.policyCall.WithLabelValues(tenant, policy, version, string(c.Hook), c.Outcome).Inc()
	m.policyTime.WithLabelValues(tenant, policy, string(c.Hook)).Observe(c.Duration.Seconds())
}

// ObserveShadow counts one run of a version in shadow against the active
// one.
func (m *Metrics) ObserveShadow(r ShadowRun) {
	policy := r.Policy
	if !engine.ValidModuleName(policy) {
		policy = "invalid"
	}
	m.shadow.WithLabelValues(m.tenantLabel(r.Tenant), policy, short(r.Active), short(r.Shadow), r.Result).Inc()
}
