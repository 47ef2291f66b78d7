//go:build wasip1

package secretfactory

//go:wasmexport registrar_secret_factory
func export(ptr, size uint32) uint64 { return hook.Serve(ptr, size) }
