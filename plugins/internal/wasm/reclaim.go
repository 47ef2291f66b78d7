package wasm

import (
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// reclaimSlack is the Go heap (live, garbage and free pages not returned)
// below which failed calls are not worth a collection.
const reclaimSlack = 64 << 20

// reclaimEvery spaces the returns: each is a full collection.
const reclaimEvery = time.Second

// Reclaimer returns to the system the Go heap that failed calls leave
// behind. wazero grows a call's stack on the Go heap, doubling it up to
// 50 MB, so a module that recurses without end makes ~200 MB of garbage
// per call; once collected, the Go runtime keeps those pages (measured:
// 292 MiB resident 5 s after four stack overflows, 13 MiB after
// debug.FreeOSMemory). Linear memories need none of this: they live in
// their own mappings (memory_linux.go).
type Reclaimer struct {
	mu      sync.Mutex
	pending bool // a failure since the last return
	running bool // a goroutine is returning memory
	sample  []metrics.Sample
}

// AfterFailure has the heap collected and returned to the system soon, if
// it is over reclaimSlack: at once if no return ran in the last
// reclaimEvery, else at the end of it, however many calls fail meanwhile.
func (r *Reclaimer) AfterFailure() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sample == nil {
		r.sample = []metrics.Sample{
			{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/free:bytes"},
			{Name: "/memory/classes/heap/unused:bytes"},
		}
	}
	metrics.Read(r.sample)
	if r.sample[0].Value.Uint64()+r.sample[1].Value.Uint64()+r.sample[2].Value.Uint64() < reclaimSlack {
		return
	}
	r.pending = true
	if r.running {
		return
	}
	r.running = true
	go r.run()
}

// run returns memory while failures ask for it, once per reclaimEvery.
func (r *Reclaimer) run() {
	for {
		r.mu.Lock()
		if !r.pending {
			r.running = false
			r.mu.Unlock()
			return
		}
		r.pending = false
		r.mu.Unlock()
		debug.FreeOSMemory()
		time.Sleep(reclaimEvery)
	}
}
