package plugins

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/plugins/internal/wasm"
)

// CasesSection is the name of the custom section in which a module ships
// its self-test cases (sdk/ABI.md §7).
const CasesSection = "registrar.cases"

// CasesNow is the "now" of every case's input document:
// 2026-01-01T00:00:00Z, so that a case's answer does not depend on the day.
const CasesNow = 1767225600

// Bounds of self-tests: a module cannot make its own activation take
// unbounded time.
const (
	maxCases = 1000
	// casesDeadline is the least deadline of one case's call: a case checks
	// behaviour, not speed, and a garbage collector's pause in a Go guest
	// must not refuse a good version.
	casesDeadline = time.Second
	// casesBudget bounds all of a module's cases together.
	casesBudget = 30 * time.Second
)

// Cases are the self-test cases of a module: the format of sdk/ABI.md §7,
// which is also that of policies-examples/*/cases.json.
type Cases struct {
	// Hooks, when set, lists exactly the hooks the module must export.
	Hooks []engine.Hook `json:"hooks,omitempty"`
	// Bench names the case benchmarks run; default the first.
	Bench string `json:"bench,omitempty"`
	// Input holds members every case's input starts from (ABI.md §2,
	// without abi, hook and now).
	Input map[string]json.RawMessage `json:"input,omitempty"`
	Cases []Case                     `json:"cases"`
}

// Case is one self-test case: a hook, its input, and exactly one
// expectation.
type Case struct {
	Name string      `json:"name"`
	Hook engine.Hook `json:"hook"`
	// Input members replace those of Cases.Input one by one; a null member
	// removes one.
	Input map[string]json.RawMessage `json:"input,omitempty"`
	// Want is the whole output document, compared as a JSON value.
	Want json.RawMessage `json:"want,omitempty"`
	// WantError is the code of a rejection; WantDescription, if set, a
	// substring of its error_description.
	WantError       string `json:"want_error,omitempty"`
	WantDescription string `json:"want_description,omitempty"`
	// WantMatch: the output has exactly these members, each a string that
	// matches the regular expression.
	WantMatch map[string]string `json:"want_match,omitempty"`
	// WantFailure: the call fails (the client would get server_error).
	WantFailure bool `json:"want_failure,omitempty"`

	match map[string]*regexp.Regexp
}

// ParseCases reads a cases document strictly: unknown members, a case
// without exactly one expectation, a hook that is not in hooks, two cases
// of one name or a bad regular expression are errors.
func ParseCases(b []byte) (*Cases, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var cs Cases
	if err := dec.Decode(&cs); err != nil {
		return nil, fmt.Errorf("not a cases document: %w", err)
	}
	if dec.More() {
		return nil, errors.New("not a cases document: more after the object")
	}
	if len(cs.Cases) == 0 {
		return nil, errors.New("no cases")
	}
	if len(cs.Cases) > maxCases {
		return nil, fmt.Errorf("%d cases, more than %d", len(cs.Cases), maxCases)
	}
	for _, h := range cs.Hooks {
		if !slices.Contains(Hooks, h) {
			return nil, fmt.Errorf("hooks: %q is not a hook", truncate(string(h)))
		}
	}
	names := map[string]bool{}
	for i := range cs.Cases {
		c := &cs.Cases[i]
		if c.Name == "" {
			return nil, fmt.Errorf("case %d has no name", i+1)
		}
		if names[c.Name] {
			return nil, fmt.Errorf("two cases are named %q", truncate(c.Name))
		}
		names[c.Name] = true
		if err := c.check(cs.Hooks); err != nil {
			return nil, fmt.Errorf("case %q: %w", truncate(c.Name), err)
		}
	}
	if cs.Bench != "" && !names[cs.Bench] {
		return nil, fmt.Errorf("bench names no case: %q", truncate(cs.Bench))
	}
	return &cs, nil
}

// check validates one case and compiles its patterns.
func (c *Case) check(hooks []engine.Hook) error {
	if !slices.Contains(Hooks, c.Hook) {
		return fmt.Errorf("hook %q is not a hook", truncate(string(c.Hook)))
	}
	if len(hooks) > 0 && !slices.Contains(hooks, c.Hook) {
		return fmt.Errorf("calls hook %q, which is not in hooks", c.Hook)
	}
	n := 0
	for _, set := range []bool{c.Want != nil, c.WantError != "", c.WantMatch != nil, c.WantFailure} {
		if set {
			n++
		}
	}
	if n != 1 || (c.WantDescription != "" && c.WantError == "") {
		return errors.New("must have exactly one of want, want_error, want_match, want_failure")
	}
	if c.Want != nil {
		var v map[string]any
		if err := json.Unmarshal(c.Want, &v); err != nil || v == nil {
			return errors.New("want must be a JSON object")
		}
	}
	if c.WantMatch != nil {
		c.match = map[string]*regexp.Regexp{}
		for name, pattern := range c.WantMatch {
			re, err := regexp.Compile(pattern)
			if err != nil {
				return fmt.Errorf("want_match %q: %w", truncate(name), err)
			}
			c.match[name] = re
		}
	}
	return nil
}

// Document builds a case's input document the way the host does: abi,
// hook and now (CasesNow) first, then the merged input members in the
// order of their names.
func (cs *Cases) Document(c *Case) ([]byte, error) {
	members := maps.Clone(cs.Input)
	if members == nil {
		members = map[string]json.RawMessage{}
	}
	for k, v := range c.Input {
		if string(v) == "null" {
			delete(members, k)
		} else {
			members[k] = v
		}
	}
	for _, k := range []string{"abi", "hook", "now"} {
		delete(members, k) // the host's, not the case's
	}
	body, err := json.Marshal(members)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"abi":%d,"hook":%q,"now":%d`, ABIVersion, c.Hook, CasesNow)
	if len(body) > 2 {
		b.WriteByte(',')
	}
	b.Write(body[1:])
	return b.Bytes(), nil
}

// Check compares the result of a case's call (the output document and the
// call's error) with its expectation, and says how they differ.
func (c *Case) Check(out []byte, callErr error) error {
	if c.WantFailure {
		if callErr == nil {
			return fmt.Errorf("the call succeeded with %s; want a failure", clip(out))
		}
		return nil
	}
	if callErr != nil {
		return fmt.Errorf("the call failed: %w", callErr)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil || got == nil {
		return fmt.Errorf("output %s is not a JSON object", clip(out))
	}
	switch {
	case c.WantError != "":
		return c.checkError(out, got)
	case c.WantMatch != nil:
		return c.checkMatch(out, got)
	case c.Want != nil:
		return c.checkWant(out, got)
	default:
		return errors.New("the case has no expectation")
	}
}

// checkError compares an output (got, parsed from out) with want_error and
// want_description.
func (c *Case) checkError(out []byte, got map[string]any) error {
	if got["error"] != c.WantError {
		return fmt.Errorf("output %s; want error %q", clip(out), c.WantError)
	}
	if desc, _ := got["error_description"].(string); !strings.Contains(desc, c.WantDescription) {
		return fmt.Errorf("error_description %q does not contain %q", clip([]byte(desc)), c.WantDescription)
	}
	return nil
}

// checkMatch compares an output (got, parsed from out) with want_match:
// the same members, each a string its pattern matches.
func (c *Case) checkMatch(out []byte, got map[string]any) error {
	if len(got) != len(c.WantMatch) {
		return fmt.Errorf("output %s has members beyond %v", clip(out), slices.Sorted(maps.Keys(c.WantMatch)))
	}
	for _, name := range slices.Sorted(maps.Keys(c.WantMatch)) {
		re := c.match[name]
		if re == nil { // a Case not made by ParseCases
			var err error
			if re, err = regexp.Compile(c.WantMatch[name]); err != nil {
				return fmt.Errorf("want_match %q: %w", name, err)
			}
		}
		s, _ := got[name].(string)
		if !re.MatchString(s) {
			return fmt.Errorf("member %q = %q does not match %s", name, clip([]byte(s)), c.WantMatch[name])
		}
	}
	return nil
}

// checkWant compares an output (got, parsed from out) with want, as JSON
// values.
func (c *Case) checkWant(out []byte, got map[string]any) error {
	var want map[string]any
	if err := json.Unmarshal(c.Want, &want); err != nil {
		return fmt.Errorf("want: %w", err)
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("output %s; want %s", clip(out), clip(c.Want))
	}
	return nil
}

// clip shortens a document for an error message.
func clip(b []byte) string {
	const maxClip = 512
	if len(b) > maxClip {
		return string(b[:maxClip]) + "..."
	}
	return string(b)
}

// RunCases runs every case against the module, under a deadline of at
// least a second per call and thirty seconds in all, and returns the first
// failing case with the difference. When cs.Hooks is set, the module must
// export exactly those hooks.
func (m *Module) RunCases(ctx context.Context, cs *Cases) error {
	if len(cs.Hooks) > 0 {
		got, want := slices.Clone(m.info.Hooks), slices.Clone(cs.Hooks)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			return fmt.Errorf("self-test: the module exports hooks %v; its cases say %v", m.info.Hooks, cs.Hooks)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, casesBudget)
	defer cancel()
	deadline := max(m.w.Timeout(), casesDeadline)
	for i := range cs.Cases {
		c := &cs.Cases[i]
		doc, err := cs.Document(c)
		if err != nil {
			return fmt.Errorf("self-test case %q: %w", c.Name, err)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("self-test: the cases took more than %s; case %q did not run", casesBudget, c.Name)
		}
		out, err := m.w.CallWithin(ctx, c.Hook, doc, deadline)
		if errors.Is(err, wasm.ErrClosed) {
			return err
		}
		if err := c.Check(out, err); err != nil {
			return fmt.Errorf("self-test case %q: %w", c.Name, err)
		}
	}
	return nil
}

// EmbeddedCases returns the self-test cases a module ships in its
// registrar.cases custom section, or nil when it has none.
func EmbeddedCases(module []byte) (*Cases, error) {
	section, err := wasm.CustomSection(module, CasesSection)
	if err != nil || section == nil {
		return nil, err
	}
	cs, err := ParseCases(section)
	if err != nil {
		return nil, fmt.Errorf("custom section %s: %w", CasesSection, err)
	}
	return cs, nil
}
