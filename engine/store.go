package engine

import (
	"context"
	"errors"
	"time"
)

// Store errors. Implementations return them (possibly wrapped) so that the
// engine can tell the cases apart.
var (
	// ErrNotFound: no live record has that key (expired records count as absent).
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a create found a live record with that key.
	ErrAlreadyExists = errors.New("already exists")
	// ErrTokenExhausted: the initial access token has no uses left.
	ErrTokenExhausted = errors.New("initial access token has no uses left")
	// ErrUnavailable: the store cannot be reached; the request may be retried.
	ErrUnavailable = errors.New("store unavailable")
	// ErrQuotaExceeded: the tenant has as many live clients as
	// CreateOptions.MaxClients allows.
	ErrQuotaExceeded = errors.New("client quota exceeded")
	// ErrNoTenant: the tenant is being deleted, or was deleted less than
	// TombstoneTTL ago, so nothing may be created in it.
	ErrNoTenant = errors.New("tenant is deleted")
	// ErrRevisionMismatch: a conditional PutTenant found another revision,
	// or no record to replace.
	ErrRevisionMismatch = errors.New("revision mismatch")
	// ErrDeleting: the tenant is being deleted; finish with DeleteTenant.
	ErrDeleting = errors.New("tenant is being deleted")
	// ErrPolicyLimit: a policy store write would take the tenant over its
	// PolicyLimits (see PolicyLimitError).
	ErrPolicyLimit = errors.New("policy limit reached")
	// ErrSoftwareIDTaken: a create with CreateOptions.UniqueSoftwareID
	// found another live client with the same software_id.
	ErrSoftwareIDTaken = errors.New("software_id taken by another live client")
	// ErrReplayed: a create found one of its CreateOptions.Marks live (see
	// ReplayedError).
	ErrReplayed = errors.New("single-use value used before")
)

// Mark is a single-use value that a create spends in its atomic write
// (CreateOptions.Marks): the key of a ReplayCache mark of the client's
// tenant and until when it is remembered.
type Mark struct {
	Key   string
	Until time.Time
}

// ReplayedError is the error of a create that found the mark Key live; it
// matches ErrReplayed.
type ReplayedError struct {
	Key string
}

// Error implements error.
func (e *ReplayedError) Error() string { return "mark " + e.Key + ": " + ErrReplayed.Error() }

// Is makes a ReplayedError match ErrReplayed.
func (e *ReplayedError) Is(target error) bool { return target == ErrReplayed }

// TombstoneTTL is how long a deleted tenant's name keeps refusing creates
// (ErrNoTenant) after DeleteTenant returns: longer than any replica takes to
// notice that the tenant is gone, so that none of them writes a client into
// a tenant that no longer exists.
const TombstoneTTL = time.Minute

// CreateOptions qualify CreateClient.
type CreateOptions struct {
	// Replace replaces a live client with the same tenant and ID, whole
	// record and expiry included, instead of failing with ErrAlreadyExists.
	Replace bool
	// MaxClients, when positive, bounds the tenant's live clients: a create
	// that would make more of them returns ErrQuotaExceeded, writes nothing
	// and consumes no token use. Replacing a live client adds none and is
	// never refused for the quota.
	MaxClients int
	// UniqueSoftwareID, when c.Metadata.SoftwareID is set, refuses the
	// create with ErrSoftwareIDTaken if a live client of the tenant with
	// another ID has that software_id; it writes nothing and consumes no
	// token use. A replaced client (Replace, same ID) does not count.
	UniqueSoftwareID bool
	// Audit, when set, is appended to the tenant's audit log in the same
	// atomic step as the write, and only if the write is made: so that a
	// client is never stored without its event, nor an event without its
	// client, and a retried create that finds its own record appends
	// nothing more. The engine sets it only when the Store is also its
	// AuditLog.
	Audit *AuditEvent
	// Marks are spent in the same atomic step as the write: if one of
	// them is live the create returns a *ReplayedError naming the first
	// such and writes nothing (no token use consumed, no mark set);
	// otherwise each is set until its Until, as ReplayCache.Mark sets it.
	// So a single-use value (a software statement's jti) is spent exactly
	// when a client is stored with it. A retried create that finds its
	// own record sets none. The engine sets it only when the Store is also
	// its ReplayCache.
	Marks []Mark
}

// ClientFilter selects clients in a listing; its zero value selects all.
// When several fields are set a client must match all of them.
type ClientFilter struct {
	// IssuedBy keeps the clients whose IssuedBy is this initial access
	// token ID.
	IssuedBy string
	// Policy keeps the clients whose current metadata that policy version
	// shaped: the version is in the Policies of their last History entry.
	// Both Name and Digest must be set, or neither.
	Policy PolicyVersion
	// SoftwareID keeps the clients whose Metadata.SoftwareID is this.
	SoftwareID string
}

// Match reports whether c passes the filter.
func (f ClientFilter) Match(c *Client) bool {
	if f.IssuedBy != "" && c.IssuedBy != f.IssuedBy {
		return false
	}
	if f.Policy != (PolicyVersion{}) && !c.lastRan(f.Policy) {
		return false
	}
	if f.SoftwareID != "" && c.Metadata.SoftwareID != f.SoftwareID {
		return false
	}
	return true
}

// Store keeps clients, initial access tokens, tenant records and tenant
// admin tokens. Every method is safe for
// concurrent use and every write is atomic: it happens completely or not at
// all. Records whose ExpiresAt has passed are absent to every method; a
// record written already expired is absent at once. Stores keep copies:
// callers may change what they pass in and what they get back, and every
// field (times exactly, by Equal) comes back as it went in. The conformance
// suite in engine/storetest defines the contract in detail.
type Store interface {
	// CreateClient stores a new client. When c.IssuedBy names an initial
	// access token (by its ID), one use of that token is consumed in the same
	// atomic step: if the token is missing or expired the call returns
	// ErrNotFound, if it has no uses left ErrTokenExhausted, and nothing is
	// written. The token is looked up in c.Tenant. A live client with the
	// same tenant and ID gives ErrAlreadyExists, consuming no token use,
	// unless opts.Replace; opts.MaxClients bounds the tenant's clients.
	// opts.UniqueSoftwareID refuses a second live client with the same
	// software_id (ErrSoftwareIDTaken). While the tenant has a tombstone
	// (see DeleteTenant) it returns ErrNoTenant. The checks are made in
	// the order tombstone, token, existing ID, marks, software_id, quota.
	CreateClient(ctx context.Context, c *Client, opts CreateOptions) error

	// Client returns the live client with that tenant and ID, or ErrNotFound.
	Client(ctx context.Context, tenant, id string) (*Client, error)

	// UpdateClient applies fn to the current client and stores the result,
	// atomically with respect to every other write of that client. fn may be
	// called more than once, must not have side effects, must not call the
	// store and must not change Tenant or ID; an error from fn aborts the
	// update and is returned as is. fn's result replaces the record. It
	// returns the stored client, or ErrNotFound (without calling fn).
	UpdateClient(ctx context.Context, tenant, id string, fn func(*Client) error) (*Client, error)

	// DeleteClient removes the client record, which holds its registration
	// access token. It returns ErrNotFound if there was no live client.
	DeleteClient(ctx context.Context, tenant, id string) error

	// Clients lists the live clients of a tenant that pass filter, ordered
	// by ID (byte-wise), starting after the ID in the after argument (empty:
	// from the start; it need not name a live client), at most limit of
	// them (limit > 0). next is the ID of the page's last client when more
	// matching live clients follow, else empty. An unknown tenant has no
	// clients: an empty page. A page may be shorter than limit only when it
	// is the last.
	Clients(ctx context.Context, tenant string, filter ClientFilter, after string, limit int) (clients []*Client, next string, err error)

	// CreateInitialAccessToken stores a new initial access token, or returns
	// ErrAlreadyExists if one with the same tenant and ID is live, or
	// ErrNoTenant while the tenant has a tombstone.
	CreateInitialAccessToken(ctx context.Context, t *InitialAccessToken) error

	// InitialAccessTokens lists the live initial access tokens of a tenant
	// by ID, paged as Clients is.
	InitialAccessTokens(ctx context.Context, tenant, after string, limit int) (tokens []*InitialAccessToken, next string, err error)

	// InitialAccessToken returns the live token with that tenant and ID, or
	// ErrNotFound.
	InitialAccessToken(ctx context.Context, tenant, id string) (*InitialAccessToken, error)

	// DeleteInitialAccessToken revokes a token; ErrNotFound if it was not live.
	DeleteInitialAccessToken(ctx context.Context, tenant, id string) error

	// PutTenant creates or replaces a tenant record and returns it as
	// stored. The store sets Revision (1 on create, one more on each
	// replace) and keeps CreatedAt of a replaced record; it never sets
	// Deleting. With ifRevision 0 the put is unconditional; otherwise it
	// replaces only a record whose Revision equals ifRevision and returns
	// ErrRevisionMismatch when the record differs or is absent. A tenant
	// being deleted gives ErrDeleting. A put over a tombstone whose
	// deletion finished creates the tenant afresh and lifts the tombstone:
	// creates in the tenant work again at once.
	PutTenant(ctx context.Context, t *TenantRecord, ifRevision int64) (*TenantRecord, error)

	// Tenant returns a tenant record, or ErrNotFound. A tenant being
	// deleted is returned with Deleting set.
	Tenant(ctx context.Context, name string) (*TenantRecord, error)

	// Tenants returns every tenant record, those being deleted included,
	// sorted by name.
	Tenants(ctx context.Context) ([]*TenantRecord, error)

	// TenantChanges returns the tenants put, marked deleting or deleted
	// after the change numbered since, and the number of the latest
	// change, to pass as since next time. Changes are numbered upwards as
	// they are made; a tenant changed several times is listed once. With
	// since < 0 it returns no tenants, only the latest number. A latest
	// number lower than since means the store lost changes (it was
	// replaced or emptied): the caller must read every tenant again.
	TenantChanges(ctx context.Context, since int64) (*TenantChanges, error)

	// DeleteTenant deletes a tenant and everything it owns: its record,
	// clients, initial access tokens, admin tokens and listing indexes (the
	// audit log is kept). It first marks the record Deleting, which makes
	// every create in the tenant fail with ErrNoTenant, then removes the
	// data in bounded batches, then removes the record, leaving a tombstone
	// that refuses creates for TombstoneTTL. When the call fails part way
	// the record stays Deleting and a later call resumes. It succeeds
	// whether or not there was a record, so it also removes the data of a
	// tenant that was only ever defined in the configuration file.
	DeleteTenant(ctx context.Context, name string) error

	// CreateAdminToken stores a tenant admin token, or returns
	// ErrAlreadyExists if one with the same tenant and ID is live, or
	// ErrNoTenant while the tenant has a tombstone.
	CreateAdminToken(ctx context.Context, t *AdminToken) error

	// AdminToken returns the live admin token with that tenant and ID, or
	// ErrNotFound.
	AdminToken(ctx context.Context, tenant, id string) (*AdminToken, error)

	// AdminTokens returns the live admin tokens of a tenant, sorted by ID.
	AdminTokens(ctx context.Context, tenant string) ([]*AdminToken, error)

	// DeleteAdminToken revokes an admin token; ErrNotFound if it was not live.
	DeleteAdminToken(ctx context.Context, tenant, id string) error

	// Ping reports whether the store can serve requests.
	Ping(ctx context.Context) error
}

// Live reports whether a record with this expiry is still live at now.
// The zero time means the record never expires.
func Live(expiresAt, now time.Time) bool {
	return expiresAt.IsZero() || now.Before(expiresAt)
}

// TenantChanges is what Store.TenantChanges returns: the records of the
// tenants changed since a change number and the names of those deleted.
// Refresh reads only these, so that its cost does not grow with the
// number of tenants that did not change.
type TenantChanges struct {
	// Records are the changed tenants that have a record, those being
	// deleted included (with Deleting set).
	Records []*TenantRecord
	// Gone names the changed tenants that have no record.
	Gone []string
	// Latest is the number of the latest change.
	Latest int64
}
