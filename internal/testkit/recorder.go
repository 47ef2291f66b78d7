package testkit

import "sync"

// Recorder collects the values a callback reports, from any goroutine,
// for a test to read. The zero value is an empty recorder ready to use.
type Recorder[T any] struct {
	mu sync.Mutex
	vs []T
}

// Add records v.
func (r *Recorder[T]) Add(v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.vs = append(r.vs, v)
}

// All returns a copy of every value recorded and not yet taken.
func (r *Recorder[T]) All() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]T(nil), r.vs...)
}

// Take returns the values recorded since the last Take, and forgets them.
func (r *Recorder[T]) Take() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	vs := r.vs
	r.vs = nil
	return vs
}
