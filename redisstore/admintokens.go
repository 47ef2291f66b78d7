package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/registrar-dev/registrar/engine"
)

// CreateAdminToken stores t under its ID, the digest of the token, with
// Redis expiry at t.ExpiresAt, and adds it to the tenant's admin token
// index, unless the tenant has a tombstone.
func (s *Store) CreateAdminToken(ctx context.Context, t *engine.AdminToken) error {
	k, ok := s.tenantKeys(t.Tenant)
	if !ok {
		return errInvalidTenant(t.Tenant)
	}
	rec, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("redisstore: encode admin token: %w", err)
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	status, err := createAdmin.Run(s.durable(octx), s.rdb, []string{k.admin(t.ID), k.tombstone()},
		k.base, rec, strconv.FormatInt(expireAt(t.ExpiresAt), 10), t.ID).Text()
	if err != nil {
		return s.fail(ctx, "create admin token", err)
	}
	return scriptStatus("create admin token", status)
}

// AdminToken returns the live admin token with that tenant and ID.
func (s *Store) AdminToken(ctx context.Context, tenant, id string) (*engine.AdminToken, error) {
	k, ok := s.tenantKeys(tenant)
	if !ok {
		return nil, engine.ErrNotFound
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	rec, err := s.rdb.Get(octx, k.admin(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, engine.ErrNotFound
	}
	if err != nil {
		return nil, s.fail(ctx, "read admin token", err)
	}
	return decodeAdminToken(rec)
}

// AdminTokens returns the tenant's live admin tokens, sorted by ID, reading
// the index in bounded steps and dropping the IDs of tokens that are gone.
func (s *Store) AdminTokens(ctx context.Context, tenant string) ([]*engine.AdminToken, error) {
	k, ok := s.tenantKeys(tenant)
	if !ok {
		return nil, nil
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	var tokens []*engine.AdminToken
	for cursor := ""; ; {
		reply, err := listAdmins.Run(octx, s.rdb, []string{k.admins()}, k.base, cursor, listBudget).StringSlice()
		if err != nil {
			return nil, s.fail(ctx, "list admin tokens", err)
		}
		for _, rec := range reply[2:] {
			t, err := decodeAdminToken([]byte(rec))
			if err != nil {
				return nil, err
			}
			tokens = append(tokens, t)
		}
		if reply[0] == "1" {
			return tokens, nil
		}
		cursor = reply[1]
	}
}

// DeleteAdminToken revokes an admin token and takes it out of the index.
func (s *Store) DeleteAdminToken(ctx context.Context, tenant, id string) error {
	k, ok := s.tenantKeys(tenant)
	if !ok {
		return engine.ErrNotFound
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	status, err := deleteAdmin.Run(s.durable(octx), s.rdb, []string{k.admin(id)}, k.base, id).Text()
	if err != nil {
		return s.fail(ctx, "delete admin token", err)
	}
	return scriptStatus("delete admin token", status)
}

// decodeAdminToken decodes an admin token record.
func decodeAdminToken(rec []byte) (*engine.AdminToken, error) {
	var t engine.AdminToken
	if err := json.Unmarshal(rec, &t); err != nil {
		return nil, fmt.Errorf("redisstore: decode admin token: %w", err)
	}
	return &t, nil
}
