package engine_test

import (
	"regexp"
	"testing"

	"github.com/registrar-dev/registrar/engine"
)

// compactJWS is the shape isCompactJWS checks, as a regular expression.
var compactJWS = regexp.MustCompile(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$`)

func FuzzIsCompactJWS(f *testing.F) {
	for _, s := range []string{"a.b.c", "a.b.", ".b.c", "a..c", "a.b.c.d", "a.b", "", "ab", "a-_.B9.c=", "a.b.c\n", "é.b.c", "..", "a.b.c."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := engine.IsCompactJWS(s), compactJWS.MatchString(s); got != want {
			t.Errorf("IsCompactJWS(%q) = %v, want %v", s, got, want)
		}
	})
}
