package engine_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

func TestDecodeObject(t *testing.T) {
	tests := []struct {
		name string
		body string
		want map[string]string // members as raw JSON
	}{
		{name: "empty object", body: `{}`, want: map[string]string{}},
		{name: "members", body: `{"a":"x","b":[1,2],"c":{"d":null},"e":true,"f":null,"g":-1.5e3}`, want: map[string]string{
			"a": `"x"`, "b": `[1,2]`, "c": `{"d":null}`, "e": `true`, "f": `null`, "g": `-1.5e3`,
		}},
		{name: "white space around", body: " \r\n\t{ \"a\" : 1 } \n", want: map[string]string{"a": `1`}},
		{name: "escaped names", body: `{"\u0061":1,"b\"c":2}`, want: map[string]string{"a": `1`, `b"c`: `2`}},
		{name: "same name in different objects", body: `{"a":{"x":1},"b":{"x":2},"c":[{"x":1},{"x":2}]}`, want: map[string]string{
			"a": `{"x":1}`, "b": `{"x":2}`, "c": `[{"x":1},{"x":2}]`,
		}},
		{name: "unicode", body: `{"client_name#ja":"アプリ"}`, want: map[string]string{"client_name#ja": `"アプリ"`}},
		{name: "empty name", body: `{"":1}`, want: map[string]string{"": `1`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := engine.DecodeObject([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d members, want %d: %v", len(got), len(tc.want), got)
			}
			for k, v := range tc.want {
				if string(got[k]) != v {
					t.Errorf("%q = %s, want %s", k, got[k], v)
				}
			}
		})
	}
}

func TestDecodeObjectRefuses(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		mention string // part of the description
	}{
		{"empty", ``, "empty"},
		{"only white space", " \n\t ", "empty"},
		{"null", `null`, "JSON object"},
		{"array", `[]`, "JSON object"},
		{"array of object", `[{}]`, "JSON object"},
		{"number", `42`, "JSON object"},
		{"string", `"{}"`, "JSON object"},
		{"true", `true`, "JSON object"},
		{"trailing object", `{}{}`, "after"},
		{"trailing garbage", `{} x`, "after"},
		{"trailing array", `{"a":1}[]`, "after"},
		{"trailing number", `{} 1`, "after"},
		{"trailing bracket", `{}]`, "after"},
		{"duplicate member", `{"a":1,"a":2}`, `"a"`},
		{"duplicate member escaped", `{"a":1,"\u0061":2}`, `"a"`},
		{"duplicate null member", `{"redirect_uris":null,"redirect_uris":["https://x"]}`, "redirect_uris"},
		{"nested duplicate", `{"jwks":{"keys":[],"keys":[{}]}}`, `"keys"`},
		{"deeply nested duplicate", `{"x":[1,{"a":{"b":[{"k":1,"k":2}]}}]}`, `"k"`},
		{"duplicate after nested object", `{"x":{"a":{"b":1},"a":2}}`, `"a"`},
		{"invalid UTF-8", "{\"client_name\":\"\xff\"}", "UTF-8"},
		{"invalid UTF-8 name", "{\"\xc3\x28\":1}", "UTF-8"},
		{"byte order mark", "\uFEFF{}", "not valid JSON"},
		{"unterminated", `{"a":1`, "not valid JSON"},
		{"unterminated string", `{"a":"x`, "not valid JSON"},
		{"open brace", `{`, "not valid JSON"},
		{"missing colon", `{"a" 1}`, "not valid JSON"},
		{"missing comma", `{"a":1 "b":2}`, "not valid JSON"},
		{"trailing comma", `{"a":1,}`, "not valid JSON"},
		{"leading comma", `{,"a":1}`, "not valid JSON"},
		{"unquoted name", `{a:1}`, "not valid JSON"},
		{"single quotes", `{'a':1}`, "not valid JSON"},
		{"number name", `{1:1}`, "not valid JSON"},
		{"bad literal", `{"a":tru}`, "not valid JSON"},
		{"NaN", `{"a":NaN}`, "not valid JSON"},
		{"leading zero", `{"a":01}`, "not valid JSON"},
		{"plus sign", `{"a":+1}`, "not valid JSON"},
		{"comment", `{"a":1 /* c */}`, "not valid JSON"},
		{"control character in string", "{\"a\":\"x\ny\"}", "not valid JSON"},
		{"bad escape", `{"a":"\x"}`, "not valid JSON"},
		{"unclosed nested array", `{"a":[1,2}`, "not valid JSON"},
		{"too deep", `{"a":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, "not valid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := engine.DecodeObject([]byte(tc.body))
			if err == nil {
				t.Fatalf("accepted: %v", got)
			}
			var e *engine.Error
			if !errors.As(err, &e) || e.Code != engine.CodeInvalidRequest {
				t.Fatalf("error = %v, want invalid_request", err)
			}
			if !strings.Contains(e.Description, tc.mention) {
				t.Errorf("description %q does not mention %q", e.Description, tc.mention)
			}
			if got != nil {
				t.Errorf("returned members with the error: %v", got)
			}
		})
	}
}

// TestDecodeObjectDoesNotEchoInput: a syntax error is described by position,
// not by quoting the input.
func TestDecodeObjectDoesNotEchoInput(t *testing.T) {
	_, err := engine.DecodeObject([]byte(`{"a":<script>}`))
	var e *engine.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v", err)
	}
	if strings.Contains(e.Description, "script") || strings.Contains(e.Description, "<") {
		t.Errorf("description echoes the input: %q", e.Description)
	}
}

func TestParseDuration(t *testing.T) {
	day := 24 * time.Hour
	good := []struct {
		in   string
		want time.Duration
	}{
		{"90m", 90 * time.Minute},
		{"24h", day},
		{"1h30m", 90 * time.Minute},
		{"1.5s", 1500 * time.Millisecond},
		{"0", 0},
		{"0s", 0},
		{"P1W", 7 * day},
		{"P2W", 14 * day},
		{"P30D", 30 * day},
		{"P1DT2H", day + 2*time.Hour},
		{"P1W2D", 9 * day},
		{"PT2H", 2 * time.Hour},
		{"PT90M", 90 * time.Minute},
		{"PT0.5S", 500 * time.Millisecond},
		{"PT0,5S", 500 * time.Millisecond},
		{"PT1H30M15S", time.Hour + 30*time.Minute + 15*time.Second},
		{"P1DT0.5H", day + 30*time.Minute},
		{"PT0S", 0},
		{"p1dt2h", day + 2*time.Hour},
		{"P73000D", 73000 * day},
	}
	for _, tc := range good {
		t.Run(tc.in, func(t *testing.T) {
			got, err := engine.ParseDuration(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	for _, in := range []string{
		"", "P", "PT", "P1DT", "P1Y", "P1M", "P1Y2M", "P1MT1H", "PT1Y", "P1H", "PT1D", "PT1W",
		"P-1D", "-P1D", "-1h", "-0.5s", "PT-1S", "P1D1D", "PT1S1M", "PT1H1H", "P1DT1HT1M", "PD", "PTS", "P1", "PT1",
		"P1.5.5D", "PT1e3S", "P 1D", " P1D", "1d", "1", "10", "banana", "1h garbage", "∞", "PT1H ", "P99999999999999999999W",
		"P80000D",
	} {
		t.Run("refuse "+in, func(t *testing.T) {
			if d, err := engine.ParseDuration(in); err == nil {
				t.Errorf("accepted as %v", d)
			}
		})
	}
}

func TestDurationJSON(t *testing.T) {
	good := []struct {
		in   string
		want time.Duration
	}{
		{`3600`, time.Hour},
		{`0`, 0},
		{` 60 `, time.Minute},
		{`"1h"`, time.Hour},
		{`"PT1H"`, time.Hour},
		{`"P1W"`, 7 * 24 * time.Hour},
		{`"PT0.5S"`, 500 * time.Millisecond},
	}
	for _, tc := range good {
		t.Run(tc.in, func(t *testing.T) {
			var d engine.Duration
			if err := json.Unmarshal([]byte(tc.in), &d); err != nil {
				t.Fatal(err)
			}
			if time.Duration(d) != tc.want {
				t.Errorf("got %v, want %v", time.Duration(d), tc.want)
			}
			b, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			var back engine.Duration
			if err := json.Unmarshal(b, &back); err != nil || back != d {
				t.Errorf("round trip through %s: %v, %v", b, time.Duration(back), err)
			}
		})
	}
	for _, in := range []string{
		`-1`, `1.5`, `1e3`, `1E2`, `-0.5`, `99999999999999999999`, `7000000000`,
		`"-1h"`, `"P1M"`, `"P1Y"`, `"P"`, `"PT"`, `"garbage"`, `""`,
		// A string is a duration in one of the two written forms, never a
		// bare number.
		`"3600"`, `"60"`, `"-5"`,
		`true`, `null`, `[]`, `{}`, `["1h"]`,
	} {
		t.Run("refuse "+in, func(t *testing.T) {
			var d engine.Duration
			if err := json.Unmarshal([]byte(in), &d); err == nil {
				t.Errorf("accepted as %v", time.Duration(d))
			}
		})
	}
	t.Run("marshal", func(t *testing.T) {
		b, err := json.Marshal(engine.Duration(90 * time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != `"1h30m0s"` {
			t.Errorf("got %s", b)
		}
	})
	t.Run("in settings", func(t *testing.T) {
		var s engine.Settings
		if err := json.Unmarshal([]byte(`{"registration_validity":"P30D"}`), &s); err != nil {
			t.Fatal(err)
		}
		if time.Duration(s.RegistrationValidity) != 30*24*time.Hour {
			t.Errorf("registration_validity = %v", time.Duration(s.RegistrationValidity))
		}
	})
}
