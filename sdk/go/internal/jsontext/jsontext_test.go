package jsontext

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"testing"
)

func TestValidAgreesWithEncodingJSON(t *testing.T) {
	docs := []string{
		`{}`, `[]`, `""`, `0`, `-0`, `1.5e+3`, `-12.25E-2`, `true`, `false`, `null`,
		` {"a" : [1, {"b": null}, "x\"y\\z\/\b\f\n\r\t\u00e9\ud83d\ude00"] } `,
		`"é"`, `{"a":1,"a":2}`,
		``, ` `, `{`, `}`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `01`, `1.`, `.5`, `1e`, `-`, `+1`,
		`tru`, `nul`, `"abc`, `"a\x"`, `"\u12"`, "\"a\tb\"", `[1 2]`, `{"a":1}x`, `1 2`, `"\ud800"`,
		`[[[[[]]]]]`, strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
	}
	for _, doc := range docs {
		if got, want := Valid([]byte(doc)), json.Valid([]byte(doc)) && !strings.HasPrefix(doc, "[[[[[[[["); got != want {
			t.Errorf("Valid(%.40q) = %v, want %v", doc, got, want)
		}
	}
}

func TestObject(t *testing.T) {
	doc := ` {"abi":1, "hook" : "policy", "m":{"x":[1,2]}, "e\u0301\n":"v", "n":null} `
	var names, values []string
	err := Object([]byte(doc), func(name, value []byte) error {
		names = append(names, string(name))
		values = append(values, string(value))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantNames := []string{"abi", "hook", "m", "e\u0301\n", "n"}
	wantValues := []string{`1`, `"policy"`, `{"x":[1,2]}`, `"v"`, `null`}
	if strings.Join(names, "|") != strings.Join(wantNames, "|") || strings.Join(values, "|") != strings.Join(wantValues, "|") {
		t.Errorf("got %q %q, want %q %q", names, values, wantNames, wantValues)
	}

	for _, doc := range []string{`[]`, `"x"`, `1`, `null`} {
		if err := Object([]byte(doc), nil); !errors.Is(err, ErrNotObject) {
			t.Errorf("Object(%s) = %v, want ErrNotObject", doc, err)
		}
	}
	var se *SyntaxError
	for _, doc := range []string{``, `{`, `{"a":}`, `{} {}`, `[] x`} {
		if err := Object([]byte(doc), func(_, _ []byte) error { return nil }); !errors.As(err, &se) {
			t.Errorf("Object(%q) = %v, want a syntax error", doc, err)
		}
	}
	stop := errors.New("stop")
	if err := Object([]byte(`{"a":1,"b":2}`), func(_, _ []byte) error { return stop }); err != stop {
		t.Errorf("Object did not pass fn's error on: %v", err)
	}
}

func TestValuesCannotGrowIntoTheDocument(t *testing.T) {
	doc := []byte(`{"a":"x","b":"y"}`)
	_ = Object(doc, func(name, value []byte) error {
		if string(name) == "a" {
			_ = append(value, 'Z')
		}
		return nil
	})
	if string(doc) != `{"a":"x","b":"y"}` {
		t.Errorf("appending to a value changed the document: %s", doc)
	}
}

func TestArray(t *testing.T) {
	var got []string
	if err := Array([]byte(` [ "a", 1 ,{"b":[]} ] `), func(e []byte) error {
		got = append(got, string(e))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "|") != `"a"|1|{"b":[]}` {
		t.Errorf("got %q", got)
	}
	if err := Array([]byte(`{}`), nil); !errors.Is(err, ErrNotArray) {
		t.Errorf("Array({}) = %v, want ErrNotArray", err)
	}
}

func TestString(t *testing.T) {
	tests := []struct {
		raw  string
		want string
		ok   bool
	}{
		{`"plain"`, "plain", true},
		{`""`, "", true},
		{`"a\"b\\c\/d\b\f\n\r\t"`, "a\"b\\c/d\b\f\n\r\t", true},
		{`"\u00e9\u4e16\ud83d\ude00"`, "é世😀", true},
		{`"\ud800x"`, "\ufffdx", true},
		{`"\udc00\ud800"`, "\ufffd\ufffd", true},
		{"\"\xff\"", "\ufffd", true},
		{`"a`, "", false},
		{`a"`, "", false},
		{`"a" `, "", false},
		{`1`, "", false},
		{`null`, "", false},
		{"\"\x01\"", "", false},
	}
	for _, tt := range tests {
		got, ok := String([]byte(tt.raw))
		if got != tt.want || ok != tt.ok {
			t.Errorf("String(%q) = %q, %v; want %q, %v", tt.raw, got, ok, tt.want, tt.ok)
		}
	}
}

func TestAppendStringRoundTrips(t *testing.T) {
	for _, s := range []string{"", "plain", "a\"b\\c", "\x00\x1f\x7f\n\r\t", "é世😀", "\u2028\u2029", "<>&", "\xffx"} {
		b := AppendString(nil, s)
		var back string
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("AppendString(%q) = %s: %v", s, b, err)
		}
		want := strings.ToValidUTF8(s, "\ufffd")
		if back != want {
			t.Errorf("AppendString(%q) = %s, which reads back as %q", s, b, back)
		}
		if got, ok := String(b); !ok || got != want {
			t.Errorf("String(AppendString(%q)) = %q, %v", s, got, ok)
		}
	}
}

func TestAppendObject(t *testing.T) {
	obj := map[string]json.RawMessage{"b": json.RawMessage(`[1]`), "a": json.RawMessage(`"x"`), "c\"": nil}
	got := AppendObject([]byte("x"), obj)
	if want := `x{"a":"x","b":[1],"c\"":null}`; string(got) != want {
		t.Errorf("AppendObject = %s, want %s", got, want)
	}
	if got := AppendStrings(nil, nil); string(got) != `[]` {
		t.Errorf("AppendStrings(nil) = %s", got)
	}
	if got := AppendStrings(nil, []string{"a", "b\n"}); string(got) != `["a","b\n"]` {
		t.Errorf("AppendStrings = %s", got)
	}
}

// FuzzObject checks the scanner against encoding/json: it accepts exactly
// the objects encoding/json accepts, and hands out the same members.
func FuzzObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `{"a":[1,"x",{"b":null}],"c":"\u00e9"}`, `[1]`, `{"a":1,}`, `"x"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got := map[string]json.RawMessage{}
		err := Object(data, func(name, value []byte) error {
			if !Valid(value) {
				t.Fatalf("member %q has invalid value %q", name, value)
			}
			got[string(name)] = bytes.Clone(value)
			return nil
		})
		var want map[string]json.RawMessage
		wantErr := json.Unmarshal(data, &want)
		if (err == nil) != (wantErr == nil && want != nil) {
			t.Fatalf("Object(%q) error %v, encoding/json error %v (%v)", data, err, wantErr, want)
		}
		if err != nil {
			return
		}
		if !maps.EqualFunc(got, want, func(a, b json.RawMessage) bool { return string(a) == string(b) }) {
			t.Fatalf("Object(%q) = %q, encoding/json %q", data, got, want)
		}
	})
}

// FuzzString checks String against encoding/json.
func FuzzString(f *testing.F) {
	for _, s := range []string{`"a"`, `"\u00e9\ud83d\ude00"`, `"\ud800"`, "\"\xff\"", `"\"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := String(data)
		var want string
		wantErr := json.Unmarshal(data, &want)
		isString := len(bytes.TrimSpace(data)) > 0 && data[0] == '"' && len(data) == len(bytes.TrimRight(data, " \t\r\n"))
		if ok != (wantErr == nil && isString) {
			t.Fatalf("String(%q) ok=%v, encoding/json error %v", data, ok, wantErr)
		}
		if ok && got != want {
			t.Fatalf("String(%q) = %q, encoding/json %q", data, got, want)
		}
	})
}
