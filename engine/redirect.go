package engine

import (
	"net/netip"
	"net/url"
	"strings"
)

// maxURILength bounds every URI member.
const maxURILength = 2048

// printable reports whether s has no control characters, and no white space
// at all unless spaces is true (then only inner U+0020 is allowed).
func printable(s string, spaces bool) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7F || (r >= 0x80 && r < 0xA0) {
			return false
		}
		if r == ' ' && !spaces {
			return false
		}
	}
	return !spaces || strings.TrimSpace(s) == s
}

// forbiddenSchemes can run code or read local data in a user agent; no
// client may register them as a redirect target.
var forbiddenSchemes = map[string]bool{
	"javascript": true, "vbscript": true, "data": true, "blob": true,
	"file": true, "about": true, "filesystem": true,
}

// isLoopbackHost reports whether host (without port) names the loopback
// interface: localhost, 127.0.0.0/8 or ::1 (RFC 8252 §7.3).
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// parseAbsolute parses an absolute URI that has no white space, no control
// characters and no user information; it returns a description of the
// first problem, or "".
func parseAbsolute(s string) (*url.URL, string) {
	if len(s) > maxURILength {
		return nil, "is longer than 2048 characters"
	}
	if !printable(s, false) {
		return nil, "must not contain white space or control characters"
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, "is not a valid URI"
	}
	if u.Scheme == "" {
		return nil, "must be an absolute URI"
	}
	if u.User != nil {
		return nil, "must not contain user information"
	}
	return u, ""
}

// checkWebURL checks an http or https URL (https only if httpsOnly), with a
// host and no fragment.
func checkWebURL(s string, httpsOnly bool) string {
	u, msg := parseAbsolute(s)
	if msg != "" {
		return msg
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if httpsOnly {
			return "must use https"
		}
	default:
		if httpsOnly {
			return "must be an https URL"
		}
		return "must be an http or https URL"
	}
	if u.Hostname() == "" {
		return "must have a host"
	}
	if strings.Contains(s, "#") {
		return "must not have a fragment"
	}
	return ""
}

// checkRedirectURI applies the redirect URI rules of RFC 6749 §3.1.2,
// OpenID Connect Registration §2 and RFC 8252 §7 for the client's
// application type, and returns a description of the first problem, or "".
//
//   - Every redirect URI is absolute and has no fragment.
//   - Web clients use https; http only on a loopback host, and only when the
//     tenant allows it (WebLoopbackRedirectURIs) and the client does not use
//     the implicit grant; implicit web clients must not use localhost at all.
//   - Native clients use a private-use scheme, http on a loopback host, or
//     https on a host that is not loopback.
func (v *validator) checkRedirectURI(s string, implicit bool) string {
	u, msg := parseAbsolute(s)
	if msg != "" {
		return msg
	}
	if strings.Contains(s, "#") {
		return "must not have a fragment"
	}
	scheme := strings.ToLower(u.Scheme)
	if forbiddenSchemes[scheme] {
		return "uses a forbidden scheme"
	}
	host := u.Hostname()
	web := v.md.ApplicationType == "web"
	switch scheme {
	case "https":
		return httpsRedirect(host, web, implicit)
	case "http":
		return v.httpRedirect(host, web, implicit)
	}
	if web {
		return "must use https: private-use schemes are for native clients (application_type native)"
	}
	return ""
}

// httpsRedirect checks an https redirect URI's host for the client's kind.
func httpsRedirect(host string, web, implicit bool) string {
	switch {
	case host == "":
		return "must have a host"
	case web && implicit && isLoopbackHost(host):
		return "must not use a loopback host: the client uses the implicit grant"
	case !web && isLoopbackHost(host):
		return "must use http, not https, on a loopback host (RFC 8252 §7.3)"
	}
	return ""
}

// httpRedirect checks an http redirect URI: loopback only, and for web
// clients only where the tenant allows it and never with the implicit grant.
func (v *validator) httpRedirect(host string, web, implicit bool) string {
	switch {
	case host == "":
		return "must have a host"
	case !isLoopbackHost(host):
		return "must use https; http is allowed only on loopback hosts"
	case web && implicit:
		return "must use https: the client uses the implicit grant"
	case web && !v.t.settings.WebLoopbackRedirectURIs:
		return "must use https: web clients may not use http, even on a loopback host"
	}
	return ""
}

// validDNSName reports whether s looks like a DNS name, possibly with a
// leading wildcard label.
func validDNSName(s string) bool {
	s = strings.TrimPrefix(s, "*.")
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if !validDNSLabel(label) {
			return false
		}
	}
	return true
}

// validDNSLabel reports whether label is an LDH label of 1-63 characters.
func validDNSLabel(label string) bool {
	if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
		return false
	}
	for i := 0; i < len(label); i++ {
		c := label[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validIP reports whether s is an IPv4 or IPv6 address.
func validIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}
