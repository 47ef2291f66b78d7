package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/registrar-dev/registrar/engine"
)

// The policy module states of registrar_policy_module_state.
var policyStates = []string{"active", "activating", "failed"}

// statusCollector exports the replica's policy module status at scrape
// time: one series per module and state (1 for its state, 0 for the
// others), and the active version as a label of an info series.
type statusCollector struct {
	status func() []engine.PolicyStatus
	known  func(string) string
	state  *prometheus.Desc
	info   *prometheus.Desc
	when   *prometheus.Desc
}

func newStatusCollector(status func() []engine.PolicyStatus, tenantLabel func(string) string) *statusCollector {
	return &statusCollector{
		status: status,
		known:  tenantLabel,
		state: prometheus.NewDesc("registrar_policy_module_state",
			"State of each policy module in this replica: 1 for its state (active, activating, failed), 0 for the others. failed means the last version offered was refused; the previous one, if any, still serves.",
			[]string{"tenant", "policy", "source", "state"}, nil),
		info: prometheus.NewDesc("registrar_policy_module_info",
			"Always 1; labels name the version each policy module serves (first 12 hex digits of its digest) and the one in shadow.",
			[]string{"tenant", "policy", "source", "version", "shadow"}, nil),
		when: prometheus.NewDesc("registrar_policy_module_activated_timestamp_seconds",
			"When each policy module's serving version was activated in this replica (Unix time).",
			[]string{"tenant", "policy", "source"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *statusCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.state
	ch <- c.info
	ch <- c.when
}

// Collect implements prometheus.Collector.
func (c *statusCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.status() {
		tenant := NoTenant
		if s.Tenant != "" {
			tenant = c.known(s.Tenant)
		}
		for _, st := range policyStates {
			v := 0.0
			if s.State == st {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(c.state, prometheus.GaugeValue, v, tenant, s.Name, s.Source, st)
		}
		ch <- prometheus.MustNewConstMetric(c.info, prometheus.GaugeValue, 1, tenant, s.Name, s.Source, short(s.Active), short(s.Shadow))
		if !s.ActivatedAt.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.when, prometheus.GaugeValue, float64(s.ActivatedAt.UnixMilli())/1000, tenant, s.Name, s.Source)
		}
	}
}

// short is a digest cut to a label: its first 12 hex digits, or "none".
func short(digest string) string {
	if digest == "" {
		return "none"
	}
	return digest[:min(12, len(digest))]
}

// WatchPolicies exports the status of this replica's policy modules at
// every scrape (registrar_policy_module_state, _info and
// _activated_timestamp_seconds). Call it once.
func (m *Metrics) WatchPolicies(status func() []engine.PolicyStatus) {
	m.reg.MustRegister(newStatusCollector(status, m.tenantLabel))
}
