// Package memstore owns the in-memory [engine.Store], [engine.AuditLog],
// [engine.Limiter] and [engine.PolicyStore]: the zero-setup default and the
// reference implementation of their contracts. Its data lives in the
// process and is lost when the process exits; policy changes reach the
// watchers of the same Store only.
package memstore

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// Config configures a Store.
type Config struct {
	// Now is the clock that decides expiry, tombstones and rate-limit
	// refills. Default: time.Now.
	Now func() time.Time
	// AuditMaxLen is how many events the audit log keeps per tenant (and
	// for the process-wide log of tenant ""); appending more drops the
	// oldest. Default 10000.
	AuditMaxLen int
	// PolicyLimits bound each tenant's uploaded policy modules (see
	// engine.PolicyLimits); a zero field means its default, a negative one
	// is refused by New.
	PolicyLimits engine.PolicyLimits
}

// DefaultAuditMaxLen is the default of Config.AuditMaxLen.
const DefaultAuditMaxLen = 10000

// Store is an engine.Store, engine.AuditLog, engine.Limiter and
// engine.PolicyStore that keeps its records in memory. It keeps deep copies of what it is given and hands
// out deep copies of what it keeps. Expired records are absent to every
// method and are freed by a sweep that runs after a number of writes
// proportional to the number of records, so its cost per write stays
// constant.
//
// Every write is atomic because the records are guarded by one mutex; the
// audit log, the rate-limit budgets, the policy change watchers and the
// replica statuses, which share no invariant with the records or with each
// other, have a mutex each, so that none waits for another or for a sweep
// of the records. Uploaded policies are records: DeleteTenant removes them
// with the tenant's clients, under the same mutex.
type Store struct {
	now    func() time.Time
	limits engine.PolicyLimits

	mu sync.Mutex
	// spaces holds each tenant's clients and tokens; a tenant without any
	// has no space.
	spaces map[string]*space
	// tenants holds the tenant records.
	tenants map[string]*engine.TenantRecord
	// tombstones holds, for each recently deleted tenant, when its
	// tombstone expires.
	tombstones map[string]time.Time
	// changes numbers the changes of tenant records (TenantChanges).
	changes tenantChanges
	// policies holds each tenant's uploaded policy modules, by name; a
	// tenant without any has no entry.
	policies map[string]map[string]*policy
	// writes counts the writes since the last sweep, which runs again when
	// they reach sweepAt.
	writes, sweepAt int

	audit    auditLog
	limit    limiter
	grants   grants
	watch    watchers
	replicas replicas
}

var (
	_ engine.Store       = (*Store)(nil)
	_ engine.AuditLog    = (*Store)(nil)
	_ engine.Limiter     = (*Store)(nil)
	_ engine.PolicyStore = (*Store)(nil)
)

// space holds the records of one tenant.
type space struct {
	clients map[string]*engine.Client
	// versions holds each stored client's version: a number no other
	// write of a client in this process had (clientVersions), the
	// record ClientRecord gives (see oauth.ClientTokenWriter).
	versions map[string]uint64
	tokens   map[string]*engine.InitialAccessToken
	admins   map[string]*engine.AdminToken
	// clientIDs and tokenIDs index the IDs of clients and tokens, for
	// listing them in order.
	clientIDs, tokenIDs index
	// soonest is at or before the earliest expiry of the stored clients;
	// zero when none of them expires. The quota check relies on it to
	// count the live clients without visiting them.
	soonest time.Time
	// software indexes the IDs of stored clients by their software_id,
	// for CreateOptions.UniqueSoftwareID.
	software map[string]map[string]bool
}

// clientVersions numbers the writes of clients, all stores together.
var clientVersions atomic.Uint64

// minSweepWrites is the fewest writes between two sweeps, so that a small
// store is not swept on every write.
const minSweepWrites = 64

// errKeyChanged is returned when an UpdateClient fn changes the client's
// tenant or ID.
var errKeyChanged = errors.New("memstore: UpdateClient fn changed the client's tenant or ID")

// New returns an empty Store.
//
// It panics if cfg.PolicyLimits has a negative field: a programming error
// of the caller, as New has no error to return.
func New(cfg Config) *Store {
	if err := cfg.PolicyLimits.Check(); err != nil {
		panic("memstore: " + err.Error())
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	maxLen := cfg.AuditMaxLen
	if maxLen <= 0 {
		maxLen = DefaultAuditMaxLen
	}
	return &Store{
		now:        now,
		limits:     cfg.PolicyLimits.OrDefaults(),
		spaces:     map[string]*space{},
		tenants:    map[string]*engine.TenantRecord{},
		tombstones: map[string]time.Time{},
		policies:   map[string]map[string]*policy{},
		sweepAt:    minSweepWrites,
		audit:      auditLog{maxLen: maxLen, logs: map[string]*tenantLog{}},
		limit:      limiter{buckets: map[bucketKey]time.Time{}, sweepAt: minSweepWrites},
		watch:      watchers{subs: map[chan engine.PolicyChange]struct{}{}},
		replicas:   replicas{statuses: map[string]replicaEntry{}},
	}
}

// CreateClient stores a copy of c, consuming a use of the initial access
// token c.IssuedBy names, if any.
func (s *Store) CreateClient(_ context.Context, c *engine.Client, opts engine.CreateOptions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.closed(c.Tenant, now) {
		return engine.ErrNoTenant
	}
	sp := s.spaces[c.Tenant]
	var tok *engine.InitialAccessToken
	if c.IssuedBy != "" {
		tok = sp.liveToken(c.IssuedBy, now)
		if tok == nil {
			return fmt.Errorf("initial access token: %w", engine.ErrNotFound)
		}
		if tok.Exhausted() {
			return engine.ErrTokenExhausted
		}
	}
	exists := sp.liveClient(c.ID, now) != nil
	if exists && !opts.Replace {
		return engine.ErrAlreadyExists
	}
	g := &s.grants
	g.mu.Lock() // after s.mu, as everywhere
	defer g.mu.Unlock()
	for _, m := range opts.Marks {
		if g.marked(c.Tenant, m.Key, now) {
			return &engine.ReplayedError{Key: m.Key}
		}
	}
	if opts.UniqueSoftwareID && sp.softwareTaken(c.Metadata.SoftwareID, c.ID, now) {
		return engine.ErrSoftwareIDTaken
	}
	if !exists && opts.MaxClients > 0 && sp.liveClients(now) >= opts.MaxClients {
		return engine.ErrQuotaExceeded
	}
	if tok != nil {
		tok.Uses++
	}
	for _, m := range opts.Marks {
		g.mark(c.Tenant, m.Key, m.Until, now)
	}
	s.space(c.Tenant).putClient(c.Clone())
	s.wrote(now)
	if opts.Audit != nil {
		// Under s.mu, with the write: no reader sees one without the other.
		if _, err := s.AppendAudit(context.Background(), opts.Audit); err != nil {
			return err
		}
	}
	return nil
}

// Client returns a copy of the live client with that tenant and ID.
func (s *Store) Client(_ context.Context, tenant, id string) (*engine.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.spaces[tenant].liveClient(id, s.now())
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
	sp := s.spaces[tenant]
	cur := sp.liveClient(id, now)
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
	sp.putClient(next.Clone())
	s.wrote(now)
	return next, nil
}

// DeleteClient removes the live client with that tenant and ID.
func (s *Store) DeleteClient(_ context.Context, tenant, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	sp := s.spaces[tenant]
	if sp.liveClient(id, now) == nil {
		return engine.ErrNotFound
	}
	sp.removeClient(id)
	s.wrote(now)
	return nil
}

// Clients returns copies of a page of the tenant's live clients that pass
// filter, ordered by ID. limit must be positive.
func (s *Store) Clients(_ context.Context, tenant string, filter engine.ClientFilter, after string, limit int) ([]*engine.Client, string, error) {
	if limit < 1 {
		return nil, "", fmt.Errorf("memstore: Clients limit %d is not positive", limit)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sp := s.spaces[tenant]
	if sp == nil {
		return nil, "", nil
	}
	now := s.now()
	ids := sp.clientIDs.ids(sp.hasClient)
	if filter.SoftwareID != "" {
		ids = slices.Sorted(maps.Keys(sp.software[filter.SoftwareID]))
	}
	page, next := listPage(ids, after, limit, func(id string) *engine.Client {
		c := sp.clients[id]
		if c == nil || !engine.Live(c.ExpiresAt, now) || !filter.Match(c) {
			return nil
		}
		return c.Clone()
	})
	return page, next, nil
}

// CreateInitialAccessToken stores a copy of t.
func (s *Store) CreateInitialAccessToken(_ context.Context, t *engine.InitialAccessToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.closed(t.Tenant, now) {
		return engine.ErrNoTenant
	}
	if s.spaces[t.Tenant].liveToken(t.ID, now) != nil {
		return engine.ErrAlreadyExists
	}
	s.space(t.Tenant).putToken(t.Clone())
	s.wrote(now)
	return nil
}

// InitialAccessTokens returns copies of a page of the tenant's live
// initial access tokens, ordered by ID. limit must be positive.
func (s *Store) InitialAccessTokens(_ context.Context, tenant, after string, limit int) ([]*engine.InitialAccessToken, string, error) {
	if limit < 1 {
		return nil, "", fmt.Errorf("memstore: InitialAccessTokens limit %d is not positive", limit)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sp := s.spaces[tenant]
	if sp == nil {
		return nil, "", nil
	}
	now := s.now()
	page, next := listPage(sp.tokenIDs.ids(sp.hasToken), after, limit, func(id string) *engine.InitialAccessToken {
		t := sp.tokens[id]
		if t == nil || !engine.Live(t.ExpiresAt, now) {
			return nil
		}
		return t.Clone()
	})
	return page, next, nil
}

// InitialAccessToken returns a copy of the live token with that tenant and
// ID.
func (s *Store) InitialAccessToken(_ context.Context, tenant, id string) (*engine.InitialAccessToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.spaces[tenant].liveToken(id, s.now())
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
	sp := s.spaces[tenant]
	if sp.liveToken(id, now) == nil {
		return engine.ErrNotFound
	}
	sp.removeToken(id)
	s.wrote(now)
	return nil
}

// Ping returns nil: memory is always there.
func (s *Store) Ping(context.Context) error { return nil }

// listPage returns the records that get gives for the IDs after the after
// ID, at most limit of them, and the cursor of the next page. get returns
// nil for IDs to skip.
func listPage[T any](ids []string, after string, limit int, get func(id string) *T) ([]*T, string) {
	i, found := slices.BinarySearch(ids, after)
	if found {
		i++
	}
	var page []*T
	last := ""
	for _, id := range ids[i:] {
		r := get(id)
		if r == nil {
			continue
		}
		if len(page) == limit {
			return page, last
		}
		page = append(page, r)
		last = id
	}
	return page, ""
}

// space returns the tenant's space, making it if need be.
func (s *Store) space(tenant string) *space {
	sp := s.spaces[tenant]
	if sp == nil {
		sp = &space{
			clients:  map[string]*engine.Client{},
			versions: map[string]uint64{},
			software: map[string]map[string]bool{},
			tokens:   map[string]*engine.InitialAccessToken{},
			admins:   map[string]*engine.AdminToken{},
		}
		s.spaces[tenant] = sp
	}
	return sp
}

// empty reports whether the space holds no record, and can go.
func (sp *space) empty() bool {
	return len(sp.clients) == 0 && len(sp.tokens) == 0 && len(sp.admins) == 0
}

func (sp *space) hasClient(id string) bool { _, ok := sp.clients[id]; return ok }
func (sp *space) hasToken(id string) bool  { _, ok := sp.tokens[id]; return ok }

// liveClient returns the stored client id if it is live, and removes it if
// it has expired. sp may be nil.
func (sp *space) liveClient(id string, now time.Time) *engine.Client {
	if sp == nil {
		return nil
	}
	c, ok := sp.clients[id]
	if !ok {
		return nil
	}
	if !engine.Live(c.ExpiresAt, now) {
		sp.removeClient(id)
		return nil
	}
	return c
}

// liveToken returns the stored token id if it is live, and removes it if
// it has expired. sp may be nil.
func (sp *space) liveToken(id string, now time.Time) *engine.InitialAccessToken {
	if sp == nil {
		return nil
	}
	t, ok := sp.tokens[id]
	if !ok {
		return nil
	}
	if !engine.Live(t.ExpiresAt, now) {
		sp.removeToken(id)
		return nil
	}
	return t
}

// liveAdmin returns the stored admin token id if it is live, and removes
// it if it has expired. sp may be nil.
func (sp *space) liveAdmin(id string, now time.Time) *engine.AdminToken {
	if sp == nil {
		return nil
	}
	t, ok := sp.admins[id]
	if !ok {
		return nil
	}
	if !engine.Live(t.ExpiresAt, now) {
		delete(sp.admins, id)
		return nil
	}
	return t
}

// liveClients returns how many live clients the space holds. It visits
// the clients, removing the expired ones, only when one may have expired.
// sp may be nil.
func (sp *space) liveClients(now time.Time) int {
	if sp == nil {
		return 0
	}
	if sp.soonest.IsZero() || now.Before(sp.soonest) {
		return len(sp.clients)
	}
	sp.soonest = time.Time{}
	for id, c := range sp.clients {
		switch {
		case !engine.Live(c.ExpiresAt, now):
			sp.removeClient(id)
		case !c.ExpiresAt.IsZero() && (sp.soonest.IsZero() || c.ExpiresAt.Before(sp.soonest)):
			sp.soonest = c.ExpiresAt
		}
	}
	return len(sp.clients)
}

// putClient stores c, which the space must own, under its ID.
func (sp *space) putClient(c *engine.Client) {
	old, existed := sp.clients[c.ID]
	if existed {
		sp.unindexSoftware(old)
	}
	if sid := c.Metadata.SoftwareID; sid != "" {
		if sp.software[sid] == nil {
			sp.software[sid] = map[string]bool{}
		}
		sp.software[sid][c.ID] = true
	}
	sp.clients[c.ID] = c // before bound, which may settle and keeps only stored IDs
	sp.versions[c.ID] = clientVersions.Add(1)
	if !c.ExpiresAt.IsZero() && (sp.soonest.IsZero() || c.ExpiresAt.Before(sp.soonest)) {
		sp.soonest = c.ExpiresAt
	}
	if !existed {
		sp.clientIDs.add(c.ID, sp.hasClient)
	}
}

// removeClient deletes the client id, which must be stored.
func (sp *space) removeClient(id string) {
	sp.unindexSoftware(sp.clients[id])
	delete(sp.clients, id)
	delete(sp.versions, id)
	sp.clientIDs.remove(sp.hasClient)
}

// unindexSoftware takes a stored client out of the software_id index.
func (sp *space) unindexSoftware(c *engine.Client) {
	sid := c.Metadata.SoftwareID
	if sid == "" {
		return
	}
	delete(sp.software[sid], c.ID)
	if len(sp.software[sid]) == 0 {
		delete(sp.software, sid)
	}
}

// softwareTaken reports whether a live client other than id has the
// software_id sid, removing the expired ones it meets.
func (sp *space) softwareTaken(sid, id string, now time.Time) bool {
	if sp == nil || sid == "" {
		return false
	}
	for other := range sp.software[sid] {
		if other != id && sp.liveClient(other, now) != nil {
			return true
		}
	}
	return false
}

// putToken stores t, which the space must own, under its ID.
func (sp *space) putToken(t *engine.InitialAccessToken) {
	_, existed := sp.tokens[t.ID]
	sp.tokens[t.ID] = t
	if !existed {
		sp.tokenIDs.add(t.ID, sp.hasToken)
	}
}

// removeToken deletes the token id, which must be stored.
func (sp *space) removeToken(id string) {
	delete(sp.tokens, id)
	sp.tokenIDs.remove(sp.hasToken)
}

// index keeps a tenant's client or token IDs for ordered listing. Writes
// are cheap: a new ID is appended to added, a removed one only counted in
// stale; the next listing sorts and merges added into sorted and drops
// stale IDs, so registering n clients costs O(n log n) in all, not O(n²).
// Its methods take has, which reports whether an ID is stored.
type index struct {
	sorted []string // in order; may hold IDs removed since the last settle
	added  []string // unordered; new since the last settle
	stale  int      // removals since the last settle
}

// add records a new ID.
func (ix *index) add(id string, has func(string) bool) {
	ix.added = append(ix.added, id)
	ix.bound(has)
}

// remove records the removal of an ID.
func (ix *index) remove(has func(string) bool) {
	ix.stale++
	ix.bound(has)
}

// bound settles an index whose pending changes outgrow its sorted part, so
// that an index nobody lists stays within a constant factor of the stored
// IDs.
func (ix *index) bound(has func(string) bool) {
	if len(ix.added)+ix.stale > max(minSweepWrites, len(ix.sorted)) {
		ix.settle(has)
	}
}

// ids returns the stored IDs in order, each once.
func (ix *index) ids(has func(string) bool) []string {
	ix.settle(has)
	return ix.sorted
}

// settle merges the IDs added since the last settle into the sorted list
// and drops the IDs no longer stored.
func (ix *index) settle(has func(string) bool) {
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
		if has(id) {
			merged = append(merged, id)
		}
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
	s.writes = 0
	s.sweepAt = max(minSweepWrites, s.sweep(now))
}

// sweep removes every expired record, tombstone and empty space, and
// returns how many records are left.
func (s *Store) sweep(now time.Time) int {
	left := len(s.tenants) + len(s.tombstones)
	for tenant, sp := range s.spaces {
		sp.liveClients(now) // removes the expired clients, when there may be some
		for id, t := range sp.tokens {
			if !engine.Live(t.ExpiresAt, now) {
				sp.removeToken(id)
			}
		}
		for id, t := range sp.admins {
			if !engine.Live(t.ExpiresAt, now) {
				delete(sp.admins, id)
			}
		}
		if sp.empty() {
			delete(s.spaces, tenant)
			continue
		}
		sp.clientIDs.settle(sp.hasClient)
		sp.tokenIDs.settle(sp.hasToken)
		left += len(sp.clients) + len(sp.tokens) + len(sp.admins)
	}
	for tenant, until := range s.tombstones {
		if !now.Before(until) {
			delete(s.tombstones, tenant)
		}
	}
	return left
}

// ClientAudited returns a copy of the live client with that tenant and ID
// and, if ratDigest is its registration token's digest, appends e to the
// audit log before the store is unlocked (engine.AuditedClientReader).
func (s *Store) ClientAudited(_ context.Context, tenant, id, ratDigest string, e *engine.AuditEvent) (*engine.Client, bool, error) {
	if e.Tenant != tenant {
		return nil, false, fmt.Errorf("memstore: ClientAudited: an event of tenant %q, not %q", e.Tenant, tenant)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.spaces[tenant].liveClient(id, s.now())
	if c == nil {
		return nil, false, engine.ErrNotFound
	}
	audited := ratDigest != "" && subtle.ConstantTimeCompare([]byte(ratDigest), []byte(c.RegistrationTokenHash)) == 1
	if audited {
		if _, err := s.AppendAudit(context.Background(), e); err != nil {
			return nil, false, err
		}
	}
	return c.Clone(), audited, nil
}

var _ engine.AuditedClientReader = (*Store)(nil)
