// Package jsontext reads and writes the JSON documents of the module ABI
// without reflection: a validating pull decoder that hands out raw values
// as sub-slices of its input, and appenders for output documents.
//
// It exists because of what a call costs a Go module under Registrar's
// host (sdk/go/README.md): the host checks for its deadline at every loop
// iteration and, in Go's WebAssembly code, at nearly every jump between
// basic blocks, so the cost of a call is roughly the number of branches it
// executes. encoding/json spends several per byte; this package reads
// string contents, which are most of a client's metadata, eight bytes at a
// time and walks each document once.
package jsontext

import (
	"errors"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// maxDepth bounds the nesting of arrays and objects, as encoding/json does.
const maxDepth = 10000

// SyntaxError reports malformed JSON and where it was found.
type SyntaxError struct {
	Offset int // byte offset of the problem
	msg    string
}

// Error implements error.
func (e *SyntaxError) Error() string {
	return "invalid JSON at offset " + strconv.Itoa(e.Offset) + ": " + e.msg
}

// ErrNotObject is returned for a valid JSON value that is not an object
// where one is expected.
var ErrNotObject = errors.New("not a JSON object")

// ErrNotArray is returned for a valid JSON value that is not an array
// where one is expected.
var ErrNotArray = errors.New("not a JSON array")

// errNotString is returned by ReadString for a value that is not a string.
var errNotString = errors.New("not a JSON string")

// A Decoder reads one JSON document front to back. Its methods read one
// value each; the first error sticks.
type Decoder struct {
	// Alias makes ReadString return strings that share memory with the
	// document whenever they can; the document must then never change.
	Alias bool

	data  []byte
	i     int
	depth int
	err   error
}

// NewDecoder returns a Decoder of data.
func NewDecoder(data []byte) *Decoder { return &Decoder{data: data} }

func (d *Decoder) fail(off int, msg string) error {
	if d.err == nil {
		d.err = &SyntaxError{Offset: off, msg: msg}
	}
	return d.err
}

// Err returns the first error the Decoder met.
func (d *Decoder) Err() error { return d.err }

// End checks that only white space is left.
func (d *Decoder) End() error {
	if d.err != nil {
		return d.err
	}
	d.skipSpace()
	if d.i != len(d.data) {
		return d.fail(d.i, "data after the value")
	}
	return nil
}

// Peek returns the first byte of the next value, or 0 at the end.
func (d *Decoder) Peek() byte {
	d.skipSpace()
	if d.i < len(d.data) {
		return d.data[d.i]
	}
	return 0
}

// ReadObject reads an object, calling fn with each member's name, which is
// unescaped and valid only during the call. fn reads the member's value
// with one of the Read methods; if it reads nothing, the value is skipped.
// A valid value that is not an object is ErrNotObject.
func (d *Decoder) ReadObject(fn func(name []byte) error) error {
	return d.ReadMembers(func(name, _ []byte) error { return fn(name) })
}

// ReadMembers is ReadObject that also passes each member's name as
// written, quotes included, if its bytes are its value (plain ASCII
// without escapes), else nil. Both alias the document.
func (d *Decoder) ReadMembers(fn func(name, quoted []byte) error) error {
	if d.err != nil {
		return d.err
	}
	if d.Peek() != '{' {
		if _, err := d.ReadRaw(); err != nil {
			return err
		}
		return ErrNotObject
	}
	if d.depth >= maxDepth {
		return d.fail(d.i, "nested too deeply")
	}
	d.depth++
	d.i++
	if d.Peek() == '}' {
		d.i++
		d.depth--
		return nil
	}
	for {
		if err := d.member(fn); err != nil {
			return err
		}
		switch d.Peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			d.depth--
			return nil
		default:
			return d.fail(d.i, "expected ',' or '}' in an object")
		}
	}
}

// member reads one member of an object: its name, the colon, and its
// value, which fn reads or, if fn reads nothing, is skipped.
func (d *Decoder) member(fn func(name, quoted []byte) error) error {
	if d.Peek() != '"' {
		return d.fail(d.i, "expected a member name")
	}
	start := d.i
	end, plain, err := d.stringEnd(start)
	if err != nil {
		return err
	}
	name, quoted := d.data[start+1:end-1:end-1], d.data[start:end:end]
	if !plain {
		name, quoted = unescape(nil, name), nil
	}
	d.i = end
	if d.Peek() != ':' {
		return d.fail(d.i, "expected ':' after a member name")
	}
	d.i++
	d.skipSpace()
	at := d.i
	if err := fn(name, quoted); err != nil {
		if d.err == nil {
			d.err = err
		}
		return err
	}
	if d.i == at {
		if _, err := d.ReadRaw(); err != nil {
			return err
		}
	}
	return nil
}

// ReadArray reads an array, calling fn for each element, which fn reads
// with one of the Read methods (or it is skipped). A valid value that is
// not an array is ErrNotArray.
func (d *Decoder) ReadArray(fn func() error) error {
	if d.err != nil {
		return d.err
	}
	if d.Peek() != '[' {
		if _, err := d.ReadRaw(); err != nil {
			return err
		}
		return ErrNotArray
	}
	if d.depth >= maxDepth {
		return d.fail(d.i, "nested too deeply")
	}
	d.depth++
	d.i++
	if d.Peek() == ']' {
		d.i++
		d.depth--
		return nil
	}
	for {
		at := d.i
		if err := fn(); err != nil {
			if d.err == nil {
				d.err = err
			}
			return err
		}
		if d.i == at {
			if _, err := d.ReadRaw(); err != nil {
				return err
			}
		}
		switch d.Peek() {
		case ',':
			d.i++
			d.skipSpace()
		case ']':
			d.i++
			d.depth--
			return nil
		default:
			return d.fail(d.i, "expected ',' or ']' in an array")
		}
	}
}

// ReadRaw reads any value and returns it as it is written; the result
// aliases the document, with its capacity cut so that appending to it
// copies.
func (d *Decoder) ReadRaw() ([]byte, error) {
	if d.err != nil {
		return nil, d.err
	}
	d.skipSpace()
	start := d.i
	if err := d.skip(); err != nil {
		return nil, err
	}
	return d.data[start:d.i:d.i], nil
}

// ReadString reads a string. A valid value that is not a string is an
// error that does not stick: the value is consumed.
func (d *Decoder) ReadString() (string, error) {
	if d.err != nil {
		return "", d.err
	}
	if d.Peek() != '"' {
		if _, err := d.ReadRaw(); err != nil {
			return "", err
		}
		return "", errNotString
	}
	start := d.i
	end, plain, err := d.stringEnd(start)
	if err != nil {
		return "", err
	}
	d.i = end
	body := d.data[start+1 : end-1]
	if plain {
		if d.Alias && len(body) > 0 {
			return unsafe.String(&body[0], len(body)), nil
		}
		return string(body), nil
	}
	return string(unescape(make([]byte, 0, len(body)), body)), nil
}

// What skip expects next.
const (
	expValue        = iota // a value
	expNameOrClose         // after '{': a member name or '}'
	expValueOrClose        // after '[': a value or ']'
	expName                // after ',' in an object: a member name
	expColon               // after a member name: ':'
	expCommaOrClose        // after a value inside a container
)

// skipper is the state of skip: the offset, what comes next and the open
// containers (whether each is an object; the first 32 without allocating).
type skipper struct {
	i        int
	state    int
	depth    int
	inObject [32]bool
	deeper   []bool
}

// skip reads one value, validating it. It is the hot path of a call (every
// metadata value goes through it), so it is one loop over tokens, without
// recursion: each token is one call of the step for the current state.
func (d *Decoder) skip() error {
	s := skipper{i: d.i}
	for {
		var c byte
		var err error
		if s.i < len(d.data) && d.data[s.i] > ' ' { // the common case, without a call
			c = d.data[s.i]
		} else if c, err = s.token(d); err != nil {
			return err
		}
		var done bool
		switch s.state {
		case expColon:
			err = s.colon(d, c)
		case expCommaOrClose:
			done, err = s.commaOrClose(d, c)
		case expNameOrClose, expValueOrClose:
			done = s.firstOrClose(c)
		case expName:
			err = s.name(d, c)
		default:
			done, err = s.value(d, c)
		}
		if err != nil {
			return err
		}
		if done {
			d.i = s.i
			return nil
		}
	}
}

// token skips white space and returns the byte that starts the next token.
func (s *skipper) token(d *Decoder) (byte, error) {
	data := d.data
	for s.i < len(data) {
		c := data[s.i]
		if c > ' ' {
			return c, nil
		}
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return 0, d.fail(s.i, "unexpected control character")
		}
		s.i++
	}
	return 0, d.fail(s.i, "unexpected end of JSON")
}

// push opens a container; top reports whether the innermost open one is
// an object; pop closes it and reports whether the value is complete.
func (s *skipper) push(object bool) {
	if s.depth < len(s.inObject) {
		s.inObject[s.depth] = object
	} else {
		s.deeper = append(s.deeper, object)
	}
	s.depth++
}

func (s *skipper) top() bool {
	if s.depth <= len(s.inObject) {
		return s.inObject[s.depth-1]
	}
	return s.deeper[s.depth-1-len(s.inObject)]
}

func (s *skipper) pop() (done bool) {
	s.depth--
	if s.depth >= len(s.inObject) {
		s.deeper = s.deeper[:len(s.deeper)-1]
	}
	return s.depth == 0
}

// afterValue is the state after a complete value: done at the top level.
func (s *skipper) afterValue() (done bool) {
	s.state = expCommaOrClose
	return s.depth == 0
}

func (s *skipper) colon(d *Decoder, c byte) error {
	if c != ':' {
		return d.fail(s.i, "expected ':' after a member name")
	}
	s.i++
	s.state = expValue
	return nil
}

func (s *skipper) commaOrClose(d *Decoder, c byte) (done bool, err error) {
	switch c {
	case ',':
		s.i++
		s.state = expValue
		if s.top() {
			s.state = expName
		}
		return false, nil
	case '}', ']':
		if s.top() != (c == '}') {
			return false, d.fail(s.i, "mismatched bracket")
		}
		s.i++
		return s.pop(), nil
	}
	return false, d.fail(s.i, "expected ',' or the end of a container")
}

// firstOrClose reads the end of an empty container, or else leaves c to
// be read as the container's first member name or value.
func (s *skipper) firstOrClose(c byte) (done bool) {
	object := s.state == expNameOrClose
	if object && c == '}' || !object && c == ']' {
		s.i++
		s.state = expCommaOrClose
		return s.pop()
	}
	s.state = expValue
	if object {
		s.state = expName
	}
	return false
}

func (s *skipper) name(d *Decoder, c byte) error {
	if c != '"' {
		return d.fail(s.i, "expected a member name")
	}
	end, _, err := d.stringEnd(s.i)
	if err != nil {
		return err
	}
	s.i = end
	s.state = expColon
	return nil
}

// value opens a container, or reads a scalar whole.
func (s *skipper) value(d *Decoder, c byte) (done bool, err error) {
	if c == '{' || c == '[' {
		if s.depth >= maxDepth {
			return false, d.fail(s.i, "nested too deeply")
		}
		s.push(c == '{')
		s.i++
		s.state = expValueOrClose
		if c == '{' {
			s.state = expNameOrClose
		}
		return false, nil
	}
	if s.i, err = d.scalar(s.i, c); err != nil {
		return false, err
	}
	return s.afterValue(), nil
}

// scalar reads the string, literal or number that starts with c at
// offset i, and returns the offset after it.
func (d *Decoder) scalar(i int, c byte) (int, error) {
	data := d.data
	switch {
	case c == '"':
		end, _, err := d.stringEnd(i)
		return end, err
	case c == 't' || c == 'f' || c == 'n':
		lit := literals[c]
		if len(data)-i < len(lit) || string(data[i:i+len(lit)]) != lit {
			return 0, d.fail(i, "invalid literal")
		}
		return i + len(lit), nil
	case c == '-' || '0' <= c && c <= '9':
		end, ok := number(data, i)
		if !ok {
			return 0, d.fail(i, "invalid number")
		}
		return end, nil
	}
	return 0, d.fail(i, "expected a value")
}

// literals are the literal names by their first byte.
var literals = [256]string{'t': "true", 'f': "false", 'n': "null"}

// number scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at data[i].
func number(data []byte, i int) (int, bool) {
	if data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && '1' <= data[i] && data[i] <= '9':
		i = digits(data, i)
	default:
		return 0, false
	}
	i, ok := fraction(data, i)
	if !ok {
		return 0, false
	}
	return exponent(data, i)
}

// fraction scans an optional (\.[0-9]+) at data[i].
func fraction(data []byte, i int) (int, bool) {
	if i >= len(data) || data[i] != '.' {
		return i, true
	}
	j := digits(data, i+1)
	return j, j > i+1
}

// exponent scans an optional ([eE][+-]?[0-9]+) at data[i].
func exponent(data []byte, i int) (int, bool) {
	if i >= len(data) || data[i] != 'e' && data[i] != 'E' {
		return i, true
	}
	i++
	if i < len(data) && (data[i] == '+' || data[i] == '-') {
		i++
	}
	j := digits(data, i)
	return j, j > i
}

func digits(data []byte, i int) int {
	for i < len(data) && '0' <= data[i] && data[i] <= '9' {
		i++
	}
	return i
}

func (d *Decoder) skipSpace() {
	// Documents from the host have no white space: one test, no loop.
	if d.i >= len(d.data) || d.data[d.i] > ' ' {
		return
	}
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// stringEnd scans the string starting at data[i] == '"' and returns the
// offset just after its closing quote, and whether its body is plain: only
// ASCII without escapes, so that its bytes are its value. Control
// characters and bad escapes are errors; bytes that are not valid UTF-8
// are left for unescape to replace.
func (d *Decoder) stringEnd(i int) (end int, plain bool, err error) {
	data := d.data
	start := i
	i++
	plain = true
	for {
		var ascii bool
		i, ascii = plainRun(data, i)
		plain = plain && ascii
		if i >= len(data) {
			return 0, false, d.fail(start, "unterminated string")
		}
		switch c := data[i]; {
		case c == '"':
			return i + 1, plain, nil
		case c == '\\':
			plain = false
			if i+1 >= len(data) {
				return 0, false, d.fail(start, "unterminated string")
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(data) {
					return 0, false, d.fail(i, "invalid \\u escape")
				}
				if _, ok := hex4(data[i+2 : i+6]); !ok {
					return 0, false, d.fail(i, "invalid \\u escape")
				}
				i += 6
			default:
				return 0, false, d.fail(i, "invalid escape")
			}
		default: // c < 0x20
			return 0, false, d.fail(i, "control character in a string")
		}
	}
}

// Word-at-a-time tests (Hacker's Delight §6.1). In stops(w) the lowest
// set bit marks the first byte of w that is '"', '\\', a control character
// or not ASCII: a borrow can only spoil the bytes above a true match.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

func stops(w uint64) uint64 {
	q := w ^ (ones * '"')
	b := w ^ (ones * '\\')
	return ((q-ones)&^q | (b-ones)&^b | (w-ones*0x20)&^w | w) & highs
}

// plainRun returns the offset of the first byte at or after i that ends a
// run of string characters ('"', '\\' or a control character), and whether
// the run was all ASCII. It reads eight bytes at a time.
func plainRun(data []byte, i int) (int, bool) {
	ascii := true
	for i+8 <= len(data) {
		m := stops(load64(data, i))
		if m == 0 {
			i += 8
			continue
		}
		i += bits.TrailingZeros64(m) >> 3
		if data[i] < utf8.RuneSelf {
			return i, ascii
		}
		ascii = false
		i++
	}
	for ; i < len(data); i++ {
		c := data[i]
		if c == '"' || c == '\\' || c < 0x20 {
			return i, ascii
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	return i, ascii
}

func hex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// unescape appends the decoded body of a valid JSON string to b. Bytes
// that are not valid UTF-8, and lone surrogates, become U+FFFD.
func unescape(b, body []byte) []byte {
	for i := 0; i < len(body); {
		c := body[i]
		switch {
		case c == '\\':
			switch body[i+1] {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, _ := hex4(body[i+2 : i+6])
				i += 6
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if i+6 <= len(body) && body[i] == '\\' && body[i+1] == 'u' {
						r2, _ = hex4(body[i+2 : i+6])
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						i += 6
						r = dec
					} else {
						r = utf8.RuneError
					}
				}
				b = utf8.AppendRune(b, r)
				continue
			default: // '"', '\\', '/'
				b = append(b, body[i+1])
			}
			i += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRune(body[i:])
			b = utf8.AppendRune(b, r)
			i += size
		}
	}
	return b
}

// Object calls fn for every member of the JSON object that data holds, in
// document order, with the unescaped name (valid only during the call) and
// the raw value (aliasing data). It checks that data is exactly one valid
// object; the first error, its own or fn's, ends the walk.
func Object(data []byte, fn func(name, value []byte) error) error {
	d := Decoder{data: data}
	err := d.ReadObject(func(name []byte) error {
		v, err := d.ReadRaw()
		if err != nil {
			return err
		}
		return fn(name, v)
	})
	return d.finish(err)
}

// Array calls fn for every element of the JSON array that data holds, in
// order, with the raw element (aliasing data). Like Object, it checks that
// data is exactly one valid array.
func Array(data []byte, fn func(elem []byte) error) error {
	d := Decoder{data: data}
	err := d.ReadArray(func() error {
		v, err := d.ReadRaw()
		if err != nil {
			return err
		}
		return fn(v)
	})
	return d.finish(err)
}

// finish ends a document read with err: a syntax error anywhere in the
// document wins over the value being of the wrong kind.
func (d *Decoder) finish(err error) error {
	if end := d.End(); end != nil {
		return end
	}
	return err
}

// Strings decodes a JSON array of strings.
func Strings(data []byte) ([]string, bool) {
	d := Decoder{data: data}
	ss, err := d.ReadStrings()
	return ss, err == nil && d.End() == nil
}

// ReadStrings reads an array of strings; an empty array is not nil.
func (d *Decoder) ReadStrings() ([]string, error) {
	ss := []string{}
	err := d.ReadArray(func() error {
		s, err := d.ReadString()
		ss = append(ss, s)
		return err
	})
	if err != nil {
		return nil, err
	}
	return ss, nil
}

// Valid reports whether data is exactly one valid JSON value (with
// optional surrounding white space).
func Valid(data []byte) bool {
	d := Decoder{data: data}
	_, err := d.ReadRaw()
	return err == nil && d.End() == nil
}

// String returns the value of a raw JSON string (with its quotes), and
// false if raw is not exactly one valid JSON string.
func String(raw []byte) (string, bool) {
	d := Decoder{data: raw}
	s, err := d.ReadString()
	if err != nil || d.i != len(raw) {
		return "", false
	}
	return s, true
}

// IsNull reports whether raw is the JSON literal null.
func IsNull(raw []byte) bool { return string(raw) == "null" }
