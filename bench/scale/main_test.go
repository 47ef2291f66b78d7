package main

import (
	"testing"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/redistest"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/redisstore"
)

// TestLoaderSmoke loads a few tenants and clients into a real
// redis-server and checks that they are stored as the loader says, and
// that every tenant's settings are ones the engine accepts.
func TestLoaderSmoke(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	ctx := t.Context()
	err := withStore(ctx, "redis://"+srv.Addr, func(s *redisstore.Store) error {
		if err := loadTenants(ctx, s, 0, 25, 8); err != nil {
			return err
		}
		if err := loadClients(ctx, s, "t0", 0, 40, 8); err != nil {
			return err
		}
		recs, err := s.Tenants(ctx)
		if err != nil {
			return err
		}
		if len(recs) != 25 {
			t.Errorf("%d tenants stored, want 25", len(recs))
		}
		settings := map[string]engine.Settings{}
		for _, r := range recs {
			settings[r.Name] = r.Settings
		}
		if _, err := engine.New(engine.Config{Store: s, Keys: jose.KeySetChecker{}, Tenants: settings}); err != nil {
			t.Errorf("the loaded settings are refused: %v", err)
		}
		ids, _, err := s.Clients(ctx, "t0", engine.ClientFilter{}, "", 100)
		if err != nil {
			return err
		}
		if len(ids) != 40 {
			t.Errorf("%d clients stored in t0, want 40", len(ids))
		}
		c, err := s.Client(ctx, "t0", "c7")
		if err != nil || c.Metadata.ClientName != "loaded c7" || c.RegistrationTokenHash != engine.HashToken("rat-c7") {
			t.Errorf("client c7 = %+v, %v", c, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
