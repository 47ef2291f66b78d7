package memstore

import (
	"fmt"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// TestLimiterFollowsClock checks the exact budget arithmetic under the
// store's clock.
func TestLimiterFollowsClock(t *testing.T) {
	s, clk := newStore()
	rate := engine.Rate{Events: 5, Per: 500 * time.Millisecond}
	steps := []struct {
		advance    time.Duration
		ok         bool
		retryAfter time.Duration
	}{
		{0, true, 0}, {0, true, 0}, {0, true, 0}, {0, true, 0}, {0, true, 0},
		{0, false, 100 * time.Millisecond},
		{0, false, 100 * time.Millisecond}, // a refusal takes nothing
		{40 * time.Millisecond, false, 60 * time.Millisecond},
		{59*time.Millisecond + 999*time.Microsecond, false, time.Millisecond}, // at least a millisecond
		{time.Microsecond, true, 0},
		{0, false, 100 * time.Millisecond},
		{250 * time.Millisecond, true, 0}, // two and a half events back
		{0, true, 0},
		{0, false, 50 * time.Millisecond},
		{time.Hour, true, 0}, // a full bucket, and no more
		{0, true, 0}, {0, true, 0}, {0, true, 0}, {0, true, 0},
		{0, false, 100 * time.Millisecond},
	}
	for i, step := range steps {
		clk.Advance(step.advance)
		ok, retryAfter, err := s.Allow(t.Context(), "t", "k", rate)
		if err != nil || ok != step.ok || retryAfter != step.retryAfter {
			t.Fatalf("step %d: Allow = %t, %v, %v; want %t, %v", i, ok, retryAfter, err, step.ok, step.retryAfter)
		}
	}
}

func TestLimiterRates(t *testing.T) {
	s, _ := newStore()
	for _, tc := range []struct {
		rate    engine.Rate
		wantErr bool
	}{
		{engine.Rate{}, false}, // no limit
		{engine.Rate{Events: 1, Per: time.Second}, false},
		{engine.Rate{Events: -1, Per: time.Second}, true},
		{engine.Rate{Events: 1, Per: 0}, true},
		{engine.Rate{Events: 1, Per: -time.Second}, true},
	} {
		ok, _, err := s.Allow(t.Context(), "t", fmt.Sprint(tc.rate), tc.rate)
		if (err != nil) != tc.wantErr || ok == tc.wantErr {
			t.Errorf("Allow(%+v) = %t, %v; want an error: %t", tc.rate, ok, err, tc.wantErr)
		}
	}
	// The zero rate counts nothing.
	for range 100 {
		if ok, _, err := s.Allow(t.Context(), "t", "zero", engine.Rate{}); !ok || err != nil {
			t.Fatalf("Allow with no limit = %t, %v", ok, err)
		}
	}
	if len(s.limit.buckets) != 1 {
		t.Errorf("the limiter keeps %d budgets, want 1", len(s.limit.buckets))
	}
}

// TestLimiterForgets checks that budgets which refilled are forgotten, so
// that a stream of new keys (client addresses) does not grow memory.
func TestLimiterForgets(t *testing.T) {
	s, clk := newStore()
	rate := engine.Rate{Events: 10, Per: time.Second}
	for i := range 100 * minSweepWrites {
		if ok, _, err := s.Allow(t.Context(), "t", fmt.Sprint("ip-", i), rate); !ok || err != nil {
			t.Fatalf("Allow = %t, %v", ok, err)
		}
		clk.Advance(10 * time.Millisecond)
		// A budget refills within 100ms, 10 calls: at most ~2 sweeps'
		// worth of budgets stay.
		if n := len(s.limit.buckets); n > 2*minSweepWrites+10 {
			t.Fatalf("after %d calls the limiter keeps %d budgets", i+1, n)
		}
	}
}
