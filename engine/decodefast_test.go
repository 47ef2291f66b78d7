package engine

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// decodeSeeds are bodies the fast path must read as the full decoder does,
// or leave to it.
var decodeSeeds = []string{
	`{}`, ` { } `, `{"a":1}`, "{\"a\" :\t[1, 2.5e-3, -0, true, false, null] ,\n\"b\": {\"c\": \"d\\u00e9\\n\"}}",
	`{"a":{"b":1,"b":2}}`, `{"a":1,"a":2}`, `{"a\u0062":1}`, `{"a":[{"x":1},{"x":2}]}`, `{"a":01}`, `{"a":1.}`,
	`{"a":"\x"}`, `{"a":1} x`, `[1]`, `{"a":"é","b":[[[[]]]]}`, `{"a":{"b\u0063":1,"bc":2}}`, `{"a":-}`, `{"a":1e}`,
	`{"a":"\ud800"}`, `{"":{"":1}}`, `{"a":tru}`,
}

// FuzzDecodeObjectFast: what the fast path accepts, the full decoder
// accepts with the same members, byte for byte; and the fast path takes on
// the plain bodies it is for.
func FuzzDecodeObjectFast(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if !utf8.Valid(body) {
			return // DecodeObject refuses it before the fast path
		}
		fast, ok := decodeObjectFast(body)
		if !ok {
			return
		}
		full, err := decodeObjectFull(body)
		if err != nil {
			t.Fatalf("fast path accepted %q, the full decoder refuses it: %v", body, err)
		}
		if len(fast) != len(full) {
			t.Fatalf("%q: %d members, the full decoder %d", body, len(fast), len(full))
		}
		for name, v := range full {
			if !bytes.Equal(fast[name], v) {
				t.Fatalf("%q: member %q is %q, the full decoder's %q", body, name, fast[name], v)
			}
		}
	})
}

// TestDecodeObjectFastTakesPlainBodies: the bodies the fast path is for do
// not fall back.
func TestDecodeObjectFastTakesPlainBodies(t *testing.T) {
	for _, s := range []string{`{}`, `{"redirect_uris":["https://a.example/cb"],"jwks":{"keys":[{"kty":"EC","x":"a\/b"}]},"n":-1.5E+3}`} {
		if _, ok := decodeObjectFast([]byte(s)); !ok {
			t.Errorf("%s: left to the full decoder", s)
		}
	}
}

// FuzzDecodeObjectMember: what DecodeObjectMember accepts, DecodeObject
// accepts with the same members, and the member's value too (or the member
// is absent and inner nil).
func FuzzDecodeObjectMember(f *testing.F) {
	for _, s := range append(decodeSeeds, `{"metadata":{"a":1},"b":[1]}`, `{"metadata":{}}`, `{"metadata":1}`,
		`{"metadata":{"a":1,"a":2}}`, `{"metadata":{},"metadata":{}}`, `{"error":"x"}`, `{"metad\u0061ta":{"a":1}}`,
		` {"b":2, "metadata" : { "c" : [ {"d":null} ] } } `) {
		f.Add([]byte(s), "metadata")
	}
	f.Add([]byte(`{"":{"":1}}`), "")
	f.Fuzz(func(t *testing.T, body []byte, name string) {
		obj, inner, ok := DecodeObjectMember(body, name)
		if !ok {
			return
		}
		want, err := DecodeObject(body)
		if err != nil {
			t.Fatalf("DecodeObjectMember accepted %q, DecodeObject refuses it: %v", body, err)
		}
		sameMembers(t, body, obj, want)
		raw, present := want[name]
		if !present {
			if inner != nil {
				t.Fatalf("%q: no member %q, but inner is %v", body, name, inner)
			}
			return
		}
		wantInner, err := DecodeObject(raw)
		if err != nil {
			t.Fatalf("DecodeObjectMember accepted %q, DecodeObject refuses its %q: %v", body, name, err)
		}
		sameMembers(t, raw, inner, wantInner)
	})
}

// sameMembers fails t unless got and want have the same members, byte for
// byte.
func sameMembers(t *testing.T, body []byte, got, want map[string]json.RawMessage) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%q: %d members, DecodeObject %d", body, len(got), len(want))
	}
	for name, v := range want {
		if g, ok := got[name]; !ok || !bytes.Equal(g, v) {
			t.Fatalf("%q: member %q is %q, DecodeObject's %q", body, name, g, v)
		}
	}
}

// TestDecodeObjectMemberTakesPolicyOutputs: a module's usual output is read
// in one pass, with or without its metadata member.
func TestDecodeObjectMemberTakesPolicyOutputs(t *testing.T) {
	for _, s := range []string{
		`{"metadata":{"redirect_uris":["https://a.example/cb"],"client_name":"x"},"registration_policies":["p"]}`,
		`{"error":"invalid_redirect_uri","error_description":"no"}`,
	} {
		obj, inner, ok := DecodeObjectMember([]byte(s), "metadata")
		if !ok {
			t.Fatalf("%s: not read in one pass", s)
		}
		if _, has := obj["metadata"]; has != (inner != nil) {
			t.Errorf("%s: metadata present %v, inner %v", s, has, inner)
		}
	}
}

// FuzzCompactValue: a value CompactValue accepts is one json.Marshal
// writes unchanged.
func FuzzCompactValue(f *testing.F) {
	for _, s := range append(decodeSeeds, `"a<b"`, `"\u2028"`, "\"\u2028\"", `[1, 2]`, `{"a":"&"}`, `1`, ` 1`) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		if !CompactValue(v) {
			return
		}
		out, err := json.Marshal(json.RawMessage(v))
		if err != nil || !bytes.Equal(out, v) {
			t.Fatalf("CompactValue(%q), but Marshal writes %q (%v)", v, out, err)
		}
	})
}

// FuzzUnquoteString: UnquoteString reads every value as json.Unmarshal
// into a string does, and takes the plain strings on its fast path.
func FuzzUnquoteString(f *testing.F) {
	for _, s := range []string{`"abc"`, `""`, `"a\"b"`, `"a\\b"`, `"é"`, "\"\xff\"", "\"a\tb\"", `"\u00e9"`, `null`, `1`,
		`["a"]`, `"a"b"`, `"a" `, ` "a"`, `"`, `"a`, `a"`, `"eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		got, ok := UnquoteString(v)
		var want string
		wantOK := json.Unmarshal(v, &want) == nil
		if ok != wantOK || got != want {
			t.Fatalf("UnquoteString(%q) = %q, %v; json.Unmarshal: %q, %v", v, got, ok, want, wantOK)
		}
	})
}

// TestUnquoteStringTakesPlainStrings: a statement, a URI, an empty string
// are read without encoding/json (no allocation but the string's).
func TestUnquoteStringTakesPlainStrings(t *testing.T) {
	for _, s := range []string{`"eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln"`, `"https://a.example/cb?x=1"`, `""`} {
		v := []byte(s)
		if n := testing.AllocsPerRun(10, func() { UnquoteString(v) }); n > 1 {
			t.Errorf("UnquoteString(%s): %v allocations, want at most the string's", s, n)
		}
	}
}
