//go:build wasip1

package guest

import (
	"unsafe"

	registrar "github.com/registrar-dev/registrar/sdk/go"
)

// input is the buffer the host writes the current call's input into, and
// output the last output document. Both are reused from call to call (the
// input types' decoders copy what they keep), and both are globals so that
// the garbage collector keeps them while the host reads or writes them.
var input, output []byte

//go:wasmexport registrar_alloc
func alloc(size uint32) uint32 {
	if uint64(cap(input)) <= uint64(size) { // never a zero-size object, at address 0
		input = make([]byte, size+1)
	}
	input = input[:size]
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(input))))
}

//go:wasmexport registrar_abi_version
func abiVersion() int32 {
	checkHandled()
	return ABIVersion
}

//go:wasmimport wasi_snapshot_preview1 proc_exit
func procExit(code int32)

// Serve runs one call of a hook: ptr and size must be the input that
// registrar_alloc made room for. It returns the packed address and length
// of the output document. A failure is logged and ends the instance, which
// the host reports as a failed call.
func Serve(name string, h Handler, ptr, size uint32) uint64 {
	in := input
	if uintptr(ptr) != uintptr(unsafe.Pointer(unsafe.SliceData(in))) || int(size) != len(in) {
		fail("registrar: the host called the " + name + " hook with an input that registrar_alloc did not return")
	}
	out, err := Run(name, h, in, output[:0])
	if err != nil {
		fail(err.Error())
	}
	output = out
	return uint64(uintptr(unsafe.Pointer(unsafe.SliceData(out))))<<32 | uint64(len(out))
}

// fail logs why the call fails and ends the instance with exit code 1.
func fail(msg string) {
	registrar.Log(registrar.LevelError, msg)
	procExit(1)
}

// Serve runs one call of the hook from its export, as the function Serve does.
func (h *Hook[T, P, R]) Serve(ptr, size uint32) uint64 { return Serve(h.name, h.serve, ptr, size) }
