package engine

import (
	"regexp"
	"testing"
)

// The patterns the name checks were written as, before byte tables took
// their place.
var (
	tenantNameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	moduleNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	clientIDRE   = regexp.MustCompile(`^[A-Za-z0-9._~-]{1,128}$`)
)

// FuzzNames: ValidTenantName, ValidModuleName and ValidClientID answer as
// their regular expressions do.
func FuzzNames(f *testing.F) {
	long := func(n int, c string) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = c[0]
		}
		return string(b)
	}
	for _, s := range []string{"", "a", "-", "a-", "-a", "a-b", "A", "acme", "acme-1", "a.b", "a_b", "a~b", ".", "..", "...",
		"é", "a\x00", "a/b", "a b", long(63, "a"), long(64, "a"), long(128, "a"), long(129, "a"), ".a", "_a", "~"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ValidTenantName(s), tenantNameRE.MatchString(s); got != want {
			t.Errorf("ValidTenantName(%q) = %v, the pattern says %v", s, got, want)
		}
		if got, want := ValidModuleName(s), moduleNameRE.MatchString(s); got != want {
			t.Errorf("ValidModuleName(%q) = %v, the pattern says %v", s, got, want)
		}
		if got, want := ValidClientID(s), clientIDRE.MatchString(s) && s != "." && s != ".."; got != want {
			t.Errorf("ValidClientID(%q) = %v, the pattern says %v", s, got, want)
		}
	})
}
