//go:build !linux

package wasm

import "context"

// withMemory leaves linear memories to wazero's default allocator (a Go
// slice) beyond Linux.
func withMemory(ctx context.Context) context.Context { return ctx }
