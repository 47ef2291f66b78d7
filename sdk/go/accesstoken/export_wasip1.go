//go:build wasip1

package accesstoken

//go:wasmexport registrar_issue_access_token
func export(ptr, size uint32) uint64 { return hook.Serve(ptr, size) }
