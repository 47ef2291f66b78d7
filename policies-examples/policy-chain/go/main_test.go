package main

import (
	"testing"

	registrar "github.com/registrar-dev/registrar/sdk/go"
)

func TestSameMember(t *testing.T) {
	a, _ := registrar.ParseObject([]byte(`{"s":"x","o":{"a":1,"b":[1,2]},"n":null,"d":"\u0078"}`))
	b, _ := registrar.ParseObject([]byte(`{"s":"x","o":{"b":[1, 2], "a":1.0},"d":"x","e":"y"}`))
	for name, want := range map[string]bool{"s": true, "o": true, "n": true, "absent": true, "d": true, "e": false} {
		if got := sameMember(a, b, name); got != want {
			t.Errorf("sameMember(%q) = %v", name, got)
		}
	}
}

func TestParseConfig(t *testing.T) {
	c, err := parseConfig(nil)
	if err != nil || c.registrationPolicies != nil || len(c.immutable) != 2 {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	if c, err = parseConfig([]byte(`{"registration_policies":[],"immutable":[]}`)); err != nil || c.registrationPolicies == nil || len(c.immutable) != 0 {
		t.Fatalf("empty lists: %+v, %v", c, err)
	}
	for _, bad := range []string{`1`, `{"registration_policies":"a"}`, `{"required":[1]}`, `{"immutable":{}}`} {
		if _, err := parseConfig([]byte(bad)); err == nil {
			t.Errorf("parseConfig(%s) accepted", bad)
		}
	}
}
