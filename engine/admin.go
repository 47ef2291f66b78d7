package engine

import (
	"context"
	"errors"
	"slices"
	"time"
)

// DefaultTokenLifetime is the lifetime of an initial access token minted
// without one.
const DefaultTokenLifetime = 24 * time.Hour

// MintRequest asks for a new initial access token (SPEC §5).
type MintRequest struct {
	// Policies run for each registration made with the token. Each must be
	// a module the tenant can use.
	Policies []string
	// ExpiresIn is the token's lifetime. Default DefaultTokenLifetime.
	ExpiresIn time.Duration
	// MaxUses bounds the registrations it admits. Default 0: no bound.
	MaxUses int64
	// ClientID reserves the client_id of the registrations it admits.
	ClientID string
	// Replacement lets the token register ClientID again, replacing it.
	Replacement bool
}

// MintInitialAccessToken creates an initial access token and returns it in
// the clear, once, with its stored record.
func (r *Registrar) MintInitialAccessToken(ctx context.Context, tenantName string, req MintRequest) (string, *InitialAccessToken, error) {
	t, err := r.tenant(tenantName)
	if err != nil {
		return "", nil, err
	}
	if t.settings.InitialAccessToken == TokenStatic {
		return "", nil, Errorf(CodeInvalidRequest, "tenant %q uses a static initial access token; stored tokens would never be accepted there", t.name)
	}
	for _, p := range req.Policies {
		if !ValidModuleName(p) {
			return "", nil, Errorf(CodeInvalidRequest, "policies: %q is not a valid policy module name", truncate(p, 64))
		}
		if r.modules == nil || !r.modules.Has(t.name, p, HookPolicy) {
			return "", nil, Errorf(CodeInvalidRequest, "policies: tenant %q has no policy module %q with a policy hook", t.name, p)
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(req.Policies)))) != len(req.Policies) {
		return "", nil, Errorf(CodeInvalidRequest, "policies: a policy is named more than once")
	}
	if req.ExpiresIn < 0 {
		return "", nil, Errorf(CodeInvalidRequest, "expires_in must not be negative")
	}
	if req.MaxUses < 0 {
		return "", nil, Errorf(CodeInvalidRequest, "max_uses must not be negative")
	}
	if req.ClientID != "" && !ValidClientID(req.ClientID) {
		return "", nil, Errorf(CodeInvalidRequest, "client_id: want 1-128 characters of A-Z a-z 0-9 . _ ~ -")
	}
	if req.Replacement && req.ClientID == "" {
		return "", nil, Errorf(CodeInvalidRequest, "replacement needs a client_id")
	}
	if req.ClientID != "" && !req.Replacement {
		if _, err := r.store.Client(ctx, t.name, req.ClientID); err == nil {
			return "", nil, Errorf(CodeConflict, "client %q is already registered; mint the token with replacement to replace it", req.ClientID)
		} else if !errors.Is(err, ErrNotFound) {
			return "", nil, storeError("read client", err)
		}
	}
	token, err := newToken(r.rand)
	if err != nil {
		return "", nil, serverError("internal server error", err)
	}
	lifetime := req.ExpiresIn
	if lifetime == 0 {
		lifetime = DefaultTokenLifetime
	}
	now := r.now()
	iat := &InitialAccessToken{
		Tenant: t.name, ID: HashToken(token), CreatedAt: now,
		ExpiresAt: now.Add(lifetime), Policies: slices.Clone(req.Policies),
		MaxUses: req.MaxUses, ClientID: req.ClientID, Replacement: req.Replacement,
	}
	if err := r.store.CreateInitialAccessToken(ctx, iat); err != nil {
		return "", nil, storeError("create initial access token", err)
	}
	r.log.InfoContext(ctx, "initial access token minted", "tenant", t.name, "id", iat.ID, "policies", iat.Policies, "expires_at", iat.ExpiresAt, "max_uses", iat.MaxUses, "client_id", iat.ClientID)
	return token, iat, nil
}

// InitialAccessToken returns a stored initial access token by its ID.
func (r *Registrar) InitialAccessToken(ctx context.Context, tenantName, id string) (*InitialAccessToken, error) {
	t, err := r.tenant(tenantName)
	if err != nil {
		return nil, err
	}
	iat, err := r.store.InitialAccessToken(ctx, t.name, id)
	if errors.Is(err, ErrNotFound) {
		return nil, Errorf(CodeNotFound, "no initial access token with that ID")
	}
	if err != nil {
		return nil, storeError("read initial access token", err)
	}
	return iat, nil
}

// RevokeInitialAccessToken deletes an initial access token by its ID.
func (r *Registrar) RevokeInitialAccessToken(ctx context.Context, tenantName, id string) error {
	t, err := r.tenant(tenantName)
	if err != nil {
		return err
	}
	err = r.store.DeleteInitialAccessToken(ctx, t.name, id)
	if errors.Is(err, ErrNotFound) {
		return Errorf(CodeNotFound, "no initial access token with that ID")
	}
	if err != nil {
		return storeError("delete initial access token", err)
	}
	r.log.InfoContext(ctx, "initial access token revoked", "tenant", t.name, "id", id)
	return nil
}

// Client returns a client for an operator.
func (r *Registrar) Client(ctx context.Context, tenantName, id string) (*Client, error) {
	t, err := r.tenant(tenantName)
	if err != nil {
		return nil, err
	}
	c, err := r.store.Client(ctx, t.name, id)
	if errors.Is(err, ErrNotFound) {
		return nil, Errorf(CodeNotFound, "no client %q", truncate(id, 128))
	}
	if err != nil {
		return nil, storeError("read client", err)
	}
	return c, nil
}

// MaxPageSize bounds a page of Clients.
const MaxPageSize = 500

// Clients lists a tenant's clients by ID, a page at a time: limit of them
// (1 to MaxPageSize) after the cursor. next is "" on the last page.
func (r *Registrar) Clients(ctx context.Context, tenantName, cursor string, limit int) ([]*Client, string, error) {
	t, err := r.tenant(tenantName)
	if err != nil {
		return nil, "", err
	}
	if limit < 1 || limit > MaxPageSize {
		return nil, "", Errorf(CodeInvalidRequest, "limit must be between 1 and %d", MaxPageSize)
	}
	cs, next, err := r.store.Clients(ctx, t.name, ClientFilter{}, cursor, limit)
	if err != nil {
		return nil, "", storeError("list clients", err)
	}
	return cs, next, nil
}

// DeleteClient removes a client and its registration access token for an
// operator.
func (r *Registrar) DeleteClient(ctx context.Context, tenantName, id string) error {
	t, err := r.tenant(tenantName)
	if err != nil {
		return err
	}
	err = r.store.DeleteClient(ctx, t.name, id)
	if errors.Is(err, ErrNotFound) {
		return Errorf(CodeNotFound, "no client %q", truncate(id, 128))
	}
	if err != nil {
		return storeError("delete client", err)
	}
	r.log.InfoContext(ctx, "client deleted", "tenant", t.name, "client_id", id, "by", "admin")
	return nil
}

// MintRegistrationAccessToken gives a client a fresh registration access
// token, replacing the one it had (for a client that lost its token). It
// returns the token in the clear, once.
func (r *Registrar) MintRegistrationAccessToken(ctx context.Context, tenantName, id string) (string, *Client, error) {
	t, err := r.tenant(tenantName)
	if err != nil {
		return "", nil, err
	}
	if !t.managementOn() {
		return "", nil, Errorf(CodeConflict, "client management (RFC 7592) is turned off for tenant %q", t.name)
	}
	token, err := newToken(r.rand)
	if err != nil {
		return "", nil, serverError("internal server error", err)
	}
	now := r.now()
	c, err := r.store.UpdateClient(ctx, t.name, id, func(c *Client) error {
		c.RegistrationTokenHash = HashToken(token)
		c.UpdatedAt = now
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return "", nil, Errorf(CodeNotFound, "no client %q", truncate(id, 128))
	}
	if err != nil {
		return "", nil, storeError("update client", err)
	}
	r.log.InfoContext(ctx, "registration access token minted", "tenant", t.name, "client_id", id, "by", "admin")
	return token, c, nil
}
