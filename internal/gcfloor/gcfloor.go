// Package gcfloor keeps Go's garbage collector from collecting a small heap
// more often than its size needs.
//
// The collector starts a cycle when the heap has grown by GOGC percent of
// what the last cycle left live. A server whose live heap is a few MiB
// therefore collects every few MiB of allocation: under load, many times a
// second, at a fixed cost per cycle (10-15% of what a request costs in
// Registrar, docs/operations.md). Go has no setting for a minimum heap
// goal; this package gives one. After each collection it sets the GC
// percentage so that the next one starts when the heap reaches
// max(Go's goal, floor): a live heap whose goal is above floor is
// collected exactly as without it, and a smaller one lets at most floor
// bytes accumulate. A memory limit (GOMEMLIMIT) still bounds
// the whole: the collector works harder near it whatever the percentage.
package gcfloor

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// maxPercent bounds the percentage set for a tiny live heap.
const maxPercent = 1_000_000

// Floor is a running heap floor; Stop ends it.
type Floor struct {
	floor uint64
	base  int // the GC percentage in force when it started

	mu      sync.Mutex // orders tune and Stop
	stopped bool
	sample  []metrics.Sample // live heap, stacks and globals of the last cycle
}

// running is the Floor in force in the process, if any: the GC percentage
// is process-wide, so only one Floor may set it.
var running struct {
	sync.Mutex
	f *Floor
}

// Start keeps the heap goal at least floor bytes until Stop is called,
// starting from the GC percentage in force (100, unless the program set
// another). It does nothing when GOGC is set in the environment (the
// operator's percentage wins; an empty GOGC is Go's default to the
// runtime, and here too), with the collector off, a floor of 0, or while
// another Floor runs.
func Start(floor uint64) *Floor {
	running.Lock()
	defer running.Unlock()
	f := &Floor{floor: floor, base: Percent(), sample: []metrics.Sample{
		{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/stack:bytes"}, {Name: "/gc/scan/globals:bytes"},
	}}
	if floor == 0 || f.base < 0 || os.Getenv("GOGC") != "" || running.f != nil {
		f.stopped = true
		return f
	}
	running.f = f
	f.arm()
	f.tune()
	return f
}

// Stop ends the floor and restores the GC percentage it started from.
func (f *Floor) Stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.stopped {
		f.stopped = true
		debug.SetGCPercent(f.base)
		running.Lock()
		running.f = nil
		running.Unlock()
	}
}

// Percent is the GC percentage in force (GOGC; negative when off).
func Percent() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// sentinel is garbage at once; its finalizer runs after every collection
// and arms the next one. It holds a pointer so that it is not a tiny
// allocation (whose finalizers may wait on their neighbours).
type sentinel struct{ f *Floor }

// arm sets up the tuning after the next collection.
func (f *Floor) arm() {
	runtime.SetFinalizer(&sentinel{f: f}, func(s *sentinel) {
		if s.f.tune() {
			s.f.arm()
		}
	})
}

// tune sets the GC percentage for what the last collection left, and
// reports whether the floor is still running.
func (f *Floor) tune() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return false
	}
	metrics.Read(f.sample)
	var v [3]uint64
	for i, s := range f.sample {
		if s.Value.Kind() != metrics.KindUint64 {
			return true
		}
		v[i] = s.Value.Uint64()
	}
	live := v[0]
	debug.SetGCPercent(percent(live, live+v[1]+v[2], f.floor, f.base))
	return true
}

// heapMinimum is Go's least heap goal at GOGC=100; the runtime scales it
// with the percentage (at GOGC=400 the heap grows to 16 MiB before the
// first cycle).
const heapMinimum = 4 << 20

// percent is the GC percentage that puts the next heap goal at floor, or
// as near below it as a whole percentage allows, and never below base.
// The runtime's goal is max(live + scan × p/100, heapMinimum × p/100),
// where live is the heap the last cycle marked and scan that plus the
// stacks and globals it scanned (runtime/mgcpacer.go): both terms are kept
// at or under floor.
func percent(live, scan, floor uint64, base int) int {
	if live >= floor {
		return base
	}
	p := (floor - live) * 100 / max(scan, 1)
	p = min(p, floor*100/heapMinimum, maxPercent)
	return max(int(p), base)
}
