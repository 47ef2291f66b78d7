// Package redisstore owns the Redis [engine.Store]: clients and initial
// access tokens kept in Redis (a single server, Redis Cluster, or a
// Sentinel-managed primary), shared by any number of Registrar replicas.
//
// # Key schema
//
// Every key of a tenant T carries the hash tag {T}, so all of a tenant's
// keys live in one hash slot and the multi-key scripts below work on Redis
// Cluster. P is Config.Prefix ("registrar" by default).
//
//	P:{T}:client:<client_id>   string  the client record: engine.Client as JSON
//	                                   (secret and registration access token as
//	                                   SHA-256 digests only); PEXPIREAT at its
//	                                   ExpiresAt when it has one
//	P:{T}:clients              zset    the listing index: every client ID, score 0,
//	                                   ordered byte-wise by ZRANGEBYLEX
//	P:{T}:clients:expiry       zset    the IDs of clients that expire, scored by
//	                                   their expiry in Unix milliseconds
//	P:{T}:iat:<token_id>       hash    an initial access token, keyed by its ID,
//	                                   the SHA-256 of the token (the token itself
//	                                   is never stored): "record" (JSON),
//	                                   "uses", "max_uses"; PEXPIREAT at its
//	                                   ExpiresAt
//
// # Atomicity
//
// Each write is one Lua script (EVALSHA), so it happens completely or not at
// all and no other command runs between its reads and its writes:
// registration checks that the ID is free (unless replacing), checks that
// the initial access token is live and has uses left, counts the use,
// writes the client with its expiry and updates the index in one step.
// UpdateClient reads the record, runs the caller's function and writes the
// result with a compare-and-set script that succeeds only if the record is
// still the one read; otherwise it reads again and retries.
//
// # Expiry and the index
//
// Records expire by Redis expiry (PEXPIREAT), on the Redis server's clock;
// nothing sweeps them. The listing index cannot expire member by member, so
// Clients reads each listed ID's record in the same script and skips (and
// drops from the index) IDs whose record is gone: a listing never shows an
// expired or deleted client. To keep the index from growing with clients
// that expired unlisted, every write and every listing also drops a bounded
// number of entries whose expiry (from P:{T}:clients:expiry) has passed.
//
// # Failures
//
// Every call is bounded by Config.Timeout. A connection failure, a timeout,
// or a server that is loading, read-only, failing over or out of memory is
// returned wrapping [engine.ErrUnavailable], which the HTTP layer answers
// with 503 and Retry-After. The client passed to New must have
// ContextTimeoutEnabled set, so that the deadline also bounds socket reads
// and writes.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/registrar-dev/registrar/engine"
)

// DefaultTimeout bounds each store call when Config.Timeout is zero.
const DefaultTimeout = 2 * time.Second

// DefaultPrefix begins every key when Config.Prefix is empty.
const DefaultPrefix = "registrar"

// Config configures a Store.
type Config struct {
	// Prefix begins every key, so that several deployments can share one
	// Redis database. Default DefaultPrefix. It may hold printable ASCII
	// characters other than space, '{' and '}' (braces would change the
	// hash tag).
	Prefix string
	// Timeout bounds each call of the store: every round trip, retry and
	// wait for a pooled connection it makes. Default DefaultTimeout.
	Timeout time.Duration
}

// Store is an engine.Store over a Redis client. It is safe for concurrent
// use, and so are several Stores (in one process or many) over one Redis.
// It does not own the client: the caller closes it.
type Store struct {
	rdb     redis.UniversalClient
	prefix  string
	timeout time.Duration
}

var _ engine.Store = (*Store)(nil)

// New returns a Store that keeps its records through rdb.
func New(rdb redis.UniversalClient, cfg Config) (*Store, error) {
	if rdb == nil {
		return nil, errors.New("redisstore: a Redis client is required")
	}
	if !contextTimeouts(rdb) {
		return nil, errors.New("redisstore: the Redis client must have ContextTimeoutEnabled set, so that Config.Timeout bounds its reads and writes")
	}
	s := &Store{rdb: rdb, prefix: cfg.Prefix, timeout: cfg.Timeout}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	for _, c := range s.prefix {
		if c <= ' ' || c > '~' || c == '{' || c == '}' {
			return nil, fmt.Errorf("redisstore: Config.Prefix %q: want printable ASCII without spaces or braces", cfg.Prefix)
		}
	}
	switch {
	case s.timeout < 0:
		return nil, fmt.Errorf("redisstore: Config.Timeout %v is negative", cfg.Timeout)
	case s.timeout == 0:
		s.timeout = DefaultTimeout
	}
	return s, nil
}

// contextTimeouts reports whether rdb lets context deadlines bound its
// socket reads and writes, as far as it can tell: a client of another type
// is trusted.
func contextTimeouts(rdb redis.UniversalClient) bool {
	switch c := rdb.(type) {
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	}
	return true
}

// Ping reports whether Redis answers, within Config.Timeout: on Redis
// Cluster, every primary, as each holds some tenants' keys.
func (s *Store) Ping(ctx context.Context) error {
	octx, cancel := s.op(ctx)
	defer cancel()
	var err error
	if c, ok := s.rdb.(*redis.ClusterClient); ok {
		err = c.ForEachMaster(octx, func(ctx context.Context, node *redis.Client) error {
			if err := node.Ping(ctx).Err(); err != nil {
				return fmt.Errorf("%s: %w", node.Options().Addr, err)
			}
			return nil
		})
	} else {
		err = s.rdb.Ping(octx).Err()
	}
	if err != nil {
		return s.fail(ctx, "ping", err)
	}
	return nil
}

// op returns the context of one store call: ctx bounded by the timeout.
func (s *Store) op(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// keys names the keys of one tenant.
type keys struct{ base string }

// tenantKeys returns the keys of tenant, or false if the name could not be
// a tenant's (engine.ValidTenantName): such a tenant has no records.
func (s *Store) tenantKeys(tenant string) (keys, bool) {
	if !engine.ValidTenantName(tenant) {
		return keys{}, false
	}
	return keys{s.prefix + ":{" + tenant + "}:"}, true
}

func (k keys) client(id string) string { return k.base + "client:" + id }
func (k keys) clientPrefix() string    { return k.base + "client:" }
func (k keys) clients() string         { return k.base + "clients" }
func (k keys) expiry() string          { return k.base + "clients:expiry" }
func (k keys) token(id string) string  { return k.base + "iat:" + id }

// expireAt is the PEXPIREAT argument for an expiry: 0 for none, else Unix
// milliseconds rounded up, so that a record is never dropped before its
// time; at least 1, so that a time before 1970 still means "expired".
func expireAt(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	ms := t.UnixMilli()
	if t.After(time.UnixMilli(ms)) {
		ms++
	}
	return max(ms, 1)
}

// errInvalidTenant refuses a write for a tenant name that cannot be one.
func errInvalidTenant(tenant string) error {
	return fmt.Errorf("redisstore: %q is not a valid tenant name", tenant)
}

// unavailablePrefixes are the error replies of a server that cannot serve
// now but may soon: loading its data set, a replica or a primary that lost
// its replicas, a cluster without quorum or resharding, a long script,
// memory full, too many clients.
var unavailablePrefixes = []string{
	"LOADING", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN",
	"NOREPLICAS", "BUSY", "OOM", "ERR max number of clients",
}

// fail wraps an error of a call made under ctx. Errors of the connection
// (refused, reset, timed out, pool exhausted, client closed) and the
// replies in unavailablePrefixes wrap engine.ErrUnavailable. Other error
// replies are bugs or misconfiguration and are returned as they are, as is
// the error of a caller that gave up (ctx canceled).
func (s *Store) fail(ctx context.Context, op string, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("redisstore: %s: %w", op, err)
	}
	var reply redis.Error
	if errors.As(err, &reply) {
		msg := reply.Error()
		for _, p := range unavailablePrefixes {
			if strings.HasPrefix(msg, p) {
				return fmt.Errorf("redisstore: %s: %w: %w", op, engine.ErrUnavailable, err)
			}
		}
		return fmt.Errorf("redisstore: %s: %w", op, err)
	}
	return fmt.Errorf("redisstore: %s: %w: %w", op, engine.ErrUnavailable, err)
}
