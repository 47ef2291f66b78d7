package main

import "testing"

func TestIsHTTPS(t *testing.T) {
	for u, want := range map[string]bool{
		"https://example.com/cb": true, "HTTPS://Example.com": true, "https://a": true,
		"http://example.com/cb": false, "https:///cb": false, "https://": false, "https:example.com": false,
		"com.example.app:/cb": false, "": false, "ftp://x": false,
	} {
		if got := isHTTPS(u); got != want {
			t.Errorf("isHTTPS(%q) = %v", u, got)
		}
	}
}

func TestParseConfig(t *testing.T) {
	c, err := parseConfig(nil)
	if err != nil || c.authMethods[0] != "private_key_jwt" || c.algs[0] != "PS256" || !c.mtlsBound {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	if c, err = parseConfig([]byte(`{"auth_methods":["tls_client_auth"],"algs":["ES256"],"require_mtls_bound_tokens":false}`)); err != nil ||
		c.authMethods[0] != "tls_client_auth" || c.algs[0] != "ES256" || c.mtlsBound {
		t.Fatalf("configured: %+v, %v", c, err)
	}
	for _, bad := range []string{`[]`, `{"auth_methods":["client_secret_basic"]}`, `{"algs":["RS256"]}`, `{"algs":[]}`, `{"require_mtls_bound_tokens":"yes"}`} {
		if _, err := parseConfig([]byte(bad)); err == nil {
			t.Errorf("parseConfig(%s) accepted", bad)
		}
	}
}

func TestFill(t *testing.T) {
	if got := fill("%s and %s", "a", "b"); got != "a and b" {
		t.Errorf("fill = %q", got)
	}
}
