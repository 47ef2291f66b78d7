package memstore

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/oauth"
)

var _ oauth.Store = (*Store)(nil)

// grants keeps the authorization server's records: access tokens, marks
// and signing key rings, per tenant. It shares no invariant with the
// clients, so it has its own mutex and its own sweep.
type grants struct {
	mu     sync.Mutex
	tokens map[entryKey]*oauth.Token
	marks  map[entryKey]time.Time // until when each mark lives
	rings  map[string]*oauth.KeyRing
	// writes counts the writes since the last sweep, which runs again
	// when they reach sweepAt.
	writes, sweepAt int
}

// entryKey names a token (by digest) or a mark of a tenant.
type entryKey struct{ tenant, key string }

// PutToken stores a copy of t until its ExpiresAt (see oauth.Store).
func (s *Store) PutToken(_ context.Context, t *oauth.Token) error {
	g := &s.grants
	g.mu.Lock()
	defer g.mu.Unlock()
	now := s.now()
	k := entryKey{t.Tenant, t.Digest}
	if old, ok := g.tokens[k]; ok && now.Before(old.ExpiresAt) {
		return engine.ErrAlreadyExists
	}
	if g.tokens == nil {
		g.tokens, g.marks = map[entryKey]*oauth.Token{}, map[entryKey]time.Time{}
	}
	if now.Before(t.ExpiresAt) {
		g.tokens[k] = t.Clone()
	}
	g.wrote(now)
	return nil
}

// Token returns a copy of the live record (see oauth.Store).
func (s *Store) Token(_ context.Context, tenant, digest string) (*oauth.Token, error) {
	g := &s.grants
	g.mu.Lock()
	defer g.mu.Unlock()
	t, ok := g.tokens[entryKey{tenant, digest}]
	if !ok || !s.now().Before(t.ExpiresAt) {
		return nil, engine.ErrNotFound
	}
	return t.Clone(), nil
}

// DeleteToken removes a record (see oauth.Store).
func (s *Store) DeleteToken(_ context.Context, tenant, digest string) error {
	g := &s.grants
	g.mu.Lock()
	defer g.mu.Unlock()
	k := entryKey{tenant, digest}
	t, ok := g.tokens[k]
	if !ok {
		return engine.ErrNotFound
	}
	delete(g.tokens, k)
	if !s.now().Before(t.ExpiresAt) {
		return engine.ErrNotFound
	}
	return nil
}

// Mark records a mark until the time given (see oauth.Store).
func (s *Store) Mark(_ context.Context, tenant, key string, until time.Time) (bool, error) {
	g := &s.grants
	g.mu.Lock()
	defer g.mu.Unlock()
	now := s.now()
	if g.marked(tenant, key, now) {
		return false, nil
	}
	g.mark(tenant, key, until, now)
	return true, nil
}

// marked reports whether the mark is live at now; g.mu is held.
func (g *grants) marked(tenant, key string, now time.Time) bool {
	until, ok := g.marks[entryKey{tenant, key}]
	return ok && now.Before(until)
}

// mark sets the mark until the time given; g.mu is held.
func (g *grants) mark(tenant, key string, until, now time.Time) {
	if g.marks == nil {
		g.tokens, g.marks = map[entryKey]*oauth.Token{}, map[entryKey]time.Time{}
	}
	if now.Before(until) {
		g.marks[entryKey{tenant, key}] = until
	}
	g.wrote(now)
}

// Marked reports whether a live mark exists (see oauth.Store).
func (s *Store) Marked(_ context.Context, tenant, key string) (bool, error) {
	g := &s.grants
	g.mu.Lock()
	defer g.mu.Unlock()
	until, ok := g.marks[entryKey{tenant, key}]
	return ok && s.now().Before(until), nil
}

// wrote counts a write and sweeps the expired records and marks once the
// writes since the last sweep reach the number of entries, so that a
// sweep's cost is constant per write. g.mu is held.
func (g *grants) wrote(now time.Time) {
	g.writes++
	if g.writes < g.sweepAt {
		return
	}
	for k, t := range g.tokens {
		if !now.Before(t.ExpiresAt) {
			delete(g.tokens, k)
		}
	}
	for k, until := range g.marks {
		if !now.Before(until) {
			delete(g.marks, k)
		}
	}
	g.writes = 0
	g.sweepAt = max(minSweepWrites, len(g.tokens)+len(g.marks))
}

// dropTenant forgets every record and mark of a deleted tenant.
func (g *grants) dropTenant(tenant string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for k := range g.tokens {
		if k.tenant == tenant {
			delete(g.tokens, k)
		}
	}
	for k := range g.marks {
		if k.tenant == tenant {
			delete(g.marks, k)
		}
	}
	delete(g.rings, tenant)
}

// KeyRing returns a copy of the tenant's signing key ring (see oauth.Store).
func (s *Store) KeyRing(_ context.Context, tenant string) (*oauth.KeyRing, error) {
	g := &s.grants
	g.mu.Lock()
	defer g.mu.Unlock()
	r, ok := g.rings[tenant]
	if !ok {
		return nil, engine.ErrNotFound
	}
	return r.Clone(), nil
}

// PutKeyRing stores a copy of the ring if the stored revision is
// ifRevision (see oauth.Store).
func (s *Store) PutKeyRing(_ context.Context, ring *oauth.KeyRing, ifRevision int64) error {
	g := &s.grants
	g.mu.Lock()
	defer g.mu.Unlock()
	var have int64
	if old, ok := g.rings[ring.Tenant]; ok {
		have = old.Revision
	}
	if have != ifRevision {
		return engine.ErrRevisionMismatch
	}
	if g.rings == nil {
		g.rings = map[string]*oauth.KeyRing{}
	}
	r := ring.Clone()
	r.Revision = ifRevision + 1
	g.rings[ring.Tenant] = r
	return nil
}

// ClientMarked returns a copy of the live client and whether the mark is
// live, read under both locks (see oauth.ClientMarkReader).
func (s *Store) ClientMarked(ctx context.Context, tenant, id, key string) (*engine.Client, bool, error) {
	c, _, marked, err := s.ClientRecord(ctx, tenant, id, key)
	return c, marked, err
}

// ClientRecord is ClientMarked that also returns the client's record: its
// version, which every write of a client replaces (see
// oauth.ClientTokenWriter).
func (s *Store) ClientRecord(_ context.Context, tenant, id, key string) (*engine.Client, string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := &s.grants
	g.mu.Lock()
	defer g.mu.Unlock()
	now := s.now()
	marked := key != "" && g.marked(tenant, key, now)
	sp := s.spaces[tenant]
	live := sp.liveClient(id, now)
	if live == nil {
		return nil, "", marked, nil
	}
	return live.Clone(), sp.record(id), marked, nil
}

// PutTokenIf stores t if the client's version is still record and the
// mark key is not live, under the store's locks (see
// oauth.ClientTokenWriter).
func (s *Store) PutTokenIf(ctx context.Context, t *oauth.Token, record, key string) (marked, changed bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	g := &s.grants
	g.mu.Lock()
	marked = key != "" && g.marked(t.Tenant, key, now)
	g.mu.Unlock()
	if marked {
		return true, false, nil
	}
	sp := s.spaces[t.Tenant]
	if sp.liveClient(t.ClientID, now) == nil || sp.record(t.ClientID) != record {
		return false, true, nil
	}
	return false, false, s.PutToken(ctx, t)
}

// record is the stored client id's record for ClientTokenWriter: its
// version.
func (sp *space) record(id string) string { return strconv.FormatUint(sp.versions[id], 10) }

var _ oauth.ClientTokenWriter = (*Store)(nil)

var _ oauth.ClientMarkReader = (*Store)(nil)
