package metrics

import (
	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/plugins"
)

// versionDigits is how much of a module's digest the version label keeps:
// enough to tell versions apart, short enough to read.
const versionDigits = 12

// ObservePolicy counts and times one policy hook call. It has the type of
// plugins.Config.Observe. The tenant label follows Config.KnownTenant, the
// policy label is the module's name ("invalid" for a name that is not a
// module name), and the version label the first 12 hex digits of its
// digest ("none" when no module of that name was found).
func (m *Metrics) ObservePolicy(c plugins.Call) {
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
	m.policyCall.WithLabelValues(tenant, policy, version, string(c.Hook), string(c.Outcome)).Inc()
	m.policyTime.WithLabelValues(tenant, policy, string(c.Hook)).Observe(c.Duration.Seconds())
}

// ObserveShadow counts one run of a version in shadow against the active
// one. It has the type of plugins.Config.Shadow.
func (m *Metrics) ObserveShadow(r plugins.ShadowResult) {
	policy := r.Policy
	if !engine.ValidModuleName(policy) {
		policy = "invalid"
	}
	m.shadow.WithLabelValues(m.tenantLabel(r.Tenant), policy, short(r.Active), short(r.Shadow), r.Result).Inc()
}
