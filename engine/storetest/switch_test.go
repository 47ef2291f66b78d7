package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/registrar-dev/registrar/engine"
)

// panicStore is a store whose every method panics: a Switch that is down
// must not call it.
type panicStore struct{ engine.Store }

// TestSwitchDown calls every method of engine.Store on a switch that is
// down: each must fail with ErrUnavailable without reaching the store, so
// that a method added to the interface cannot slip past the switch by
// being promoted from the embedded store.
func TestSwitchDown(t *testing.T) {
	s := NewSwitch(panicStore{})
	s.SetDown(true)
	v := reflect.ValueOf(s)
	storeType := reflect.TypeFor[engine.Store]()
	ctxType := reflect.TypeFor[context.Context]()
	for i := range storeType.NumMethod() {
		name := storeType.Method(i).Name
		t.Run(name, func(t *testing.T) {
			m := v.MethodByName(name)
			args := make([]reflect.Value, m.Type().NumIn())
			for j := range args {
				if in := m.Type().In(j); in == ctxType {
					args[j] = reflect.ValueOf(t.Context())
				} else {
					args[j] = reflect.Zero(in)
				}
			}
			var out []reflect.Value
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("%s reached the store while the switch was down", name)
					}
				}()
				out = m.Call(args)
			}()
			err, _ := out[len(out)-1].Interface().(error)
			if !errors.Is(err, engine.ErrUnavailable) {
				t.Errorf("%s while down: got error %v, want ErrUnavailable", name, err)
			}
		})
	}
}
