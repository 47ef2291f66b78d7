//go:build !linux

package plugins

import "context"

// withMemory leaves linear memories to wazero's default allocator (a Go
// slice) beyond Linux.
func withMemory(ctx context.Context) context.Context { return ctx }
