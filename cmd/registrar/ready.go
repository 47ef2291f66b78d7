package main

import (
	"context"
	"errors"
	"time"
)

// errTenantsNotLoaded is the readiness error of a replica that has not yet
// read the tenants from the store.
var errTenantsNotLoaded = errors.New("the tenants have not been read from the store yet")

// ready is this replica's part of GET /readyz beyond the store's answer
// for the keys of no tenant (engine.Registrar.Ready): the tenants have been
// read from the store once, and the policy modules are loaded. The first
// matters on Redis Cluster, where the store may answer /readyz while a
// primary holding some tenants' records is down: a replica started then
// has no stored tenant to serve, and says so, until it has read them all.
func (s *server) ready() error {
	if !s.tenantsLoaded.Load() {
		return errTenantsNotLoaded
	}
	return s.modules.Ready()
}

// loadTenants reads the tenants from the store every --tenant-refresh
// until it succeeds once, then marks them loaded; RefreshEvery keeps them
// fresh from then on.
func (s *server) loadTenants(ctx context.Context) {
	tick := time.NewTicker(s.c.tenantRefresh)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if s.reg.Refresh(ctx) == nil {
			s.log.Info("tenants of the store loaded")
			s.tenantsLoaded.Store(true)
			return
		}
	}
}
