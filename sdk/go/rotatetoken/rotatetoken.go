// Package rotatetoken exports the rotate_registration_access_token hook
// (sdk/ABI.md §2): importing it and calling Handle from an init function
// makes a module decide whether an update through RFC 7592 replaces the
// client's registration access token.
package rotatetoken

import (
	registrar "github.com/registrar-dev/registrar/sdk/go"
	"github.com/registrar-dev/registrar/sdk/go/internal/guest"
)

// hookName is the hook's name in the ABI; its export is "registrar_" + hookName.
const hookName = "rotate_registration_access_token"

// Func returns the decision: true if the update replaces the client's
// registration access token. It may instead reject the request by returning
// a *registrar.Rejection (registrar.Reject); any other error fails the
// request with server_error.
type Func func(in *registrar.DecisionInput) (bool, error)

var handler Func

// Handle makes fn the module's rotate_registration_access_token hook. Call
// it once, during initialisation (from init or a package-level variable): main never
// runs in a module, and the host refuses a module that exports the hook
// without a handler.
func Handle(fn Func) {
	if fn == nil {
		panic("registrar: rotatetoken.Handle(nil)")
	}
	if handler != nil {
		panic("registrar: rotatetoken.Handle called twice")
	}
	handler = fn
}

func init() { guest.Register(hookName, "rotatetoken", func() bool { return handler != nil }) }

// serve decodes the input, runs the handler and encodes its output.
func serve(doc, out []byte) ([]byte, error) {
	var in registrar.DecisionInput
	if err := in.UnmarshalJSON(doc); err != nil {
		return nil, err
	}
	ok, err := handler(&in)
	if err != nil {
		return nil, err
	}
	if ok {
		return append(out, `{"decision":true}`...), nil
	}
	return append(out, `{"decision":false}`...), nil
}
