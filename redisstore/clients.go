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

// errKeyChanged is returned when an UpdateClient fn changes the client's
// tenant or ID.
var errKeyChanged = errors.New("redisstore: UpdateClient fn changed the client's tenant or ID")

// CreateClient stores c and consumes a use of the initial access token
// c.IssuedBy names, if any, in one atomic script.
func (s *Store) CreateClient(ctx context.Context, c *engine.Client, replace bool) error {
	k, ok := s.tenantKeys(c.Tenant)
	if !ok {
		return errInvalidTenant(c.Tenant)
	}
	rec, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("redisstore: encode client: %w", err)
	}
	ks := []string{k.client(c.ID), k.clients(), k.expiry()}
	if c.IssuedBy != "" {
		ks = append(ks, k.token(c.IssuedBy))
	}
	rep := "0"
	if replace {
		rep = "1"
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	status, err := createClient.Run(octx, s.rdb, ks,
		rec, c.ID, strconv.FormatInt(expireAt(c.ExpiresAt), 10), rep, pruneOnWrite).Text()
	if err != nil {
		return s.fail(ctx, "create client", err)
	}
	switch status {
	case "OK":
		return nil
	case "EXISTS":
		return engine.ErrAlreadyExists
	case "NO_TOKEN":
		return fmt.Errorf("initial access token: %w", engine.ErrNotFound)
	case "EXHAUSTED":
		return engine.ErrTokenExhausted
	}
	return fmt.Errorf("redisstore: create client: unexpected reply %q", status)
}

// Client returns the live client with that tenant and ID.
func (s *Store) Client(ctx context.Context, tenant, id string) (*engine.Client, error) {
	k, ok := s.tenantKeys(tenant)
	if !ok {
		return nil, engine.ErrNotFound
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	rec, err := s.rdb.Get(octx, k.client(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, engine.ErrNotFound
	}
	if err != nil {
		return nil, s.fail(ctx, "read client", err)
	}
	return decodeClient(rec)
}

// UpdateClient reads the client, applies fn to it and writes the result if
// the record has not changed since it was read; if it has, it starts over.
// Every writer makes progress through the same compare-and-set, so a retry
// means that another update succeeded. fn may therefore run more than once.
func (s *Store) UpdateClient(ctx context.Context, tenant, id string, fn func(*engine.Client) error) (*engine.Client, error) {
	k, ok := s.tenantKeys(tenant)
	if !ok {
		return nil, engine.ErrNotFound
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	ks := []string{k.client(id), k.clients(), k.expiry()}
	for {
		old, err := s.rdb.Get(octx, k.client(id)).Bytes()
		if errors.Is(err, redis.Nil) {
			return nil, engine.ErrNotFound
		}
		if err != nil {
			return nil, s.fail(ctx, "read client for update", err)
		}
		c, err := decodeClient(old)
		if err != nil {
			return nil, err
		}
		if err := fn(c); err != nil {
			return nil, err
		}
		if c.Tenant != tenant || c.ID != id {
			return nil, errKeyChanged
		}
		rec, err := json.Marshal(c)
		if err != nil {
			return nil, fmt.Errorf("redisstore: encode client: %w", err)
		}
		status, err := updateClient.Run(octx, s.rdb, ks,
			old, rec, id, strconv.FormatInt(expireAt(c.ExpiresAt), 10), pruneOnWrite).Text()
		if err != nil {
			return nil, s.fail(ctx, "update client", err)
		}
		switch status {
		case "OK":
			return c, nil
		case "NOT_FOUND":
			return nil, engine.ErrNotFound
		case "CONFLICT":
			continue // another write came first: apply fn to its result
		}
		return nil, fmt.Errorf("redisstore: update client: unexpected reply %q", status)
	}
}

// DeleteClient removes the client record, and with it its registration
// access token, and its index entries.
func (s *Store) DeleteClient(ctx context.Context, tenant, id string) error {
	k, ok := s.tenantKeys(tenant)
	if !ok {
		return engine.ErrNotFound
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	status, err := deleteClient.Run(octx, s.rdb, []string{k.client(id), k.clients(), k.expiry()}, id).Text()
	if err != nil {
		return s.fail(ctx, "delete client", err)
	}
	switch status {
	case "OK":
		return nil
	case "NOT_FOUND":
		return engine.ErrNotFound
	}
	return fmt.Errorf("redisstore: delete client: unexpected reply %q", status)
}

// Clients lists a page of the tenant's live clients, ordered by ID.
func (s *Store) Clients(ctx context.Context, tenant, after string, limit int) ([]*engine.Client, string, error) {
	if limit < 1 {
		return nil, "", fmt.Errorf("redisstore: Clients limit %d is not positive", limit)
	}
	k, ok := s.tenantKeys(tenant)
	if !ok {
		return nil, "", nil
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	// One more than the page, to learn whether a live client follows it.
	recs, err := listClients.Run(octx, s.rdb, []string{k.clients(), k.expiry()},
		after, strconv.Itoa(limit+1), k.clientPrefix(), pruneOnList).StringSlice()
	if err != nil {
		return nil, "", s.fail(ctx, "list clients", err)
	}
	page := make([]*engine.Client, 0, min(len(recs), limit))
	for _, rec := range recs[:min(len(recs), limit)] {
		c, err := decodeClient([]byte(rec))
		if err != nil {
			return nil, "", err
		}
		page = append(page, c)
	}
	next := ""
	if len(recs) > limit {
		next = page[limit-1].ID
	}
	return page, next, nil
}

// decodeClient decodes a client record.
func decodeClient(rec []byte) (*engine.Client, error) {
	var c engine.Client
	if err := json.Unmarshal(rec, &c); err != nil {
		return nil, fmt.Errorf("redisstore: decode client record: %w", err)
	}
	return &c, nil
}
