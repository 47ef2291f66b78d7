package plugins_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/plugins"
)

// conformanceModules are the modules built from each SDK's conformance
// program (sdk/testdata/vectors/README.md), which the ABI vectors run
// against.
var conformanceModules = []struct{ sdk, path string }{
	{"go", "../sdk/go/internal/conformance/conformance.wasm"},
	{"rust", "../sdk/rust/conformance/conformance.wasm"},
	{"c", "../sdk/c/conformance/conformance.wasm"},
	{"assemblyscript", "../sdk/assemblyscript/conformance/conformance.wasm"},
}

// vectorFile is one sdk/testdata/vectors/<hook>.json file.
type vectorFile struct {
	Hook    engine.Hook `json:"hook"`
	Vectors []vector    `json:"vectors"`
}

// vector is one input document and what a conformance module must answer.
type vector struct {
	Name string `json:"name"`
	// Exactly one of Input (sent compacted: member order and escapes as
	// written) and InputText (sent byte for byte).
	Input     json.RawMessage `json:"input"`
	InputText *string         `json:"input_text"`
	// Exactly one expectation.
	Want        json.RawMessage   `json:"want"`
	WantMatch   map[string]string `json:"want_match"`
	WantFailure bool              `json:"want_failure"`
	// WantLog, if set, must appear in what the module logged during the call.
	WantLog string `json:"want_log"`
}

func (v *vector) document() ([]byte, error) {
	if v.InputText != nil {
		return []byte(*v.InputText), nil
	}
	var b bytes.Buffer
	err := json.Compact(&b, v.Input)
	return b.Bytes(), err
}

func vectorFiles(tb testing.TB) []vectorFile {
	tb.Helper()
	names, err := filepath.Glob("../sdk/testdata/vectors/*.json")
	if err != nil || len(names) == 0 {
		tb.Fatalf("no sdk/testdata/vectors/*.json (%v)", err)
	}
	var files []vectorFile
	for _, name := range names {
		raw, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		var f vectorFile
		if err := dec.Decode(&f); err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		if filepath.Base(name) != string(f.Hook)+".json" {
			tb.Fatalf("%s holds the vectors of hook %q", name, f.Hook)
		}
		files = append(files, f)
	}
	return files
}

// TestVectors replays the ABI conformance vectors through the real host
// against the conformance module of every SDK: each must give the same
// answers, byte for byte up to JSON spelling (member order counts).
func TestVectors(t *testing.T) {
	files := vectorFiles(t)
	for _, cm := range conformanceModules {
		t.Run(cm.sdk, func(t *testing.T) {
			wasm, err := os.ReadFile(cm.path)
			if err != nil {
				t.Fatalf("%v (run policies-examples/build.sh)", err)
			}
			log := &testkit.Buffer{}
			m, err := plugins.Load(context.Background(), wasm, plugins.LoadOptions{
				Name: "conformance", Tenant: "acme", Logger: slog.New(slog.NewTextHandler(log, nil)), Limits: behaviourLimits,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close(context.Background())
			if got := m.Info().Hooks; !slices.Equal(got, plugins.Hooks) {
				t.Errorf("exports hooks %v, want %v", got, plugins.Hooks)
			}
			for _, f := range files {
				for _, v := range f.Vectors {
					t.Run(string(f.Hook)+"/"+v.Name, func(t *testing.T) {
						doc, err := v.document()
						if err != nil {
							t.Fatal(err)
						}
						before := len(log.String())
						out, err := m.Call(context.Background(), f.Hook, doc)
						logged := log.String()[before:]
						if v.WantLog != "" && !strings.Contains(logged, v.WantLog) {
							t.Errorf("the log does not contain %q:\n%s", v.WantLog, logged)
						}
						checkVector(t, f.Hook, &v, out, err)
					})
				}
			}
		})
	}
}

func checkVector(t *testing.T, hook engine.Hook, v *vector, out []byte, err error) {
	t.Helper()
	if v.WantFailure {
		if err == nil {
			t.Fatalf("the call succeeded with %s; want a failure", out)
		}
		return
	}
	if err != nil {
		t.Fatalf("the call failed: %v", err)
	}
	if err := checkOutputSchema(hook, out); err != nil {
		t.Fatalf("output %s breaks sdk/ABI.md §2: %v", out, err)
	}
	switch {
	case v.Want != nil:
		if !sameJSON(out, v.Want) {
			t.Errorf("output:\n%s\nwant (member order counts):\n%s", out, v.Want)
		}
	case v.WantMatch != nil:
		var got map[string]any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(v.WantMatch) {
			t.Errorf("output %s has members beyond %v", out, v.WantMatch)
		}
		for name, pattern := range v.WantMatch {
			s, _ := got[name].(string)
			if !regexp.MustCompile(pattern).MatchString(s) {
				t.Errorf("member %q = %q does not match %s", name, s, pattern)
			}
		}
	}
}

// sameJSON reports whether two documents are the same JSON value with
// members in the same order: strings compare decoded, numbers as written.
func sameJSON(a, b []byte) bool {
	ta, err1 := jsonTokens(a)
	tb, err2 := jsonTokens(b)
	return err1 == nil && err2 == nil && slices.Equal(ta, tb)
}

func jsonTokens(doc []byte) ([]any, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var toks []any
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return toks, nil
		}
		if err != nil {
			return nil, err
		}
		toks = append(toks, tok)
	}
}

// checkOutputSchema checks an output document against sdk/ABI.md §2
// independently of the host: a JSON object with exactly the hook's members
// and their types, or a rejection.
func checkOutputSchema(hook engine.Hook, out []byte) error {
	if !utf8.Valid(out) {
		return errors.New("not UTF-8")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(out, &obj); err != nil || obj == nil {
		return errors.New("not a JSON object")
	}
	is := func(name string, v any) bool {
		raw, ok := obj[name]
		return ok && json.Unmarshal(raw, v) == nil && !bytes.Equal(raw, []byte("null"))
	}
	only := func(names ...string) error {
		for name := range obj {
			if !slices.Contains(names, name) {
				return fmt.Errorf("unexpected member %q", name)
			}
		}
		return nil
	}
	if _, ok := obj["error"]; ok {
		var code, desc string
		codes := []string{"invalid_redirect_uri", "invalid_client_metadata", "invalid_software_statement", "unapproved_software_statement"}
		if hook == engine.HookIssueAccessToken {
			codes = []string{"invalid_scope", "unauthorized_client", "access_denied"}
		}
		if !is("error", &code) || !slices.Contains(codes, code) {
			return fmt.Errorf("error is not one of %v", codes)
		}
		if _, ok := obj["error_description"]; ok {
			if !is("error_description", &desc) || len(desc) > 1024 || strings.ContainsFunc(desc, func(r rune) bool { return r < 0x20 || r >= 0x7f && r < 0xa0 }) {
				return errors.New("error_description is not at most 1,024 bytes without control characters")
			}
		}
		return only("error", "error_description")
	}
	var s string
	var b bool
	switch hook {
	case engine.HookPolicy:
		var md map[string]json.RawMessage
		if !is("metadata", &md) {
			return errors.New("metadata is not an object")
		}
		var names []string
		if _, ok := obj["registration_policies"]; ok && !is("registration_policies", &names) {
			return errors.New("registration_policies is not an array of strings")
		}
		return only("metadata", "registration_policies")
	case engine.HookIDFactory:
		if !is("client_id", &s) {
			return errors.New("client_id is not a string")
		}
		return only("client_id")
	case engine.HookSecretFactory:
		if !is("client_secret", &s) {
			return errors.New("client_secret is not a string")
		}
		return only("client_secret")
	case engine.HookIssueAccessToken:
		return checkAccessTokenSchema(obj, is, only)
	default:
		if !is("decision", &b) {
			return errors.New("decision is not true or false")
		}
		return only("decision")
	}
}

// checkAccessTokenSchema checks an issue_access_token output that is not
// a rejection: optional scope and audience (arrays of strings), lifetime
// (a positive integer) and claims (an object).
func checkAccessTokenSchema(obj map[string]json.RawMessage, is func(string, any) bool, only func(...string) error) error {
	var strs []string
	for _, name := range []string{"scope", "audience"} {
		if _, ok := obj[name]; ok && !is(name, &strs) {
			return fmt.Errorf("%s is not an array of strings", name)
		}
	}
	var n uint32
	if _, ok := obj["lifetime"]; ok && (!is("lifetime", &n) || n == 0) {
		return errors.New("lifetime is not a positive integer")
	}
	var claims map[string]json.RawMessage
	if _, ok := obj["claims"]; ok && !is("claims", &claims) {
		return errors.New("claims is not an object")
	}
	return only("scope", "audience", "lifetime", "claims")
}

// TestVectorsAsTheHostWritesThem: a vector whose name says "as the host
// writes it" has, byte for byte, the input document the host writes for
// the engine input it describes, so that the SDKs are tested on what they
// will be sent (token members per kind, null policies and config, the form
// of validated metadata).
func TestVectorsAsTheHostWritesThem(t *testing.T) {
	n := 0
	for _, f := range vectorFiles(t) {
		for _, v := range f.Vectors {
			if !strings.Contains(v.Name, "as the host writes it") {
				continue
			}
			n++
			t.Run(string(f.Hook)+"/"+v.Name, func(t *testing.T) {
				doc, err := v.document()
				if err != nil {
					t.Fatal(err)
				}
				var env struct {
					Now int64 `json:"now"`
				}
				if err := json.Unmarshal(doc, &env); err != nil {
					t.Fatal(err)
				}
				var in any
				switch f.Hook {
				case engine.HookPolicy:
					in = &engine.PolicyInput{}
				case engine.HookIDFactory, engine.HookSecretFactory:
					in = &engine.FactoryInput{}
				case engine.HookIssueAccessToken:
					in = &engine.AccessTokenInput{}
				default:
					in = &engine.DecisionInput{}
				}
				if err := json.Unmarshal(doc, in); err != nil {
					t.Fatal(err)
				}
				written, err := plugins.Envelope(f.Hook, time.Unix(env.Now, 0), in)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(written, doc) {
					t.Errorf("the host writes\n%s\nthe vector has\n%s", written, doc)
				}
			})
		}
	}
	if n == 0 {
		t.Error("no vector is written as the host writes it")
	}
}

// TestVectorsAreWellFormed keeps the vector files honest.
func TestVectorsAreWellFormed(t *testing.T) {
	seen := map[engine.Hook]bool{}
	for _, f := range vectorFiles(t) {
		seen[f.Hook] = true
		names := map[string]bool{}
		for _, v := range f.Vectors {
			if names[v.Name] {
				t.Errorf("%s: two vectors are named %q", f.Hook, v.Name)
			}
			names[v.Name] = true
			if (v.Input == nil) == (v.InputText == nil) {
				t.Errorf("%s: %q must have exactly one of input, input_text", f.Hook, v.Name)
			}
			n := 0
			for _, set := range []bool{v.Want != nil, v.WantMatch != nil, v.WantFailure} {
				if set {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%s: %q must have exactly one of want, want_match, want_failure", f.Hook, v.Name)
			}
			if v.WantFailure && v.WantLog == "" {
				t.Errorf("%s: %q: a failure must name what it logs (want_log)", f.Hook, v.Name)
			}
			if v.Input != nil {
				var in struct {
					Hook engine.Hook `json:"hook"`
				}
				if err := json.Unmarshal(v.Input, &in); err != nil || in.Hook != f.Hook {
					t.Errorf("%s: %q: the input's hook is %q (%v)", f.Hook, v.Name, in.Hook, err)
				}
			}
			if v.Want != nil {
				if err := checkOutputSchema(f.Hook, v.Want); err != nil {
					t.Errorf("%s: %q: want breaks the schema: %v", f.Hook, v.Name, err)
				}
			}
		}
	}
	for _, h := range plugins.Hooks {
		if !seen[h] {
			t.Errorf("no vectors for hook %s", h)
		}
	}
}
