package storetest

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/registrar-dev/registrar/engine"
)

// Switch wraps a store for tests of what uses it: while it is down, every
// method fails with an error wrapping engine.ErrUnavailable, as a store
// whose server cannot be reached does; while it is up, every call goes to
// the wrapped store.
type Switch struct {
	engine.Store
	down atomic.Bool
}

var _ engine.Store = (*Switch)(nil)

// NewSwitch returns s behind a switch that is up.
func NewSwitch(s engine.Store) *Switch { return &Switch{Store: s} }

// SetDown switches the store off (true) or on (false).
func (s *Switch) SetDown(down bool) { s.down.Store(down) }

func (s *Switch) err() error {
	if s.down.Load() {
		return fmt.Errorf("store switched off by the test: %w", engine.ErrUnavailable)
	}
	return nil
}

// CreateClient implements engine.Store.
func (s *Switch) CreateClient(ctx context.Context, c *engine.Client, opts engine.CreateOptions) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.CreateClient(ctx, c, opts)
}

// Client implements engine.Store.
func (s *Switch) Client(ctx context.Context, tenant, id string) (*engine.Client, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.Client(ctx, tenant, id)
}

// UpdateClient implements engine.Store.
func (s *Switch) UpdateClient(ctx context.Context, tenant, id string, fn func(*engine.Client) error) (*engine.Client, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.UpdateClient(ctx, tenant, id, fn)
}

// DeleteClient implements engine.Store.
func (s *Switch) DeleteClient(ctx context.Context, tenant, id string) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.DeleteClient(ctx, tenant, id)
}

// Clients implements engine.Store.
func (s *Switch) Clients(ctx context.Context, tenant string, filter engine.ClientFilter, after string, limit int) ([]*engine.Client, string, error) {
	if err := s.err(); err != nil {
		return nil, "", err
	}
	return s.Store.Clients(ctx, tenant, filter, after, limit)
}

// CreateInitialAccessToken implements engine.Store.
func (s *Switch) CreateInitialAccessToken(ctx context.Context, t *engine.InitialAccessToken) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.CreateInitialAccessToken(ctx, t)
}

// InitialAccessTokens implements engine.Store.
func (s *Switch) InitialAccessTokens(ctx context.Context, tenant, after string, limit int) ([]*engine.InitialAccessToken, string, error) {
	if err := s.err(); err != nil {
		return nil, "", err
	}
	return s.Store.InitialAccessTokens(ctx, tenant, after, limit)
}

// InitialAccessToken implements engine.Store.
func (s *Switch) InitialAccessToken(ctx context.Context, tenant, id string) (*engine.InitialAccessToken, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.InitialAccessToken(ctx, tenant, id)
}

// DeleteInitialAccessToken implements engine.Store.
func (s *Switch) DeleteInitialAccessToken(ctx context.Context, tenant, id string) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.DeleteInitialAccessToken(ctx, tenant, id)
}

// PutTenant implements engine.Store.
func (s *Switch) PutTenant(ctx context.Context, t *engine.TenantRecord, ifRevision int64) (*engine.TenantRecord, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.PutTenant(ctx, t, ifRevision)
}

// Tenant implements engine.Store.
func (s *Switch) Tenant(ctx context.Context, name string) (*engine.TenantRecord, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.Tenant(ctx, name)
}

// Tenants implements engine.Store.
func (s *Switch) Tenants(ctx context.Context) ([]*engine.TenantRecord, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.Tenants(ctx)
}

// TenantChanges implements engine.Store.
func (s *Switch) TenantChanges(ctx context.Context, since int64) (*engine.TenantChanges, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.TenantChanges(ctx, since)
}

// DeleteTenant implements engine.Store.
func (s *Switch) DeleteTenant(ctx context.Context, name string) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.DeleteTenant(ctx, name)
}

// CreateAdminToken implements engine.Store.
func (s *Switch) CreateAdminToken(ctx context.Context, t *engine.AdminToken) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.CreateAdminToken(ctx, t)
}

// AdminToken implements engine.Store.
func (s *Switch) AdminToken(ctx context.Context, tenant, id string) (*engine.AdminToken, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.AdminToken(ctx, tenant, id)
}

// AdminTokens implements engine.Store.
func (s *Switch) AdminTokens(ctx context.Context, tenant string) ([]*engine.AdminToken, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.AdminTokens(ctx, tenant)
}

// DeleteAdminToken implements engine.Store.
func (s *Switch) DeleteAdminToken(ctx context.Context, tenant, id string) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.DeleteAdminToken(ctx, tenant, id)
}

// Ping implements engine.Store.
func (s *Switch) Ping(ctx context.Context) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.Ping(ctx)
}
