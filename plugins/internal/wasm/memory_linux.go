package wasm

import (
	"context"
	"syscall"

	"github.com/tetratelabs/wazero/experimental"
)

// withMemory has the instances made with ctx keep their linear memory
// outside the Go heap: each reserves its maximum size as one anonymous
// mapping, which the kernel backs with pages only as the module touches
// them, and unmaps when the instance is closed. Growing never copies, a
// memory bomb leaves no garbage for the collector to chase, and a failed
// instance's memory is returned to the system at once rather than when
// the Go runtime gets round to it (the default allocator grows a Go slice
// by appending: about twice the final size of garbage per bomb, held as
// heap until scavenged).
func withMemory(ctx context.Context) context.Context {
	return experimental.WithMemoryAllocator(ctx, experimental.MemoryAllocatorFunc(newMapped))
}

// mapped is a linear memory in its own mapping, or on the Go heap when
// the mapping could not be made.
type mapped struct {
	buf  []byte
	heap bool
}

func newMapped(_, max uint64) experimental.LinearMemory {
	if max > 0 && max <= 1<<32 {
		b, err := syscall.Mmap(-1, 0, int(max), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
		if err == nil {
			return &mapped{buf: b}
		}
	}
	return &mapped{heap: true}
}

// Reallocate implements experimental.LinearMemory: a mapped memory never
// moves, and never grows past its mapping (wazero checks the maximum
// before it asks).
func (m *mapped) Reallocate(size uint64) []byte {
	switch {
	case m.heap && size > uint64(len(m.buf)):
		m.buf = append(m.buf, make([]byte, size-uint64(len(m.buf)))...)
		return m.buf
	case size > uint64(len(m.buf)):
		return nil
	}
	return m.buf[:size:size]
}

// Free implements experimental.LinearMemory.
func (m *mapped) Free() {
	if !m.heap && m.buf != nil {
		_ = syscall.Munmap(m.buf)
	}
	m.buf = nil
}
