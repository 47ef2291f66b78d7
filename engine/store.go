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
)

// Store keeps clients and initial access tokens. Every method is safe for
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
	// unless replace is true: then the whole record is replaced (or created).
	CreateClient(ctx context.Context, c *Client, replace bool) error

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

	// Clients lists the live clients of a tenant ordered by ID (byte-wise),
	// starting after the ID in the after argument (empty: from the start;
	// it need not name a live client), at most limit of them (limit > 0).
	// next is the ID of the page's last client when more live clients
	// follow, else empty. An unknown tenant has no clients: an empty page.
	Clients(ctx context.Context, tenant, after string, limit int) (clients []*Client, next string, err error)

	// CreateInitialAccessToken stores a new initial access token, or returns
	// ErrAlreadyExists if one with the same tenant and ID is live.
	CreateInitialAccessToken(ctx context.Context, t *InitialAccessToken) error

	// InitialAccessToken returns the live token with that tenant and ID, or
	// ErrNotFound.
	InitialAccessToken(ctx context.Context, tenant, id string) (*InitialAccessToken, error)

	// DeleteInitialAccessToken revokes a token; ErrNotFound if it was not live.
	DeleteInitialAccessToken(ctx context.Context, tenant, id string) error

	// Ping reports whether the store can serve requests.
	Ping(ctx context.Context) error
}

// Live reports whether a record with this expiry is still live at now.
// The zero time means the record never expires.
func Live(expiresAt, now time.Time) bool {
	return expiresAt.IsZero() || now.Before(expiresAt)
}
