package httpio

import (
	"mime"
	"testing"
)

// TestMediaType: MediaType answers as mime.ParseMediaType does, and the
// common values take no allocation.
func TestMediaType(t *testing.T) {
	for _, ct := range []string{"application/json", "application/x-www-form-urlencoded", "application/jose", "application/jwt",
		"Application/JSON", "application/json; charset=utf-8", " application/json", "application/json ", "text/plain", "",
		"application/json;", "application/json; charset", "application/x-www-form-urlencoded;charset=UTF-8", "a/b/c"} {
		got, gotErr := MediaType(ct)
		want, _, wantErr := mime.ParseMediaType(ct)
		if got != want || (gotErr == nil) != (wantErr == nil) {
			t.Errorf("MediaType(%q) = %q, %v; mime.ParseMediaType: %q, %v", ct, got, gotErr, want, wantErr)
		}
	}
	for _, ct := range []string{"application/json", "application/x-www-form-urlencoded", "application/jose", "application/jwt"} {
		if n := testing.AllocsPerRun(10, func() { _, _ = MediaType(ct) }); n != 0 {
			t.Errorf("MediaType(%q): %v allocations, want 0", ct, n)
		}
	}
}
