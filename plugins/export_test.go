package plugins

import (
	"context"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/plugins/internal/wasm"
)

// LiveModules counts the module versions the host has loaded and not yet
// closed: serving, in shadow, being verified or draining.
func (h *Host) LiveModules() int64 { return h.live.Load() }

// SyncFolder rescans the policy folder now, loading files however recent.
func (h *Host) SyncFolder(ctx context.Context) error {
	_, err := h.syncFolder(ctx, true)
	return err
}

// SyncStore rescans the store now.
func (h *Host) SyncStore(ctx context.Context) error { return h.syncStore(ctx) }

// Settle is how long the policy folder must stay quiet before a change is
// loaded.
const Settle = settle

// Envelope is the input document the host writes for a hook's input.
func Envelope(hook engine.Hook, now time.Time, in any) ([]byte, error) {
	return wasm.Envelope(hook, now, in)
}

// ParsePolicyOutput reads a policy hook's output document as the host does.
func ParsePolicyOutput(out []byte) (*engine.PolicyOutput, error) { return wasm.PolicyOutput(out) }

// Instance is one instance of a module, for tests that check which
// instance served a call.
type Instance = wasm.Instance

// WaitIdle waits until the module's pool holds an idle instance and returns
// it, leaving it in the pool. The pool must have room for one instance
// only, and no call may run meanwhile.
func (m *Module) WaitIdle() Instance { return m.w.WaitIdle() }

// Closed reports whether an instance has been closed (discarded).
func Closed(i Instance) bool { return wasm.Closed(i) }

// ParseAccessTokenOutput reads an issue_access_token hook's output document
// as the host does, against the input the module was given.
func ParseAccessTokenOutput(out []byte, in *engine.AccessTokenInput) (*engine.AccessTokenOutput, error) {
	return wasm.AccessTokenOutput(out, in)
}
