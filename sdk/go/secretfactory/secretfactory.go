// Package secretfactory exports the secret_factory hook (sdk/ABI.md §2):
// importing it and calling Handle from an init function makes a module make
// the client_secret of clients that need one.
package secretfactory

import (
	"errors"

	registrar "github.com/registrar-dev/registrar/sdk/go"
	"github.com/registrar-dev/registrar/sdk/go/internal/guest"
	"github.com/registrar-dev/registrar/sdk/go/internal/jsontext"
)

// Func returns a client_secret of 32 to 512 printable ASCII characters
// without spaces, which should be random (registrar.RandomString), or
// rejects the request by returning a *registrar.Rejection
// (registrar.Reject). Any other error fails the request with server_error.
type Func func(in *registrar.FactoryInput) (string, error)

var hook = guest.NewHook("secret_factory", "secretfactory", appendOutput)

// Handle makes fn the module's secret_factory hook. Call it once, during
// initialisation (from init or a package-level variable): main never runs
// in a module, and the host refuses a module that exports the hook
// without a handler.
func Handle(fn Func) { hook.Handle(fn) }

// appendOutput checks a client_secret and appends its output document.
func appendOutput(out []byte, _ *registrar.FactoryInput, secret string) ([]byte, error) {
	if !guest.ValidClientSecret(secret) {
		return nil, errors.New("returned a client_secret that is not 32 to 512 printable ASCII " +
			"characters without spaces")
	}
	out = append(out, `{"client_secret":`...)
	out = jsontext.AppendString(out, secret)
	return append(out, '}'), nil
}
