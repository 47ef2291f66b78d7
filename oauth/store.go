package oauth

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// Store keeps what the token endpoint writes: the records of opaque access
// tokens, and marks (assertion IDs already used, revoked JWT IDs). Every
// method is safe for concurrent use and every write is atomic. Records and
// marks whose time has passed are absent to every method. Tenants are
// isolated: a tenant never sees another's records or marks. Stores keep
// copies, as engine.Store does. The conformance suite in oauth/storetest
// defines the contract in detail.
type Store interface {
	// PutToken stores an access token's record under its tenant and
	// digest until its ExpiresAt; it returns engine.ErrAlreadyExists if a
	// live record has that digest.
	PutToken(ctx context.Context, t *Token) error
	// Token returns the live record with that tenant and digest, or
	// engine.ErrNotFound.
	Token(ctx context.Context, tenant, digest string) (*Token, error)
	// DeleteToken removes a record; engine.ErrNotFound if none was live.
	DeleteToken(ctx context.Context, tenant, digest string) error
	// Mark records key in the tenant's marks until the time given, and
	// reports whether it is new: false when a live mark of that key
	// exists, which keeps its own time. Of many concurrent marks of one
	// key, on any number of replicas, exactly one is new.
	Mark(ctx context.Context, tenant, key string, until time.Time) (fresh bool, err error)
	// Marked reports whether the tenant has a live mark of that key.
	Marked(ctx context.Context, tenant, key string) (bool, error)
	// KeyRing returns the tenant's signing key ring, or engine.ErrNotFound
	// if it has none.
	KeyRing(ctx context.Context, tenant string) (*KeyRing, error)
	// PutKeyRing stores ring as its tenant's key ring if the stored ring's
	// Revision is ifRevision (0: no ring is stored), with Revision
	// ifRevision+1; else it stores nothing and returns
	// engine.ErrRevisionMismatch. Of concurrent puts with one ifRevision,
	// on any number of replicas, exactly one succeeds.
	PutKeyRing(ctx context.Context, ring *KeyRing, ifRevision int64) error
}

// ClientMarkReader is a Store that is also the clients' store and reads a
// client together with one of its tenant's marks, in one step (in Redis,
// one MGET): the token endpoint reads the client it authenticates with its
// lockout mark, one round trip instead of two. Both stores implement it.
type ClientMarkReader interface {
	// ClientMarked returns a copy of the live client with that tenant and
	// ID, nil if there is none, and whether the tenant has a live mark of
	// key.
	ClientMarked(ctx context.Context, tenant, id, key string) (c *engine.Client, marked bool, err error)
}

// ClientTokenWriter is a ClientMarkReader that also stores a token on
// the condition that the client it is issued to is unchanged and not
// locked out, in one step (in Redis, one script). With it the token
// endpoint remembers a client that authenticated for a few seconds
// (clientcache.go) and issues it tokens with one round trip instead of
// two; the condition makes the answer the one a fresh read would give.
// Both stores implement it.
type ClientTokenWriter interface {
	ClientMarkReader
	// ClientRecord is ClientMarked that also returns the client's
	// stored record: opaque bytes that differ whenever the stored client
	// does ("" when there is none). A key of "" is no mark: marked is
	// false.
	ClientRecord(ctx context.Context, tenant, id, key string) (c *engine.Client, record string, marked bool, err error)
	// PutTokenIf stores t as PutToken does, provided that the tenant has
	// no live mark of key ("" is none) and that the client t.ClientID is
	// stored with exactly record. Otherwise it stores nothing and reports
	// which condition failed, the mark first.
	PutTokenIf(ctx context.Context, t *Token, record, key string) (marked, changed bool, err error)
}

// Token is the record of an access token. The token itself is not in it,
// only its digest (engine.HashToken), so a leaked store yields no usable
// token.
type Token struct {
	Tenant string `json:"tenant"`
	// Digest is the hex SHA-256 of the token: the record's key.
	Digest string `json:"digest"`
	// ID is the token's jti: the same value a JWT of the token would
	// carry, for logs and the introspection response.
	ID       string `json:"jti"`
	ClientID string `json:"client_id"`
	// ClientIssuedAt is when the client the token was issued to was
	// registered: a token is active only while the client with that ID is
	// this registration, so deleting or replacing a client ends its tokens.
	ClientIssuedAt time.Time `json:"client_issued_at"`
	// Subject is the token's sub: the client ID for client_credentials
	// (RFC 9068 §2.2).
	Subject  string   `json:"sub"`
	Scope    string   `json:"scope,omitempty"`
	Audience []string `json:"aud,omitempty"`
	// AuthMethod is how the client authenticated to get the token.
	AuthMethod string    `json:"auth_method"`
	IssuedAt   time.Time `json:"iat"`
	ExpiresAt  time.Time `json:"exp"`
	// CertThumbprint is the base64url SHA-256 of the client certificate
	// the token is bound to (RFC 8705 §3), if any.
	CertThumbprint string `json:"x5t#S256,omitempty"`
	// Claims are the extra claims an issue_access_token hook added.
	Claims map[string]json.RawMessage `json:"claims,omitempty"`
}

// Clone returns a deep copy.
func (t *Token) Clone() *Token {
	d := *t
	d.Audience = slices.Clone(t.Audience)
	d.Claims = maps.Clone(t.Claims)
	return &d
}
