//go:build wasip1

package rotatetoken

import "github.com/registrar-dev/registrar/sdk/go/internal/guest"

//go:wasmexport registrar_rotate_registration_access_token
func export(ptr, size uint32) uint64 { return guest.Serve(hookName, serve, ptr, size) }
