package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/registrar-dev/registrar/engine"
)

// CreateInitialAccessToken stores t under its ID, the digest of the token,
// with Redis expiry at t.ExpiresAt.
func (s *Store) CreateInitialAccessToken(ctx context.Context, t *engine.InitialAccessToken) error {
	k, ok := s.tenantKeys(t.Tenant)
	if !ok {
		return errInvalidTenant(t.Tenant)
	}
	rec, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("redisstore: encode initial access token: %w", err)
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	status, err := createToken.Run(octx, s.rdb, []string{k.token(t.ID)}, rec,
		strconv.FormatInt(t.Uses, 10), strconv.FormatInt(t.MaxUses, 10),
		strconv.FormatInt(expireAt(t.ExpiresAt), 10)).Text()
	if err != nil {
		return s.fail(ctx, "create initial access token", err)
	}
	switch status {
	case "OK":
		return nil
	case "EXISTS":
		return engine.ErrAlreadyExists
	}
	return fmt.Errorf("redisstore: create initial access token: unexpected reply %q", status)
}

// InitialAccessToken returns the live token with that tenant and ID, its
// use count included.
func (s *Store) InitialAccessToken(ctx context.Context, tenant, id string) (*engine.InitialAccessToken, error) {
	k, ok := s.tenantKeys(tenant)
	if !ok {
		return nil, engine.ErrNotFound
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	vals, err := s.rdb.HMGet(octx, k.token(id), "record", "uses").Result()
	if err != nil {
		return nil, s.fail(ctx, "read initial access token", err)
	}
	rec, ok := vals[0].(string)
	if !ok {
		return nil, engine.ErrNotFound
	}
	var t engine.InitialAccessToken
	if err := json.Unmarshal([]byte(rec), &t); err != nil {
		return nil, fmt.Errorf("redisstore: decode initial access token: %w", err)
	}
	uses, _ := vals[1].(string)
	if t.Uses, err = strconv.ParseInt(uses, 10, 64); err != nil {
		return nil, fmt.Errorf("redisstore: initial access token uses %q: %w", uses, err)
	}
	return &t, nil
}

// DeleteInitialAccessToken revokes a token.
func (s *Store) DeleteInitialAccessToken(ctx context.Context, tenant, id string) error {
	k, ok := s.tenantKeys(tenant)
	if !ok {
		return engine.ErrNotFound
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	n, err := s.rdb.Del(octx, k.token(id)).Result()
	if err != nil {
		return s.fail(ctx, "delete initial access token", err)
	}
	if n == 0 {
		return engine.ErrNotFound
	}
	return nil
}
