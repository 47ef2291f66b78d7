package oauth

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// The token endpoint remembers, for a few seconds, a client that
// authenticated with its secret, so that its next token requests read
// nothing before they write the token: one Redis round trip instead of two
// (the client with its lockout mark, then the token). Nothing remembered
// is trusted for the answer. The token is stored only if, at that moment,
// the client's stored record is still the one remembered and the client
// is not locked out (ClientTokenWriter.PutTokenIf, one step); and every
// other outcome of a request that used a remembered client is the one a
// fresh read gives: a failed authentication is tried again with the
// client read from the store (which counts and audits the failure as
// always), any other refusal is given only after a read shows the client
// unchanged and not locked out, else the request is made again from the
// store; a failure of the server (the store, a module) is answered as it
// is. A client deleted, changed (its secret rotated, its
// grant types or scope narrowed) or locked out on any replica is answered
// as it would be without the cache (RATIONALE.md).

const (
	// clientCacheTTL is how long a client is remembered after it
	// authenticated with a record read from the store.
	clientCacheTTL = 5 * time.Second
	// clientCacheSize bounds the clients remembered at once, all tenants
	// together; when it is reached, expired entries are dropped, and if
	// none has expired the client is not remembered.
	clientCacheSize = 1024
)

// errStale ends an attempt that used a remembered client which is no
// longer the stored one, or is now locked out: the request is made again
// from the store.
var errStale = errors.New("oauth: the remembered client changed")

// clientCache is the token endpoint's memory of clients (see above).
type clientCache struct {
	mu sync.Mutex
	m  map[clientKey]cachedClient
}

type clientKey struct{ tenant, id string }

// cachedClient is a client as read from the store, with its record.
type cachedClient struct {
	client *engine.Client
	record string
	until  time.Time
}

// get returns a copy of the client remembered under tenant and id, and
// its record, if it is there and not expired.
func (c *clientCache) get(tenant, id string, now time.Time) (*engine.Client, string, bool) {
	c.mu.Lock()
	e, ok := c.m[clientKey{tenant, id}]
	c.mu.Unlock()
	if !ok || !now.Before(e.until) {
		return nil, "", false
	}
	return e.client.Clone(), e.record, true
}

// put remembers a copy of client with its record until now plus the TTL.
func (c *clientCache) put(tenant string, client *engine.Client, record string, now time.Time) {
	e := cachedClient{client: client.Clone(), record: record, until: now.Add(clientCacheTTL)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[clientKey]cachedClient)
	}
	k := clientKey{tenant, client.ID}
	if _, ok := c.m[k]; !ok && len(c.m) >= clientCacheSize {
		for k, e := range c.m {
			if !now.Before(e.until) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= clientCacheSize {
			return
		}
	}
	c.m[k] = e
}

// forget drops the client remembered under tenant and id.
func (c *clientCache) forget(tenant, id string) {
	c.mu.Lock()
	delete(c.m, clientKey{tenant, id})
	c.mu.Unlock()
}

// cacheable returns the client_id of a token request that may use and
// fill the cache, else "": the store can check a remembered client when
// it writes the token (opaque tokens only: a JWT is written nowhere), and
// the client authenticates with its secret, which needs nothing but its
// record.
func (s *Server) cacheable(settings engine.Settings, cr *Credentials) string {
	if s.clientTokens == nil || settings.AccessTokens().Format != engine.AccessTokenOpaque {
		return ""
	}
	p, id, err := cr.method()
	if err != nil || (p != presentedBasic && p != presentedPost) {
		return ""
	}
	return id
}

// remembered authenticates a token request's client, id (cacheable's
// answer), with the client the cache remembers, if any. It returns nil
// when there is none or when the credentials fail against it: the request
// is then authenticated from the store, where a failure is counted and
// audited.
func (s *Server) remembered(ctx context.Context, req TokenRequest, id string) *authenticated {
	if id == "" {
		return nil
	}
	c, record, ok := s.clientCache.get(req.Tenant, id, s.now())
	if !ok {
		return nil
	}
	who, err := s.authenticate(ctx, req.Tenant, &req.Credentials, nil, &prefetched{id: id, client: c, record: record})
	if err != nil {
		s.clientCache.forget(req.Tenant, id)
		return nil
	}
	who.cached = true
	return who
}

// remember keeps a client that authenticated with a record read from the
// store, for a request that cacheable allows.
func (s *Server) remember(tenant string, who *authenticated) {
	if who.record != "" {
		s.clientCache.put(tenant, who.client, who.record, s.now())
	}
}

// serverFailure reports an error that is the server's failure (the store
// or a module failing), not a decision about the client: a request that
// used a remembered client answers it as it is, rather than try the store
// again, and again, in an outage.
func serverFailure(err error) bool {
	switch engine.AsError(err).Code {
	case engine.CodeServerError, engine.CodeTemporarilyUnavailable:
		return !errors.Is(err, errStale)
	}
	return false
}

// current reports whether a remembered client is still the stored one and
// not locked out, so that a refusal computed with it is the answer a
// fresh read would give.
func (s *Server) current(ctx context.Context, tenant string, settings engine.Settings, who *authenticated) bool {
	_, record, marked, err := s.clientTokens.ClientRecord(ctx, tenant, who.client.ID, s.lockKey(settings, who.client.ID))
	return err == nil && !marked && record == who.record
}
