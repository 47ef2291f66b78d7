//go:build !(386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm)

package jsontext

import "encoding/binary"

// load64 reads eight bytes of data at i as a little-endian word.
func load64(data []byte, i int) uint64 { return binary.LittleEndian.Uint64(data[i:]) }
