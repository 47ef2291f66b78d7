package gcfloor

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		live, scan, floor uint64
		base, want        int
	}{
		{live: 4 * mib, scan: 5 * mib, floor: 64 * mib, base: 100, want: 1200},  // goal 4 + 5 × 12 = 64 MiB
		{live: 32 * mib, scan: 33 * mib, floor: 64 * mib, base: 100, want: 100}, // 32 + 33 is above the floor already
		{live: 80 * mib, scan: 81 * mib, floor: 64 * mib, base: 100, want: 100}, // above: as without a floor
		{live: 10 * mib, scan: 10 * mib, floor: 64 * mib, base: 400, want: 540},
		{live: 20 * mib, scan: 20 * mib, floor: 64 * mib, base: 400, want: 400},
		// A tiny heap: bounded so that the runtime's minimum heap (4 MiB
		// scaled by the percentage) stays at the floor.
		{live: 0, scan: 0, floor: 64 * mib, base: 100, want: 1600},
		{live: 1 << 10, scan: 1 << 10, floor: 1 << 50, base: 100, want: maxPercent},
		{live: 3 * mib, scan: 6 * mib, floor: 10*mib - 1, base: 50, want: 116}, // rounded down: the goal stays under the floor
	} {
		if got := percent(tc.live, tc.scan, tc.floor, tc.base); got != tc.want {
			t.Errorf("percent(%d, %d, %d, %d) = %d, want %d", tc.live, tc.scan, tc.floor, tc.base, got, tc.want)
		}
	}
}

// waitTuned collects until the percentage moves from base.
func waitTuned(t *testing.T, base int) {
	t.Helper()
	for i := 0; Percent() == base; i++ {
		if i == 1000 {
			t.Fatalf("the GC percentage stayed %d after %d collections", base, i)
		}
		runtime.GC()
		runtime.Gosched()
	}
}

// TestGoal: the runtime's heap goal lands at the floor, not above it (a
// percentage that ignores how the runtime scales its minimum heap would
// put it at gigabytes).
func TestGoal(t *testing.T) {
	t.Setenv("GOGC", "") // the floor steps aside for an operator's GOGC
	const floor = 64 << 20
	base := Percent()
	f := Start(floor)
	defer f.Stop()
	waitTuned(t, base)
	s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}}
	metrics.Read(s)
	if goal := s[0].Value.Uint64(); goal > floor || goal < floor/2 {
		t.Errorf("heap goal %d bytes with a floor of %d", goal, floor)
	}
}

// TestStartStop: with a floor far above the test's live heap, the
// percentage rises after a collection, and Stop restores it.
func TestStartStop(t *testing.T) {
	t.Setenv("GOGC", "") // the floor steps aside for an operator's GOGC
	base := Percent()
	f := Start(1 << 40)
	defer f.Stop()
	waitTuned(t, base)
	if got := Percent(); got <= base {
		t.Errorf("percentage %d with the floor, want above %d", got, base)
	}
	f.Stop()
	if got := Percent(); got != base {
		t.Errorf("percentage %d after Stop, want %d", got, base)
	}
	// The finalizer of a collection after Stop changes nothing.
	runtime.GC()
	runtime.GC()
	if got := Percent(); got != base {
		t.Errorf("percentage %d after collections past Stop, want %d", got, base)
	}
}

// TestOff: with the collector off (GOGC=off) the floor does nothing.
func TestOff(t *testing.T) {
	old := debug.SetGCPercent(-1)
	defer debug.SetGCPercent(old)
	f := Start(1 << 40)
	defer f.Stop()
	if got := Percent(); got >= 0 {
		t.Errorf("percentage %d, want the collector still off", got)
	}
	f.Stop()
	if got := Percent(); got >= 0 {
		t.Errorf("percentage %d after Stop, want the collector still off", got)
	}
}

// TestOneAtATime: a second Floor started while one runs changes nothing,
// and its Stop leaves the first one's percentage alone.
func TestOneAtATime(t *testing.T) {
	t.Setenv("GOGC", "") // the floor steps aside for an operator's GOGC
	base := Percent()
	first := Start(1 << 40)
	defer first.Stop()
	waitTuned(t, base)
	// The test's live heap is far below 1 TiB / maxPercent: the first
	// Floor's percentage is maxPercent after every collection.
	second := Start(1 << 20)
	runtime.GC()
	second.Stop()
	if got := Percent(); got != maxPercent {
		t.Errorf("percentage %d after the second Floor stopped, want %d (the first's)", got, maxPercent)
	}
	first.Stop()
	if got := Percent(); got != base {
		t.Errorf("percentage %d after both stopped, want %d", got, base)
	}
}

// TestGOGCSet: with GOGC in the environment the floor does nothing; an
// empty GOGC is Go's default, and the floor runs.
func TestGOGCSet(t *testing.T) {
	base := Percent()
	t.Setenv("GOGC", "200")
	f := Start(1 << 40)
	runtime.GC()
	runtime.GC()
	if got := Percent(); got != base {
		t.Errorf("percentage %d with GOGC set, want %d untouched", got, base)
	}
	f.Stop()
	t.Setenv("GOGC", "")
	f = Start(1 << 40)
	defer f.Stop()
	waitTuned(t, base)
}
