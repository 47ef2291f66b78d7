package memstore

import (
	"context"
	"slices"
	"sort"

	"github.com/registrar-dev/registrar/engine"
)

// tenantChanges numbers the changes of tenant records, for TenantChanges:
// latest is the number of the last change, at the number of each tenant's
// last change, and log the changes in order, a tenant possibly more than
// once (entries older than at says are stale). The zero value is ready.
type tenantChanges struct {
	latest int64
	at     map[string]int64
	log    []tenantChange
}

// tenantChange is one entry of tenantChanges.log.
type tenantChange struct {
	n    int64
	name string
}

// note records a change of the tenant; s.mu must be held.
func (c *tenantChanges) note(name string) {
	if c.at == nil {
		c.at = map[string]int64{}
	}
	c.latest++
	c.at[name] = c.latest
	c.log = append(c.log, tenantChange{c.latest, name})
	if len(c.log) > 2*len(c.at)+1024 {
		c.compact()
	}
}

// compact drops the stale entries of the log.
func (c *tenantChanges) compact() {
	log := make([]tenantChange, 0, len(c.at))
	for name, n := range c.at {
		log = append(log, tenantChange{n, name})
	}
	slices.SortFunc(log, func(a, b tenantChange) int { return int(a.n - b.n) })
	c.log = log
}

// since returns the names changed after change number n, each once.
func (c *tenantChanges) since(n int64) []string {
	i := sort.Search(len(c.log), func(i int) bool { return c.log[i].n > n })
	var names []string
	for _, e := range c.log[i:] {
		if c.at[e.name] == e.n {
			names = append(names, e.name)
		}
	}
	return names
}

// TenantChanges returns copies of the records of the tenants changed after
// change number since, and the names of those deleted. Its cost grows
// with the number of changes, not of tenants.
func (s *Store) TenantChanges(_ context.Context, since int64) (*engine.TenantChanges, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := &engine.TenantChanges{Latest: s.changes.latest}
	if since < 0 {
		return ch, nil
	}
	for _, name := range s.changes.since(since) {
		if rec := s.tenants[name]; rec != nil {
			ch.Records = append(ch.Records, rec.Clone())
		} else {
			ch.Gone = append(ch.Gone, name)
		}
	}
	return ch, nil
}
