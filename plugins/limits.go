package plugins

import (
	"fmt"
	"runtime"
	"time"

	"github.com/registrar-dev/registrar/plugins/internal/wasm"
)

// Limits bound what one module may use. The zero value of each field means
// the default in its comment.
type Limits struct {
	// Timeout is the deadline of one hook call. Default 100ms.
	Timeout time.Duration `json:"timeout,omitempty"`
	// MemoryPages caps an instance's linear memory, in 64 KiB pages.
	// Default 512 (32 MiB).
	MemoryPages uint32 `json:"memory_pages,omitempty"`
	// MaxTableElements caps each table of a module, in elements. A module
	// whose table declares a larger minimum is refused at load; table.grow
	// past the cap fails (returns -1). A module's tables count toward its
	// memory budget at 8 bytes an element (their capped sizes, rounded up
	// to whole pages, are taken off MemoryPages). Default 10,000.
	MaxTableElements uint32 `json:"max_table_elements,omitempty"`
	// MaxLogBytes bounds what one call may log, through registrar.log and
	// WASI stdout and stderr together, in bytes: each line counts its
	// length (after invalid UTF-8 and control characters become "?") and
	// 100 bytes for its record. A line that does not fit is cut, on a
	// UTF-8 boundary, and is the call's last, followed by one line saying
	// so; a call also logs at most 64 lines of at most 1,024 bytes each.
	// Default 16 KiB.
	MaxLogBytes int `json:"max_log_bytes,omitempty"`
	// MaxLogBytesPerSecond bounds what one module (all its instances) may
	// log per second, counted as MaxLogBytes counts, as a token bucket of
	// that many bytes; lines over it are dropped, and one line says so
	// each time the budget runs out. Default 64 KiB.
	MaxLogBytesPerSecond int `json:"max_log_bytes_per_second,omitempty"`
	// MaxInput bounds an input document, in bytes. Default 64 KiB.
	MaxInput int `json:"max_input,omitempty"`
	// MaxOutput bounds an output document, in bytes. Default 256 KiB.
	MaxOutput int `json:"max_output,omitempty"`
	// MaxInstances bounds the live instances of one module. Default
	// 2 × GOMAXPROCS.
	MaxInstances int `json:"max_instances,omitempty"`
	// MaxIdle bounds the instances kept warm between calls. Default
	// GOMAXPROCS (at most MaxInstances).
	MaxIdle int `json:"max_idle,omitempty"`
	// InstantiateTimeout bounds creating an instance, including its
	// _initialize. Default 5s.
	InstantiateTimeout time.Duration `json:"instantiate_timeout,omitempty"`
	// MaxCallsPerInstance retires an instance after at most that many
	// calls, so that no state builds up: each instance after a number
	// drawn between three quarters of it and it, so that a module's
	// instances do not all retire at once. Default 10,000.
	MaxCallsPerInstance int `json:"max_calls_per_instance,omitempty"`
	// TenantCalls bounds the hook calls made for one tenant that run at
	// once, across every module it uses, so that a tenant whose module
	// loops or bombs its memory keeps at most that many CPUs busy: its
	// other calls wait for a turn, while other tenants' calls run. Default
	// GOMAXPROCS/2, at least 1.
	TenantCalls int `json:"tenant_calls,omitempty"`
	// TenantWait bounds how long a call waits for one of its tenant's
	// turns; the call's own deadline (Timeout) starts when it has one. A
	// call that finds no turn in time fails. Default 1s.
	TenantWait time.Duration `json:"tenant_wait,omitempty"`
}

// withDefaults returns l with every zero field set to its default.
func (l Limits) withDefaults() Limits {
	procs := runtime.GOMAXPROCS(0)
	set := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	if l.Timeout == 0 {
		l.Timeout = 100 * time.Millisecond
	}
	if l.MemoryPages == 0 {
		l.MemoryPages = 512
	}
	if l.MaxTableElements == 0 {
		l.MaxTableElements = 10_000
	}
	set(&l.MaxLogBytes, 16<<10)
	set(&l.MaxLogBytesPerSecond, 64<<10)
	set(&l.MaxInput, 64<<10)
	set(&l.MaxOutput, 256<<10)
	set(&l.MaxInstances, 2*procs)
	set(&l.MaxIdle, min(procs, l.MaxInstances))
	set(&l.MaxCallsPerInstance, 10_000)
	set(&l.TenantCalls, max(1, procs/2))
	if l.TenantWait == 0 {
		l.TenantWait = time.Second
	}
	if l.InstantiateTimeout == 0 {
		l.InstantiateTimeout = 5 * time.Second
	}
	return l
}

// check refuses limits that cannot work.
func (l Limits) check() error {
	switch {
	case l.Timeout < 0 || l.InstantiateTimeout < 0 || l.TenantWait < 0:
		return fmt.Errorf("plugins: timeouts must not be negative")
	case l.MemoryPages > 65536:
		return fmt.Errorf("plugins: memory_pages %d is over the 4 GiB of a 32-bit memory", l.MemoryPages)
	case l.MaxLogBytes < 0 || l.MaxLogBytesPerSecond < 0:
		return fmt.Errorf("plugins: log limits must not be negative")
	case l.MaxInput < 0 || l.MaxOutput < 0 || l.MaxInstances < 0 || l.MaxIdle < 0 || l.MaxCallsPerInstance < 0 || l.TenantCalls < 0:
		return fmt.Errorf("plugins: limits must not be negative")
	case l.MaxIdle > l.MaxInstances && l.MaxInstances > 0:
		return fmt.Errorf("plugins: max_idle %d is more than max_instances %d", l.MaxIdle, l.MaxInstances)
	}
	return nil
}

// runtime is the limits of one module, with defaults set.
func (l Limits) runtime() wasm.Limits {
	return wasm.Limits{
		Timeout:              l.Timeout,
		MemoryPages:          l.MemoryPages,
		MaxTableElements:     l.MaxTableElements,
		MaxLogBytes:          l.MaxLogBytes,
		MaxLogBytesPerSecond: l.MaxLogBytesPerSecond,
		MaxInput:             l.MaxInput,
		MaxOutput:            l.MaxOutput,
		MaxInstances:         l.MaxInstances,
		MaxIdle:              l.MaxIdle,
		InstantiateTimeout:   l.InstantiateTimeout,
		MaxCallsPerInstance:  l.MaxCallsPerInstance,
	}
}
