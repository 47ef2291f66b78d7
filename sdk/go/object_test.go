package registrar

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

func mustParse(t *testing.T, doc string) *Object {
	t.Helper()
	o, err := ParseObject([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestAccessorsRejectWrongTypes(t *testing.T) {
	o := mustParse(t, `{"s":1,"ss":["a",2],"b":"true","n":1.5,"o":[],"null":null}`)
	checks := map[string]error{}
	_, checks["s"] = o.String("s")
	_, checks["ss"] = o.StringSlice("ss")
	_, checks["b"] = o.Bool("b")
	_, checks["n"] = o.Int64("n")
	_, checks["o"] = o.Object("o")
	for name, err := range checks {
		var r *Rejection
		if !errors.As(err, &r) || r.Code != InvalidClientMetadata {
			t.Errorf("%s: error %v, want an invalid_client_metadata rejection", name, err)
		}
	}
	if s, err := o.String("null"); s != "" || err != nil || o.Has("null") {
		t.Errorf("null member: %q, %v, Has %v; want it absent", s, err, o.Has("null"))
	}
	if ss, err := o.StringSlice("missing"); ss != nil || err != nil {
		t.Errorf("missing member: %q, %v", ss, err)
	}
}

func TestAccessorsReadValues(t *testing.T) {
	o := mustParse(t, `{"s":"x\"y","ss":["a","b"],"empty":[],"b":true,"n":-42,"o":{"k":"v"}}`)
	if s, _ := o.String("s"); s != `x"y` {
		t.Errorf("String = %q", s)
	}
	if ss, _ := o.StringSlice("ss"); !slices.Equal(ss, []string{"a", "b"}) {
		t.Errorf("StringSlice = %q", ss)
	}
	if ss, err := o.StringSlice("empty"); ss == nil || len(ss) != 0 || err != nil {
		t.Errorf("StringSlice(empty) = %#v, %v", ss, err)
	}
	if b, _ := o.Bool("b"); !b {
		t.Error("Bool = false")
	}
	if n, _ := o.Int64("n"); n != -42 {
		t.Errorf("Int64 = %d", n)
	}
	if inner, _ := o.Object("o"); inner.Len() != 1 {
		t.Errorf("Object = %v", inner)
	} else if v, _ := inner.String("k"); v != "v" {
		t.Errorf("inner k = %q", v)
	}
}

func TestSettersKeepOrderAndWriteJSON(t *testing.T) {
	o := mustParse(t, `{"a":1,"b":2,"c":3}`)
	o.SetString("b", "two\n")
	o.SetStringSlice("d", []string{"x"})
	o.SetBool("e", true)
	o.SetInt64("f", 7)
	o.Delete("a")
	o.Delete("nope")
	o.Set("g", json.RawMessage(`{"h":null}`))
	want := `{"b":"two\n","c":3,"d":["x"],"e":true,"f":7,"g":{"h":null}}`
	if got := string(o.AppendJSON(nil)); got != want {
		t.Errorf("AppendJSON = %s, want %s", got, want)
	}
	b, err := json.Marshal(o)
	if err != nil || string(b) != want {
		t.Errorf("json.Marshal = %s, %v", b, err)
	}
	var back Object
	if err := json.Unmarshal(b, &back); err != nil || string(back.AppendJSON(nil)) != want {
		t.Errorf("json.Unmarshal: %v, %s", err, back.AppendJSON(nil))
	}
	var names []string
	for name := range o.All() {
		names = append(names, name)
	}
	if !slices.Equal(names, []string{"b", "c", "d", "e", "f", "g"}) {
		t.Errorf("All = %q", names)
	}
}

func TestSetPanicsOnInvalidJSON(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Set with invalid JSON did not panic")
		}
	}()
	var o Object
	o.Set("a", json.RawMessage(`{`))
}

func TestEscapedNamesAreWrittenEscaped(t *testing.T) {
	o := mustParse(t, `{"a\"b":1,"\u00e9":2}`)
	if !o.Has(`a"b`) || !o.Has("é") {
		t.Fatalf("names not unescaped: %s", o.AppendJSON(nil))
	}
	if got := string(o.AppendJSON(nil)); got != `{"a\"b":1,"é":2}` {
		t.Errorf("AppendJSON = %s", got)
	}
}

func TestNilObject(t *testing.T) {
	var o *Object
	if o.Has("a") || o.Len() != 0 || string(o.AppendJSON(nil)) != "{}" {
		t.Error("a nil *Object is not empty")
	}
	if s, err := o.String("a"); s != "" || err != nil {
		t.Errorf("String on nil = %q, %v", s, err)
	}
}

func TestParseObjectRefusesNonObjects(t *testing.T) {
	for _, doc := range []string{`null`, `[]`, `"x"`, `{`, `{}x`, ``} {
		if _, err := ParseObject([]byte(doc)); err == nil {
			t.Errorf("ParseObject(%q) = nil error", doc)
		}
	}
}

// FuzzObjectAccessors checks that no accessor panics on any document.
func FuzzObjectAccessors(f *testing.F) {
	f.Add([]byte(`{"a":["x",1],"b":{"c":null},"d":"\u00e9"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := ParseObject(data)
		if err != nil {
			return
		}
		for name := range o.All() {
			_, _ = o.String(name)
			_, _ = o.StringSlice(name)
			_, _ = o.Bool(name)
			_, _ = o.Int64(name)
			_, _ = o.Object(name)
		}
		if !json.Valid(o.AppendJSON(nil)) {
			t.Fatalf("AppendJSON wrote invalid JSON for %q", data)
		}
	})
}
