package engine

import "reflect"

// Decorator is a Store, AuditLog or ReplayCache that wraps another one
// (metrics.Store times every call of the store it wraps). Underlying
// returns the wrapped value, so that the Registrar can see when its store,
// audit log and replay cache are one backend and fold their writes into
// the store's atomic step (CreateOptions.Audit and Marks).
type Decorator interface {
	Underlying() any
}

// underlying strips the decorators off v.
func underlying(v any) any {
	for {
		d, ok := v.(Decorator)
		if !ok {
			return v
		}
		v = d.Underlying()
	}
}

// SameBackend reports whether a and b are, under their decorators, the
// same value: a store, audit log or replay cache given twice.
func SameBackend(a, b any) bool {
	a, b = underlying(a), underlying(b)
	if a == nil || b == nil || !reflect.TypeOf(a).Comparable() || !reflect.TypeOf(b).Comparable() {
		return false
	}
	return a == b
}

// storeAudits reports whether the store is also the audit log: it then
// appends the events of the writes it is given them with, in the same
// atomic step (CreateOptions.Audit).
func storeAudits(store Store, log AuditLog) bool { return storeIs(store, log) }

// storeMarks reports whether the store is also the replay cache: it then
// spends the marks of a create in the same atomic step
// (CreateOptions.Marks).
func storeMarks(store Store, replay ReplayCache) bool { return storeIs(store, replay) }

// storeIs reports whether other is, under the decorators, the store
// itself, and the store is a T.
func storeIs[T any](store Store, other T) bool {
	if !SameBackend(store, other) {
		return false
	}
	_, ok := underlying(store).(T)
	return ok
}
