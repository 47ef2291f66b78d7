package registrar

import (
	"encoding/json"
	"iter"
	"strconv"
	"unsafe"

	"github.com/registrar-dev/registrar/sdk/go/internal/jsontext"
)

// Object is a JSON object, such as client metadata, with its member values
// kept as raw JSON in document order. The typed accessors read a value on
// demand and the setters write one; Get, Set and Delete work on raw values.
// The zero value is an empty object.
//
// Policy metadata is not yet validated: any member may have the wrong
// type. The accessors never panic on that. They return a *Rejection with
// code invalid_client_metadata, so that a hook can return their error as
// it is, and they treat a member whose value is null as absent, as
// Registrar does. The read methods also work on a nil *Object, which has
// no members.
//
// Object is a slice rather than a map because building a map costs a Go
// module more than all the rest of a call (sdk/go/README.md, "Cost").
type Object struct {
	members []member
}

type member struct {
	name string
	// quoted is the name as written in the input, quotes included, when it
	// can be written out again as it is; else nil.
	quoted []byte
	value  json.RawMessage
}

// ParseObject parses a JSON object. The result aliases data.
func ParseObject(data []byte) (*Object, error) {
	d := jsontext.NewDecoder(data)
	if d.Peek() != '{' {
		if _, err := d.ReadRaw(); err != nil {
			return nil, err
		}
		return nil, jsontext.ErrNotObject
	}
	o, err := readObject(d)
	if err == nil {
		err = d.End()
	}
	if err != nil {
		return nil, err
	}
	return o, nil
}

// readObject reads an object member by member. Names alias the document.
func readObject(d *jsontext.Decoder) (*Object, error) {
	o := &Object{members: make([]member, 0, 32)}
	err := d.ReadMembers(func(name, quoted []byte) error {
		v, err := d.ReadRaw()
		o.members = append(o.members, member{name: unsafe.String(unsafe.SliceData(name), len(name)), quoted: quoted, value: v})
		return err
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// Len returns the number of members.
func (o *Object) Len() int {
	if o == nil {
		return 0
	}
	return len(o.members)
}

// All returns the members in order, as raw values.
func (o *Object) All() iter.Seq2[string, json.RawMessage] {
	return func(yield func(string, json.RawMessage) bool) {
		if o == nil {
			return
		}
		for _, m := range o.members {
			if !yield(m.name, m.value) {
				return
			}
		}
	}
}

func (o *Object) index(name string) int {
	if o == nil {
		return -1
	}
	for i := range o.members {
		if o.members[i].name == name {
			return i
		}
	}
	return -1
}

// Get returns a member's raw value, and whether it is present (null
// included).
func (o *Object) Get(name string) (json.RawMessage, bool) {
	if i := o.index(name); i >= 0 {
		return o.members[i].value, true
	}
	return nil, false
}

// Has reports whether the member is present and not null.
func (o *Object) Has(name string) bool {
	_, ok := o.get(name)
	return ok
}

// Set sets a member to a raw JSON value, in its place if it is present,
// else at the end. It panics if value is not valid JSON.
func (o *Object) Set(name string, value json.RawMessage) {
	if !jsontext.Valid(value) {
		panic("registrar: Object.Set(" + strconv.Quote(name) + "): the value is not valid JSON")
	}
	o.set(name, value)
}

func (o *Object) set(name string, value []byte) {
	if i := o.index(name); i >= 0 {
		o.members[i].value = value
		return
	}
	o.members = append(o.members, member{name: name, value: value})
}

// Delete removes a member, if present.
func (o *Object) Delete(name string) {
	if i := o.index(name); i >= 0 {
		o.members = append(o.members[:i], o.members[i+1:]...)
	}
}

// String returns a string member, or "" if it is absent.
func (o *Object) String(name string) (string, error) {
	v, ok := o.get(name)
	if !ok {
		return "", nil
	}
	s, ok := jsontext.String(v)
	if !ok {
		return "", typeError(name, "a string")
	}
	return s, nil
}

// StringSlice returns an array-of-strings member, or nil if it is absent.
func (o *Object) StringSlice(name string) ([]string, error) {
	v, ok := o.get(name)
	if !ok {
		return nil, nil
	}
	ss, ok := jsontext.Strings(v)
	if !ok {
		return nil, typeError(name, "an array of strings")
	}
	return ss, nil
}

// Bool returns a boolean member, or false if it is absent.
func (o *Object) Bool(name string) (bool, error) {
	v, ok := o.get(name)
	if !ok {
		return false, nil
	}
	switch string(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, typeError(name, "true or false")
}

// Int64 returns an integer member written without fraction or exponent,
// or 0 if it is absent.
func (o *Object) Int64(name string) (int64, error) {
	v, ok := o.get(name)
	if !ok {
		return 0, nil
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, typeError(name, "an integer")
	}
	return n, nil
}

// Object returns an object member, or nil if it is absent.
func (o *Object) Object(name string) (*Object, error) {
	v, ok := o.get(name)
	if !ok {
		return nil, nil
	}
	obj, err := ParseObject(v)
	if err != nil {
		return nil, typeError(name, "an object")
	}
	return obj, nil
}

// SetString sets a member to a string.
func (o *Object) SetString(name, value string) {
	o.set(name, jsontext.AppendString(nil, value))
}

// SetStringSlice sets a member to an array of strings (nil is []).
func (o *Object) SetStringSlice(name string, value []string) {
	o.set(name, jsontext.AppendStrings(nil, value))
}

// SetBool sets a member to true or false.
func (o *Object) SetBool(name string, value bool) {
	o.set(name, strconv.AppendBool(nil, value))
}

// SetInt64 sets a member to an integer.
func (o *Object) SetInt64(name string, value int64) {
	o.set(name, strconv.AppendInt(nil, value, 10))
}

// AppendJSON appends the object to b as JSON, members in order.
func (o *Object) AppendJSON(b []byte) []byte {
	b = append(b, '{')
	if o != nil {
		for i, m := range o.members {
			if i > 0 {
				b = append(b, ',')
			}
			if m.quoted != nil {
				b = append(b, m.quoted...)
			} else {
				b = jsontext.AppendString(b, m.name)
			}
			b = append(b, ':')
			b = append(b, m.value...)
		}
	}
	return append(b, '}')
}

// MarshalJSON implements json.Marshaler.
func (o *Object) MarshalJSON() ([]byte, error) { return o.AppendJSON(nil), nil }

// UnmarshalJSON implements json.Unmarshaler.
func (o *Object) UnmarshalJSON(data []byte) error {
	p, err := ParseObject(append([]byte(nil), data...))
	if err != nil {
		return err
	}
	*o = *p
	return nil
}

// get returns a member's value unless it is absent or null.
func (o *Object) get(name string) (json.RawMessage, bool) {
	v, ok := o.Get(name)
	if !ok || jsontext.IsNull(v) {
		return nil, false
	}
	return v, true
}

func typeError(name, want string) error {
	return Reject(InvalidClientMetadata, name+" must be "+want)
}
