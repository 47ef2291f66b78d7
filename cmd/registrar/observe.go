package main

import (
	"github.com/registrar-dev/registrar/metrics"
	"github.com/registrar-dev/registrar/plugins"
)

// observers returns the plugins.Config hooks that count the host's hook
// calls and shadow runs in m. plugins and metrics do not import each other
// (metrics would pull the WebAssembly runtime into anything that counts):
// this is where they meet.
func observers(m *metrics.Metrics) (observe func(plugins.Call), shadow func(plugins.ShadowResult)) {
	observe = func(c plugins.Call) {
		m.ObservePolicy(metrics.PolicyCall{
			Tenant: c.Tenant, Module: c.Module, Digest: c.Digest, Hook: c.Hook,
			Outcome: string(c.Outcome), Duration: c.Duration,
		})
	}
	shadow = func(r plugins.ShadowResult) {
		m.ObserveShadow(metrics.ShadowRun{Tenant: r.Tenant, Policy: r.Policy, Active: r.Active, Shadow: r.Shadow, Result: r.Result})
	}
	return observe, shadow
}
