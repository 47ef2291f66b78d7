//go:build wasip1

package policy

import "github.com/registrar-dev/registrar/sdk/go/internal/guest"

//go:wasmexport registrar_policy
func export(ptr, size uint32) uint64 { return guest.Serve(hookName, serve, ptr, size) }
