package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DecodeObject parses a request body that must be one JSON object and returns
// its members as raw JSON values. Duplicate member names, trailing data and
// invalid UTF-8 are refused: two parsers must never read one request two ways.
func DecodeObject(body []byte) (map[string]json.RawMessage, error) {
	bad := func(format string, args ...any) error {
		return Errorf(CodeInvalidRequest, format, args...)
	}
	if !utf8.Valid(body) {
		return nil, bad("request body is not valid UTF-8")
	}
	if obj, ok := decodeObjectFast(body); ok {
		return obj, nil
	}
	return decodeObjectFull(body)
}

// decodeObjectFull is DecodeObject with encoding/json's decoder, for what
// decodeObjectFast does not take on, and for every error message.
func decodeObjectFull(body []byte) (map[string]json.RawMessage, error) {
	bad := func(format string, args ...any) error {
		return Errorf(CodeInvalidRequest, format, args...)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err == io.EOF {
		return nil, bad("request body is empty; it must be a JSON object")
	}
	if err != nil {
		return nil, bad("request body is not valid JSON: %s", jsonErrorText(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, bad("request body must be a JSON object")
	}
	obj := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, bad("request body is not valid JSON: %s", jsonErrorText(err))
		}
		name := tok.(string) // inside an object, the decoder yields only string keys
		if _, dup := obj[name]; dup {
			return nil, bad("member %q appears more than once", truncate(name, 64))
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, bad("request body is not valid JSON: %s", jsonErrorText(err))
		}
		if inner, dup := repeatedMember(v); dup {
			return nil, bad("member %q of %q appears more than once", truncate(inner, 64), truncate(name, 64))
		}
		obj[name] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, bad("request body is not valid JSON: %s", jsonErrorText(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, bad("request body has data after the JSON object")
	}
	return obj, nil
}

// repeatedMember reports the first member name that appears twice in one
// object anywhere inside v, a valid JSON value. Values such as jwks are kept
// and handed to other parsers, which may not agree on which duplicate wins.
func repeatedMember(v json.RawMessage) (string, bool) {
	if !bytes.ContainsAny(v, "{") {
		return "", false
	}
	type frame struct {
		names   map[string]bool // nil for an array
		wantKey bool
	}
	var stack []*frame
	dec := json.NewDecoder(bytes.NewReader(v))
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false // io.EOF: v is valid, so the walk is complete
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.wantKey {
			if name, ok := tok.(string); ok {
				if top.names[name] {
					return name, true
				}
				top.names[name] = true
				top.wantKey = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{names: map[string]bool{}, wantKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		// A value ended: an enclosing object expects a key next.
		if len(stack) > 0 && stack[len(stack)-1].names != nil {
			stack[len(stack)-1].wantKey = true
		}
	}
}

// jsonErrorText describes a decoding error without echoing input.
func jsonErrorText(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "unexpected end of input"
	}
	return "malformed input"
}

// truncate shortens s for use in an error description.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// compactJSON returns v without insignificant white space and with <, >, &,
// U+2028 and U+2029 escaped in strings: the form encoding/json writes a
// json.RawMessage in, so that the value survives a JSON round trip byte for
// byte. v must be valid.
func compactJSON(v json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, v); err != nil {
		return v
	}
	var esc bytes.Buffer
	json.HTMLEscape(&esc, buf.Bytes())
	return esc.Bytes()
}

// isNull reports whether a raw JSON value is null.
func isNull(v json.RawMessage) bool {
	return string(bytes.TrimSpace(v)) == "null"
}

// member reads raw members with strict types. A member that is absent or
// null is absent; an optional string member that is "" is absent too.
type member struct {
	obj map[string]json.RawMessage
}

func (m member) present(name string) bool {
	v, ok := m.obj[name]
	return ok && !isNull(v)
}

// str reads a string member.
func (m member) str(name string) (string, bool, error) {
	v, ok := m.obj[name]
	if !ok || isNull(v) {
		return "", false, nil
	}
	s, ok := UnquoteString(v)
	if !ok {
		return "", false, fmt.Errorf("%s must be a string", name)
	}
	if s == "" {
		return "", false, nil
	}
	return s, true, nil
}

// strs reads an array of non-empty strings, dropping repeated values.
func (m member) strs(name string) ([]string, bool, error) {
	v, ok := m.obj[name]
	if !ok || isNull(v) {
		return nil, false, nil
	}
	if elems, ok := plainStrings(v); ok {
		return distinctStrings(name, elems)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(v, &raw); err != nil {
		return nil, false, fmt.Errorf("%s must be an array of strings", name)
	}
	out := make([]string, 0, len(raw))
	seen := make(map[string]bool, len(raw))
	for _, r := range raw {
		s, ok := UnquoteString(r)
		if !ok {
			return nil, false, fmt.Errorf("%s must be an array of strings", name)
		}
		if s == "" {
			return nil, false, fmt.Errorf("%s must not contain empty strings", name)
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out, true, nil
}

// distinctStrings is strs for an array whose elements are all strings:
// the same checks in the same order, repeated values dropped (by a scan
// of the few values kept so far, or a set past a handful).
func distinctStrings(name string, elems []string) ([]string, bool, error) {
	var seen map[string]bool
	if len(elems) > 16 {
		seen = make(map[string]bool, len(elems))
	}
	out := elems[:0]
	for _, s := range elems {
		if s == "" {
			return nil, false, fmt.Errorf("%s must not contain empty strings", name)
		}
		if seen == nil && slices.Contains(out, s) || seen[s] {
			continue
		}
		if seen != nil {
			seen[s] = true
		}
		out = append(out, s)
	}
	return out, true, nil
}

// plainStrings reads v, a JSON value, as an array of strings when it is
// one in the plain form: strings without escapes, control characters or
// bytes outside ASCII (those UnquoteString reads as their own bytes),
// with only JSON white space around the tokens. ok false means "not
// sure": the caller reads v with encoding/json, which gives its own
// answer and error.
func plainStrings(v []byte) (elems []string, ok bool) {
	i := skipSpace(v, 0)
	if i == len(v) || v[i] != '[' {
		return nil, false
	}
	elems = make([]string, 0, bytes.Count(v, []byte{','})+1)
	i = skipSpace(v, i+1)
	if i < len(v) && v[i] == ']' {
		return elems, skipSpace(v, i+1) == len(v)
	}
	for {
		end, ok := plainString(v, i)
		if !ok {
			return nil, false
		}
		elems = append(elems, string(v[i+1:end]))
		i = skipSpace(v, end+1)
		switch {
		case i < len(v) && v[i] == ',':
			i = skipSpace(v, i+1)
		case i < len(v) && v[i] == ']':
			return elems, skipSpace(v, i+1) == len(v)
		default:
			return nil, false
		}
	}
}

// plainString reports whether a plain string (see plainStrings) starts at
// v[i], and the index of its closing quote.
func plainString(v []byte, i int) (end int, ok bool) {
	if i == len(v) || v[i] != '"' {
		return 0, false
	}
	for end = i + 1; end < len(v); end++ {
		switch c := v[end]; {
		case c == '"':
			return end, true
		case c == '\\' || c < 0x20 || c >= utf8.RuneSelf:
			return 0, false
		}
	}
	return 0, false
}

// skipSpace returns the index of the first byte of v at or after i that
// is not JSON white space.
func skipSpace(v []byte, i int) int {
	for i < len(v) && (v[i] == ' ' || v[i] == '\t' || v[i] == '\n' || v[i] == '\r') {
		i++
	}
	return i
}

// boolean reads a boolean member; "true" as a string is not a boolean.
func (m member) boolean(name string) (bool, bool, error) {
	v, ok := m.obj[name]
	if !ok || isNull(v) {
		return false, false, nil
	}
	var b bool
	if err := json.Unmarshal(v, &b); err != nil {
		return false, false, fmt.Errorf("%s must be a boolean", name)
	}
	return b, true, nil
}

// integer reads a non-negative integer member written without a fraction or
// exponent.
func (m member) integer(name string) (int64, bool, error) {
	v, ok := m.obj[name]
	if !ok || isNull(v) {
		return 0, false, nil
	}
	s := strings.TrimSpace(string(v))
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, false, fmt.Errorf("%s must be a non-negative integer", name)
	}
	return n, true, nil
}

// cloneRaw copies a map of raw JSON values, the values' bytes included.
func cloneRaw(m map[string]json.RawMessage) map[string]json.RawMessage {
	if m == nil {
		return nil
	}
	d := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		d[k] = bytes.Clone(v)
	}
	return d
}
