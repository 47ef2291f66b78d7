package wasm

import (
	"context"
	"errors"
	"time"

	"github.com/tetratelabs/wazero/sys"
)

// sleeper is the WASI sleep of one instance (poll_oneoff with a clock
// subscription: Go's time.Sleep, Rust's thread::sleep, wasi-libc's
// nanosleep). wazero's own sleeps for the whole duration and cannot be
// interrupted, so that a module sleeping an hour held its instance, its
// request and the host's shutdown for an hour. This one sleeps for real,
// but ends the call when the call's context is done: its deadline passed,
// its request was cancelled, or the module was stopped (see stoppable).
// The guest does not wake up: the call fails as a loop does at its
// deadline, and the instance is discarded. w tells the call in progress,
// as it does for the log.
func (m *Module) sleeper(w *moduleLog) sys.Nanosleep {
	return func(ns int64) {
		if ns <= 0 {
			return
		}
		ctx := w.context()
		t := time.NewTimer(time.Duration(ns))
		defer t.Stop()
		select {
		case <-t.C:
			return
		case <-m.stop:
			panic(sys.NewExitError(sys.ExitCodeContextCanceled))
		case <-ctx.Done():
			// A host function stops its caller by panicking with an
			// exit error, which wazero returns from the call unwrapped.
			code := uint32(sys.ExitCodeContextCanceled)
			if errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
				code = sys.ExitCodeDeadlineExceeded
			}
			panic(sys.NewExitError(code))
		}
	}
}

// stoppable returns ctx, cancelled as well when the module is stopped
// (Module.Close gave up waiting for the calls in flight), and its cancel
// function, which must be called. A call or instantiation runs under it,
// so that wazero stops its guest code (close on context done) and its
// sleeps end: Close can then wait for it to leave before it frees the
// runtime, which must not be closed under a running host function.
func (m *Module) stoppable(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-m.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}
