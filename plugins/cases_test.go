package plugins_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/plugins"
)

// withSection returns module bytes with a custom section appended: id 0,
// LEB128 size, LEB128 name length, name, payload (as build.sh does).
func withSection(wasm []byte, name string, payload []byte) []byte {
	leb := func(n int) []byte {
		var b []byte
		for {
			c := byte(n & 0x7f)
			n >>= 7
			if n != 0 {
				c |= 0x80
			}
			b = append(b, c)
			if n == 0 {
				return b
			}
		}
	}
	body := append(leb(len(name)), name...)
	body = append(body, payload...)
	out := append(bytes.Clone(wasm), 0)
	out = append(out, leb(len(body))...)
	return append(out, body...)
}

// TestParseCases: a cases document is read strictly, and each way it can
// be wrong is refused with a reason.
func TestParseCases(t *testing.T) {
	ok := `{"hooks":["policy"],"input":{"tenant":"acme"},"cases":[{"name":"a","hook":"policy","want":{"metadata":{}}}]}`
	if cs, err := plugins.ParseCases([]byte(ok)); err != nil || len(cs.Cases) != 1 {
		t.Fatalf("%+v %v", cs, err)
	}
	for doc, want := range map[string]string{
		`[]`:           "not a cases document",
		`{"cases":[]}`: "no cases",
		`{"cases":[{"name":"a","hook":"policy","want":{}}],"extra":1}`:                                                    "unknown field",
		`{"cases":[{"name":"a","hook":"policy","want":{}}]} {}`:                                                           "more after the object",
		`{"cases":[{"hook":"policy","want":{}}]}`:                                                                         "case 1 has no name",
		`{"cases":[{"name":"a","hook":"policy","want":{}},{"name":"a","hook":"policy","want":{}}]}`:                       `two cases are named "a"`,
		`{"cases":[{"name":"a","hook":"policy"}]}`:                                                                        "exactly one of",
		`{"cases":[{"name":"a","hook":"policy","want":{},"want_failure":true}]}`:                                          "exactly one of",
		`{"cases":[{"name":"a","hook":"policy","want_failure":true,"want_description":"x"}]}`:                             "exactly one of",
		`{"cases":[{"name":"a","hook":"policy","want":[1]}]}`:                                                             "want must be a JSON object",
		`{"cases":[{"name":"a","hook":"nope","want":{}}]}`:                                                                `hook "nope" is not a hook`,
		`{"hooks":["id_factory"],"cases":[{"name":"a","hook":"policy","want":{}}]}`:                                       "not in hooks",
		`{"hooks":["nope"],"cases":[{"name":"a","hook":"policy","want":{}}]}`:                                             `"nope" is not a hook`,
		`{"cases":[{"name":"a","hook":"id_factory","want_match":{"client_id":"("}}]}`:                                     "want_match",
		`{"bench":"b","cases":[{"name":"a","hook":"policy","want":{}}]}`:                                                  "bench names no case",
		`{"cases":[` + strings.Repeat(`{"name":"a","hook":"policy","want":{}},`, 1000) + `{"name":"b","hook":"policy"}]}`: "more than 1000",
	} {
		_, err := plugins.ParseCases([]byte(doc))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.80s: %v, want an error saying %q", doc, err, want)
		}
	}
}

// TestCaseCheck: each kind of expectation, met and not met.
func TestCaseCheck(t *testing.T) {
	cs, err := plugins.ParseCases([]byte(`{"cases":[
		{"name":"want","hook":"policy","want":{"metadata":{"a":1,"b":[true]}}},
		{"name":"error","hook":"policy","want_error":"invalid_redirect_uri","want_description":"https"},
		{"name":"match","hook":"id_factory","want_match":{"client_id":"^acme-[0-9]+$"}},
		{"name":"failure","hook":"policy","want_failure":true}]}`))
	if err != nil {
		t.Fatal(err)
	}
	c := func(name string) *plugins.Case {
		for i := range cs.Cases {
			if cs.Cases[i].Name == name {
				return &cs.Cases[i]
			}
		}
		t.Fatal(name)
		return nil
	}
	fail := errors.New("trapped")
	for _, tc := range []struct {
		name, out string
		err       error
		want      string // "" for a pass
	}{
		{"want", `{"metadata":{"b":[true],"a":1.0}}`, nil, ""},
		{"want", `{"metadata":{"a":2,"b":[true]}}`, nil, `want {"metadata"`},
		{"want", ``, fail, "the call failed: trapped"},
		{"error", `{"error":"invalid_redirect_uri","error_description":"only https"}`, nil, ""},
		{"error", `{"error":"invalid_client_metadata"}`, nil, `want error "invalid_redirect_uri"`},
		{"error", `{"error":"invalid_redirect_uri","error_description":"no"}`, nil, `does not contain "https"`},
		{"match", `{"client_id":"acme-42"}`, nil, ""},
		{"match", `{"client_id":"globex-42"}`, nil, "does not match"},
		{"match", `{"client_id":"acme-42","x":1}`, nil, "members beyond"},
		{"failure", ``, fail, ""},
		{"failure", `{"metadata":{}}`, nil, "want a failure"},
		{"want", `[1]`, nil, "not a JSON object"},
	} {
		err := c(tc.name).Check([]byte(tc.out), tc.err)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s %s: %v", tc.name, tc.out, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s %s: %v, want %q", tc.name, tc.out, err, tc.want)
		}
	}
	doc, err := cs.Document(&plugins.Case{Hook: engine.HookPolicy, Input: map[string]json.RawMessage{"now": json.RawMessage(`1`), "tenant": json.RawMessage(`"t"`)}})
	if err != nil || string(doc) != `{"abi":1,"hook":"policy","now":1767225600,"tenant":"t"}` {
		t.Errorf("document %s %v", doc, err)
	}
}

// TestSelfTests: a module's registrar.cases section runs when it is
// loaded; a failing case refuses it, naming the case and the difference.
func TestSelfTests(t *testing.T) {
	ctx := context.Background()
	load := func(wasm []byte, cases *plugins.Cases) error {
		m, err := plugins.Load(ctx, wasm, plugins.LoadOptions{Name: "p", Logger: testkit.DiscardLogger(), Cases: cases})
		if err == nil {
			m.Close(ctx)
		}
		return err
	}
	if err := load(fixture(t, "accept-tested"), nil); err != nil {
		t.Fatalf("accept-tested: %v", err)
	}
	err := load(fixture(t, "tested-reject"), nil)
	if err == nil || !strings.Contains(err.Error(), `self-test case "accepts a good client": output {"error":"invalid_client_metadata"`) {
		t.Errorf("tested-reject: %v", err)
	}
	accept := fixture(t, "accept")
	failing, err := plugins.ParseCases([]byte(`{"cases":[{"name":"rejects","hook":"policy","want_error":"invalid_client_metadata"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		wasm  []byte
		cases *plugins.Cases
		want  string
	}{
		"side cases":        {accept, failing, `self-test case "rejects"`},
		"bad section":       {withSection(accept, "registrar.cases", []byte(`{"cases":`)), nil, "custom section registrar.cases: not a cases document"},
		"two sections":      {withSection(withSection(fixture(t, "accept-tested"), "registrar.cases", []byte(`{}`)), "x", nil), nil, "2 custom sections named registrar.cases"},
		"wrong hooks":       {withSection(accept, "registrar.cases", []byte(`{"hooks":["id_factory"],"cases":[{"name":"a","hook":"id_factory","want_failure":true}]}`)), nil, "exports hooks [policy]; its cases say [id_factory]"},
		"other section":     {withSection(accept, "registrar.other", []byte(`junk`)), nil, ""},
		"section mid-file":  {withSection(accept, "registrar.cases", []byte(`{"cases":[{"name":"a","hook":"policy","want":{"metadata":{"client_name":"accepted"}}}]}`)), nil, ""},
		"failure expected":  {fixture(t, "trap"), mustCases(t, `{"cases":[{"name":"traps","hook":"policy","want_failure":true}]}`), ""},
		"failure not there": {accept, mustCases(t, `{"cases":[{"name":"traps","hook":"policy","want_failure":true}]}`), "want a failure"},
	} {
		err := load(tc.wasm, tc.cases)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

func mustCases(t *testing.T, doc string) *plugins.Cases {
	t.Helper()
	cs, err := plugins.ParseCases([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// FuzzParseCases: no document makes ParseCases panic, and a document it
// accepts builds an input document for every case.
func FuzzParseCases(f *testing.F) {
	for _, name := range []string{"accept-tested", "tested-reject"} {
		b, err := os.ReadFile(filepath.Join("testdata", name+".cases.json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"cases":[{"name":"m","hook":"id_factory","want_match":{"client_id":"^a"}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cs, err := plugins.ParseCases(b)
		if err != nil {
			return
		}
		for i := range cs.Cases {
			doc, err := cs.Document(&cs.Cases[i])
			if err != nil || !json.Valid(doc) {
				t.Fatalf("case %d: %s %v", i, doc, err)
			}
			_ = cs.Cases[i].Check([]byte(`{"metadata":{}}`), nil)
		}
	})
}

// FuzzCustomSection: module bytes, however broken, never make Load panic
// while it looks for its registrar.cases section.
func FuzzCustomSection(f *testing.F) {
	f.Add(fixture(f, "accept-tested"))
	f.Add(withSection(fixture(f, "accept"), "registrar.cases", []byte("{")))
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x00\xff\xff\xff\xff\x0f"))
	f.Fuzz(func(t *testing.T, wasm []byte) {
		m, err := plugins.Load(context.Background(), wasm, plugins.LoadOptions{Name: "f", Logger: testkit.DiscardLogger()})
		if err == nil {
			m.Close(context.Background())
		}
	})
}
