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

// hookName is the hook's name in the ABI; its export is "registrar_" + hookName.
const hookName = "secret_factory"

// Func returns a client_secret of 32 to 512 printable ASCII characters
// without spaces, which should be random (registrar.RandomString), or
// rejects the request by returning a *registrar.Rejection
// (registrar.Reject). Any other error fails the request with server_error.
type Func func(in *registrar.FactoryInput) (string, error)

var handler Func

// Handle makes fn the module's secret_factory hook. Call it once, during
// initialisation (from init or a package-level variable): main never runs
// in a module, and the host refuses a module that exports the hook
// without a handler.
func Handle(fn Func) {
	if fn == nil {
		panic("registrar: secretfactory.Handle(nil)")
	}
	if handler != nil {
		panic("registrar: secretfactory.Handle called twice")
	}
	handler = fn
}

func init() { guest.Register(hookName, "secretfactory", func() bool { return handler != nil }) }

// serve decodes the input, runs the handler and encodes its output.
func serve(doc, out []byte) ([]byte, error) {
	var in registrar.FactoryInput
	if err := in.UnmarshalJSON(doc); err != nil {
		return nil, err
	}
	v, err := handler(&in)
	if err != nil {
		return nil, err
	}
	if !guest.ValidClientSecret(v) {
		return nil, errors.New("returned a client_secret that is not 32 to 512 printable ASCII " +
			"characters without spaces")
	}
	out = append(out, `{"client_secret":`...)
	out = jsontext.AppendString(out, v)
	return append(out, '}'), nil
}
