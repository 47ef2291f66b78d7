//go:build 386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm

package jsontext

import "unsafe"

// load64 reads eight bytes of data at i as a little-endian word: one
// unaligned load where the machine is little-endian (WebAssembly is), which
// binary.LittleEndian.Uint64 does not compile to under GOARCH=wasm.
func load64(data []byte, i int) uint64 {
	_ = data[i+7]
	return *(*uint64)(unsafe.Pointer(&data[i]))
}
