package fetch

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// AllowList names the hosts exempt from the address guard and allowed over
// plain http: the value of `--fetch-allow-hosts` (REGISTRAR_FETCH_ALLOW_HOSTS),
// for tests and internal deployments. An entry is host or host:port; without
// a port it matches every port. Host names are matched without regard to
// case or a trailing dot, and IP addresses by value. The zero AllowList is
// empty: every host is guarded.
type AllowList struct {
	entries []allowEntry
}

type allowEntry struct {
	host string // lower case, no trailing dot; an IP address in netip form
	port string // "" for every port
}

// ParseAllowList reads a comma-separated list of host[:port] entries
// ("keys.internal, 127.0.0.1:8443, [::1]:9000"). Spaces around entries and
// empty entries are ignored. URLs, paths, wildcards and bad ports are
// refused with an error that names the entry.
func ParseAllowList(s string) (AllowList, error) {
	var l AllowList
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		e, err := parseAllowEntry(f)
		if err != nil {
			return AllowList{}, fmt.Errorf("fetch allow list entry %q: %v", f, err)
		}
		if !l.has(e) {
			l.entries = append(l.entries, e)
		}
	}
	return l, nil
}

func parseAllowEntry(f string) (allowEntry, error) {
	if err := checkEntryForm(f); err != nil {
		return allowEntry{}, err
	}
	if a, err := netip.ParseAddr(f); err == nil { // a bare IPv6 (or IPv4) address
		if a.Zone() != "" {
			return allowEntry{}, errors.New("scoped addresses are not supported")
		}
		return allowEntry{host: a.String()}, nil
	}
	host, port, err := splitEntry(f)
	if err != nil {
		return allowEntry{}, err
	}
	if strings.Contains(host, ":") || strings.HasPrefix(f, "[") {
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return allowEntry{}, errors.New("want an IPv6 address inside [ ]")
		}
		return allowEntry{host: a.String(), port: port}, nil
	}
	host = normalHost(host)
	if err := checkHostName(host); err != nil {
		return allowEntry{}, err
	}
	return allowEntry{host: host, port: port}, nil
}

// checkEntryForm refuses what is plainly not host[:port].
func checkEntryForm(f string) error {
	switch {
	case strings.Contains(f, "://"):
		return errors.New("want host[:port], not a URL")
	case strings.ContainsAny(f, "/?#@"):
		return errors.New("want host[:port], without a path, query or user")
	case strings.ContainsAny(f, "*"):
		return errors.New("wildcards are not supported; name each host")
	case strings.ContainsFunc(f, func(r rune) bool { return r <= ' ' || r >= 0x7f }):
		return errors.New("want host[:port] in printable ASCII, without spaces")
	}
	return nil
}

// splitEntry splits host:port, [IPv6]:port and [IPv6]; anything else is a
// host alone. A port must be 1 to 65535, written without leading zeros.
func splitEntry(f string) (host, port string, err error) {
	if !strings.HasPrefix(f, "[") && strings.Count(f, ":") != 1 {
		return f, "", nil
	}
	host, port, err = net.SplitHostPort(f)
	if err != nil {
		if !strings.HasPrefix(f, "[") || !strings.HasSuffix(f, "]") {
			return "", "", errors.New("want host, host:port or [IPv6]:port")
		}
		return f[1 : len(f)-1], "", nil // "[::1]"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || port != strconv.Itoa(n) {
		return "", "", errors.New("the port must be a number from 1 to 65535")
	}
	return host, port, nil
}

// checkHostName accepts a DNS name of letters, digits, '_' and inner '-'.
func checkHostName(host string) error {
	if host == "" {
		return errors.New("the host is empty")
	}
	if len(host) > 253 {
		return errors.New("not a host name: longer than 253 characters")
	}
	for label := range strings.SplitSeq(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' || strings.ContainsFunc(label, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_')
		}) {
			return fmt.Errorf("%q is not a host name (labels of letters, digits, '_' and inner '-')", host)
		}
	}
	return nil
}

// normalHost returns host as the allow list compares it: an IP address in
// its canonical form, a name in lower case without a trailing dot.
func normalHost(host string) string {
	if a, err := netip.ParseAddr(host); err == nil {
		return a.String()
	}
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

func (l AllowList) has(e allowEntry) bool {
	for _, x := range l.entries {
		if x == e {
			return true
		}
	}
	return false
}

// Allows reports whether host (a name or an IP address, without brackets)
// on port is on the list.
func (l AllowList) Allows(host, port string) bool {
	host = normalHost(host)
	for _, e := range l.entries {
		if e.host == host && (e.port == "" || e.port == port) {
			return true
		}
	}
	return false
}

// Len returns the number of entries.
func (l AllowList) Len() int { return len(l.entries) }

// String returns the list in the form ParseAllowList reads, entries in the
// order given: "keys.internal,127.0.0.1:8443,[::1]:9000".
func (l AllowList) String() string {
	parts := make([]string, len(l.entries))
	for i, e := range l.entries {
		h := e.host
		if strings.Contains(h, ":") {
			h = "[" + h + "]"
		}
		if e.port != "" {
			h += ":" + e.port
		}
		parts[i] = h
	}
	return strings.Join(parts, ",")
}
