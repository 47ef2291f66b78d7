package httpapi

import (
	"encoding/base64"
	"testing"
)

func TestBasicFormDecoding(t *testing.T) {
	enc := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	cases := []struct {
		header, id, secret string
		ok                 bool
	}{
		// RFC 6749 §2.3.1: both parts are form-encoded before base64.
		{enc("my%3Aclient:s%2Bc+r%25t"), "my:client", "s+c r%t", true},
		{enc("client:pa:ss"), "client", "pa:ss", true},
		{enc("client:"), "client", "", true},
		{"basic " + base64.RawStdEncoding.EncodeToString([]byte("c:s1")), "c", "s1", true},
		{enc(":secret"), "", "", false},
		{enc("nocolon"), "", "", false},
		{enc("bad%zz:secret"), "", "", false},
		{"Basic !!!", "", "", false},
		{"Bearer abc", "", "", false},
		{"Basic", "", "", false},
	}
	for _, c := range cases {
		id, secret, err := basic(c.header)
		if (err == nil) != c.ok || id != c.id || secret != c.secret {
			t.Errorf("basic(%q) = %q, %q, %v; want %q, %q, ok %v", c.header, id, secret, err, c.id, c.secret, c.ok)
		}
	}
}

// FuzzBasic checks that no header makes basic panic, and that what it
// accepts names a client.
func FuzzBasic(f *testing.F) {
	f.Add("Basic " + base64.StdEncoding.EncodeToString([]byte("a%20b:c+d")))
	f.Add("Basic =")
	f.Fuzz(func(t *testing.T, header string) {
		id, _, err := basic(header)
		if err == nil && id == "" {
			t.Fatalf("basic(%q) accepted an empty client ID", header)
		}
	})
}
