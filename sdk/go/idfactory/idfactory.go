// Package idfactory exports the id_factory hook (sdk/ABI.md §2): importing
// it and calling Handle from an init function makes a module make the
// client_id of new registrations.
package idfactory

import (
	"errors"

	registrar "github.com/registrar-dev/registrar/sdk/go"
	"github.com/registrar-dev/registrar/sdk/go/internal/guest"
	"github.com/registrar-dev/registrar/sdk/go/internal/jsontext"
)

// hookName is the hook's name in the ABI; its export is "registrar_" + hookName.
const hookName = "id_factory"

// Func returns the client_id of a new registration: 1 to 128 characters of
// A-Z a-z 0-9 . _ ~ -, or rejects the request by returning a
// *registrar.Rejection (registrar.Reject). Any other error fails the
// request with server_error.
type Func func(in *registrar.FactoryInput) (string, error)

var handler Func

// Handle makes fn the module's id_factory hook. Call it once, during
// initialisation (from init or a package-level variable): main never runs
// in a module, and the host refuses a module that exports the hook
// without a handler.
func Handle(fn Func) {
	if fn == nil {
		panic("registrar: idfactory.Handle(nil)")
	}
	if handler != nil {
		panic("registrar: idfactory.Handle called twice")
	}
	handler = fn
}

func init() { guest.Register(hookName, "idfactory", func() bool { return handler != nil }) }

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
	if !guest.ValidClientID(v) {
		return nil, errors.New("returned a client_id that is not 1 to 128 characters of " +
			"A-Z a-z 0-9 . _ ~ -")
	}
	out = append(out, `{"client_id":`...)
	out = jsontext.AppendString(out, v)
	return append(out, '}'), nil
}
