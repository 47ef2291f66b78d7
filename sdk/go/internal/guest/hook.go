package guest

import (
	registrar "github.com/registrar-dev/registrar/sdk/go"
)

// An Input is a hook's input type T, decoded by its pointer's UnmarshalJSON.
type Input[T any] interface {
	*T
	UnmarshalJSON([]byte) error
}

// A Hook is everything a hook package has but its export: the hook's ABI
// name, the author's handler, and how a result becomes an output document.
// A hook package declares one with NewHook and exports it with Serve; the
// package is then a Func type, Handle, an encoder and one export line.
type Hook[T any, P Input[T], R any] struct {
	name, pkg string
	encode    func(out []byte, in P, res R) ([]byte, error)
	handler   func(P) (R, error)
}

// NewHook returns the hook name (its export is "registrar_" + name) of the
// package pkg, whose results encode appends to out, and registers it so
// that the module is refused at load if the author never calls Handle.
func NewHook[T any, P Input[T], R any](name, pkg string, encode func(out []byte, in P, res R) ([]byte, error)) *Hook[T, P, R] {
	h := &Hook[T, P, R]{name: name, pkg: pkg, encode: encode}
	Register(name, pkg, func() bool { return h.handler != nil })
	return h
}

// Handle makes fn the hook's handler. It panics if fn is nil or a handler
// is already set.
func (h *Hook[T, P, R]) Handle(fn func(P) (R, error)) {
	if fn == nil {
		panic("registrar: " + h.pkg + ".Handle(nil)")
	}
	if h.handler != nil {
		panic("registrar: " + h.pkg + ".Handle called twice")
	}
	h.handler = fn
}

// Reset removes the handler, so that a test can set another.
func (h *Hook[T, P, R]) Reset() { h.handler = nil }

// Run runs the hook on an input document, as Run does.
func (h *Hook[T, P, R]) Run(in, out []byte) ([]byte, error) { return Run(h.name, h.serve, in, out) }

// serve decodes the input, runs the handler and encodes its result.
func (h *Hook[T, P, R]) serve(doc, out []byte) ([]byte, error) {
	in := P(new(T))
	if err := in.UnmarshalJSON(doc); err != nil {
		return nil, err
	}
	res, err := h.handler(in)
	if err != nil {
		return nil, err
	}
	return h.encode(out, in, res)
}

// AppendDecision appends a decision hook's output document to out.
func AppendDecision(out []byte, _ *registrar.DecisionInput, ok bool) ([]byte, error) {
	if ok {
		return append(out, `{"decision":true}`...), nil
	}
	return append(out, `{"decision":false}`...), nil
}
