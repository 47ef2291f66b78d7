// Package policy exports the policy hook (sdk/ABI.md §2): importing it and
// calling Handle from an init function makes a module change or reject
// client metadata on registration and update.
package policy

import (
	registrar "github.com/registrar-dev/registrar/sdk/go"
	"github.com/registrar-dev/registrar/sdk/go/internal/guest"
	"github.com/registrar-dev/registrar/sdk/go/internal/jsontext"
)

// Func is a policy: it returns the metadata to continue with, or rejects
// the request by returning a *registrar.Rejection (registrar.Reject). Any
// other error fails the request with server_error. A nil output with a nil
// error accepts the input's metadata as it is.
type Func func(in *registrar.PolicyInput) (*registrar.PolicyOutput, error)

var hook = guest.NewHook("policy", "policy", appendOutput)

// Handle makes fn the module's policy hook. Call it once, during
// initialisation (from init or a package-level variable): main never runs
// in a module, and the host refuses a module that exports the hook
// without a handler.
func Handle(fn Func) { hook.Handle(fn) }

// appendOutput appends the output document of a policy's result.
func appendOutput(out []byte, in *registrar.PolicyInput, res *registrar.PolicyOutput) ([]byte, error) {
	if res == nil {
		res = &registrar.PolicyOutput{Metadata: in.Metadata}
	}
	out = append(out, `{"metadata":`...)
	out = res.Metadata.AppendJSON(out)
	if res.RegistrationPolicies != nil {
		out = append(out, `,"registration_policies":`...)
		out = jsontext.AppendStrings(out, res.RegistrationPolicies)
	}
	return append(out, '}'), nil
}
