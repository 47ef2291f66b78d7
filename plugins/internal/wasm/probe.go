package wasm

import "time"

// Instance is one instance of a module, for tests that check which
// instance served a call.
type Instance = *instance

// WaitIdle waits until the module's pool holds an idle instance and returns
// it, leaving it in the pool. The pool must have room for one instance
// only, and no call may run meanwhile. It is for tests.
func (m *Module) WaitIdle() Instance {
	for {
		select {
		case inst := <-m.pool.idle:
			m.pool.idle <- inst
			return inst
		default:
			time.Sleep(time.Millisecond)
		}
	}
}

// Closed reports whether an instance has been closed (discarded). It is
// for tests.
func Closed(i Instance) bool { return i.mod.IsClosed() }
