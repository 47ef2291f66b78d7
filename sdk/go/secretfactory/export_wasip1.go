//go:build wasip1

package secretfactory

import "github.com/registrar-dev/registrar/sdk/go/internal/guest"

//go:wasmexport registrar_secret_factory
func export(ptr, size uint32) uint64 { return guest.Serve(hookName, serve, ptr, size) }
