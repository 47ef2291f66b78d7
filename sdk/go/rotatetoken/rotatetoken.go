// Package rotatetoken exports the rotate_registration_access_token hook
// (sdk/ABI.md §2): importing it and calling Handle from an init function
// makes a module decide whether an update through RFC 7592 replaces the
// client's registration access token.
package rotatetoken

import (
	registrar "github.com/registrar-dev/registrar/sdk/go"
	"github.com/registrar-dev/registrar/sdk/go/internal/guest"
)

// Func returns the decision: true if the update replaces the client's
// registration access token. It may instead reject the request by returning
// a *registrar.Rejection (registrar.Reject); any other error fails the
// request with server_error.
type Func func(in *registrar.DecisionInput) (bool, error)

var hook = guest.NewHook("rotate_registration_access_token", "rotatetoken", guest.AppendDecision)

// Handle makes fn the module's rotate_registration_access_token hook. Call
// it once, during initialisation (from init or a package-level variable): main never
// runs in a module, and the host refuses a module that exports the hook
// without a handler.
func Handle(fn Func) { hook.Handle(fn) }
