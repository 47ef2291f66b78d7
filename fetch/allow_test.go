package fetch_test

import (
	"net"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/fetch"
)

func TestParseAllowList(t *testing.T) {
	l, err := fetch.ParseAllowList(" Keys.Internal. , 127.0.0.1:8443,[::1]:9000, ::1 ,, [0:0::2], keys.internal, jwks_host:80")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := l.String(), "keys.internal,127.0.0.1:8443,[::1]:9000,[::1],[::2],jwks_host:80"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	for _, tc := range []struct {
		host, port string
		ok         bool
	}{
		{"keys.internal", "443", true},
		{"KEYS.INTERNAL.", "80", true},
		{"other.internal", "443", false},
		{"sub.keys.internal", "443", false},
		{"127.0.0.1", "8443", true},
		{"127.0.0.1", "443", false},
		{"::1", "9000", true},
		{"::1", "1234", true}, // the bare "::1" entry: every port
		{"0::2", "1", true},
		{"jwks_host", "80", true},
		{"jwks_host", "443", false},
	} {
		if got := l.Allows(tc.host, tc.port); got != tc.ok {
			t.Errorf("Allows(%s, %s) = %v, want %v", tc.host, tc.port, got, tc.ok)
		}
	}
	if empty, err := fetch.ParseAllowList(" , "); err != nil || empty.Len() != 0 || empty.Allows("localhost", "80") {
		t.Errorf("empty list: %v %v", empty, err)
	}
}

func TestParseAllowListErrors(t *testing.T) {
	for in, say := range map[string]string{
		"https://keys.internal": "not a URL",
		"keys.internal/jwks":    "without a path",
		"user@keys.internal":    "without a path",
		"*.internal":            "wildcards",
		"keys internal":         "without spaces",
		"keys.internal:":        "port",
		"keys.internal:0":       "port",
		"keys.internal:65536":   "port",
		"keys.internal:http":    "port",
		"keys.internal:080":     "port",
		"[::1]:":                "port",
		"[keys.internal]:80":    "IPv6",
		"[::1":                  "want host",
		"fe80::1%eth0":          "scoped",
		"a:b:c":                 "IPv6",
		"keys..internal":        "not a host name",
		"-.:1":                  "",
		"ke$ys":                 "not a host name",
		"ok.host, bad host":     "bad host",
		strings.Repeat("a", 64): "not a host name",
	} {
		_, err := fetch.ParseAllowList(in)
		if err == nil {
			t.Errorf("ParseAllowList(%q) = nil error", in)
			continue
		}
		if !strings.Contains(err.Error(), say) || !strings.Contains(err.Error(), "fetch allow list entry") {
			t.Errorf("ParseAllowList(%q) = %q, want it to say %q", in, err, say)
		}
	}
}

// FuzzParseAllowList: the parser never panics; what it accepts prints to a
// list that parses to the same list, and allows each of its own entries.
func FuzzParseAllowList(f *testing.F) {
	for _, s := range []string{"", "keys.internal", "127.0.0.1:8443,[::1]:9000", "::1", "[::1]", "a:b", "*.x", "x:0", "Keys.Internal.:443", "[fe80::1%eth0]:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := fetch.ParseAllowList(s)
		if err != nil {
			return
		}
		again, err := fetch.ParseAllowList(l.String())
		if err != nil {
			t.Fatalf("String() of %q = %q does not parse: %v", s, l.String(), err)
		}
		if again.String() != l.String() || again.Len() != l.Len() {
			t.Fatalf("round trip of %q: %q then %q", s, l.String(), again.String())
		}
		for e := range strings.SplitSeq(l.String(), ",") {
			if e == "" {
				continue
			}
			host, port, err := net.SplitHostPort(e)
			if err != nil {
				host, port = strings.Trim(e, "[]"), "1"
			}
			if !l.Allows(host, port) {
				t.Fatalf("%q does not allow its own entry %q", l.String(), e)
			}
		}
	})
}
