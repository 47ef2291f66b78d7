//go:build wasip1

package policy

//go:wasmexport registrar_policy
func export(ptr, size uint32) uint64 { return hook.Serve(ptr, size) }
