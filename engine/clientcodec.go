package engine

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// The storage form of a Client without reflection. A store reads a client
// on every RFC 7592 read and token request and writes one on every
// registration; encoding/json spends most of that time finding fields by
// reflection. appendClient writes exactly the bytes json.Marshal writes for
// a storedClient, and decodeClientFast reads them in one pass. Both leave
// anything unusual to encoding/json (marshalStored, unmarshalStored, the
// reference implementation), so the result is always what encoding/json
// gives: appendClient reports false for a time encoding/json refuses or a
// raw value that is not valid JSON; decodeClientFast for an unknown,
// duplicate or differently spelled member, a null where the encoder never
// writes one, a type mismatch, nesting deeper than maxRawDepth, or bytes
// that are not JSON. clientcodec_test.go proves the agreement.

// codecMember is one member of a JSON object that the codec reads and writes
// as a field of a T.
type codecMember[T any] struct {
	name string
	// enc appends `,"name":value`, or nothing when the field's omitempty
	// or omitzero omits it; false when encoding/json must write it.
	enc func(b []byte, v *T) ([]byte, bool)
	// dec reads the value at the decoder's position into the field.
	dec func(d *decoder, v *T) bool
}

// codecObject is the members of an object in the order encoding/json writes
// them, with an index by name.
type codecObject[T any] struct {
	members []codecMember[T]
	index   map[string]int
}

func newObject[T any](members ...codecMember[T]) codecObject[T] {
	if len(members) > 64 {
		panic("engine: an object of the client codec has more than 64 members")
	}
	o := codecObject[T]{members: members, index: make(map[string]int, len(members))}
	for i, m := range members {
		o.index[m.name] = i
	}
	return o
}

// memberKey is the `,"name":` that precedes a member.
func memberKey(name string) string { return `,"` + name + `":` }

func strMember[T any](name string, omitEmpty bool, f func(*T) *string) codecMember[T] {
	k := memberKey(name)
	return codecMember[T]{
		name: name,
		enc: func(b []byte, v *T) ([]byte, bool) {
			s := *f(v)
			if omitEmpty && s == "" {
				return b, true
			}
			return AppendJSONString(append(b, k...), s), true
		},
		dec: func(d *decoder, v *T) bool { return d.str(f(v)) },
	}
}

func strsMember[T any](name string, omitEmpty bool, f func(*T) *[]string) codecMember[T] {
	k := memberKey(name)
	return codecMember[T]{
		name: name,
		enc: func(b []byte, v *T) ([]byte, bool) {
			l := *f(v)
			if omitEmpty && len(l) == 0 {
				return b, true
			}
			return AppendJSONStrings(append(b, k...), l), true
		},
		dec: func(d *decoder, v *T) bool { return d.strs(f(v)) },
	}
}

func timeMember[T any](name string, omitZero bool, f func(*T) *time.Time) codecMember[T] {
	k := memberKey(name)
	return codecMember[T]{
		name: name,
		enc: func(b []byte, v *T) ([]byte, bool) {
			t := *f(v)
			if omitZero && t.IsZero() {
				return b, true
			}
			return appendTime(append(b, k...), t)
		},
		dec: func(d *decoder, v *T) bool { return d.timestamp(f(v)) },
	}
}

func boolMember[T any](name string, f func(*T) *bool) codecMember[T] {
	k := memberKey(name)
	return codecMember[T]{
		name: name,
		enc: func(b []byte, v *T) ([]byte, bool) {
			if !*f(v) {
				return b, true
			}
			return append(append(b, k...), "true"...), true
		},
		dec: func(d *decoder, v *T) bool { return d.boolean(f(v)) },
	}
}

func int64PtrMember[T any](name string, f func(*T) **int64) codecMember[T] {
	k := memberKey(name)
	return codecMember[T]{
		name: name,
		enc: func(b []byte, v *T) ([]byte, bool) {
			p := *f(v)
			if p == nil {
				return b, true
			}
			return strconv.AppendInt(append(b, k...), *p, 10), true
		},
		dec: func(d *decoder, v *T) bool { return d.int64Ptr(f(v)) },
	}
}

func rawMember[T any](name string, f func(*T) *json.RawMessage) codecMember[T] {
	k := memberKey(name)
	return codecMember[T]{
		name: name,
		enc: func(b []byte, v *T) ([]byte, bool) {
			r := *f(v)
			if len(r) == 0 {
				return b, true
			}
			return appendRaw(append(b, k...), r)
		},
		dec: func(d *decoder, v *T) bool { return d.raw(f(v)) },
	}
}

// sliceMember is a member whose value is an array of objects.
func sliceMember[T, E any](name string, omitEmpty bool, o *codecObject[E], f func(*T) *[]E) codecMember[T] {
	k := memberKey(name)
	return codecMember[T]{
		name: name,
		enc: func(b []byte, v *T) ([]byte, bool) {
			l := *f(v)
			if omitEmpty && len(l) == 0 {
				return b, true
			}
			b = append(b, k...)
			if l == nil {
				return append(b, "null"...), true
			}
			b = append(b, '[')
			for i := range l {
				if i > 0 {
					b = append(b, ',')
				}
				var ok bool
				if b, ok = o.append(b, &l[i]); !ok {
					return b, false
				}
			}
			return append(b, ']'), true
		},
		dec: func(d *decoder, v *T) bool { return decodeSlice(d, o, f(v)) },
	}
}

// objectMember is a member whose value is an object; omitZero omits it
// when all its members are zero (E must be comparable for that).
func objectMember[T any, E comparable](name string, omitZero bool, o *codecObject[E], f func(*T) *E) codecMember[T] {
	k := memberKey(name)
	return codecMember[T]{
		name: name,
		enc: func(b []byte, v *T) ([]byte, bool) {
			e := f(v)
			var zero E
			if omitZero && *e == zero {
				return b, true
			}
			return o.append(append(b, k...), e)
		},
		dec: func(d *decoder, v *T) bool { return o.decode(d, f(v)) },
	}
}

// append writes v as an object: each member writes a leading comma, and
// the first one becomes the opening brace.
func (o *codecObject[T]) append(b []byte, v *T) ([]byte, bool) {
	start := len(b)
	for i := range o.members {
		var ok bool
		if b, ok = o.members[i].enc(b, v); !ok {
			return b, false
		}
	}
	if len(b) == start {
		return append(b, "{}"...), true
	}
	b[start] = '{'
	return append(b, '}'), true
}

// decode reads an object into v, which must be zero.
func (o *codecObject[T]) decode(d *decoder, v *T) bool {
	if !d.consume('{') {
		return false
	}
	d.ws()
	if d.consume('}') {
		return true
	}
	var seen uint64
	next := 0
	for {
		name, ok := d.name()
		if !ok {
			return false
		}
		// Members come in the order the encoder writes them.
		j := next
		if j >= len(o.members) || o.members[j].name != name {
			if j, ok = o.index[name]; !ok {
				return false
			}
		}
		if seen&(1<<j) != 0 {
			return false
		}
		seen |= 1 << j
		next = j + 1
		if d.ws(); !d.consume(':') {
			return false
		}
		if d.ws(); !o.members[j].dec(d, v) {
			return false
		}
		if d.ws(); d.consume(',') {
			d.ws()
			continue
		}
		return d.consume('}')
	}
}

// decodeSlice reads an array of objects, or null, into *p.
func decodeSlice[E any](d *decoder, o *codecObject[E], p *[]E) bool {
	if d.literal("null") {
		*p = nil
		return true
	}
	if !d.consume('[') {
		return false
	}
	l := []E{}
	d.ws()
	if !d.consume(']') {
		for {
			var zero E
			l = append(l, zero)
			if !o.decode(d, &l[len(l)-1]) {
				return false
			}
			if d.ws(); d.consume(',') {
				d.ws()
				continue
			}
			if !d.consume(']') {
				return false
			}
			break
		}
	}
	*p = l
	return true
}

var (
	policyVersionObject = newObject(
		strMember("name", false, func(v *PolicyVersion) *string { return &v.Name }),
		strMember("digest", false, func(v *PolicyVersion) *string { return &v.Digest }),
	)
	hookVersionObject = newObject(
		strMember("hook", false, func(v *HookVersion) *string { return (*string)(&v.Hook) }),
		strMember("name", false, func(v *HookVersion) *string { return &v.Name }),
		strMember("digest", false, func(v *HookVersion) *string { return &v.Digest }),
	)
	statementProvenanceObject = newObject(
		strMember("issuer", false, func(v *StatementProvenance) *string { return &v.Issuer }),
		strMember("kid", true, func(v *StatementProvenance) *string { return &v.KeyID }),
		strMember("jti", true, func(v *StatementProvenance) *string { return &v.JTI }),
		strMember("software_id", true, func(v *StatementProvenance) *string { return &v.SoftwareID }),
	)
	provenanceObject = newObject(
		strMember("event", false, func(v *Provenance) *string { return &v.Event }),
		timeMember("at", false, func(v *Provenance) *time.Time { return &v.At }),
		strMember("token", true, func(v *Provenance) *string { return &v.Token }),
		sliceMember("policies", false, &policyVersionObject, func(v *Provenance) *[]PolicyVersion { return &v.Policies }),
		sliceMember("hooks", true, &hookVersionObject, func(v *Provenance) *[]HookVersion { return &v.Hooks }),
		objectMember("software_statement", true, &statementProvenanceObject, func(v *Provenance) *StatementProvenance { return &v.SoftwareStatement }),
	)
)

// metadataObject is metadataAlias: Metadata's fields in order, without
// Localized and Extra.
var metadataObject = newObject(
	strsMember("redirect_uris", false, func(m *Metadata) *[]string { return &m.RedirectURIs }),
	strMember("token_endpoint_auth_method", false, func(m *Metadata) *string { return &m.TokenEndpointAuthMethod }),
	strMember("token_endpoint_auth_signing_alg", true, func(m *Metadata) *string { return &m.TokenEndpointAuthSigningAlg }),
	strsMember("grant_types", false, func(m *Metadata) *[]string { return &m.GrantTypes }),
	strsMember("response_types", false, func(m *Metadata) *[]string { return &m.ResponseTypes }),
	strMember("application_type", false, func(m *Metadata) *string { return &m.ApplicationType }),
	strMember("client_name", true, func(m *Metadata) *string { return &m.ClientName }),
	strMember("client_uri", true, func(m *Metadata) *string { return &m.ClientURI }),
	strMember("logo_uri", true, func(m *Metadata) *string { return &m.LogoURI }),
	strMember("policy_uri", true, func(m *Metadata) *string { return &m.PolicyURI }),
	strMember("tos_uri", true, func(m *Metadata) *string { return &m.TOSURI }),
	strMember("scope", true, func(m *Metadata) *string { return &m.Scope }),
	strsMember("contacts", true, func(m *Metadata) *[]string { return &m.Contacts }),
	strMember("jwks_uri", true, func(m *Metadata) *string { return &m.JWKSURI }),
	rawMember("jwks", func(m *Metadata) *json.RawMessage { return &m.JWKS }),
	strMember("software_id", true, func(m *Metadata) *string { return &m.SoftwareID }),
	strMember("software_version", true, func(m *Metadata) *string { return &m.SoftwareVersion }),
	strMember("software_statement", true, func(m *Metadata) *string { return &m.SoftwareStatement }),
	strMember("subject_type", true, func(m *Metadata) *string { return &m.SubjectType }),
	strMember("sector_identifier_uri", true, func(m *Metadata) *string { return &m.SectorIdentifierURI }),
	strMember("id_token_signed_response_alg", true, func(m *Metadata) *string { return &m.IDTokenSignedResponseAlg }),
	strMember("userinfo_signed_response_alg", true, func(m *Metadata) *string { return &m.UserinfoSignedResponseAlg }),
	strMember("request_object_signing_alg", true, func(m *Metadata) *string { return &m.RequestObjectSigningAlg }),
	int64PtrMember("default_max_age", func(m *Metadata) **int64 { return &m.DefaultMaxAge }),
	boolMember("require_auth_time", func(m *Metadata) *bool { return &m.RequireAuthTime }),
	strsMember("default_acr_values", true, func(m *Metadata) *[]string { return &m.DefaultACRValues }),
	strMember("initiate_login_uri", true, func(m *Metadata) *string { return &m.InitiateLoginURI }),
	strsMember("request_uris", true, func(m *Metadata) *[]string { return &m.RequestURIs }),
	strsMember("post_logout_redirect_uris", true, func(m *Metadata) *[]string { return &m.PostLogoutRedirectURIs }),
	strMember("tls_client_auth_subject_dn", true, func(m *Metadata) *string { return &m.TLSClientAuthSubjectDN }),
	strMember("tls_client_auth_san_dns", true, func(m *Metadata) *string { return &m.TLSClientAuthSANDNS }),
	strMember("tls_client_auth_san_uri", true, func(m *Metadata) *string { return &m.TLSClientAuthSANURI }),
	strMember("tls_client_auth_san_ip", true, func(m *Metadata) *string { return &m.TLSClientAuthSANIP }),
	strMember("tls_client_auth_san_email", true, func(m *Metadata) *string { return &m.TLSClientAuthSANEmail }),
	boolMember("tls_client_certificate_bound_access_tokens", func(m *Metadata) *bool { return &m.TLSClientCertificateBoundAccessTokens }),
)

// storedClientObject is storedClient: Client's fields in order but
// Metadata, then the metadata's standard members as an object, its
// language-tagged members and its extra members.
var storedClientObject = newObject(
	strMember("tenant", false, func(c *Client) *string { return &c.Tenant }),
	strMember("client_id", false, func(c *Client) *string { return &c.ID }),
	timeMember("issued_at", false, func(c *Client) *time.Time { return &c.IssuedAt }),
	timeMember("updated_at", false, func(c *Client) *time.Time { return &c.UpdatedAt }),
	timeMember("expires_at", true, func(c *Client) *time.Time { return &c.ExpiresAt }),
	strMember("secret_hash", true, func(c *Client) *string { return &c.SecretHash }),
	strMember("secret_sealed", true, func(c *Client) *string { return &c.SecretSealed }),
	strMember("registration_token_hash", true, func(c *Client) *string { return &c.RegistrationTokenHash }),
	strsMember("registration_policies", true, func(c *Client) *[]string { return &c.RegistrationPolicies }),
	strMember("issued_by", true, func(c *Client) *string { return &c.IssuedBy }),
	sliceMember("history", true, &provenanceObject, func(c *Client) *[]Provenance { return &c.History }),
	codecMember[Client]{
		name: "metadata",
		enc: func(b []byte, c *Client) ([]byte, bool) {
			return metadataObject.append(append(b, `,"metadata":`...), &c.Metadata)
		},
		dec: func(d *decoder, c *Client) bool { return metadataObject.decode(d, &c.Metadata) },
	},
	codecMember[Client]{
		name: "metadata_localized",
		enc: func(b []byte, c *Client) ([]byte, bool) {
			if len(c.Metadata.Localized) == 0 {
				return b, true
			}
			return appendStringMap(append(b, `,"metadata_localized":`...), c.Metadata.Localized), true
		},
		dec: func(d *decoder, c *Client) bool { return d.strMap(&c.Metadata.Localized) },
	},
	codecMember[Client]{
		name: "metadata_extra",
		enc: func(b []byte, c *Client) ([]byte, bool) {
			if len(c.Metadata.Extra) == 0 {
				return b, true
			}
			return appendRawMap(append(b, `,"metadata_extra":`...), c.Metadata.Extra)
		},
		dec: func(d *decoder, c *Client) bool { return d.rawMap(&c.Metadata.Extra) },
	},
)

// appendClient appends the storage form of c, byte for byte what
// json.Marshal writes for its storedClient; false when encoding/json must
// write it (it will fail: a time outside RFC 3339's range, a raw value
// that is not JSON).
func appendClient(b []byte, c *Client) ([]byte, bool) {
	return storedClientObject.append(b, c)
}

// appendMetadataFlat appends the flat metadata object, byte for byte what
// marshalFlat writes: metadataAlias with empty arrays for nil
// redirect_uris, grant_types and response_types, then the language-tagged
// and the extra members, each in name order; false when encoding/json
// must write it (it will fail).
func appendMetadataFlat(b []byte, m *Metadata) ([]byte, bool) {
	a := m
	if m.RedirectURIs == nil || m.GrantTypes == nil || m.ResponseTypes == nil {
		c := *m // a copy only when there is something to fill in
		for _, l := range []*[]string{&c.RedirectURIs, &c.GrantTypes, &c.ResponseTypes} {
			if *l == nil {
				*l = []string{}
			}
		}
		a = &c
	}
	b, ok := metadataObject.append(b, a)
	if !ok || len(m.Localized) == 0 && len(m.Extra) == 0 {
		return b, ok
	}
	b = b[:len(b)-1]
	for _, k := range slices.Sorted(maps.Keys(m.Localized)) {
		b = append(AppendJSONString(append(b, ','), k), ':')
		b = AppendJSONString(b, m.Localized[k])
	}
	for _, k := range slices.Sorted(maps.Keys(m.Extra)) {
		b = append(AppendJSONString(append(b, ','), k), ':')
		if b, ok = appendRaw(b, m.Extra[k]); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

// appendInformation appends the client information response, byte for
// byte what marshalInformation writes; false when encoding/json must write
// it (it will fail).
func appendInformation(b []byte, ci *ClientInformation) ([]byte, bool) {
	c := ci.Client
	b = AppendJSONString(append(b, `{"client_id":`...), c.ID)
	b = strconv.AppendInt(append(b, `,"client_id_issued_at":`...), c.IssuedAt.Unix(), 10)
	if ci.Secret != "" {
		b = AppendJSONString(append(b, `,"client_secret":`...), ci.Secret)
	}
	if c.SecretHash != "" {
		b = strconv.AppendInt(append(b, `,"client_secret_expires_at":`...), c.secretExpiresAt(), 10)
	}
	if ci.RegistrationAccessToken != "" {
		b = AppendJSONString(append(b, `,"registration_access_token":`...), ci.RegistrationAccessToken)
		if ci.RegistrationClientURI != "" {
			b = AppendJSONString(append(b, `,"registration_client_uri":`...), ci.RegistrationClientURI)
		}
	}
	n := len(b)
	b, ok := appendMetadataFlat(b, &c.Metadata)
	if !ok {
		return b, false
	}
	b[n] = ',' // the metadata's opening brace
	return b, true
}

// encodedSizeHint is about the length of c's storage form, so that one
// allocation usually holds it.
func encodedSizeHint(c *Client) int {
	m := &c.Metadata
	n := 640 + 2*len(m.JWKS) + len(m.SoftwareStatement) + 256*len(c.History)
	for _, l := range [][]string{m.RedirectURIs, m.Contacts, m.RequestURIs, m.PostLogoutRedirectURIs} {
		for _, s := range l {
			n += len(s) + 3
		}
	}
	for k, v := range m.Extra {
		n += len(k) + len(v) + 4
	}
	return n
}

// decodeClientFast reads a storage form into c, which must be zero; false
// when encoding/json must read it (see the comment at the top).
func decodeClientFast(data []byte, c *Client) bool {
	// One copy of the record, which every string of the client shares.
	d := decoder{data: data, s: string(data)}
	d.ws()
	if !storedClientObject.decode(&d, c) {
		return false
	}
	d.ws()
	return d.i == len(d.s)
}

// ---- encoding ----

// htmlSafe reports the ASCII bytes that encoding/json writes as they are
// in a string (its htmlSafeSet): all printable ones but ", \, <, > and &.
var htmlSafe = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string exactly as encoding/json
// writes it with HTML escaping (its appendString): control characters,
// ", \, <, > and & escaped, invalid UTF-8 as \ufffd, U+2028 and U+2029
// escaped.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if htmlSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			b = appendEscapedByte(b, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(append(b, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendEscapedByte appends the escape encoding/json writes for an ASCII
// byte it does not write as it is.
func appendEscapedByte(b []byte, c byte) []byte {
	switch c {
	case '\\', '"':
		return append(b, '\\', c)
	case '\b':
		return append(b, '\\', 'b')
	case '\f':
		return append(b, '\\', 'f')
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}

// AppendJSONStrings appends a []string as encoding/json does: null for nil.
func AppendJSONStrings(b []byte, l []string) []byte {
	if l == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendJSONString(b, s)
	}
	return append(b, ']')
}

// appendTime appends t as time.Time's MarshalJSON writes it; false for a
// time it refuses.
func appendTime(b []byte, t time.Time) ([]byte, bool) {
	out, err := t.AppendText(append(b, '"'))
	if err != nil {
		return b, false
	}
	return append(out, '"'), true
}

// appendRaw appends a json.RawMessage as json.Marshal writes it: null for
// nil, else compacted with <, >, &, U+2028 and U+2029 escaped; false when
// it is not valid JSON.
func appendRaw(b []byte, r json.RawMessage) ([]byte, bool) {
	if r == nil {
		return append(b, "null"...), true
	}
	n := len(b)
	buf := bytes.NewBuffer(b)
	if err := json.Compact(buf, r); err != nil {
		return b[:n], false
	}
	b = buf.Bytes()
	if !needsHTMLEscape(b[n:]) {
		return b, true
	}
	var esc bytes.Buffer
	json.HTMLEscape(&esc, b[n:])
	return append(b[:n], esc.Bytes()...), true
}

// needsHTMLEscape reports whether json.HTMLEscape would change b.
func needsHTMLEscape(b []byte) bool {
	for i, c := range b {
		if c == '<' || c == '>' || c == '&' ||
			c == 0xE2 && i+2 < len(b) && b[i+1] == 0x80 && b[i+2]&^1 == 0xA8 {
			return true
		}
	}
	return false
}

// appendStringMap appends a map[string]string in key order, as
// encoding/json does.
func appendStringMap(b []byte, m map[string]string) []byte {
	b = append(b, '{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(AppendJSONString(b, k), ':')
		b = AppendJSONString(b, m[k])
	}
	return append(b, '}')
}

// appendRawMap appends a map[string]json.RawMessage in key order, as
// encoding/json does.
func appendRawMap(b []byte, m map[string]json.RawMessage) ([]byte, bool) {
	b = append(b, '{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(AppendJSONString(b, k), ':')
		var ok bool
		if b, ok = appendRaw(b, m[k]); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

// ---- decoding ----

// decoder reads a record: data is the input, s the one string copy of it
// that decoded strings share, i the position.
type decoder struct {
	data []byte
	s    string
	i    int
}

// maxRawDepth bounds the nesting of a raw value (jwks, an extra member)
// that the decoder reads; a deeper one is left to encoding/json.
const maxRawDepth = 100

func (d *decoder) ws() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// consume skips c if it is next.
func (d *decoder) consume(c byte) bool {
	if d.i < len(d.s) && d.s[d.i] == c {
		d.i++
		return true
	}
	return false
}

// literal skips lit if it is next.
func (d *decoder) literal(lit string) bool {
	if len(d.s)-d.i >= len(lit) && d.s[d.i:d.i+len(lit)] == lit {
		d.i += len(lit)
		return true
	}
	return false
}

// name reads a member name that needs no unescaping.
func (d *decoder) name() (string, bool) {
	if !d.consume('"') {
		return "", false
	}
	start := d.i
	for d.i < len(d.s) {
		c := d.s[d.i]
		if c == '"' {
			d.i++
			return d.s[start : d.i-1], true
		}
		if c == '\\' || c < ' ' || c >= utf8.RuneSelf {
			return "", false
		}
		d.i++
	}
	return "", false
}

// str reads a string into *p.
func (d *decoder) str(p *string) bool {
	v, ok := d.string()
	*p = v
	return ok
}

// string reads a string: a slice of the record when it needs no
// unescaping, else what encoding/json makes of it.
func (d *decoder) string() (string, bool) {
	if d.i >= len(d.s) || d.s[d.i] != '"' {
		return "", false
	}
	for i := d.i + 1; i < len(d.s); {
		c := d.s[i]
		switch {
		case c == '"':
			v := d.s[d.i+1 : i]
			d.i = i + 1
			return v, true
		case c == '\\':
			return d.slowString()
		case c < ' ':
			return "", false
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRuneInString(d.s[i:])
			if r == utf8.RuneError && size == 1 {
				return d.slowString()
			}
			i += size
		}
	}
	return "", false
}

// slowString reads a string with escapes or invalid UTF-8 with
// encoding/json.
func (d *decoder) slowString() (string, bool) {
	start := d.i
	if !d.skipString() {
		return "", false
	}
	var v string
	err := json.Unmarshal(d.data[start:d.i], &v)
	return v, err == nil
}

// strs reads an array of strings, or null, into *p.
func (d *decoder) strs(p *[]string) bool {
	if d.literal("null") {
		*p = nil
		return true
	}
	if !d.consume('[') {
		return false
	}
	var buf [8]string
	l := buf[:0]
	d.ws()
	if !d.consume(']') {
		for {
			s, ok := d.string()
			if !ok {
				return false
			}
			l = append(l, s)
			if d.ws(); d.consume(',') {
				d.ws()
				continue
			}
			if !d.consume(']') {
				return false
			}
			break
		}
	}
	if len(l) == 0 {
		*p = []string{}
	} else {
		*p = append([]string(nil), l...)
	}
	return true
}

// timestamp reads a time as time.Time's UnmarshalJSON does (null leaves it
// zero).
func (d *decoder) timestamp(p *time.Time) bool {
	if d.literal("null") {
		return true
	}
	start := d.i
	if !d.skipString() {
		return false
	}
	return p.UnmarshalJSON(d.data[start:d.i]) == nil
}

func (d *decoder) boolean(p *bool) bool {
	switch {
	case d.literal("true"):
		*p = true
	case d.literal("false"):
		*p = false
	default:
		return false
	}
	return true
}

// int64Ptr reads an integer (null: nil) as encoding/json reads it into an
// *int64; a fraction or exponent is left to encoding/json.
func (d *decoder) int64Ptr(p **int64) bool {
	if d.literal("null") {
		*p = nil
		return true
	}
	start := d.i
	if !d.skipNumber() {
		return false
	}
	n, err := strconv.ParseInt(d.s[start:d.i], 10, 64)
	if err != nil {
		return false
	}
	*p = &n
	return true
}

// raw reads any JSON value into a json.RawMessage, a copy of its bytes
// (null too, as json.RawMessage's UnmarshalJSON keeps it).
func (d *decoder) raw(p *json.RawMessage) bool {
	start := d.i
	if !d.skipValue(0) {
		return false
	}
	*p = json.RawMessage(d.s[start:d.i])
	return true
}

// strMap reads an object of strings into a new map.
func (d *decoder) strMap(p *map[string]string) bool {
	m := map[string]string{}
	ok := d.eachMember(func(k string) bool {
		v, ok := d.string()
		m[k] = v
		return ok
	})
	*p = m
	return ok
}

// rawMap reads an object of JSON values into a new map.
func (d *decoder) rawMap(p *map[string]json.RawMessage) bool {
	m := map[string]json.RawMessage{}
	ok := d.eachMember(func(k string) bool {
		var v json.RawMessage
		if !d.raw(&v) {
			return false
		}
		m[k] = v
		return true
	})
	*p = m
	return ok
}

// eachMember reads an object whose member names are map keys, calling
// value at each member's value.
func (d *decoder) eachMember(value func(k string) bool) bool {
	if !d.consume('{') {
		return false
	}
	d.ws()
	if d.consume('}') {
		return true
	}
	for {
		k, ok := d.string()
		if !ok {
			return false
		}
		if d.ws(); !d.consume(':') {
			return false
		}
		if d.ws(); !value(k) {
			return false
		}
		if d.ws(); d.consume(',') {
			d.ws()
			continue
		}
		return d.consume('}')
	}
}

// skipValue skips a JSON value exactly as strictly as encoding/json's
// scanner checks it.
func (d *decoder) skipValue(depth int) bool {
	if d.i >= len(d.s) {
		return false
	}
	switch c := d.s[d.i]; {
	case c == '"':
		return d.skipString()
	case c == '{' || c == '[':
		return depth < maxRawDepth && d.skipComposite(depth+1)
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	}
	return d.skipNumber()
}

// skipComposite skips an object or array.
func (d *decoder) skipComposite(depth int) bool {
	isObject := d.s[d.i] == '{'
	closer := byte(']')
	if isObject {
		closer = '}'
	}
	d.i++
	d.ws()
	if d.consume(closer) {
		return true
	}
	for {
		if isObject {
			if !d.skipString() {
				return false
			}
			if d.ws(); !d.consume(':') {
				return false
			}
			d.ws()
		}
		if !d.skipValue(depth) {
			return false
		}
		if d.ws(); d.consume(',') {
			d.ws()
			continue
		}
		return d.consume(closer)
	}
}

// skipString skips a string, checking its escapes; like encoding/json's
// scanner, it accepts any byte from 0x20 up, invalid UTF-8 too.
func (d *decoder) skipString() bool {
	if !d.consume('"') {
		return false
	}
	for d.i < len(d.s) {
		c := d.s[d.i]
		d.i++
		switch {
		case c == '"':
			return true
		case c < ' ':
			return false
		case c == '\\':
			if !d.skipEscape() {
				return false
			}
		}
	}
	return false
}

// skipEscape skips what follows a backslash in a string.
func (d *decoder) skipEscape() bool {
	if d.i >= len(d.s) {
		return false
	}
	c := d.s[d.i]
	d.i++
	switch c {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return true
	case 'u':
		for range 4 {
			if d.i >= len(d.s) || !isHex(d.s[d.i]) {
				return false
			}
			d.i++
		}
		return true
	}
	return false
}

// skipNumber skips a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *decoder) skipNumber() bool {
	d.consume('-')
	switch {
	case d.consume('0'):
	case d.i < len(d.s) && '1' <= d.s[d.i] && d.s[d.i] <= '9':
		d.digits()
	default:
		return false
	}
	if d.consume('.') && d.digits() == 0 {
		return false
	}
	if d.consume('e') || d.consume('E') {
		if !d.consume('+') {
			d.consume('-')
		}
		if d.digits() == 0 {
			return false
		}
	}
	return true
}

// digits skips digits and reports how many.
func (d *decoder) digits() int {
	start := d.i
	for d.i < len(d.s) && '0' <= d.s[d.i] && d.s[d.i] <= '9' {
		d.i++
	}
	return d.i - start
}
