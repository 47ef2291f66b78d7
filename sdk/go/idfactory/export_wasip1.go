//go:build wasip1

package idfactory

//go:wasmexport registrar_id_factory
func export(ptr, size uint32) uint64 { return hook.Serve(ptr, size) }
