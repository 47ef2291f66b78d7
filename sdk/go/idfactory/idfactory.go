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

// Func returns the client_id of a new registration: 1 to 128 characters of
// A-Z a-z 0-9 . _ ~ -, or rejects the request by returning a
// *registrar.Rejection (registrar.Reject). Any other error fails the
// request with server_error.
type Func func(in *registrar.FactoryInput) (string, error)

var hook = guest.NewHook("id_factory", "idfactory", appendOutput)

// Handle makes fn the module's id_factory hook. Call it once, during
// initialisation (from init or a package-level variable): main never runs
// in a module, and the host refuses a module that exports the hook
// without a handler.
func Handle(fn Func) { hook.Handle(fn) }

// appendOutput checks a client_id and appends its output document.
func appendOutput(out []byte, _ *registrar.FactoryInput, id string) ([]byte, error) {
	if !guest.ValidClientID(id) {
		return nil, errors.New("returned a client_id that is not 1 to 128 characters of " +
			"A-Z a-z 0-9 . _ ~ -")
	}
	out = append(out, `{"client_id":`...)
	out = jsontext.AppendString(out, id)
	return append(out, '}'), nil
}
