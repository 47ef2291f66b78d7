package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// defaultTokenLifetime is the lifetime of an initial access token minted
// without one.
const defaultTokenLifetime = 24 * time.Hour

// MintRequest asks for a new initial access token (docs/api.md).
type MintRequest struct {
	// Policies run for each registration made with the token. Each must be
	// a module the tenant can use.
	Policies []string
	// ExpiresIn is the token's lifetime. Default 24h.
	ExpiresIn time.Duration
	// MaxUses bounds the registrations it admits. Default 0: no bound.
	MaxUses int64
	// ClientID reserves the client_id of the registrations it admits.
	ClientID string
	// Replacement lets the token register ClientID again, replacing it.
	Replacement bool
	// SoftwareStatementRequired makes registrations with the token carry a
	// software statement; the tenant must verify statements.
	SoftwareStatementRequired bool
}

// MintInitialAccessToken creates an initial access token and returns it in
// the clear, once, with its stored record.
func (r *Registrar) MintInitialAccessToken(ctx context.Context, tenantName string, req MintRequest) (string, *InitialAccessToken, error) {
	t, err := r.tenant(tenantName)
	if err != nil {
		return "", nil, err
	}
	if err := r.checkMintRequest(ctx, t, req); err != nil {
		return "", nil, err
	}
	token, err := newToken(r.rand)
	if err != nil {
		return "", nil, serverError("internal server error", err)
	}
	lifetime := req.ExpiresIn
	if lifetime == 0 {
		lifetime = defaultTokenLifetime
	}
	now := r.now()
	iat := &InitialAccessToken{
		Tenant: t.name, ID: HashToken(token), CreatedAt: now,
		ExpiresAt: now.Add(lifetime), Policies: slices.Clone(req.Policies),
		MaxUses: req.MaxUses, ClientID: req.ClientID, Replacement: req.Replacement,
		SoftwareStatementRequired: req.SoftwareStatementRequired,
	}
	if err := r.store.CreateInitialAccessToken(ctx, iat); errors.Is(err, ErrNoTenant) {
		return "", nil, &Error{Code: CodeNotFound, Description: fmt.Sprintf("no tenant named %q", t.name), Err: err}
	} else if err != nil {
		return "", nil, storeError("create initial access token", err)
	}
	r.audit(ctx, AuditEvent{
		Tenant: t.name, Type: AuditIATMinted, TokenID: iat.ID, ClientID: iat.ClientID,
		Detail: fmt.Sprintf("policies %v, expires %s, max_uses %d, replacement %t", iat.Policies, iat.ExpiresAt.UTC().Format(time.RFC3339), iat.MaxUses, iat.Replacement),
	})
	return token, iat, nil
}

// checkMintRequest refuses a token the tenant could never accept or that
// would admit something it should not: policies the tenant lacks, a
// reserved client_id already taken without replacement, bad numbers.
func (r *Registrar) checkMintRequest(ctx context.Context, t *tenant, req MintRequest) error {
	if t.settings.InitialAccessToken == TokenStatic {
		return Errorf(CodeInvalidRequest, "tenant %q uses a static initial access token; stored tokens would never be accepted there", t.name)
	}
	if err := r.checkTokenPolicies(t, req.Policies); err != nil {
		return err
	}
	switch {
	case req.ExpiresIn < 0:
		return Errorf(CodeInvalidRequest, "expires_in must not be negative")
	case req.MaxUses < 0:
		return Errorf(CodeInvalidRequest, "max_uses must not be negative")
	case req.ClientID != "" && !ValidClientID(req.ClientID):
		return Errorf(CodeInvalidRequest, "client_id: want 1-128 characters of A-Z a-z 0-9 . _ ~ -")
	case req.Replacement && req.ClientID == "":
		return Errorf(CodeInvalidRequest, "replacement needs a client_id")
	case req.SoftwareStatementRequired && t.settings.SoftwareStatement == nil:
		return Errorf(CodeInvalidRequest, "software_statement_required needs a tenant that verifies software statements (its software_statement setting)")
	case req.ClientID == "" || req.Replacement:
		return nil
	}
	if _, err := r.store.Client(ctx, t.name, req.ClientID); err == nil {
		return Errorf(CodeConflict, "client %q is already registered; mint the token with replacement to replace it", req.ClientID)
	} else if !errors.Is(err, ErrNotFound) {
		return storeError("read client", err)
	}
	return nil
}

// checkTokenPolicies checks the policies a token names: valid names of
// modules the tenant has, with a policy hook, each named once.
func (r *Registrar) checkTokenPolicies(t *tenant, policies []string) error {
	for _, p := range policies {
		if !ValidModuleName(p) {
			return Errorf(CodeInvalidRequest, "policies: %q is not a valid policy module name", truncate(p, 64))
		}
		if r.modules == nil || !r.modules.Has(t.name, p, HookPolicy) {
			return Errorf(CodeInvalidRequest, "policies: tenant %q has no policy module %q with a policy hook", t.name, p)
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(policies)))) != len(policies) {
		return Errorf(CodeInvalidRequest, "policies: a policy is named more than once")
	}
	return nil
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
	t.iats.forget(id)
	if errors.Is(err, ErrNotFound) {
		return Errorf(CodeNotFound, "no initial access token with that ID")
	}
	if err != nil {
		return storeError("delete initial access token", err)
	}
	r.audit(ctx, AuditEvent{Tenant: t.name, Type: AuditIATRevoked, TokenID: id})
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

// MaxPageSize bounds a page of every listing: Clients,
// InitialAccessTokens and AuditEvents.
const MaxPageSize = 500

// Clients lists a tenant's clients that pass filter, by ID, a page at a
// time: limit of them (1 to MaxPageSize) after the cursor. next is "" on
// the last page.
func (r *Registrar) Clients(ctx context.Context, tenantName string, filter ClientFilter, cursor string, limit int) ([]*Client, string, error) {
	t, err := r.tenant(tenantName)
	if err != nil {
		return nil, "", err
	}
	if limit < 1 || limit > MaxPageSize {
		return nil, "", Errorf(CodeInvalidRequest, "limit must be between 1 and %d", MaxPageSize)
	}
	if err := filter.check(); err != nil {
		return nil, "", err
	}
	cs, next, err := r.store.Clients(ctx, t.name, filter, cursor, limit)
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
	r.audit(ctx, AuditEvent{Tenant: t.name, Type: AuditClientDeleted, ClientID: id})
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
	r.audit(ctx, AuditEvent{Tenant: t.name, Type: AuditRATMinted, ClientID: id})
	return token, c, nil
}

// check refuses a filter that cannot match anything sensible.
func (f ClientFilter) check() error {
	if f.IssuedBy != "" && !validDigest(f.IssuedBy) {
		return Errorf(CodeInvalidRequest, "initial_access_token must be a token ID: 64 lower-case hex digits")
	}
	if f.Policy == (PolicyVersion{}) {
		return nil
	}
	if !ValidModuleName(f.Policy.Name) || !validDigest(f.Policy.Digest) {
		return Errorf(CodeInvalidRequest, "policy must be name@digest, the digest 64 lower-case hex digits")
	}
	return nil
}

// ParsePolicyVersion reads "name@digest".
func ParsePolicyVersion(s string) (PolicyVersion, error) {
	name, digest, _ := strings.Cut(s, "@")
	v := PolicyVersion{Name: name, Digest: digest}
	if !ValidModuleName(name) || !validDigest(digest) {
		return PolicyVersion{}, Errorf(CodeInvalidRequest, "policy must be name@digest, the digest 64 lower-case hex digits")
	}
	return v, nil
}

// DeleteClients deletes every client of a tenant that passes filter, for
// the day an initial access token or a policy version turns out to have
// admitted clients it should not have, and returns how many it deleted.
// An empty filter is refused: it would delete every client. Clients
// registered while it runs may survive it; run it again to catch them.
func (r *Registrar) DeleteClients(ctx context.Context, tenantName string, filter ClientFilter) (int, error) {
	t, err := r.tenant(tenantName)
	if err != nil {
		return 0, err
	}
	if filter == (ClientFilter{}) {
		return 0, Errorf(CodeInvalidRequest, "a bulk delete needs a filter: initial_access_token or policy")
	}
	if err := filter.check(); err != nil {
		return 0, err
	}
	deleted := 0
	cursor := ""
	for {
		cs, next, err := r.store.Clients(ctx, t.name, filter, cursor, MaxPageSize)
		if err != nil {
			return deleted, partial(deleted, storeError("list clients", err))
		}
		for _, c := range cs {
			err := r.store.DeleteClient(ctx, t.name, c.ID)
			if errors.Is(err, ErrNotFound) {
				continue // deleted meanwhile
			}
			if err != nil {
				return deleted, partial(deleted, storeError("delete client", err))
			}
			deleted++
			r.audit(ctx, AuditEvent{Tenant: t.name, Type: AuditClientDeleted, ClientID: c.ID, Detail: "bulk delete"})
		}
		if next == "" {
			break
		}
		cursor = next
	}
	detail := fmt.Sprintf("%d clients", deleted)
	if filter.IssuedBy != "" {
		detail += ", initial access token " + filter.IssuedBy
	}
	e := AuditEvent{Tenant: t.name, Type: AuditClientsBulkDeleted, TokenID: filter.IssuedBy, Detail: detail}
	if filter.Policy != (PolicyVersion{}) {
		e.Policy = &filter.Policy
	}
	r.audit(ctx, e)
	return deleted, nil
}

// partial tells the caller of a bulk delete that failed part way how far it
// got, so that a repeat is not a surprise.
func partial(deleted int, err error) error {
	e := *AsError(err)
	e.Description = fmt.Sprintf("%s (%d clients were deleted before the failure; repeat the request to finish)", e.Description, deleted)
	return &e
}

// InitialAccessTokens lists a tenant's live initial access tokens by ID, a
// page at a time, as Clients does.
func (r *Registrar) InitialAccessTokens(ctx context.Context, tenantName, cursor string, limit int) ([]*InitialAccessToken, string, error) {
	t, err := r.tenant(tenantName)
	if err != nil {
		return nil, "", err
	}
	if limit < 1 || limit > MaxPageSize {
		return nil, "", Errorf(CodeInvalidRequest, "limit must be between 1 and %d", MaxPageSize)
	}
	ts, next, err := r.store.InitialAccessTokens(ctx, t.name, cursor, limit)
	if err != nil {
		return nil, "", storeError("list initial access tokens", err)
	}
	return ts, next, nil
}

// defaultAdminTokenLifetime is the lifetime of a tenant admin token minted
// without one.
const defaultAdminTokenLifetime = 90 * 24 * time.Hour

// MintAdminToken creates a tenant admin token: a bearer token for the admin
// API that manages that tenant only. It returns the token in the clear,
// once, with its stored record. An expiresIn of 0 means 90 days.
func (r *Registrar) MintAdminToken(ctx context.Context, tenantName, description string, expiresIn time.Duration) (string, *AdminToken, error) {
	t, err := r.tenant(tenantName)
	if err != nil {
		return "", nil, err
	}
	if expiresIn < 0 {
		return "", nil, Errorf(CodeInvalidRequest, "expires_in must not be negative")
	}
	if len(description) > 256 {
		return "", nil, Errorf(CodeInvalidRequest, "description is longer than 256 bytes")
	}
	if expiresIn == 0 {
		expiresIn = defaultAdminTokenLifetime
	}
	token, err := newToken(r.rand)
	if err != nil {
		return "", nil, serverError("internal server error", err)
	}
	now := r.now()
	at := &AdminToken{Tenant: t.name, ID: HashToken(token), Description: description, CreatedAt: now, ExpiresAt: now.Add(expiresIn)}
	if err := r.store.CreateAdminToken(ctx, at); errors.Is(err, ErrNoTenant) {
		return "", nil, &Error{Code: CodeNotFound, Description: fmt.Sprintf("no tenant named %q", t.name), Err: err}
	} else if err != nil {
		return "", nil, storeError("create admin token", err)
	}
	r.audit(ctx, AuditEvent{Tenant: t.name, Type: AuditAdminTokenMinted, TokenID: at.ID, Detail: description})
	return token, at, nil
}

// AdminTokens lists a tenant's live admin tokens.
func (r *Registrar) AdminTokens(ctx context.Context, tenantName string) ([]*AdminToken, error) {
	t, err := r.tenant(tenantName)
	if err != nil {
		return nil, err
	}
	ts, err := r.store.AdminTokens(ctx, t.name)
	if err != nil {
		return nil, storeError("list admin tokens", err)
	}
	return ts, nil
}

// RevokeAdminToken deletes a tenant admin token by its ID.
func (r *Registrar) RevokeAdminToken(ctx context.Context, tenantName, id string) error {
	t, err := r.tenant(tenantName)
	if err != nil {
		return err
	}
	err = r.store.DeleteAdminToken(ctx, t.name, id)
	if errors.Is(err, ErrNotFound) {
		return Errorf(CodeNotFound, "no admin token with that ID")
	}
	if err != nil {
		return storeError("delete admin token", err)
	}
	r.audit(ctx, AuditEvent{Tenant: t.name, Type: AuditAdminTokenRevoked, TokenID: id})
	return nil
}

// AuthenticateAdmin checks a tenant admin token presented for a tenant and
// returns its record. Every failure is the same invalid_token, so a token
// of one tenant learns nothing about another.
func (r *Registrar) AuthenticateAdmin(ctx context.Context, tenantName, token string) (*AdminToken, error) {
	if !ValidTenantName(tenantName) || !ValidBearerValue(token) {
		return nil, errInvalidToken(errors.New("malformed tenant or admin token"))
	}
	at, err := r.store.AdminToken(ctx, tenantName, HashToken(token))
	if errors.Is(err, ErrNotFound) {
		return nil, errInvalidToken(errors.New("unknown admin token"))
	}
	if err != nil {
		return nil, storeError("read admin token", err)
	}
	return at, nil
}

// AuditEvents pages through a tenant's audit log, newest first, limit
// events (1 to MaxPageSize) at a time; tenant "" is the log of the whole
// process. The log of a deleted tenant stays readable.
func (r *Registrar) AuditEvents(ctx context.Context, tenantName, before string, limit int) ([]*AuditEvent, string, error) {
	if tenantName != "" && !ValidTenantName(tenantName) {
		return nil, "", errNoTenant(tenantName)
	}
	if limit < 1 || limit > MaxPageSize {
		return nil, "", Errorf(CodeInvalidRequest, "limit must be between 1 and %d", MaxPageSize)
	}
	if r.auditLog == nil {
		return []*AuditEvent{}, "", nil
	}
	es, next, err := r.auditLog.AuditEvents(ctx, tenantName, before, limit)
	if errors.Is(err, ErrInvalidCursor) {
		return nil, "", Errorf(CodeInvalidRequest, "before is not a cursor of this audit log")
	}
	if err != nil {
		return nil, "", storeError("read audit log", err)
	}
	return es, next, nil
}

// Audit records an event that happened outside the engine, such as a
// policy module being loaded or refused, in the logs and the audit log.
func (r *Registrar) Audit(ctx context.Context, e AuditEvent) { r.audit(ctx, e) }
