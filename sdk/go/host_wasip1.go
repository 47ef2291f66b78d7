//go:build wasip1

package registrar

import "unsafe"

//go:wasmimport registrar log
func importLog(level int32, ptr unsafe.Pointer, n uint32)

//go:wasmimport registrar random
func importRandom(ptr unsafe.Pointer, n uint32) int32

func hostLog(level Level, msg string) {
	importLog(int32(level), unsafe.Pointer(unsafe.StringData(msg)), uint32(len(msg)))
}

// hostRandom fills b from the host's CSPRNG, 64 KiB at a time.
func hostRandom(b []byte) {
	for len(b) > 0 {
		n := min(len(b), maxRandomChunk)
		if importRandom(unsafe.Pointer(unsafe.SliceData(b)), uint32(n)) != 0 {
			panic("registrar: the host's random import failed")
		}
		b = b[n:]
	}
}
