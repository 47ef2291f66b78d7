package engine

// The identifiers checked on every request (a tenant's name in each store
// call and metric, a client_id in each RFC 7592 request, module names in
// policy outputs) are checked against byte tables instead of regular
// expressions: a regexp match cost about half a microsecond each, a few per
// request (FuzzNames checks both agree).

// charset is a set of ASCII bytes.
type charset [256]bool

// newCharset returns the set of the bytes in ranges, given as pairs of
// first and last byte ("az09" is a-z and 0-9), plus those in singles.
func newCharset(ranges, singles string) *charset {
	var c charset
	for i := 0; i+1 < len(ranges); i += 2 {
		for b := int(ranges[i]); b <= int(ranges[i+1]); b++ {
			c[b] = true
		}
	}
	for i := range len(singles) {
		c[singles[i]] = true
	}
	return &c
}

// all reports whether every byte of s is in c.
func (c *charset) all(s string) bool {
	for i := range len(s) {
		if !c[s[i]] {
			return false
		}
	}
	return true
}

var (
	// tenantChars are the bytes of a tenant name; tenantEnds those it may
	// start and end with (a DNS label).
	tenantChars = newCharset("az09", "-")
	tenantEnds  = newCharset("az09", "")
	// moduleChars are the bytes of a module name; moduleFirst those it
	// may start with.
	moduleChars = newCharset("AZaz09", "._-")
	moduleFirst = newCharset("AZaz09", "")
	// clientIDChars are RFC 3986's unreserved characters.
	clientIDChars = newCharset("AZaz09", "._~-")
)

// ValidTenantName reports whether name is a valid tenant name: lower-case
// letters, digits and inner hyphens, 1 to 63 characters (a DNS label), so
// a name is safe in URL paths, Redis keys and metric labels.
func ValidTenantName(name string) bool {
	n := len(name)
	return n >= 1 && n <= 63 && tenantEnds[name[0]] && tenantEnds[name[n-1]] && tenantChars.all(name)
}

// ValidModuleName reports whether name is a valid policy module name:
// 1 to 128 letters, digits, '.', '_' and '-', starting with a letter or a
// digit.
func ValidModuleName(name string) bool {
	n := len(name)
	return n >= 1 && n <= 128 && moduleFirst[name[0]] && moduleChars.all(name)
}

// ValidClientID reports whether id is acceptable as a client_id: 1 to 128
// of RFC 3986's unreserved characters, so an ID is safe in a URL path, a
// store key and a log line, and neither "." nor "..".
func ValidClientID(id string) bool {
	n := len(id)
	return n >= 1 && n <= 128 && clientIDChars.all(id) && id != "." && id != ".."
}
