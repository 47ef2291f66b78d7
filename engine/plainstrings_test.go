package engine

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// FuzzPlainStrings: what plainStrings takes on, json.Unmarshal reads as
// the same array of strings; and it takes on the plain forms.
func FuzzPlainStrings(f *testing.F) {
	for _, s := range []string{`[]`, ` [ ] `, `["a"]`, `["a","b"]`, " [\t\"a\" ,\n\"\" ]\r\n", `["a",]`, `[,"a"]`, `["a" "b"]`,
		`["a"]x`, `["a\"b"]`, `["\u00e9"]`, `["é"]`, "[\"a\tb\"]", `[1]`, `["a",1]`, `"a"`, `null`, `[`, `["a"`, `[["a"]]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		got, ok := plainStrings(v)
		if !ok {
			return
		}
		var want []string
		if err := json.Unmarshal(v, &want); err != nil || !slices.Equal(got, want) {
			t.Fatalf("plainStrings(%q) = %q; json.Unmarshal: %q, %v", v, got, want, err)
		}
	})
}

func TestPlainStringsTakesPlainArrays(t *testing.T) {
	for _, s := range []string{`[]`, ` [ ] `, `["https://app.example.com/cb"]`, `["authorization_code","refresh_token"]`, "[ \"a\" ,\n\"\" ]"} {
		if _, ok := plainStrings([]byte(s)); !ok {
			t.Errorf("plainStrings(%s): not taken on", s)
		}
	}
}

// TestStrsPlainAsEscaped: an array read by the plain path gives what the
// same array with its strings escaped (read by encoding/json) gives:
// values, repeats dropped in order, and errors, short and long.
func TestStrsPlainAsEscaped(t *testing.T) {
	escape := func(s string) string { // every "a" as \u0061
		return strings.ReplaceAll(s, "a", `\u0061`)
	}
	long := make([]string, 40)
	for i := range long {
		long[i] = fmt.Sprintf(`"a%d"`, i%23)
	}
	for _, v := range []string{`["a","b","a"]`, `["b","a","b","c","a"]`, `["a",""]`, `["a","","a"]`, `[]`, "[" + strings.Join(long, ",") + "]"} {
		plain := member{map[string]json.RawMessage{"x": json.RawMessage(v)}}
		esc := member{map[string]json.RawMessage{"x": json.RawMessage(escape(v))}}
		if _, ok := plainStrings([]byte(escape(v))); ok && strings.Contains(v, "a") {
			t.Fatalf("the escaped form of %s went the plain way", v)
		}
		got, gotSet, gotErr := plain.strs("x")
		want, wantSet, wantErr := esc.strs("x")
		if !slices.Equal(got, want) || gotSet != wantSet || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Errorf("strs(%s) = %q, %v, %v; escaped: %q, %v, %v", v, got, gotSet, gotErr, want, wantSet, wantErr)
		}
	}
}

// FuzzMayNeedIDNA: a member value that mayNeedIDNA passes over holds no
// URI whose host needs IDNA: normalizing it with a normalizer that refuses
// every such host changes nothing and refuses nothing.
func FuzzMayNeedIDNA(f *testing.F) {
	for _, s := range []string{"https://app.example.com/cb", "https://xn--bcher-kva.example/", "https://XN--a.example/", "https://%78n--a.example/",
		"https://b\u00fccher.example/", "https://a%C3%A9.example/", "http://[::1]:80/", "https://u@h.example:8443/p?q#f", "x:", "%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		one, _ := json.Marshal(s)
		list, _ := json.Marshal([]string{"https://a.example/", s})
		for _, raw := range []json.RawMessage{one, list, json.RawMessage(`"` + s + `"`)} {
			if mayNeedIDNA(raw) {
				continue
			}
			obj := map[string]json.RawMessage{"redirect_uris": raw, "client_uri": raw}
			if err := normalizeHosts(obj, nil); err != nil {
				t.Fatalf("%s: passed over, but normalizeHosts refused it: %v", raw, err)
			}
			if out, changed, err := normalizeURIHost(s, asciiHosts{}); changed || err != nil || out != s {
				t.Fatalf("%q: passed over (%s), but normalizeURIHost gives %q, %v, %v", s, raw, out, changed, err)
			}
		}
	})
}
