package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/oauth"
)

var _ oauth.Store = (*Store)(nil)

// The token endpoint's writes are single commands (but PutTokenIf, a
// script): each call is one round trip, and SET NX PXAT (Redis 6.2 or
// later) makes a write and its expiry one atomic step on the server's clock. A time already past is
// still sent: Redis answers OK and keeps nothing, as the contract wants.

// storedToken is the JSON of a token record in Redis: the record without
// its tenant and digest, which are in the key.
type storedToken struct {
	*oauth.Token
	Tenant string `json:"tenant,omitempty"`
	Digest string `json:"digest,omitempty"`
}

// encodeToken is the JSON of t as stored.
func encodeToken(t *oauth.Token) ([]byte, error) {
	rec, err := json.Marshal(storedToken{Token: t})
	if err != nil {
		return nil, fmt.Errorf("redisstore: encode access token: %w", err)
	}
	return rec, nil
}

// markExpiry is the PXAT of a record or mark that lives until at: no time
// is no life, not forever.
func markExpiry(at time.Time) int64 {
	if at.IsZero() {
		at = time.UnixMilli(1)
	}
	return expireAt(at)
}

// PutToken stores t with SET NX PXAT at its ExpiresAt.
func (s *Store) PutToken(ctx context.Context, t *oauth.Token) error {
	k, ok := s.tenantKeys(t.Tenant)
	if !ok {
		return errInvalidTenant(t.Tenant)
	}
	rec, err := encodeToken(t)
	if err != nil {
		return err
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	fresh, err := s.setNX(s.durable(octx), k.accessToken(t.Digest), rec, t.ExpiresAt)
	if err != nil {
		return s.fail(ctx, "put access token", err)
	}
	if !fresh {
		return engine.ErrAlreadyExists
	}
	return nil
}

// Token returns the live record with that tenant and digest.
func (s *Store) Token(ctx context.Context, tenant, digest string) (*oauth.Token, error) {
	k, ok := s.tenantKeys(tenant)
	if !ok {
		return nil, engine.ErrNotFound
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	rec, err := s.rdb.Get(octx, k.accessToken(digest)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, engine.ErrNotFound
	}
	if err != nil {
		return nil, s.fail(ctx, "read access token", err)
	}
	t := &oauth.Token{}
	if err := json.Unmarshal(rec, &storedToken{Token: t}); err != nil {
		return nil, fmt.Errorf("redisstore: decode access token: %w", err)
	}
	t.Tenant, t.Digest = tenant, digest
	return t, nil
}

// DeleteToken removes a record with DEL.
func (s *Store) DeleteToken(ctx context.Context, tenant, digest string) error {
	k, ok := s.tenantKeys(tenant)
	if !ok {
		return engine.ErrNotFound
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	n, err := s.rdb.Del(s.durable(octx), k.accessToken(digest)).Result()
	if err != nil {
		return s.fail(ctx, "delete access token", err)
	}
	if n == 0 {
		return engine.ErrNotFound
	}
	return nil
}

// Mark records key with SET NX PXAT at until: exactly one of concurrent
// marks of a key, from any replica, is the one that set it.
func (s *Store) Mark(ctx context.Context, tenant, key string, until time.Time) (bool, error) {
	k, ok := s.tenantKeys(tenant)
	if !ok {
		return false, errInvalidTenant(tenant)
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	fresh, err := s.setNX(s.durable(octx), k.mark(key), "1", until)
	if err != nil {
		return false, s.fail(ctx, "mark", err)
	}
	return fresh, nil
}

// Marked reports whether a live mark exists, with EXISTS.
func (s *Store) Marked(ctx context.Context, tenant, key string) (bool, error) {
	k, ok := s.tenantKeys(tenant)
	if !ok {
		return false, nil
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	n, err := s.rdb.Exists(octx, k.mark(key)).Result()
	if err != nil {
		return false, s.fail(ctx, "read mark", err)
	}
	return n == 1, nil
}

// setNX sets key to val unless it exists, expiring at the time given (see
// markExpiry), and reports whether it set it.
func (s *Store) setNX(ctx context.Context, key string, val any, at time.Time) (bool, error) {
	err := s.rdb.Do(ctx, "set", key, val, "nx", "pxat", markExpiry(at)).Err()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	return err == nil, err
}

// purgeGrants removes a deleting tenant's access tokens and marks, which
// no index lists: it scans the keys of the node that holds the tenant's
// hash slot for the tenant's key prefix, deleting what it finds, one SCAN
// and one DEL per step, each step bounded by Config.Timeout. Records
// written while it runs may be missed; they expire by themselves.
func (s *Store) purgeGrants(ctx context.Context, k keys) error {
	var node redis.Cmdable = s.rdb
	if c, ok := s.rdb.(*redis.ClusterClient); ok {
		octx, cancel := s.op(ctx)
		m, err := c.MasterForKey(octx, k.base)
		cancel()
		if err != nil {
			return s.fail(ctx, "find the tenant's node", err)
		}
		node = m
	}
	pattern := globEscape(k.base) + "*"
	tokens, marks := k.accessToken(""), k.mark("")
	for cursor := uint64(0); ; {
		octx, cancel := s.op(ctx)
		found, next, err := node.Scan(octx, cursor, pattern, scanCount).Result()
		if err == nil {
			var doomed []string
			for _, key := range found {
				if strings.HasPrefix(key, tokens) || strings.HasPrefix(key, marks) {
					doomed = append(doomed, key)
				}
			}
			if len(doomed) > 0 {
				err = s.rdb.Unlink(octx, doomed...).Err()
			}
		}
		cancel()
		if err != nil {
			return s.fail(ctx, "purge access tokens and marks", err)
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// scanCount is the COUNT of each SCAN of purgeGrants: about how many keys
// of the node (any tenant's) each step looks at.
const scanCount = 1000

// globEscape escapes the characters that SCAN's MATCH pattern would
// take for wildcards.
func globEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`*?[]\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// ClientMarked reads a client and a mark of its tenant in one MGET (see
// oauth.ClientMarkReader); both keys are in the tenant's hash slot.
func (s *Store) ClientMarked(ctx context.Context, tenant, id, key string) (*engine.Client, bool, error) {
	c, _, marked, err := s.ClientRecord(ctx, tenant, id, key)
	return c, marked, err
}

// ClientRecord is ClientMarked that also returns the client's record as
// stored (see oauth.ClientTokenWriter): one MGET (of the client alone when
// key is "").
func (s *Store) ClientRecord(ctx context.Context, tenant, id, key string) (*engine.Client, string, bool, error) {
	k, ok := s.tenantKeys(tenant)
	if !ok {
		return nil, "", false, nil
	}
	keys := []string{k.client(id)}
	if key != "" {
		keys = append(keys, k.mark(key))
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	vals, err := s.rdb.MGet(octx, keys...).Result()
	if err != nil {
		return nil, "", false, s.fail(ctx, "read client and mark", err)
	}
	marked := len(vals) > 1 && vals[1] != nil
	rec, ok := vals[0].(string)
	if !ok {
		return nil, "", marked, nil
	}
	c, err := decodeClient([]byte(rec))
	if err != nil {
		return nil, "", marked, err
	}
	return c, rec, marked, nil
}

// putTokenIf is PutTokenIf's check and write (see oauth.ClientTokenWriter):
// 1 stored, 0 a live token has the digest, -1 the mark is live, -2 the
// client's record is not the one given. The three keys are in the
// tenant's hash slot.
//
// KEYS: mark ("" in ARGV[4]: none), client, access token
// ARGV: client record, token record, expiry ms, "1" when there is a mark to check
var putTokenIf = redis.NewScript(`
if ARGV[4] == '1' and redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return -2 end
if redis.call('SET', KEYS[3], ARGV[2], 'NX', 'PXAT', ARGV[3]) then return 1 end
return 0
`)

// PutTokenIf stores t if the client is unchanged and the mark absent, in
// one script (see oauth.ClientTokenWriter).
func (s *Store) PutTokenIf(ctx context.Context, t *oauth.Token, record, key string) (marked, changed bool, err error) {
	k, ok := s.tenantKeys(t.Tenant)
	if !ok {
		return false, false, errInvalidTenant(t.Tenant)
	}
	rec, err := encodeToken(t)
	if err != nil {
		return false, false, err
	}
	check := "0"
	if key != "" {
		check = "1"
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	n, err := putTokenIf.Run(s.durable(octx), s.rdb, []string{k.mark(key), k.client(t.ClientID), k.accessToken(t.Digest)},
		record, rec, markExpiry(t.ExpiresAt), check).Int()
	if err != nil {
		return false, false, s.fail(ctx, "put access token", err)
	}
	switch n {
	case -1:
		return true, false, nil
	case -2:
		return false, true, nil
	case 0:
		return false, false, engine.ErrAlreadyExists
	}
	return false, false, nil
}

var _ oauth.ClientTokenWriter = (*Store)(nil)

var _ oauth.ClientMarkReader = (*Store)(nil)
