package engine

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// maxFastDepth is the deepest nesting decodeObjectFast walks; deeper
// values go to the full decoder.
const maxFastDepth = 64

// decodeObjectFast is DecodeObject for the common case, in one pass over
// the bytes and without encoding/json's reflection and token machinery,
// which cost a policy call as much as the module itself (a 1 KB module
// output took about 20 µs to read). body must be valid UTF-8. It accepts
// only what DecodeObject accepts and returns the same members; ok false
// means "not sure": anything unusual (an escape in a member name, a
// syntax error, a duplicate member, deep nesting) is left to DecodeObject's
// full decoder, which then gives its own answer and error. The values are
// slices of one copy of body, each capped at its end.
func decodeObjectFast(body []byte) (obj map[string]json.RawMessage, ok bool) {
	var room [32]span // on the stack for the usual number of members
	s := scanner{b: body}
	spans, _, _, ok := s.topObject(room[:0], "", nil)
	if !ok {
		return nil, false
	}
	return spanMap(bytes.Clone(body), spans)
}

// DecodeObjectMember is DecodeObject(body) followed, when body has a member
// called name, by DecodeObject of that member's value, in one pass over the
// bytes and one copy of them: a policy module's output, whose metadata
// object is most of it, was read twice. ok false means that either call
// would fail, or that this function is not sure (it takes on what
// decodeObjectFast takes on); the caller then makes the two calls, whose
// results and errors are the ones to use. inner is nil when body has no
// member called name.
func DecodeObjectMember(body []byte, name string) (obj, inner map[string]json.RawMessage, ok bool) {
	if !utf8.Valid(body) {
		return nil, nil, false
	}
	var room, innerRoom [32]span // on the stack for the usual number of members
	s := scanner{b: body}
	spans, innerSpans, found, ok := s.topObject(room[:0], name, innerRoom[:0])
	if !ok {
		return nil, nil, false
	}
	buf := bytes.Clone(body)
	if obj, ok = spanMap(buf, spans); !ok {
		return nil, nil, false
	}
	if found {
		if inner, ok = spanMap(buf, innerSpans); !ok {
			return nil, nil, false
		}
	}
	return obj, inner, true
}

// topObject reads s, which must hold one object and nothing else but white
// space, into the spans of its members; the member called nested goes to
// inner as members says.
func (s *scanner) topObject(spans []span, nested string, inner []span) (_, _ []span, found, ok bool) {
	s.space()
	if !s.byte('{') {
		return nil, nil, false, false
	}
	if spans, inner, found, ok = s.members(spans, nested, inner); !ok {
		return nil, nil, false, false
	}
	s.space()
	return spans, inner, found, s.i == len(s.b)
}

// members reads the members of an object whose '{' has been read, up to
// and including its '}', into spans. When inner is not nil, the value of
// the member called nested must be an object, whose members are read into
// inner (found reports that there was one).
func (s *scanner) members(spans []span, nested string, inner []span) (_, _ []span, found, ok bool) {
	s.space()
	if s.byte('}') {
		return spans, inner, false, true
	}
	for {
		s.space()
		name, nok := s.name()
		s.space()
		if !nok || !s.byte(':') {
			return nil, nil, false, false
		}
		s.space()
		start := s.i
		if inner != nil && string(name) == nested {
			if found || !s.byte('{') {
				return nil, nil, false, false
			}
			found = true
			if inner, _, _, ok = s.members(inner, "", nil); !ok {
				return nil, nil, false, false
			}
		} else if !s.value(0) {
			return nil, nil, false, false
		}
		spans = append(spans, span{name, start, s.i})
		s.space()
		if s.byte('}') {
			return spans, inner, found, true
		}
		if !s.byte(',') {
			return nil, nil, false, false
		}
	}
}

// spanMap makes the members of spans a map of slices of buf, each capped
// at its end; ok is false if a name repeats.
func spanMap(buf []byte, spans []span) (map[string]json.RawMessage, bool) {
	obj := make(map[string]json.RawMessage, len(spans))
	for _, sp := range spans {
		name := string(sp.name)
		if _, dup := obj[name]; dup {
			return nil, false
		}
		obj[name] = buf[sp.start:sp.end:sp.end]
	}
	return obj, true
}

// span is a member: its name (without escapes) and its value's bytes.
type span struct {
	name       []byte
	start, end int
}

// CompactValue reports whether v is one JSON value written exactly as
// json.Marshal writes a json.RawMessage that holds it: valid, without
// white space between tokens, and without the characters encoding/json
// escapes in strings (<, >, &, U+2028, U+2029), so that it can be copied
// into a JSON document as it is. It may also answer false for some values
// Marshal leaves unchanged (objects with a repeated member or an escape in
// a member name, nesting over 64); a caller then encodes v with
// encoding/json.
func CompactValue(v []byte) bool {
	s := scanner{b: v, compact: true}
	return s.value(0) && s.i == len(v) && !s.spaced
}

// scanner walks JSON text strictly (RFC 8259), giving up (false) on
// anything it does not take on. A compact scanner also notes white space
// between tokens (spaced) and refuses the characters encoding/json escapes.
type scanner struct {
	b       []byte
	i       int
	compact bool
	spaced  bool
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
			s.spaced = true
		default:
			return
		}
	}
}

// byte consumes c if it is next.
func (s *scanner) byte(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// name reads a member name with no escape in it (its bytes are then its
// value); a name with escapes is left to the full decoder.
func (s *scanner) name() ([]byte, bool) {
	if !s.byte('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], true
		case c == '\\' || c < 0x20 || s.compact && s.escaped():
			return nil, false
		}
		s.i++
	}
	return nil, false
}

// escaped reports whether encoding/json escapes the character at i in a
// string although JSON does not require it: <, >, &, U+2028, U+2029.
func (s *scanner) escaped() bool {
	switch c := s.b[s.i]; c {
	case '<', '>', '&':
		return true
	case 0xe2:
		return s.i+2 < len(s.b) && s.b[s.i+1] == 0x80 && (s.b[s.i+2] == 0xa8 || s.b[s.i+2] == 0xa9)
	}
	return false
}

// value skips one value, checking that no object inside it repeats a
// member name.
func (s *scanner) value(depth int) bool {
	if s.i >= len(s.b) || depth > maxFastDepth {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.object(depth)
	case c == '[':
		return s.array(depth)
	case c == '"':
		return s.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return false
}

func (s *scanner) object(depth int) bool {
	s.i++ // {
	s.space()
	if s.byte('}') {
		return true
	}
	var room [16][]byte // on the stack for the usual number of members
	names := room[:0]
	for {
		s.space()
		name, ok := s.name()
		if !ok {
			return false
		}
		for _, n := range names {
			if bytes.Equal(n, name) {
				return false
			}
		}
		names = append(names, name)
		s.space()
		if !s.byte(':') {
			return false
		}
		s.space()
		if !s.value(depth + 1) {
			return false
		}
		s.space()
		if s.byte('}') {
			return true
		}
		if !s.byte(',') {
			return false
		}
	}
}

func (s *scanner) array(depth int) bool {
	s.i++ // [
	s.space()
	if s.byte(']') {
		return true
	}
	for {
		s.space()
		if !s.value(depth + 1) {
			return false
		}
		s.space()
		if s.byte(']') {
			return true
		}
		if !s.byte(',') {
			return false
		}
	}
}

// str skips a string value, escapes included.
func (s *scanner) str() bool {
	s.i++ // "
	for s.i < len(s.b) {
		// The plain bytes first, in a tight loop.
		for s.i < len(s.b) && plain[s.b[s.i]] {
			s.i++
		}
		if s.i == len(s.b) {
			break
		}
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return true
		case c < 0x20:
			return false
		case s.compact && s.escaped():
			return false
		case c == '\\':
			if !s.escape() {
				return false
			}
		default:
			s.i++
		}
	}
	return false
}

// escape skips an escape sequence in a string.
func (s *scanner) escape() bool {
	if s.i+1 >= len(s.b) {
		return false
	}
	switch s.b[s.i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.i += 2
		return true
	case 'u':
		if s.i+6 > len(s.b) {
			return false
		}
		for _, h := range s.b[s.i+2 : s.i+6] {
			if !isHex(h) {
				return false
			}
		}
		s.i += 6
		return true
	}
	return false
}

// number skips a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() bool {
	s.byte('-')
	switch {
	case s.byte('0'):
	case s.i < len(s.b) && s.b[s.i] >= '1' && s.b[s.i] <= '9':
		s.digits()
	default:
		return false
	}
	if s.byte('.') && !s.digits() {
		return false
	}
	if s.byte('e') || s.byte('E') {
		if !s.byte('+') {
			s.byte('-')
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// digits skips one or more digits.
func (s *scanner) digits() bool {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}

func (s *scanner) literal(word string) bool {
	if !bytes.HasPrefix(s.b[s.i:], []byte(word)) {
		return false
	}
	s.i += len(word)
	return true
}

// plain marks the bytes a string may hold as they are, whatever the
// scanner's mode: not a quote, a backslash, a control character, a
// character encoding/json escapes, or 0xe2 (which starts U+2028 and
// U+2029).
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		switch c {
		case '"', '\\', '<', '>', '&', 0xe2:
		default:
			t[c] = true
		}
	}
	return t
}()

// UnquoteString reads v, one JSON value, as a string, as json.Unmarshal
// into a string does: ok is false when v is not a JSON string. The common
// case - a string without escapes, control characters or invalid UTF-8,
// written without white space around it - is its own bytes and is read
// without encoding/json's validation pass and reflection, which cost a
// few microseconds on a statement of some hundred bytes; anything else
// goes to json.Unmarshal.
func UnquoteString(v []byte) (string, bool) {
	if end, ok := plainString(v, 0); ok && end == len(v)-1 {
		return string(v[1:end]), true
	}
	return unquoteFull(v)
}

// unquoteFull is UnquoteString with encoding/json; apart, so that only
// this path puts a string on the heap for json.Unmarshal to fill.
func unquoteFull(v []byte) (string, bool) {
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}
