// Package redisstore owns the Redis [engine.Store], [engine.AuditLog],
// [engine.Limiter], [engine.PolicyStore] and [oauth.Store]: clients,
// initial access tokens, tenant records, tenant admin tokens, audit events,
// rate-limit budgets, uploaded policy modules, and the token endpoint's
// access token records and marks kept in Redis (a single server, Redis
// Cluster, or a Sentinel-managed primary), shared by any number of
// Registrar replicas, which also exchange policy changes and their status
// through it. [Open] connects from a URL (redis://, rediss://, unix://,
// and the +cluster and +sentinel forms), so that callers never name a
// go-redis type; [New] takes a client made elsewhere.
//
// # Key schema
//
// Every key of a tenant T carries the hash tag {T}, so all of a tenant's
// keys live in one hash slot and the multi-key scripts below work on Redis
// Cluster. P is Config.Prefix ("registrar" by default). Tenant names match
// engine.ValidTenantName, so they never hold a brace, a colon or an
// underscore: the tag {_} is free for the keys that belong to no tenant,
// and no tenant's keys share a prefix with another's ("{acme}" and
// "{acme-2}" differ at the closing brace). Policy names match
// engine.ValidModuleName, so they hold no colon either.
//
//	P:{T}:client:<client_id>        string  the client record: engine.Client as
//	                                        JSON (secret and registration access
//	                                        token as SHA-256 digests only);
//	                                        PEXPIREAT at its ExpiresAt
//	P:{T}:clients                   zset    the listing index: every client ID,
//	                                        score 0, ordered by ZRANGEBYLEX
//	P:{T}:clients:expiry            zset    the IDs of clients that expire,
//	                                        scored by expiry in Unix ms
//	P:{T}:clients:token:<token_id>  zset    filter index: the clients whose
//	                                        IssuedBy is that token, score 0
//	P:{T}:clients:policy:<name>@<digest>
//	                                zset    filter index: the clients whose last
//	                                        History entry ran that version
//	P:{T}:clients:software:<sha256> zset    filter index: the clients whose
//	                                        software_id has that SHA-256 (hex)
//	P:{T}:clients:filters           hash    client ID -> the filter indexes it is
//	                                        in (MessagePack list of key suffixes),
//	                                        so that expiry and deletion can
//	                                        remove it from them
//	P:{T}:iat:<token_id>            hash    an initial access token: "record"
//	                                        (JSON), "uses", "max_uses";
//	                                        PEXPIREAT at its ExpiresAt
//	P:{T}:iats                      zset    the initial access token IDs, score 0
//	P:{T}:iats:expiry               zset    the IDs of tokens that expire, by expiry
//	P:{T}:admin:<token_id>          string  a tenant admin token as JSON;
//	                                        PEXPIREAT at its ExpiresAt
//	P:{T}:admins                    zset    the admin token IDs, score 0
//	P:{T}:tenant                    string  the tenant record as JSON (without
//	                                        Deleting)
//	P:{T}:tombstone                 string  "deleting" while DeleteTenant runs or
//	                                        after it failed part way (no expiry);
//	                                        "deleted" for engine.TombstoneTTL after
//	                                        it finished. Creates are refused while
//	                                        it exists.
//	P:{T}:audit                     stream  the tenant's audit events, capped at
//	                                        Config.AuditMaxLen
//	P:{T}:rate:<key>                string  a rate-limit budget: its theoretical
//	                                        arrival time in Unix µs; expires when
//	                                        the bucket is full again
//	P:{T}:at:<digest>               string  an access token's record: oauth.Token
//	                                        as compact JSON without its tenant and
//	                                        digest (the key names them); <digest>
//	                                        is the token's SHA-256; PEXPIREAT at
//	                                        its ExpiresAt
//	P:{T}:mark:<key>                string  a mark (a used assertion ID, a revoked
//	                                        JWT ID): "1"; PEXPIREAT at its time.
//	                                        <key> is free text: after the tag, its
//	                                        braces cannot move the key's slot, and
//	                                        the words "at:" and "mark:" before the
//	                                        free text keep the two types apart
//	P:{T}:signing-keys              hash    the tenant's access token signing keys:
//	                                        "rev" (the revision, for the
//	                                        compare-and-set of PutKeyRing) and
//	                                        "ring" (oauth.KeyRing as JSON; private
//	                                        keys sealed under the key-encryption
//	                                        key, never in the clear); no expiry
//	P:{~<hex>}:rate:<key>           string  the budget of a tenant string that is
//	                                        no tenant name (never the engine's)
//	P:{T}:policy:<name>             string  an uploaded policy's record:
//	                                        engine.StoredPolicy as JSON
//	P:{T}:policy-blobs:<name>       hash    the policy's module bytes, by digest
//	                                        (hex SHA-256): those its record lists
//	                                        and any put for a record not written
//	P:{T}:policies                  zset    the names of the policies with a
//	                                        record or bytes, score 0
//	P:{_}:tenants                   zset    the names of the tenants with a
//	                                        record, score 0
//	P:{_}:tenants:seq               string  the number of the latest change of
//	                                        a tenant record (TenantChanges)
//	P:{_}:tenants:changes           zset    the names of the tenants ever put or
//	                                        deleted, scored by the number of
//	                                        their latest change
//	P:{_}:audit                     stream  the process-wide audit log (tenant "")
//	P:{_}:policy-tenants            zset    the tenants whose P:{T}:policies is
//	                                        not empty (every tenant with a policy
//	                                        record, and maybe some with bytes
//	                                        only), score 0
//	P:{_}:replica:<replica>         string  a replica's engine.ReplicaStatus as
//	                                        JSON; PX its ttl
//	P:{_}:replicas                  zset    the replica IDs, scored by the expiry
//	                                        of their status in Unix ms
//	P:{_}:policy-changes            channel pub/sub channel (not a key) of
//	                                        engine.PolicyChange as JSON
//
// Bearer tokens appear only as their SHA-256 digests (the IDs).
//
// # Atomicity
//
// Each write is one Lua script (EVALSHA) or one command, so it happens
// completely or not at all and no other command runs between its reads and
// its writes. The token endpoint's writes are single commands, one round
// trip each: PutToken and Mark are SET NX PXAT (Redis 6.2 or later), which
// writes only if the key is absent (no live record or mark) and sets its
// expiry in the same step; a time already past writes nothing. PutKeyRing
// is one script that writes the ring only if its revision is still the one
// the caller read, and not while the tenant's tombstone exists. In one
// script, registration checks the tenant's tombstone, checks that the initial
// access token is live and has uses left, that the ID is free (unless
// replacing) and that the tenant is under its quota, counts the use, writes
// the client with its expiry and updates the indexes in one step.
// UpdateClient reads the record, runs the caller's function and writes the
// result with a compare-and-set script that succeeds only if the record is
// still the one read; otherwise it reads again and retries. PutTenant and
// UpdatePolicy do the same with tenant and policy records; UpdatePolicy's
// script also drops, from the policy's blob hash, the bytes of the versions
// the record no longer lists, and a removal deletes the record and the
// whole hash. Scripts build the names of keys they find
// in the indexes from the tenant's key prefix: those keys carry the same
// hash tag, so they are in the slot of the keys the script declares.
//
// # Expiry and the indexes
//
// Records expire by Redis expiry (PEXPIREAT), on the Redis server's clock;
// nothing sweeps them. The listing indexes cannot expire member by member,
// so listings read each listed ID's record in the same script and skip (and
// drop from the indexes) IDs whose record is gone, and the filter indexes
// are checked against the record too: a listing never shows an expired,
// deleted or no longer matching client. To keep the indexes from growing
// with records that expired unlisted, every write and every listing also
// drops a bounded number of entries whose expiry has passed.
//
// # Tenant deletion
//
// DeleteTenant sets the tombstone to "deleting", then removes the tenant's
// records and indexes in batches of deleteBatch records, one script each,
// uploaded policies last, each with all its bytes; then the access tokens
// and marks, which no index lists: it SCANs the keys of the node holding
// the tenant's slot for the tenant's prefix, scanCount at a time, and
// UNLINKs those it finds, a step per batch; then the signing key ring;
// then it removes the record
// and turns the tombstone into "deleted" with an expiry of
// engine.TombstoneTTL, then takes the name out of the tenant index and the
// policy tenant index. Each step can be repeated, so a call that failed
// part way is resumed by the next. The audit stream stays; rate-limit
// budgets expire by themselves. While the tombstone exists, PutPolicyBlob
// and an UpdatePolicy that writes a record fail with engine.ErrNoTenant.
// PutToken and Mark, one command each, do not read the tombstone: one
// that runs while the scan does may leave a record or mark that lives
// until its time (the token is inactive anyway, as its client is gone).
//
// # Policy changes and replica status
//
// PublishPolicyChange is a PUBLISH on the policy change channel, and
// WatchPolicyChanges a SUBSCRIBE to it on a connection of its own, which
// go-redis reconnects and subscribes again after a restart or failover
// (changes published meanwhile are lost: replicas poll StoredPolicies). On
// Redis Cluster a message published on one node reaches subscribers on
// every node. PutReplicaStatus writes the status with an expiry, and its
// expiry in the replica index, in one script on the server's clock;
// ReplicaStatuses reads the live ones and drops the index entries of the
// others.
//
// # Failures
//
// Every call is bounded by Config.Timeout (DeleteTenant: each of its
// batches). A connection failure, a timeout, or a server that is loading,
// read-only, failing over or out of memory is returned wrapping
// [engine.ErrUnavailable], which the HTTP layer answers with 503 and
// Retry-After. The client passed to New must have ContextTimeoutEnabled
// set, so that the deadline also bounds socket reads and writes.
//
// # Failovers
//
// With Config.WaitReplicas, each write that acknowledges something to a
// client is followed, on its connection and in the same round trip, by
// WAIT (see replicationWaiter); too few replicas fail it with
// ErrNotReplicated. On Redis Cluster, errors that may mean a failover
// reload the slot map (see slotMapRefresher). Open refuses URLs of the
// wrong form for the servers they name (see redisTarget.diagnose and
// checkMode).
package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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

// DefaultAuditMaxLen is how many events each audit log keeps when
// Config.AuditMaxLen is zero.
const DefaultAuditMaxLen = 10000

// maxBatches is how many pipelines of the commands of concurrent calls a
// Store has in flight at once (see batcher). Fewer make larger batches
// and fewer system calls (read requests at 16 connections: 6.8 per request
// with 1, 7.3 with 2, 8.5 with 4, 12 without batching); more than one
// keeps a slow command (a long listing) from holding up every other.
const maxBatches = 2

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
	// AuditMaxLen is how many events the audit log keeps per tenant (and
	// for the process-wide log of tenant ""): each append trims the
	// tenant's stream to exactly this many. Default DefaultAuditMaxLen.
	AuditMaxLen int
	// PolicyLimits bound each tenant's uploaded policy modules (see
	// engine.PolicyLimits); a zero field means its default.
	PolicyLimits engine.PolicyLimits
	// WaitReplicas, when positive, makes every write that acknowledges
	// something to a client (a registration, update or deletion, an access
	// token issued or revoked, an operator's write) wait until this many
	// replicas of its Redis primary have acknowledged it, with WAIT on the
	// write's connection; when fewer do within WaitTimeout the call fails
	// with an error wrapping ErrNotReplicated and engine.ErrUnavailable,
	// although the write was made. Default 0: no wait. New hooks the wait
	// into rdb (on Redis Cluster into each node's client, so a cluster
	// client must not have been used yet), and rdb's read timeout must be
	// longer than WaitTimeout.
	WaitReplicas int
	// WaitTimeout bounds each replication wait; it must be shorter than
	// Timeout. Default DefaultWaitTimeout.
	WaitTimeout time.Duration
	// ObserveWait, when set, is called after each replication wait (for
	// metrics). It must be quick and safe for concurrent use.
	ObserveWait func(ReplicationWait)
}

// Store is an engine.Store, engine.AuditLog, engine.Limiter,
// engine.PolicyStore and oauth.Store over a Redis client. It is safe for concurrent
// use, and so are several Stores (in one process or many) over one Redis.
// A Store from New does not own the client: the caller closes it; one from
// Open owns its client, and Close closes it.
type Store struct {
	rdb         redis.UniversalClient
	prefix      string
	timeout     time.Duration
	auditMaxLen int64
	batch       *batcher
	// owned is set by Open: Close closes rdb.
	owned bool
	// target describes the Redis of Open's URL, without credentials.
	target string
	limits engine.PolicyLimits
	// waiter is set when Config.WaitReplicas is (see durable).
	waiter *replicationWaiter
}

var (
	_ engine.Store       = (*Store)(nil)
	_ engine.AuditLog    = (*Store)(nil)
	_ engine.Limiter     = (*Store)(nil)
	_ engine.PolicyStore = (*Store)(nil)
)

// New returns a Store that keeps its records through rdb. On Redis
// Cluster it hooks into rdb a reload of the slot map after errors that may
// mean a failover (see slotMapRefresher), and Config.WaitReplicas hooks
// the replication wait.
func New(rdb redis.UniversalClient, cfg Config) (*Store, error) {
	if rdb == nil {
		return nil, errors.New("redisstore: a Redis client is required")
	}
	if !contextTimeouts(rdb) {
		return nil, errors.New("redisstore: the Redis client must have ContextTimeoutEnabled set, so that Config.Timeout bounds its reads and writes")
	}
	if err := cfg.PolicyLimits.Check(); err != nil {
		return nil, fmt.Errorf("redisstore: Config.%w", err)
	}
	s := &Store{rdb: rdb, prefix: cfg.Prefix, timeout: cfg.Timeout, auditMaxLen: int64(cfg.AuditMaxLen), limits: cfg.PolicyLimits.OrDefaults()}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	s.batch = newBatcher(rdb, maxBatches)
	rdb.AddHook(s.batch)
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
	switch {
	case s.auditMaxLen < 0:
		return nil, fmt.Errorf("redisstore: Config.AuditMaxLen %d is negative", cfg.AuditMaxLen)
	case s.auditMaxLen == 0:
		s.auditMaxLen = DefaultAuditMaxLen
	}
	if err := s.hookInto(rdb, cfg); err != nil {
		return nil, err
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

// Ping reports whether Redis answers, within Config.Timeout, for the keys
// every request needs: those of no tenant (the tenant index). On Redis
// Cluster that is the primary of their slot; a primary holding only some
// tenants' keys may be down (with cluster-require-full-coverage no) while
// Ping succeeds: Shards reports each primary.
func (s *Store) Ping(ctx context.Context) error {
	octx, cancel := s.op(ctx)
	defer cancel()
	if err := s.pingGlobal(octx); err != nil {
		return s.fail(ctx, "ping", err)
	}
	return nil
}

// op returns the context of one store call: ctx bounded by the timeout.
func (s *Store) op(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(s.batch.mark(ctx), s.timeout)
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

// global returns the keys of the hash tag {_}, which is no tenant's: the
// tenant index and the process-wide audit log live there.
func (s *Store) global() keys { return keys{s.prefix + ":{_}:"} }

func (k keys) client(id string) string { return k.base + "client:" + id }
func (k keys) clients() string         { return k.base + "clients" }
func (k keys) expiry() string          { return k.base + "clients:expiry" }
func (k keys) filters() string         { return k.base + "clients:filters" }
func (k keys) token(id string) string  { return k.base + "iat:" + id }
func (k keys) tokens() string          { return k.base + "iats" }
func (k keys) admin(id string) string  { return k.base + "admin:" + id }
func (k keys) admins() string          { return k.base + "admins" }
func (k keys) tenant() string          { return k.base + "tenant" }
func (k keys) tombstone() string       { return k.base + "tombstone" }
func (k keys) audit() string           { return k.base + "audit" }
func (k keys) rate(key string) string  { return k.base + "rate:" + key }
func (k keys) tenantIndex() string     { return k.base + "tenants" }

// accessToken is the key of an access token's record, mark that of a
// mark: each type's fixed word before the free text keeps keys of one type
// from colliding with another's, and the text, after the tag, cannot
// change the hash slot.
func (k keys) accessToken(digest string) string { return k.base + "at:" + digest }
func (k keys) mark(key string) string           { return k.base + "mark:" + key }

// keyRing is the key of the tenant's signing key ring.
func (k keys) keyRing() string { return k.base + "signing-keys" }

// tokenFilter is the suffix, after "clients:", of the filter index of the
// clients that a token admitted.
func tokenFilter(id string) string { return "token:" + id }

// policyFilter is the suffix of the filter index of the clients whose last
// write a policy version shaped.
func policyFilter(v engine.PolicyVersion) string { return "policy:" + v.String() }

// softwareFilter is the suffix of the filter index of the clients with a
// software_id: its SHA-256, since a software_id may hold any printable
// character.
func softwareFilter(sid string) string {
	sum := sha256.Sum256([]byte(sid))
	return "software:" + hex.EncodeToString(sum[:])
}

// filterIndex returns the key of a filter index, given its suffix.
func (k keys) filterIndex(suffix string) string { return k.base + "clients:" + suffix }

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

// scriptStatus turns the status reply of a write script into the store's
// answer: "OK" is success, "EXISTS", "NO_TENANT" and "NOT_FOUND" are
// engine.ErrAlreadyExists, ErrNoTenant and ErrNotFound; anything else is a
// bug in a script.
func scriptStatus(op, status string) error {
	switch status {
	case "OK":
		return nil
	case "EXISTS":
		return engine.ErrAlreadyExists
	case "NO_TENANT":
		return engine.ErrNoTenant
	case "NOT_FOUND":
		return engine.ErrNotFound
	}
	return fmt.Errorf("redisstore: %s: unexpected reply %q", op, status)
}
