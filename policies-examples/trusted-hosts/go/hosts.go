package main

import (
	"errors"
	"net/netip"
	"strings"
	"unicode/utf8"
)

// pattern is a trusted host: an exact host, or "*.example.org" for every
// host below example.org (not example.org itself). host is canonical.
type pattern struct {
	host     string
	wildcard bool
}

// parsePattern reads a configured host: a DNS name (Unicode or punycode,
// any case, with or without a trailing dot), an IP address, or "*." and a
// DNS name of at least two labels.
func parsePattern(s string) (pattern, error) {
	rest, wildcard := strings.CutPrefix(s, "*.")
	if strings.Contains(rest, "*") {
		return pattern{}, errors.New(quote(s) + ": a wildcard must be a whole first label, as in *.example.org")
	}
	host, err := canonicalHost(strings.TrimPrefix(strings.TrimSuffix(rest, "]"), "["))
	if err != nil {
		return pattern{}, errors.New(quote(s) + ": " + err.Error())
	}
	if wildcard {
		if _, err := netip.ParseAddr(host); err == nil {
			return pattern{}, errors.New(quote(s) + ": a wildcard needs a DNS name, not an IP address")
		}
		if !strings.Contains(host, ".") {
			return pattern{}, errors.New(quote(s) + ": a wildcard needs at least two labels after *.")
		}
	}
	return pattern{host: host, wildcard: wildcard}, nil
}

// matches reports whether a canonical host is trusted by p.
func (p pattern) matches(host string) bool {
	if p.wildcard {
		return len(host) > len(p.host)+1 && strings.HasSuffix(host, p.host) && host[len(host)-len(p.host)-1] == '.'
	}
	return host == p.host
}

// uriHost returns the canonical host of an absolute URI; "" for a URI
// without an authority, such as a private-use scheme's. It judges the URI
// alone, never anything about the request that carries it.
//
// It reads the authority strictly, refusing whatever browsers and other
// parsers might read differently: white space, control characters,
// backslashes, user information (anything with '@' in the authority) and
// percent-escapes in the host. So the authority is exactly what lies
// between "//" and the first '/', '?' or '#', and its host what comes
// before the port.
func uriHost(uri string) (string, error) {
	authority, web, err := uriAuthority(uri)
	if err != nil || authority == nil {
		return "", err
	}
	host, port, err := splitHostPort(*authority)
	if err != nil {
		return "", err
	}
	if !validPort(strings.TrimPrefix(port, ":")) {
		return "", errors.New("has an invalid port")
	}
	if host == "" {
		if web {
			return "", errors.New("has no host")
		}
		return "", nil
	}
	host, err = canonicalHost(host)
	if err != nil {
		return "", errors.New("has an invalid host: " + err.Error())
	}
	return host, nil
}

// uriAuthority returns the authority of an absolute URI (nil if it has
// none, which only a scheme other than http and https may lack), and
// whether the scheme is http or https.
func uriAuthority(uri string) (authority *string, web bool, err error) {
	for i := 0; i < len(uri); i++ {
		if c := uri[i]; c <= ' ' || c == 0x7f || c == '\\' {
			return nil, false, errors.New("must not contain white space, control characters or backslashes")
		}
	}
	colon := strings.IndexByte(uri, ':')
	if colon <= 0 || !validScheme(uri[:colon]) {
		return nil, false, errors.New("is not an absolute URI")
	}
	scheme, rest := uri[:colon], uri[colon+1:]
	web = strings.EqualFold(scheme, "https") || strings.EqualFold(scheme, "http")
	a, ok := strings.CutPrefix(rest, "//")
	if !ok {
		if web {
			return nil, web, errors.New("has no host")
		}
		return nil, web, nil
	}
	if i := strings.IndexAny(a, "/?#"); i >= 0 {
		a = a[:i]
	}
	if strings.Contains(a, "@") {
		return nil, web, errors.New("must not contain user information")
	}
	return &a, web, nil
}

// splitHostPort splits an authority into its host (an IPv6 address
// without its brackets) and its port, with its colon.
func splitHostPort(authority string) (host, port string, err error) {
	host = authority
	if !strings.HasPrefix(host, "[") {
		if i := strings.LastIndexByte(host, ':'); i >= 0 {
			host, port = host[:i], host[i:]
		}
		if strings.Contains(host, ":") {
			return "", "", errors.New("has an invalid host") // an IPv6 address must be in brackets
		}
		return host, port, nil
	}
	end := strings.IndexByte(host, ']')
	if end < 0 {
		return "", "", errors.New("has an invalid host")
	}
	host, port = host[1:end], host[end+1:]
	if port != "" && port[0] != ':' {
		return "", "", errors.New("has an invalid host")
	}
	if ip, err := netip.ParseAddr(host); err != nil || !ip.Is6() || ip.Zone() != "" {
		return "", "", errors.New("has an invalid IPv6 address")
	}
	return host, port, nil
}

// validScheme reports whether s is ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
// (RFC 3986 §3.1).
func validScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20 // lower case, for letters
		if !('a' <= c && c <= 'z' || i > 0 && ('0' <= s[i] && s[i] <= '9' || s[i] == '+' || s[i] == '-' || s[i] == '.')) {
			return false
		}
	}
	return s != ""
}

// validPort reports whether s is empty or a port number.
func validPort(s string) bool {
	if len(s) > 5 {
		return false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n <= 65535
}

// canonicalHost returns the form of a host that trusted hosts are compared
// in: an IP address as netip prints it (RFC 5952 for IPv6, ::ffff:a.b.c.d
// for an IPv4-mapped one); a DNS name with its ASCII letters in lower case,
// without a trailing dot, each non-ASCII label in punycode (xn--...).
//
// It does not apply the IDNA mapping (UTS #46: case folding beyond ASCII,
// width folding, NFC, ...), so a name written in another Unicode form than
// the configured one (BÜCHER.example for bücher.example) does not match and
// is refused: it fails closed. Every language's trusted-hosts follows the
// same rules, which need no Unicode tables (README.md).
func canonicalHost(h string) (string, error) {
	if plainName(h) {
		return strings.TrimSuffix(h, "."), nil // the common case, without allocating
	}
	if ip, err := netip.ParseAddr(h); err == nil {
		if ip.Zone() != "" {
			return "", errors.New("an IPv6 zone is not a host")
		}
		return ip.WithZone("").String(), nil
	}
	if !utf8.ValidString(h) {
		return "", errors.New("a host name must be valid UTF-8")
	}
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return "", errors.New("a host name has 1 to 253 characters")
	}
	labels := strings.Split(asciiLower(h), ".")
	for i, l := range labels {
		var err error
		if labels[i], err = canonicalLabel(l); err != nil {
			return "", err
		}
	}
	return strings.Join(labels, "."), nil
}

// canonicalLabel returns a label of a host name, its ASCII letters already
// in lower case, in punycode if it is not ASCII, and checks it.
func canonicalLabel(l string) (string, error) {
	if !isASCII(l) {
		l = "xn--" + punycode(l)
	}
	if len(l) == 0 || len(l) > 63 {
		return "", errors.New("a host name's labels have 1 to 63 characters")
	}
	for j := 0; j < len(l); j++ {
		if c := l[j]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return "", errors.New("a host name has only letters, digits, '-' and '_'")
		}
	}
	return l, nil
}

// plainName reports whether h is already a canonical DNS name, but for a
// trailing dot: lower-case ASCII labels of 1 to 63 letters, digits, '-'
// and '_', with a letter in the last one (so that it is no IP address).
func plainName(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if len(h) == 0 || len(h) > 253 {
		return false
	}
	label, letter := 0, false
	for i := 0; i < len(h); i++ {
		switch c := h[i]; {
		case 'a' <= c && c <= 'z':
			letter = true
		case '0' <= c && c <= '9' || c == '-' || c == '_':
		case c == '.':
			if label == 0 {
				return false
			}
			label, letter = -1, false
		default:
			return false
		}
		if label++; label > 63 {
			return false
		}
	}
	return label > 0 && letter
}

// asciiLower returns s with A-Z in lower case and every other byte as it is.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// RFC 3492's bootstring parameters for punycode (§5).
const (
	pcBase, pcTmin, pcTmax = 36, 1, 26
	pcSkew, pcDamp         = 38, 700
	pcInitialBias          = 72
	pcInitialN             = 128
)

// pcDigit is the basic code point of a punycode digit (RFC 3492 §5).
func pcDigit(d int) byte {
	if d < 26 {
		return byte('a' + d)
	}
	return byte('0' + d - 26)
}

// pcAdapt is RFC 3492's bias adaptation (§6.1).
func pcAdapt(delta, points int, first bool) int {
	if first {
		delta /= pcDamp
	} else {
		delta /= 2
	}
	delta += delta / points
	k := 0
	for delta > ((pcBase-pcTmin)*pcTmax)/2 {
		delta /= pcBase - pcTmin
		k += pcBase
	}
	return k + (pcBase-pcTmin+1)*delta/(delta+pcSkew)
}

// punycode encodes a label with RFC 3492's bootstring parameters.
func punycode(label string) string {
	runes := []rune(label)
	var out []byte
	for _, r := range runes {
		if r < pcInitialN {
			out = append(out, byte(r))
		}
	}
	basic := len(out)
	handled := basic
	if basic > 0 {
		out = append(out, '-')
	}
	n, delta, bias := pcInitialN, 0, pcInitialBias
	for handled < len(runes) {
		m := int(utf8.MaxRune) + 1
		for _, r := range runes {
			if int(r) >= n && int(r) < m {
				m = int(r)
			}
		}
		delta += (m - n) * (handled + 1)
		n = m
		for _, r := range runes {
			if int(r) < n {
				delta++
			}
			if int(r) != n {
				continue
			}
			q := delta
			for k := pcBase; ; k += pcBase {
				t := k - bias
				t = max(pcTmin, min(t, pcTmax))
				if q < t {
					break
				}
				out = append(out, pcDigit(t+(q-t)%(pcBase-t)))
				q = (q - t) / (pcBase - t)
			}
			out = append(out, pcDigit(q))
			bias = pcAdapt(delta, handled+1, handled == basic)
			delta = 0
			handled++
		}
		delta++
		n++
	}
	return string(out)
}
