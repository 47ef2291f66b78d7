package memstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/registrar-dev/registrar/engine"
)

// auditLog keeps the audit events of every tenant, each log capped to the
// newest maxLen events.
type auditLog struct {
	mu     sync.Mutex
	maxLen int
	logs   map[string]*tenantLog
}

// tenantLog is the audit log of one tenant. An event's ID is its sequence
// number in decimal: the first event appended is "1". The events are
// consecutive: events[i] has the number last-len(events)+1+i.
type tenantLog struct {
	events []*engine.AuditEvent // oldest first; only the newest maxLen count
	last   int64                // number of the newest event
}

// AppendAudit stores a copy of e, under the next ID of e.Tenant's log,
// and drops the oldest events beyond Config.AuditMaxLen. e is not changed;
// any ID it has is replaced.
func (s *Store) AppendAudit(_ context.Context, e *engine.AuditEvent) (string, error) {
	a := &s.audit
	a.mu.Lock()
	defer a.mu.Unlock()
	l := a.logs[e.Tenant]
	if l == nil {
		l = &tenantLog{}
		a.logs[e.Tenant] = l
	}
	l.last++
	c := cloneEvent(e)
	c.ID = strconv.FormatInt(l.last, 10)
	l.events = append(l.events, c)
	// Events beyond the cap are dropped in batches, so that appends cost a
	// constant time on average.
	if len(l.events) >= 2*a.maxLen {
		l.events = slices.Clone(l.events[len(l.events)-a.maxLen:])
	}
	return c.ID, nil
}

// AuditEvents returns copies of a page of the tenant's events, newest
// first. before, when set, must be an ID the log gave; an ID of an event
// since dropped gives an empty page.
func (s *Store) AuditEvents(_ context.Context, tenant, before string, limit int) ([]*engine.AuditEvent, string, error) {
	if limit < 1 {
		return nil, "", fmt.Errorf("memstore: AuditEvents limit %d is not positive", limit)
	}
	var end int64 // the events numbered below end are listed
	if before != "" {
		n, err := strconv.ParseInt(before, 10, 64)
		if err != nil || n < 0 {
			return nil, "", fmt.Errorf("memstore: audit event ID %q: not a sequence number: %w", before, engine.ErrInvalidCursor)
		}
		end = n
	}
	a := &s.audit
	a.mu.Lock()
	defer a.mu.Unlock()
	l := a.logs[tenant]
	if l == nil {
		return nil, "", nil
	}
	if before == "" || end > l.last {
		end = l.last + 1
	}
	first := l.last - int64(min(len(l.events), a.maxLen)) + 1 // the oldest that counts
	var page []*engine.AuditEvent
	for n := end - 1; n >= first; n-- {
		if len(page) == limit {
			return page, page[limit-1].ID, nil
		}
		page = append(page, cloneEvent(l.events[int64(len(l.events))-1-(l.last-n)]))
	}
	return page, "", nil
}

// cloneEvent returns a deep copy of e.
func cloneEvent(e *engine.AuditEvent) *engine.AuditEvent {
	c := *e
	if e.Policy != nil {
		p := *e.Policy
		c.Policy = &p
	}
	c.Policies = slices.Clone(e.Policies)
	return &c
}
