package main

import (
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"https://a.example/":           `"https://a.example/"`,
		`https://a.example/"x\y`:       `"https://a.example/\"x\\y"`,
		strings.Repeat("a", 200):       `"` + strings.Repeat("a", 200) + `"`,
		strings.Repeat("a", 201):       `"` + strings.Repeat("a", 200) + `..."`,
		strings.Repeat("a", 199) + "é": `"` + strings.Repeat("a", 199) + `..."`, // not cut inside é
	} {
		if got := quote(in); got != want {
			t.Errorf("quote(%.20q...) = %.40q..., want %.40q...", in, got, want)
		}
	}
}

func TestPunycode(t *testing.T) {
	// RFC 3492 §7.1 samples and well-known names.
	for label, want := range map[string]string{
		"bücher":            "bcher-kva",
		"münchen":           "mnchen-3ya",
		"例え":                "r8jz45g",
		"ليهمابتكلموشعربي؟": "egbpdaj6bu4bxfgehfvwxn",
		"他们为什么不说中文":         "ihqwcrb4cv8a8dqg056pqjye",
		"3年b組金八先生":          "3b-ww4c5e180e575a65lsy2b",
	} {
		if got := punycode(label); got != want {
			t.Errorf("punycode(%q) = %q, want %q", label, got, want)
		}
	}
}

func TestCanonicalHost(t *testing.T) {
	for in, want := range map[string]string{
		"Example.COM":            "example.com",
		"example.com.":           "example.com",
		"Bücher.EXAMPLE":         "xn--bcher-kva.example",
		"BÜCHER.example":         "xn--bcher-2pa.example",  // only ASCII is case-folded: no match for bücher
		"\u212Aey.example.com":   "xn--ey-0qu.example.com", // the Kelvin sign is not k: no match for key
		"xn--BCHER-kva.example.": "xn--bcher-kva.example",
		"127.0.0.1":              "127.0.0.1",
		"::FFFF:1.2.3.4":         "::ffff:1.2.3.4",
		"0:0:0::1":               "::1",
	} {
		got, err := canonicalHost(in)
		if err != nil || got != want {
			t.Errorf("canonicalHost(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", ".", "a..b", "exa mple.com", "ex%61mple.com", "a/b", strings.Repeat("a", 64) + ".com", "fe80::1%eth0", "\xff.com"} {
		if got, err := canonicalHost(in); err == nil {
			t.Errorf("canonicalHost(%q) = %q, want an error", in, got)
		}
	}
}

func TestPlainNameAgreesWithTheSlowPath(t *testing.T) {
	for _, h := range []string{"example.com", "a-b_c.example.org.", "xn--bcher-kva.example", "127.0.0.1", "1.2.3.4.com", "a..b", ".a", "a.", "Example.com", "localhost", "123", "a.123"} {
		if !plainName(h) {
			continue
		}
		got, err := canonicalHost(h)
		if err != nil || got != strings.TrimSuffix(h, ".") {
			t.Errorf("plainName(%q) but canonicalHost = %q, %v", h, got, err)
		}
		if strings.Count(h, ".") == 3 && strings.Trim(h, "0123456789.") == "" {
			t.Errorf("plainName accepted the IP address %q", h)
		}
	}
}

func TestPatterns(t *testing.T) {
	tests := []struct {
		pattern string
		match   []string
		noMatch []string
	}{
		{"example.com", []string{"example.com"}, []string{"www.example.com", "example.com.evil.net", "evilexample.com"}},
		{"*.example.org", []string{"a.example.org", "a.b.example.org"}, []string{"example.org", "aexample.org", "example.org.evil.net"}},
		{"*.bücher.example", []string{"shop.xn--bcher-kva.example"}, []string{"xn--bcher-kva.example"}},
		{"[::1]", []string{"::1"}, []string{"127.0.0.1"}},
	}
	for _, tt := range tests {
		p, err := parsePattern(tt.pattern)
		if err != nil {
			t.Fatalf("parsePattern(%q): %v", tt.pattern, err)
		}
		for _, h := range tt.match {
			if !p.matches(h) {
				t.Errorf("%q does not match %q", tt.pattern, h)
			}
		}
		for _, h := range tt.noMatch {
			if p.matches(h) {
				t.Errorf("%q matches %q", tt.pattern, h)
			}
		}
	}
	for _, bad := range []string{"*", "*.com", "a.*.example.org", "*example.org", "*.127.0.0.1", "exa mple.org", ""} {
		if _, err := parsePattern(bad); err == nil {
			t.Errorf("parsePattern(%q) accepted", bad)
		}
	}
}

func TestURIHost(t *testing.T) {
	for uri, want := range map[string]string{
		"https://App.Example.com:8443/cb?x=1": "app.example.com",
		"https://example.com./cb":             "example.com",
		"https://bücher.example/":             "xn--bcher-kva.example",
		"http://[::1]:3000/cb":                "::1",
		"com.example.app:/callback":           "",
		"com.example.app:callback":            "",
		"myapp:///path":                       "",
		"https://example.com:/cb":             "example.com",
		"https://example.com?q":               "example.com",
		"https://example.com#f":               "example.com",
	} {
		got, err := uriHost(uri)
		if err != nil || got != want {
			t.Errorf("uriHost(%q) = %q, %v; want %q", uri, got, err, want)
		}
	}
	for _, uri := range []string{
		"https://user@example.com/", "https://example.com@evil.net/", "https://:pw@example.com/",
		"https://evil.net\\@example.com/", "https://example.com /", "https:///cb", "https:example.com",
		"/relative", "https://exa\tmple.com/", "https://example.com:xx/", "http://[fe80::1%25eth0]/",
		"https://%62%C3%BCcher.example/", // browsers decode escapes in a host; refused
		"https://example.com:65536/", "https://[::1/", "https://[::1]x/", "1https://example.com/", "https://ex@mple.com:80",
		"https://example.com:-1/", "https://:443/",
		"https://::1:80/", "https://[127.0.0.1]/", "https://a:b:80/",
	} {
		if got, err := uriHost(uri); err == nil {
			t.Errorf("uriHost(%q) = %q, want an error", uri, got)
		}
	}
}

// FuzzJudge checks that no URI makes the policy panic, and that whatever it
// accepts has a host the configuration trusts.
func FuzzJudge(f *testing.F) {
	for _, s := range []string{"https://a.example.org/", "https://x@example.com", "https://[::1]/", "com.app:/x", "https://bücher.example"} {
		f.Add(s)
	}
	cfg, err := parseConfig([]byte(`{"hosts":["example.com","*.example.org"]}`))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		if cfg.judge(uri, false) != "" {
			return
		}
		host, err := uriHost(uri)
		if err != nil || !(host == "example.com" || strings.HasSuffix(host, ".example.org")) {
			t.Fatalf("accepted %q with host %q (%v)", uri, host, err)
		}
	})
}
