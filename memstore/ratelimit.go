package memstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// limiter keeps rate-limit budgets as the generic cell rate algorithm
// does, which is a token bucket kept in one time per budget: the
// theoretical arrival time (TAT), when the bucket will be full again if
// nothing more is taken. Taking an event moves it on by Per/Events; the
// bucket has room while it is at most Per - Per/Events ahead of now.
type limiter struct {
	mu      sync.Mutex
	buckets map[bucketKey]time.Time // TAT of each budget
	// allows counts the calls since the last sweep, which runs again when
	// they reach sweepAt.
	allows, sweepAt int
}

// bucketKey names a budget.
type bucketKey struct{ tenant, key string }

// Allow takes one event from the budget of tenant and key if it has one
// (see engine.Limiter). The zero rate is no limit: every event fits and
// none is counted. A rate with Events or Per negative, or Per zero for a
// positive Events, is an error.
func (s *Store) Allow(_ context.Context, tenant, key string, rate engine.Rate) (bool, time.Duration, error) {
	if rate.IsZero() {
		return true, 0, nil
	}
	if rate.Events < 0 || rate.Per <= 0 {
		return false, 0, fmt.Errorf("memstore: rate %d per %v is not a rate", rate.Events, rate.Per)
	}
	interval := rate.Per / time.Duration(rate.Events)
	tolerance := rate.Per - interval // how far ahead the TAT may run
	now := s.now()
	l := &s.limit
	l.mu.Lock()
	defer l.mu.Unlock()
	k := bucketKey{tenant, key}
	tat := l.buckets[k]
	if tat.Before(now) {
		tat = now // a full bucket
	}
	if ahead := tat.Sub(now); ahead > tolerance {
		return false, max(ahead-tolerance, time.Millisecond), nil
	}
	l.buckets[k] = tat.Add(interval)
	l.allowed(now)
	return true, 0, nil
}

// allowed counts a taken event, and forgets the full buckets once the
// calls since the last sweep reach the number of buckets it left (at least
// minSweepWrites), so that each call pays a constant share of the sweep.
func (l *limiter) allowed(now time.Time) {
	l.allows++
	if l.allows < l.sweepAt {
		return
	}
	for k, tat := range l.buckets {
		if !tat.After(now) {
			delete(l.buckets, k)
		}
	}
	l.allows = 0
	l.sweepAt = max(minSweepWrites, len(l.buckets))
}
