// Package policy exports the policy hook (sdk/ABI.md §2): importing it and
// calling Handle from an init function makes a module change or reject
// client metadata on registration and update.
package policy

import (
	registrar "github.com/registrar-dev/registrar/sdk/go"
	"github.com/registrar-dev/registrar/sdk/go/internal/guest"
	"github.com/registrar-dev/registrar/sdk/go/internal/jsontext"
)

// hookName is the hook's name in the ABI; its export is "registrar_" + hookName.
const hookName = "policy"

// Func is a policy: it returns the metadata to continue with, or rejects
// the request by returning a *registrar.Rejection (registrar.Reject). Any
// other error fails the request with server_error. A nil output with a nil
// error accepts the input's metadata as it is.
type Func func(in *registrar.PolicyInput) (*registrar.PolicyOutput, error)

var handler Func

// Handle makes fn the module's policy hook. Call it once, during
// initialisation (from init or a package-level variable): main never runs
// in a module, and the host refuses a module that exports the hook
// without a handler.
func Handle(fn Func) {
	if fn == nil {
		panic("registrar: policy.Handle(nil)")
	}
	if handler != nil {
		panic("registrar: policy.Handle called twice")
	}
	handler = fn
}

func init() { guest.Register(hookName, "policy", func() bool { return handler != nil }) }

// serve decodes the input, runs the handler and encodes its output.
func serve(doc, out []byte) ([]byte, error) {
	var in registrar.PolicyInput
	if err := in.UnmarshalJSON(doc); err != nil {
		return nil, err
	}
	res, err := handler(&in)
	if err != nil {
		return nil, err
	}
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
