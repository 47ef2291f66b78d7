package idn_test

import (
	"strings"
	"testing"

	"golang.org/x/net/idna"

	"github.com/registrar-dev/registrar/idn"
)

func TestNormalizeHost(t *testing.T) {
	for _, tc := range []struct {
		host, want string // want "" = refused
		mention    string
	}{
		{host: "bücher.example", want: "xn--bcher-kva.example"},
		{host: "BÜCHER.Example", want: "xn--bcher-kva.example"},
		{host: "app\uff0eexample", want: "app.example"}, // fullwidth full stop
		{host: "ａｐｐ.example", want: "app.example"},      // fullwidth letters
		{host: "xn--bcher-kva.example", want: "xn--bcher-kva.example"},
		{host: "例え.テスト", want: "xn--r8jz45g.xn--zckzah"},
		{host: "שלום.example", want: "xn--9dbne9b.example"},

		{host: "app\u202eexample", mention: "U+202E"},
		{host: "app\u200bexample", mention: "U+200B"},
		{host: "app\u00adexample", mention: "U+00AD"},
		{host: "app\u00a0example", mention: "U+00A0"},
		{host: "app\u200cexample", mention: "U+200C"},
		{host: "app\u2060example", mention: "U+2060"},
		{host: "app\u3000example", mention: "U+3000"},
		{host: "app\u034fexample", mention: "U+034F"},
		{host: "app\ue000example", mention: "U+E000"},
		{host: "xn--appexample-726e", mention: "UTS #46"}, // the A-label of app\u202eexample
		{host: "xn--a.example", mention: "UTS #46"},       // not punycode
		{host: "app\xffexample", mention: "UTF-8"},
		{host: "bü_cher.example", mention: "UTS #46"},                    // STD3 rules
		{host: "-bücher.example", mention: "UTS #46"},                    // hyphen rules
		{host: "a\u05d0.example", mention: "UTS #46"},                    // Bidi rule: LTR and RTL in one label
		{host: "bücher..example", mention: "UTS #46"},                    // empty label
		{host: strings.Repeat("ü", 64) + ".example", mention: "UTS #46"}, // label too long
	} {
		got, err := idn.Normalizer{}.NormalizeHost(tc.host)
		if tc.want == "" {
			if err == nil {
				t.Errorf("%q: accepted as %q", tc.host, got)
			} else if !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("%q: error %q does not mention %q", tc.host, err, tc.mention)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %q, %v; want %q", tc.host, got, err, tc.want)
		}
	}
}

// FuzzNormalizeHost: an accepted host becomes an ASCII host that normalises
// to itself, and whose Unicode form has no hidden character.
func FuzzNormalizeHost(f *testing.F) {
	for _, s := range []string{
		"bücher.example", "app\u202eexample", "app\uff0eexample", "xn--appexample-726e", "xn--", "a..b", ".", "",
		"ａｐｐ.example", "\u0645\u062b\u0627\u0644.example", "app\u00adexample", "xn--bcher-kva.example.",
	} {
		f.Add(s)
	}
	n := idn.Normalizer{}
	f.Fuzz(func(t *testing.T, host string) {
		a, err := n.NormalizeHost(host)
		if err != nil {
			return
		}
		for i := 0; i < len(a); i++ {
			if a[i] >= 0x80 {
				t.Fatalf("%q -> %q: not ASCII", host, a)
			}
		}
		again, err := n.NormalizeHost(a)
		if err != nil || again != a {
			t.Fatalf("%q -> %q -> %q, %v: not idempotent", host, a, again, err)
		}
		u, err := idna.Display.ToUnicode(a)
		if err != nil {
			t.Fatalf("%q -> %q: no Unicode form: %v", host, a, err)
		}
		for _, r := range u {
			if r == '\u202e' || r == '\u200b' || r == '\u00ad' || r == '\u00a0' {
				t.Fatalf("%q -> %q hides %U", host, a, r)
			}
		}
	})
}
