package engine

import (
	"bytes"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// DN is a distinguished name (X.501), as tls_client_auth_subject_dn
// names a certificate's subject (RFC 8705 §2.1.2). The zero DN is empty.
type DN struct {
	// rdns are the RDNs in ASN.1 order (the most significant, e.g. C or
	// DC, first), each a set of attributes.
	rdns [][]dnAttr
}

// dnAttr is one attribute type and value of a DN. A value has its string
// form when it is a string (str, isStr) and its DER encoding when known
// (raw: always for a certificate's, for a registered value only in the
// #hex form of RFC 4514 §2.4).
type dnAttr struct {
	oid   asn1.ObjectIdentifier
	str   string
	isStr bool
	raw   []byte
}

// Limits on a registered DN, far above any real subject.
const (
	maxDNBytes = 4096
	maxDNAttrs = 64
)

// dnTypes are the attribute type names a registered DN may use (RFC 4514
// §3, RFC 4519, and the ones certificates commonly carry), upper case.
var dnTypes = map[string]asn1.ObjectIdentifier{
	"CN":                     {2, 5, 4, 3},
	"SN":                     {2, 5, 4, 4},
	"SERIALNUMBER":           {2, 5, 4, 5},
	"C":                      {2, 5, 4, 6},
	"L":                      {2, 5, 4, 7},
	"ST":                     {2, 5, 4, 8},
	"STREET":                 {2, 5, 4, 9},
	"O":                      {2, 5, 4, 10},
	"OU":                     {2, 5, 4, 11},
	"TITLE":                  {2, 5, 4, 12},
	"POSTALCODE":             {2, 5, 4, 17},
	"GIVENNAME":              {2, 5, 4, 42},
	"ORGANIZATIONIDENTIFIER": {2, 5, 4, 97},
	"DC":                     {0, 9, 2342, 19200300, 100, 1, 25},
	"UID":                    {0, 9, 2342, 19200300, 100, 1, 1},
	"EMAILADDRESS":           {1, 2, 840, 113549, 1, 9, 1},
	"E":                      {1, 2, 840, 113549, 1, 9, 1},
}

// ParseDN parses the string representation of a DN (RFC 4514 §3), as
// tls_client_auth_subject_dn holds it (RFC 8705 §2.1.2): RDNs separated by
// commas, the least significant first; attributes of one RDN joined by
// plus signs; types by name or dotted OID; values with the escapes of
// §2.4 or in #hex form. Spaces around separators and around '=' are
// allowed and insignificant.
func ParseDN(s string) (DN, error) {
	if len(s) > maxDNBytes {
		return DN{}, fmt.Errorf("longer than %d bytes", maxDNBytes)
	}
	p := &dnParser{s: s}
	var rdns [][]dnAttr
	var rdn []dnAttr
	attrs := 0
	for {
		a, err := p.attr()
		if err != nil {
			return DN{}, err
		}
		if attrs++; attrs > maxDNAttrs {
			return DN{}, fmt.Errorf("more than %d attributes", maxDNAttrs)
		}
		rdn = append(rdn, a)
		if p.i == len(s) {
			break
		}
		sep := s[p.i]
		p.i++
		if sep == ',' {
			rdns = append(rdns, rdn)
			rdn = nil
		}
	}
	rdns = append(rdns, rdn)
	// The string form lists the RDNs in reverse (RFC 4514 §2.1).
	for i, j := 0, len(rdns)-1; i < j; i, j = i+1, j-1 {
		rdns[i], rdns[j] = rdns[j], rdns[i]
	}
	return DN{rdns: rdns}, nil
}

// dnParser walks the string form of a DN.
type dnParser struct {
	s string
	i int
}

func (p *dnParser) skipSpaces() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

// attr reads type=value and leaves p at the separator after it, or at the
// end.
func (p *dnParser) attr() (dnAttr, error) {
	p.skipSpaces()
	eq := strings.IndexByte(p.s[p.i:], '=')
	if eq < 0 {
		return dnAttr{}, fmt.Errorf("attribute at offset %d has no '='", p.i)
	}
	oid, err := dnType(strings.TrimRight(p.s[p.i:p.i+eq], " "))
	if err != nil {
		return dnAttr{}, err
	}
	p.i += eq + 1
	p.skipSpaces()
	a := dnAttr{oid: oid}
	if p.i < len(p.s) && p.s[p.i] == '#' {
		err = p.hexValue(&a)
	} else {
		a.str, err = p.stringValue()
		a.isStr = true
	}
	return a, err
}

// dnType resolves an attribute type: a name of dnTypes or a numeric OID.
func dnType(t string) (asn1.ObjectIdentifier, error) {
	if oid, ok := dnTypes[strings.ToUpper(t)]; ok {
		return oid, nil
	}
	num := t
	if len(t) > 4 && strings.EqualFold(t[:4], "OID.") {
		num = t[4:]
	}
	var oid asn1.ObjectIdentifier
	for _, arc := range strings.Split(num, ".") {
		n := 0
		if arc == "" || len(arc) > 9 || (len(arc) > 1 && arc[0] == '0') {
			return nil, fmt.Errorf("unknown attribute type %q", truncate(t, 64))
		}
		for _, c := range arc {
			if c < '0' || c > '9' {
				return nil, fmt.Errorf("unknown attribute type %q", truncate(t, 64))
			}
			n = n*10 + int(c-'0')
		}
		oid = append(oid, n)
	}
	if len(oid) < 2 {
		return nil, fmt.Errorf("unknown attribute type %q", truncate(t, 64))
	}
	return oid, nil
}

// hexValue reads a #hex value: the DER encoding of the value (RFC 4514
// §2.4), whose string is also kept when it is a string type.
func (p *dnParser) hexValue(a *dnAttr) error {
	start := p.i + 1
	end := start
	for end < len(p.s) && isHex(p.s[end]) {
		end++
	}
	raw, err := hex.DecodeString(p.s[start:end])
	if err != nil || len(raw) == 0 {
		return errors.New("a #hex value is not an even number of hex digits")
	}
	p.i = end
	p.skipSpaces()
	if p.i < len(p.s) && p.s[p.i] != ',' && p.s[p.i] != '+' {
		return fmt.Errorf("unexpected %q after a #hex value", p.s[p.i])
	}
	var rv asn1.RawValue
	if rest, err := asn1.Unmarshal(raw, &rv); err != nil || len(rest) != 0 {
		return errors.New("a #hex value is not one DER-encoded value")
	}
	a.raw = raw
	a.str, a.isStr = derString(raw)
	return nil
}

// dnSpecial are the characters that a value escapes with a backslash
// (RFC 4514 §2.4 and §3).
const dnSpecial = "\"+,;<>\\ #="

// stringValue reads a string value up to an unescaped ',' or '+', decoding
// the escapes; unescaped trailing spaces are dropped.
func (p *dnParser) stringValue() (string, error) {
	var b []byte
	keep := 0 // length of b up to its last escaped or non-space byte
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == ',' || c == '+':
			b = b[:keep]
			return checkUTF8(b)
		case c == '\\':
			e, n, err := unescape(p.s[p.i:])
			if err != nil {
				return "", err
			}
			b = append(b, e)
			keep = len(b)
			p.i += n
			continue
		case c == '"' || c == ';' || c == '<' || c == '>' || c == 0:
			return "", fmt.Errorf("character %q at offset %d must be escaped (RFC 4514 §2.4)", c, p.i)
		}
		b = append(b, c)
		if c != ' ' {
			keep = len(b)
		}
		p.i++
	}
	return checkUTF8(b[:keep])
}

// unescape decodes the escape at the start of s: a backslash and a
// special character, or a backslash and two hex digits (one byte of
// UTF-8). It returns the byte and the escape's length.
func unescape(s string) (byte, int, error) {
	if len(s) >= 2 && strings.IndexByte(dnSpecial, s[1]) >= 0 {
		return s[1], 2, nil
	}
	if len(s) >= 3 && isHex(s[1]) && isHex(s[2]) {
		v, _ := hex.DecodeString(s[1:3])
		return v[0], 3, nil
	}
	return 0, 0, errors.New("a backslash is followed by neither a special character nor two hex digits")
}

func checkUTF8(b []byte) (string, error) {
	if !utf8.Valid(b) {
		return "", errors.New("a value is not valid UTF-8")
	}
	return string(b), nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// derString decodes a DER value of one of the string types a name holds
// (UTF8String, PrintableString, IA5String, T61String, BMPString, ...).
func derString(raw []byte) (string, bool) {
	var s string
	if rest, err := asn1.Unmarshal(raw, &s); err != nil || len(rest) != 0 {
		return "", false
	}
	return s, true
}

// The ASN.1 shape of a Name (RFC 5280 §4.1.2.4), keeping each value's
// encoding; a type whose name ends in SET is a SET OF for encoding/asn1.
type (
	rawAttr struct {
		Type  asn1.ObjectIdentifier
		Value asn1.RawValue
	}
	rawRDNSET []rawAttr
)

// DecodeDN decodes the DER of a Name (RFC 5280 §4.1.2.4), such as an
// x509.Certificate's RawSubject.
func DecodeDN(der []byte) (DN, error) {
	var seq []rawRDNSET
	rest, err := asn1.Unmarshal(der, &seq)
	if err != nil || len(rest) != 0 {
		return DN{}, errors.New("not a DER-encoded Name")
	}
	out := make([][]dnAttr, len(seq))
	for i, rdn := range seq {
		for _, a := range rdn {
			s, ok := derString(a.Value.FullBytes)
			out[i] = append(out[i], dnAttr{oid: a.Type, str: s, isStr: ok, raw: a.Value.FullBytes})
		}
	}
	return DN{rdns: out}, nil
}

// Equal compares two DNs as X.500 does: RDN by RDN in order; within an
// RDN the attributes as a set; string values with caseIgnoreMatch and
// insignificant spaces (RFC 4518 §2.6.1: leading and trailing spaces
// dropped, inner runs of spaces counting as one); other values by their
// encoding.
func (d DN) Equal(o DN) bool {
	if len(d.rdns) != len(o.rdns) {
		return false
	}
	for i := range d.rdns {
		if !rdnEqual(d.rdns[i], o.rdns[i]) {
			return false
		}
	}
	return true
}

func rdnEqual(a, b []dnAttr) bool {
	if len(a) != len(b) {
		return false
	}
	used := make([]bool, len(b))
	for _, x := range a {
		found := false
		for j, y := range b {
			if !used[j] && x.equal(y) {
				used[j], found = true, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func (a dnAttr) equal(b dnAttr) bool {
	if !a.oid.Equal(b.oid) {
		return false
	}
	if a.isStr && b.isStr {
		return strings.EqualFold(strings.Join(strings.Fields(a.str), " "), strings.Join(strings.Fields(b.str), " "))
	}
	return a.raw != nil && bytes.Equal(a.raw, b.raw)
}
