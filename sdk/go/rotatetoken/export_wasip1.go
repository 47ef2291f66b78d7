//go:build wasip1

package rotatetoken

//go:wasmexport registrar_rotate_registration_access_token
func export(ptr, size uint32) uint64 { return hook.Serve(ptr, size) }
