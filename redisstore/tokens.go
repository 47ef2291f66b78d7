package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/registrar-dev/registrar/engine"
)

// CreateInitialAccessToken stores t under its ID, the digest of the token,
// with Redis expiry at t.ExpiresAt, and adds it to the tenant's token
// index, unless the tenant has a tombstone.
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
	status, err := createToken.Run(s.durable(octx), s.rdb, []string{k.token(t.ID), k.tombstone()}, k.base, rec,
		strconv.FormatInt(t.Uses, 10), strconv.FormatInt(t.MaxUses, 10),
		strconv.FormatInt(expireAt(t.ExpiresAt), 10), t.ID, pruneOnWrite).Text()
	if err != nil {
		return s.fail(ctx, "create initial access token", err)
	}
	return scriptStatus("create initial access token", status)
}

// InitialAccessTokens lists a page of the tenant's live initial access
// tokens, ordered by ID, their use counts included.
func (s *Store) InitialAccessTokens(ctx context.Context, tenant, after string, limit int) ([]*engine.InitialAccessToken, string, error) {
	if limit < 1 {
		return nil, "", fmt.Errorf("redisstore: InitialAccessTokens limit %d is not positive", limit)
	}
	k, ok := s.tenantKeys(tenant)
	if !ok {
		return nil, "", nil
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	var found []*engine.InitialAccessToken
	for cursor := after; len(found) <= limit; {
		reply, err := listTokens.Run(octx, s.rdb, []string{k.tokens()},
			k.base, cursor, strconv.Itoa(limit+1-len(found)), listBudget, pruneOnList).StringSlice()
		if err != nil {
			return nil, "", s.fail(ctx, "list initial access tokens", err)
		}
		for i := 2; i+1 < len(reply); i += 2 {
			t, err := decodeToken(reply[i], reply[i+1])
			if err != nil {
				return nil, "", err
			}
			found = append(found, t)
		}
		if reply[0] == "1" {
			break
		}
		cursor = reply[1]
	}
	return pageOf(found, limit, func(t *engine.InitialAccessToken) string { return t.ID })
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
	uses, _ := vals[1].(string)
	return decodeToken(rec, uses)
}

// decodeToken decodes an initial access token's record and use count.
func decodeToken(rec, uses string) (*engine.InitialAccessToken, error) {
	var t engine.InitialAccessToken
	if err := json.Unmarshal([]byte(rec), &t); err != nil {
		return nil, fmt.Errorf("redisstore: decode initial access token: %w", err)
	}
	var err error
	if t.Uses, err = strconv.ParseInt(uses, 10, 64); err != nil {
		return nil, fmt.Errorf("redisstore: initial access token uses %q: %w", uses, err)
	}
	return &t, nil
}

// DeleteInitialAccessToken revokes a token and takes it out of the index.
func (s *Store) DeleteInitialAccessToken(ctx context.Context, tenant, id string) error {
	k, ok := s.tenantKeys(tenant)
	if !ok {
		return engine.ErrNotFound
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	status, err := deleteToken.Run(s.durable(octx), s.rdb, []string{k.token(id)}, k.base, id).Text()
	if err != nil {
		return s.fail(ctx, "delete initial access token", err)
	}
	return scriptStatus("delete initial access token", status)
}
