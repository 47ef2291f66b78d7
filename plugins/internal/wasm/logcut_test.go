package wasm

import (
	"testing"
	"unicode/utf8"
)

// TestCutUTF8 cuts before a sequence that does not fit whole, for each
// sequence length, and leaves invalid bytes for cleanLine.
func TestCutUTF8(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abé", 3, "ab"},   // 2-byte é, one byte in
		{"ab€", 4, "ab"},   // 3-byte €, two bytes in
		{"ab𝄞", 5, "ab"},   // 4-byte, three bytes in
		{"ab𝄞c", 6, "ab𝄞"}, // fits exactly
		{"a\xff\xffb", 3, "a\xff\xff"},
	} {
		got := string(cutUTF8([]byte(c.in), c.n))
		if got != c.want || (utf8.ValidString(c.in) && !utf8.ValidString(got)) {
			t.Errorf("cutUTF8(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
	if got := cleanLine([]byte("a\x01\tb\xffc\u2028é\r\n")); got != "a?\tb?c?é" {
		t.Errorf("cleanLine: %q", got)
	}
}
