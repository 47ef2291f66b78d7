package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// HostNormalizer puts the host of a URI member into the one form that is
// stored, returned and passed to policy modules, so that a policy, an
// operator reading the client and a browser resolving the URI all see the
// same host. The idn package implements it with IDNA (UTS #46); engine
// itself, standard-library only, has no IDNA tables.
type HostNormalizer interface {
	// NormalizeHost is given the host of a URI (percent-decoded, without
	// port) when it has a character outside ASCII or an ACE label ("xn--").
	// It returns the host's ASCII form (A-labels), or an error, fit to show
	// to the client, when the host has bidirectional controls, invisible
	// characters or anything else IDNA cannot map.
	NormalizeHost(host string) (string, error)
}

// asciiHosts is the HostNormalizer used when Config.Hosts is nil: it
// refuses every host that would need IDNA, non-ASCII or with an ACE label,
// since without IDNA tables engine can neither map nor verify them.
type asciiHosts struct{}

// NormalizeHost implements HostNormalizer by refusing the host.
func (asciiHosts) NormalizeHost(string) (string, error) {
	return "", errors.New("internationalised host names are not accepted here; use an ASCII host name")
}

// uriMembers are the members whose values (a string, or an array of
// strings) are URIs whose hosts are normalised, with the error code of a
// refused host. The human-readable ones also have language-tagged variants.
var uriMembers = map[string]ErrorCode{
	"redirect_uris":             CodeInvalidRedirectURI,
	"post_logout_redirect_uris": CodeInvalidClientMetadata,
	"request_uris":              CodeInvalidClientMetadata,
	"client_uri":                CodeInvalidClientMetadata,
	"logo_uri":                  CodeInvalidClientMetadata,
	"policy_uri":                CodeInvalidClientMetadata,
	"tos_uri":                   CodeInvalidClientMetadata,
	"jwks_uri":                  CodeInvalidClientMetadata,
	"initiate_login_uri":        CodeInvalidClientMetadata,
	"sector_identifier_uri":     CodeInvalidClientMetadata,
	"tls_client_auth_san_uri":   CodeInvalidClientMetadata,
}

// uriMemberCode reports whether name is a URI member, and its error code.
func uriMemberCode(name string) (ErrorCode, bool) {
	if base, _, ok := strings.Cut(name, "#"); ok {
		if !localizable[base] {
			return "", false
		}
		name = base
	}
	code, ok := uriMembers[name]
	return code, ok
}

// normalizeHosts rewrites, in place, the host of every URI member of obj
// that needs IDNA into the form hosts gives, or refuses the first one
// (members in name order) that hosts refuses. Values of the wrong type and
// URIs that do not parse are left for validation to report.
func normalizeHosts(obj map[string]json.RawMessage, hosts HostNormalizer) error {
	if hosts == nil {
		hosts = asciiHosts{}
	}
	var names []string
	for name, raw := range obj {
		if _, ok := uriMemberCode(name); ok && mayNeedIDNA(raw) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		code, _ := uriMemberCode(name)
		raw := obj[name]
		if one, ok := UnquoteString(raw); ok {
			out, changed, err := normalizeURIHost(one, hosts)
			if err != nil {
				return Errorf(code, "%s: %q has a host that is not accepted: %v", name, truncate(one, 128), err)
			}
			if changed {
				obj[name] = mustJSON(out)
			}
			continue
		}
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) != nil {
			continue
		}
		changed := false
		for i, el := range list {
			s, ok := UnquoteString(el)
			if !ok {
				continue
			}
			out, ch, err := normalizeURIHost(s, hosts)
			if err != nil {
				return Errorf(code, "%s: %q has a host that is not accepted: %v", name, truncate(s, 128), err)
			}
			if ch {
				list[i], changed = mustJSON(out), true
			}
		}
		if changed {
			obj[name] = mustJSON(list)
		}
	}
	return nil
}

// mayNeedIDNA reports whether raw, a member's JSON value, can hold a URI
// whose host needs IDNA (a character outside ASCII or an "xn--" label):
// the host of a URI comes from its bytes, percent-decoded, so it can get
// either only from a byte outside ASCII, a JSON escape ("\u00e9"), a
// percent-encoding ("%C3%A9", "%78n--") or an "xn--" written out. Members
// without any are left as they are without being decoded.
func mayNeedIDNA(raw []byte) bool {
	for i, c := range raw {
		switch {
		case c >= utf8.RuneSelf || c == '\\' || c == '%':
			return true
		case (c == 'x' || c == 'X') && len(raw)-i >= 4 && strings.EqualFold(string(raw[i:i+4]), "xn--"):
			return true
		}
	}
	return false
}

// mustJSON marshals a string or a list of raw values, which cannot fail.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// needsIDNA reports whether host has a character outside ASCII or a label
// with the ACE prefix "xn--" (which may encode anything).
func needsIDNA(host string) bool {
	if hasNonASCII(host) {
		return true
	}
	for label := range strings.SplitSeq(host, ".") {
		if len(label) >= 4 && strings.EqualFold(label[:4], "xn--") {
			return true
		}
	}
	return false
}

// normalizeURIHost returns s with its host in the form hosts gives, and
// whether that changed s. A host that needs no IDNA, a URI without a host
// and one that does not parse are returned as they are: ASCII hosts keep
// their case, as redirect URIs are compared by exact string match.
func normalizeURIHost(s string, hosts HostNormalizer) (string, bool, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || strings.HasPrefix(u.Host, "[") {
		return s, false, nil
	}
	host := u.Hostname()
	if !needsIDNA(host) {
		return s, false, nil
	}
	ascii, err := hosts.NormalizeHost(host)
	if err != nil {
		return "", false, err
	}
	if ascii == "" || hasNonASCII(ascii) {
		return "", false, fmt.Errorf("the host cannot be put into ASCII form")
	}
	// Splice the new host into s, keeping every other byte as sent: the
	// authority follows "scheme://" and ends at the first "/", "?" or "#";
	// the host follows any user information and precedes any port.
	colon := strings.Index(s, ":")
	if colon < 0 || !strings.HasPrefix(s[colon+1:], "//") {
		return "", false, fmt.Errorf("the host cannot be put into ASCII form")
	}
	start := colon + 3
	end := len(s)
	if i := strings.IndexAny(s[start:], "/?#"); i >= 0 {
		end = start + i
	}
	hostStart := start + strings.LastIndex(s[start:end], "@") + 1
	hostEnd := end
	if i := strings.LastIndex(s[hostStart:end], ":"); i >= 0 {
		hostEnd = hostStart + i
	}
	out := s[:hostStart] + ascii + s[hostEnd:]
	if v, err := url.Parse(out); err != nil || v.Hostname() != ascii || v.Port() != u.Port() {
		return "", false, fmt.Errorf("the host cannot be put into ASCII form")
	}
	return out, out != s, nil
}

// hasNonASCII reports whether s has a byte outside ASCII.
func hasNonASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return true
		}
	}
	return false
}
