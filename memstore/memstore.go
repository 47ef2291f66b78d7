// Package memstore owns the in-memory [engine.Store]: the zero-setup default
// and the reference implementation of the store contract. Its data lives in
// the process and is lost when the process exits.
package memstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// Config configures a Store.
type Config struct {
	// Now is the clock that decides expiry. Default: time.Now.
	Now func() time.Time
}

// Store is an engine.Store that keeps its records in memory. It keeps deep
// copies of what it is given and hands out deep copies of what it keeps.
// Expired records are absent to every method and are freed by a sweep that
// runs after a number of writes proportional to the number of records, so
// its cost per write stays constant.
type Store struct {
	now func() time.Time

	mu      sync.Mutex
	clients map[key]*engine.Client
	tokens  map[key]*engine.InitialAccessToken
	// ids indexes each tenant's client IDs, for Clients.
	ids map[string]*index
	// writes counts the writes since the last sweep, which runs again when
	// they reach sweepAt.
	writes, sweepAt int
}

var _ engine.Store = (*Store)(nil)

// key names a record. A struct, unlike a joined string, keeps every pair
// of tenant and ID apart.
type key struct{ tenant, id string }

// minSweepWrites is the fewest writes between two sweeps, so that a small
// store is not swept on every write.
const minSweepWrites = 64

// errKeyChanged is returned when an UpdateClient fn changes the client's
// tenant or ID.
var errKeyChanged = errors.New("memstore: UpdateClient fn changed the client's tenant or ID")

// New returns an empty Store.
func New(cfg Config) *Store {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Store{
		now:     now,
		clients: map[key]*engine.Client{},
		tokens:  map[key]*engine.InitialAccessToken{},
		ids:     map[string]*index{},
		sweepAt: minSweepWrites,
	}
}

// CreateClient stores a copy of c, consuming a use of the initial access
// token c.IssuedBy names, if any.
func (s *Store) CreateClient(_ context.Context, c *engine.Client, replace bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	k := key{c.Tenant, c.ID}
	if !replace && s.liveClient(k, now) != nil {
		return engine.ErrAlreadyExists
	}
	var tok *engine.InitialAccessToken
	if c.IssuedBy != "" {
		tok = s.liveToken(key{c.Tenant, c.IssuedBy}, now)
		if tok == nil {
			return fmt.Errorf("initial access token: %w", engine.ErrNotFound)
		}
		if tok.Exhausted() {
			return engine.ErrTokenExhausted
		}
	}
	if tok != nil {
		tok.Uses++
	}
	s.putClient(k, c.Clone())
	s.wrote(now)
	return nil
}

// Client returns a copy of the live client with that tenant and ID.
func (s *Store) Client(_ context.Context, tenant, id string) (*engine.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.liveClient(key{tenant, id}, s.now())
	if c == nil {
		return nil, engine.ErrNotFound
	}
	return c.Clone(), nil
}

// UpdateClient runs fn on a copy of the client and stores that copy if fn
// returns nil. fn runs with the store locked, once: it must not call the
// store. It must not change the client's tenant or ID either.
func (s *Store) UpdateClient(_ context.Context, tenant, id string, fn func(*engine.Client) error) (*engine.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	k := key{tenant, id}
	cur := s.liveClient(k, now)
	if cur == nil {
		return nil, engine.ErrNotFound
	}
	next := cur.Clone()
	if err := fn(next); err != nil {
		return nil, err
	}
	if next.Tenant != tenant || next.ID != id {
		return nil, errKeyChanged
	}
	// fn's caller keeps next, and may have put its own slices into it.
	s.clients[k] = next.Clone()
	s.wrote(now)
	return next, nil
}

// DeleteClient removes the live client with that tenant and ID.
func (s *Store) DeleteClient(_ context.Context, tenant, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	k := key{tenant, id}
	if s.liveClient(k, now) == nil {
		return engine.ErrNotFound
	}
	s.removeClient(k)
	s.wrote(now)
	return nil
}

// Clients returns copies of a page of the tenant's live clients, ordered by
// ID. limit must be positive.
func (s *Store) Clients(_ context.Context, tenant, after string, limit int) ([]*engine.Client, string, error) {
	if limit < 1 {
		return nil, "", fmt.Errorf("memstore: Clients limit %d is not positive", limit)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	ids := s.sortedIDs(tenant)
	i, found := slices.BinarySearch(ids, after)
	if found {
		i++
	}
	var page []*engine.Client
	for _, id := range ids[i:] {
		c := s.clients[key{tenant, id}]
		if c == nil || !engine.Live(c.ExpiresAt, now) {
			continue
		}
		if len(page) == limit {
			return page, page[limit-1].ID, nil
		}
		page = append(page, c.Clone())
	}
	return page, "", nil
}

// CreateInitialAccessToken stores a copy of t.
func (s *Store) CreateInitialAccessToken(_ context.Context, t *engine.InitialAccessToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	k := key{t.Tenant, t.ID}
	if s.liveToken(k, now) != nil {
		return engine.ErrAlreadyExists
	}
	s.tokens[k] = t.Clone()
	s.wrote(now)
	return nil
}

// InitialAccessToken returns a copy of the live token with that tenant and
// ID.
func (s *Store) InitialAccessToken(_ context.Context, tenant, id string) (*engine.InitialAccessToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.liveToken(key{tenant, id}, s.now())
	if t == nil {
		return nil, engine.ErrNotFound
	}
	return t.Clone(), nil
}

// DeleteInitialAccessToken removes the live token with that tenant and ID.
func (s *Store) DeleteInitialAccessToken(_ context.Context, tenant, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	k := key{tenant, id}
	if s.liveToken(k, now) == nil {
		return engine.ErrNotFound
	}
	delete(s.tokens, k)
	s.wrote(now)
	return nil
}

// Ping returns nil: memory is always there.
func (s *Store) Ping(context.Context) error { return nil }

// liveClient returns the stored client k if it is live, and removes it if
// it has expired.
func (s *Store) liveClient(k key, now time.Time) *engine.Client {
	c, ok := s.clients[k]
	if !ok {
		return nil
	}
	if !engine.Live(c.ExpiresAt, now) {
		s.removeClient(k)
		return nil
	}
	return c
}

// liveToken returns the stored token k if it is live, and removes it if it
// has expired.
func (s *Store) liveToken(k key, now time.Time) *engine.InitialAccessToken {
	t, ok := s.tokens[k]
	if !ok {
		return nil
	}
	if !engine.Live(t.ExpiresAt, now) {
		delete(s.tokens, k)
		return nil
	}
	return t
}

// index keeps a tenant's client IDs for ordered listing. Writes are cheap:
// a new ID is appended to added, a removed one only counted in stale; the
// next listing sorts and merges added into sorted and drops stale IDs, so
// registering n clients costs O(n log n) in all, not O(n²).
type index struct {
	sorted []string // in order; may hold IDs removed since the last settle
	added  []string // unordered; new since the last settle
	stale  int      // removals since the last settle
}

// putClient stores c under k, which must be {c.Tenant, c.ID}.
func (s *Store) putClient(k key, c *engine.Client) {
	_, existed := s.clients[k]
	s.clients[k] = c // before bound, which may settle and keeps only stored IDs
	if !existed {
		ix := s.ids[k.tenant]
		if ix == nil {
			ix = &index{}
			s.ids[k.tenant] = ix
		}
		ix.added = append(ix.added, k.id)
		s.bound(k.tenant, ix)
	}
}

// removeClient deletes the client k, which must be stored.
func (s *Store) removeClient(k key) {
	delete(s.clients, k)
	if ix := s.ids[k.tenant]; ix != nil {
		ix.stale++
		s.bound(k.tenant, ix)
	}
}

// bound settles an index whose pending changes outgrow its sorted part, so
// that an index nobody lists stays within a constant factor of the live IDs.
func (s *Store) bound(tenant string, ix *index) {
	if len(ix.added)+ix.stale > max(minSweepWrites, len(ix.sorted)) {
		s.settle(tenant, ix)
	}
}

// sortedIDs returns the tenant's client IDs in order, each stored once.
func (s *Store) sortedIDs(tenant string) []string {
	ix := s.ids[tenant]
	if ix == nil {
		return nil
	}
	s.settle(tenant, ix)
	return ix.sorted
}

// settle merges the IDs added since the last settle into the sorted list
// and drops the IDs of clients no longer stored.
func (s *Store) settle(tenant string, ix *index) {
	if len(ix.added) == 0 && ix.stale == 0 {
		return
	}
	slices.Sort(ix.added)
	merged := make([]string, 0, len(ix.sorted)+len(ix.added))
	a, b := ix.sorted, ix.added
	for len(a) > 0 || len(b) > 0 {
		var id string
		if len(b) == 0 || (len(a) > 0 && a[0] <= b[0]) {
			id, a = a[0], a[1:]
		} else {
			id, b = b[0], b[1:]
		}
		if n := len(merged); n > 0 && merged[n-1] == id {
			continue // removed and added again
		}
		if _, ok := s.clients[key{tenant, id}]; ok {
			merged = append(merged, id)
		}
	}
	if len(merged) == 0 {
		delete(s.ids, tenant)
		return
	}
	*ix = index{sorted: merged}
}

// wrote counts a write, and sweeps once the writes since the last sweep
// reach the number of records that sweep left (at least minSweepWrites).
// A sweep then visits at most twice as many records as there were writes
// since the one before, so each write pays a constant share of it; and the
// store never holds more than twice what the last sweep left (or
// 2×minSweepWrites), however many records expire unread.
func (s *Store) wrote(now time.Time) {
	s.writes++
	if s.writes < s.sweepAt {
		return
	}
	s.sweep(now)
	s.writes = 0
	s.sweepAt = max(minSweepWrites, len(s.clients)+len(s.tokens))
}

// sweep removes every expired record.
func (s *Store) sweep(now time.Time) {
	swept := map[string]bool{}
	for k, c := range s.clients {
		if !engine.Live(c.ExpiresAt, now) {
			delete(s.clients, k)
			if ix := s.ids[k.tenant]; ix != nil {
				ix.stale++
			}
			swept[k.tenant] = true
		}
	}
	for tenant := range swept {
		if ix := s.ids[tenant]; ix != nil {
			s.settle(tenant, ix)
		}
	}
	for k, t := range s.tokens {
		if !engine.Live(t.ExpiresAt, now) {
			delete(s.tokens, k)
		}
	}
}
