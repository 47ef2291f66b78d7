package registrar

import (
	"strings"
	"testing"
)

func TestRandomString(t *testing.T) {
	seen := map[string]bool{}
	counts := map[rune]int{}
	for range 200 {
		s := RandomString(26, Base32)
		if len(s) != 26 || strings.Trim(s, Base32) != "" {
			t.Fatalf("RandomString(26, Base32) = %q", s)
		}
		if seen[s] {
			t.Fatalf("RandomString repeated %q", s)
		}
		seen[s] = true
		for _, r := range s {
			counts[r]++
		}
	}
	// 5,200 draws over 32 characters: each about 162 times.
	for _, r := range Base32 {
		if counts[r] < 80 || counts[r] > 260 {
			t.Errorf("character %q drawn %d times of 5200", r, counts[r])
		}
	}
	if s := RandomString(0, Base62); s != "" {
		t.Errorf("RandomString(0) = %q", s)
	}
	if s := RandomString(10, "x"); s != "xxxxxxxxxx" {
		t.Errorf("one-character alphabet: %q", s)
	}
}

func TestRejection(t *testing.T) {
	err := Reject(InvalidRedirectURI, "no")
	if err.Error() != "invalid_redirect_uri: no" {
		t.Errorf("Error() = %q", err)
	}
	for _, c := range []Code{InvalidRedirectURI, InvalidClientMetadata, InvalidSoftwareStatement, UnapprovedSoftwareStatement} {
		if !c.Valid() {
			t.Errorf("%s is not Valid", c)
		}
	}
	if Code("invalid_request").Valid() {
		t.Error("invalid_request is Valid")
	}
}
