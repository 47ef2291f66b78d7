package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// RunLimiter runs the conformance suite of engine.Limiter against the
// limiters that newLimiter makes, one fresh limiter for each subtest.
//
// The suite runs in real time, with rates whose refill interval (Per /
// Events) is 100 ms or more. Checks that hold only while the test is
// quick enough, such as "the sixth event within 50 ms is refused", are
// skipped, with a log line, when the machine was too slow for them.
//
// Where the documentation of engine.Limiter is silent, the suite decides:
//
//   - A refused call's retryAfter is at most the refill interval, with a
//     tenth of it to spare for a store that counts in coarser steps.
//   - Budgets are told apart by the pair of tenant and key, however the
//     two would join: tenant "ab" with key "c" is not tenant "a" with key
//     "bc". Keys are free text, such as IPv6 prefixes with colons.
//   - The suite never calls Allow with the zero Rate (no limit): callers
//     do not ask a limiter about a limit that is not set.
func RunLimiter(t *testing.T, newLimiter func(t *testing.T) engine.Limiter) {
	tests := []struct {
		name string
		run  func(*testing.T, engine.Limiter)
	}{
		{"Burst", testLimiterBurst},
		{"Refill", testLimiterRefill},
		{"Isolation", testLimiterIsolation},
		{"ConcurrentAllow", testConcurrentAllow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, newLimiter(t))
		})
	}
}

// allow calls Allow, failing the test on an error and checking retryAfter
// against the rate.
func allow(t *testing.T, l engine.Limiter, tenant, key string, rate engine.Rate) (bool, time.Duration) {
	t.Helper()
	ok, retryAfter, err := l.Allow(t.Context(), tenant, key, rate)
	if err != nil {
		t.Fatalf("Allow(%s, %s, %v): %v", tenant, key, rate, err)
	}
	interval := rate.Per / time.Duration(rate.Events)
	if !ok && (retryAfter < time.Millisecond || retryAfter > interval+interval/10) {
		t.Errorf("Allow(%s, %s, %v) refused with retryAfter %v, want 1ms to %v", tenant, key, rate, retryAfter, interval+interval/10)
	}
	return ok, retryAfter
}

// takeAll takes events from a budget until one is refused, at most max+1
// times, and returns how many were allowed and the retryAfter of the
// refusal.
func takeAll(t *testing.T, l engine.Limiter, tenant, key string, rate engine.Rate, max int) (int, time.Duration) {
	t.Helper()
	for n := range max + 1 {
		if ok, retryAfter := allow(t, l, tenant, key, rate); !ok {
			return n, retryAfter
		}
	}
	return max + 1, 0
}

// testLimiterBurst takes a full bucket at once, then checks that refusals
// take nothing: the event retryAfter promised is there after it.
func testLimiterBurst(t *testing.T, l engine.Limiter) {
	tenant := newTenant()
	rate := engine.Rate{Events: 5, Per: 500 * time.Millisecond}
	interval := rate.Per / time.Duration(rate.Events)
	start := time.Now()
	for i := range rate.Events {
		if ok, _ := allow(t, l, tenant, "burst", rate); !ok {
			t.Fatalf("event %d of a full bucket of %d was refused", i+1, rate.Events)
		}
	}
	ok, retryAfter := allow(t, l, tenant, "burst", rate)
	refused := time.Now()
	quick := time.Since(start) < interval/2
	switch {
	case ok && quick:
		t.Fatalf("event %d within %v of a bucket of %d was allowed", rate.Events+1, time.Since(start), rate.Events)
	case ok:
		t.Skipf("the test took %v to take %d events, too slow to check a refusal", time.Since(start), rate.Events)
	}
	// Refusals take nothing: however many, the event is there once
	// retryAfter has passed.
	for range 20 {
		if ok, _ := allow(t, l, tenant, "burst", rate); ok && time.Since(start) < interval/2 {
			t.Fatalf("an event was allowed %v after a full bucket was taken", time.Since(start))
		}
	}
	time.Sleep(retryAfter + 10*time.Millisecond)
	refilled := time.Now()
	if ok, _ := allow(t, l, tenant, "burst", rate); !ok {
		t.Fatalf("Allow refused an event %v after the retryAfter %v of a refusal", time.Since(start), retryAfter)
	}
	// One event came back, not more: checked when the rest since the
	// refusal stayed short of a second event (the 20 refusals and the
	// sleep may take longer on a loaded machine).
	ok, _ = allow(t, l, tenant, "burst", rate)
	if ok && time.Since(refilled) < interval/2 && refilled.Sub(refused) < retryAfter+interval/2 {
		t.Errorf("two events were allowed %v after the bucket gained one", time.Since(refilled))
	}
}

// testLimiterRefill leaves a taken bucket alone for longer than it takes
// to fill: it holds a full bucket again, and no more.
func testLimiterRefill(t *testing.T, l engine.Limiter) {
	tenant := newTenant()
	rate := engine.Rate{Events: 5, Per: 500 * time.Millisecond}
	interval := rate.Per / time.Duration(rate.Events)
	if n, _ := takeAll(t, l, tenant, "refill", rate, 100); n < rate.Events {
		t.Fatalf("a full bucket of %d allowed %d events", rate.Events, n)
	}
	time.Sleep(rate.Per + interval)
	start := time.Now()
	n, _ := takeAll(t, l, tenant, "refill", rate, 2*rate.Events)
	drained := time.Now()
	quick := drained.Sub(start) < interval/2
	if quick {
		if n != rate.Events {
			t.Errorf("after %v of rest a bucket of %d allowed %d events", rate.Per+interval, rate.Events, n)
		}
	} else if n < rate.Events {
		t.Errorf("after %v of rest a bucket of %d allowed %d events", rate.Per+interval, rate.Events, n)
	} else {
		t.Logf("the test took %v to take the refilled bucket, too slow to check that it held no more than %d", drained.Sub(start), rate.Events)
	}
	testLimiterTrickle(t, l, tenant, rate, drained, quick)
}

// testLimiterTrickle checks that events come back one per interval:
// waiting a little more than two intervals after the bucket was drained
// gives two. The exact count is checked only when the machine was quick
// enough for it to be exact: the drain and the take each well within half
// an interval, and the rest shorter than three intervals (a sleep may
// overshoot on a loaded machine); otherwise at least two.
func testLimiterTrickle(t *testing.T, l engine.Limiter, tenant string, rate engine.Rate, drained time.Time, quick bool) {
	interval := rate.Per / time.Duration(rate.Events)
	time.Sleep(2*interval + interval/5)
	start := time.Now()
	n, _ := takeAll(t, l, tenant, "refill", rate, 2*rate.Events)
	exact := quick && time.Since(start) < interval/2 && start.Sub(drained) < 3*interval
	switch {
	case exact && n != 2:
		t.Errorf("after two intervals the bucket allowed %d events, want 2", n)
	case n < 2:
		t.Errorf("after two intervals the bucket allowed %d events, want at least 2", n)
	case !exact:
		t.Logf("rest %v, take %v: too slow to check that the bucket held exactly 2 (it held %d)", start.Sub(drained), time.Since(start), n)
	}
}

// testLimiterIsolation takes the budget of one tenant and key, and checks
// that the budgets of other tenants and keys, however alike their names,
// are full.
func testLimiterIsolation(t *testing.T, l engine.Limiter) {
	base := newTenant()
	// No event comes back during the test.
	rate := engine.Rate{Events: 3, Per: time.Minute}
	type budget struct{ tenant, key string }
	taken := []budget{
		{base, "bc"},
		{base, "2001:db8:1::/64"},
		{base + "-x", "y"},
	}
	untouched := []budget{
		{base + "b", "c"},   // joined without a separator: "<base>bc"
		{base + "-x-", "y"}, // joined with "-": "<base>-x--y"
		{base + "-x", "-y"},
		{base, "bc2"},
		{base, "b"},
		{base, "2001:db8:1::/6"},
		{base, "2001:db8:10::/64"},
		{base + "-2001", "db8:1::/64"},
		{newTenant(), "bc"},
	}
	for _, b := range taken {
		if n, _ := takeAll(t, l, b.tenant, b.key, rate, 10); n != rate.Events {
			t.Errorf("budget %s/%s allowed %d events, want %d", b.tenant, b.key, n, rate.Events)
		}
	}
	for _, b := range untouched {
		if n, _ := takeAll(t, l, b.tenant, b.key, rate, 10); n != rate.Events {
			t.Errorf("budget %s/%s allowed %d events after others were taken, want %d", b.tenant, b.key, n, rate.Events)
		}
	}
	for _, b := range taken {
		if ok, _ := allow(t, l, b.tenant, b.key, rate); ok {
			t.Errorf("budget %s/%s allowed an event after it was taken", b.tenant, b.key)
		}
	}
}

// testConcurrentAllow takes one budget from many goroutines at once: it
// allows as many events as it holds, not one more.
func testConcurrentAllow(t *testing.T, l engine.Limiter) {
	ctx := t.Context()
	tenant := newTenant()
	n := goroutines()
	rate := engine.Rate{Events: n / 5, Per: time.Minute}
	oks := make([]bool, n)
	errs := make([]error, n)
	hammer(n, func(i int) {
		oks[i], _, errs[i] = l.Allow(ctx, tenant, "hammer", rate)
	})
	allowed := 0
	for i, err := range errs {
		if err != nil {
			t.Errorf("Allow %d: %v", i, err)
		}
		if oks[i] {
			allowed++
		}
	}
	if allowed != rate.Events {
		t.Errorf("%d concurrent calls took %d events from a bucket of %d", n, allowed, rate.Events)
	}
	if ok, _ := allow(t, l, tenant, "hammer", rate); ok {
		t.Errorf("the bucket allowed an event after the hammer took it")
	}
	// Another key of the tenant was not touched.
	if n, _ := takeAll(t, l, tenant, fmt.Sprint("hammer", 2), rate, rate.Events); n != rate.Events {
		t.Errorf("another key allowed %d events, want %d", n, rate.Events)
	}
}
