package engine

import (
	"sync"
	"time"
)

// iatCacheTTL is how long a registration may use a tenant's remembered
// record of an initial access token instead of reading it from the store.
const iatCacheTTL = 5 * time.Second

// iatCacheSize bounds the records a tenant remembers. A token is
// remembered only after the store has found it, so unknown tokens cannot
// fill the cache.
const iatCacheSize = 256

// iatCache remembers, for iatCacheTTL, the records of the initial access
// tokens without a use limit that a tenant's registrations presented, so
// that a registration with a token in steady use makes one store round
// trip (the create) instead of two.
//
// It is safe because no registration is decided by it: the store's
// create checks the token again, atomically with the write
// (Store.CreateClient fails with ErrNotFound for a token revoked, expired
// or deleted with its tenant meanwhile), and a token's record does not
// change after it is minted, except its use count, which is why tokens
// with a use limit are not remembered (their count decides the early
// refusal). A token revoked through this Registrar is forgotten at once;
// one revoked through another replica of a fleet is refused by the
// create, and Register reads the store again before answering any
// failure of a registration that used a remembered record, so that a
// dead token gets the answer it gets without the cache (see
// confirmGrant). What such a request costs within the TTL is the work
// before the create: its body is read and checked and its policies run.
type iatCache struct {
	mu sync.RWMutex
	m  map[string]cachedIAT // by token ID
}

// cachedIAT is a remembered record and until when it may be used.
type cachedIAT struct {
	iat   *InitialAccessToken // shared: never modified
	until time.Time
}

// get returns the remembered record of the token with that ID, or nil.
func (c *iatCache) get(id string, now time.Time) *InitialAccessToken {
	c.mu.RLock()
	e, ok := c.m[id]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		return nil
	}
	return e.iat
}

// put remembers iat, read from the store at now, if it has no use limit:
// until the TTL ends or the token expires, whichever comes first. A full
// cache first drops an entry, the first one map iteration gives.
func (c *iatCache) put(iat *InitialAccessToken, now time.Time) {
	if iat.MaxUses > 0 {
		return
	}
	until := now.Add(iatCacheTTL)
	if !iat.ExpiresAt.IsZero() && iat.ExpiresAt.Before(until) {
		until = iat.ExpiresAt
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]cachedIAT)
	}
	if _, ok := c.m[iat.ID]; !ok && len(c.m) >= iatCacheSize {
		for id := range c.m {
			delete(c.m, id)
			break
		}
	}
	c.m[iat.ID] = cachedIAT{iat: iat, until: until}
}

// forget drops the record of the token with that ID.
func (c *iatCache) forget(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}
