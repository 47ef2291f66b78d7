package wasm

import (
	"context"
	"fmt"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// Trial is one hook call made the way the host makes it for the engine,
// for tools that must show what the server would see (registrar policy
// run).
type Trial struct {
	// Input is the input document the module received.
	Input []byte
	// Output is the output document as the module returned it; nil when
	// the call failed.
	Output []byte
	// Policy is the output of an accepting policy hook.
	Policy *engine.PolicyOutput
	// Value is the client_id or client_secret of a factory hook.
	Value string
	// Decision is the answer of a decision hook.
	Decision bool
	// AccessToken is the output of an allowing issue_access_token hook.
	AccessToken *engine.AccessTokenOutput
}

// Try runs a hook on in, which is what the engine passes for it
// (*engine.PolicyInput, *engine.FactoryInput, *engine.DecisionInput or
// *engine.AccessTokenInput),
// with the host's input envelope at now, and reads the output with the
// host's checks. A rejection is an *engine.Error; a failure of the module,
// including output the host would refuse, is another error. The Trial
// holds what is known, also with an error.
func (m *Module) Try(ctx context.Context, hook engine.Hook, now time.Time, in any) (*Trial, error) {
	doc, err := Envelope(hook, now, in)
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	t := &Trial{Input: doc}
	out, err := m.Call(ctx, hook, doc)
	if err != nil {
		return t, err
	}
	t.Output = out
	switch hook {
	case engine.HookPolicy:
		t.Policy, err = PolicyOutput(out)
	case engine.HookIDFactory:
		t.Value, err = StringOutput(out, "client_id")
	case engine.HookSecretFactory:
		t.Value, err = StringOutput(out, "client_secret")
	case engine.HookIssueAccessToken:
		ai, ok := in.(*engine.AccessTokenInput)
		if !ok {
			return t, fmt.Errorf("input: the %s hook takes an *engine.AccessTokenInput", hook)
		}
		t.AccessToken, err = AccessTokenOutput(out, ai)
	default:
		t.Decision, err = DecisionOutput(out)
	}
	return t, err
}
