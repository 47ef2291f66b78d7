package main

import (
	"regexp"
	"strings"
	"testing"

	registrar "github.com/registrar-dev/registrar/sdk/go"
)

func TestNewID(t *testing.T) {
	valid := regexp.MustCompile(`^acme-[a-z2-7]{26}$`)
	seen := map[string]bool{}
	for range 100 {
		id, err := newID(&registrar.FactoryInput{Envelope: registrar.Envelope{Tenant: "acme"}})
		if err != nil || !valid.MatchString(id) || seen[id] {
			t.Fatalf("newID = %q, %v (seen before: %v)", id, err, seen[id])
		}
		seen[id] = true
	}
	for _, tenant := range []string{"", "a b", "ümlaut", strings.Repeat("t", maxTenant+1)} {
		if id, err := newID(&registrar.FactoryInput{Envelope: registrar.Envelope{Tenant: tenant}}); err == nil {
			t.Errorf("tenant %q gave %q", tenant, id)
		}
	}
	long := strings.Repeat("t", maxTenant)
	if id, err := newID(&registrar.FactoryInput{Envelope: registrar.Envelope{Tenant: long}}); err != nil || len(id) != 128 {
		t.Errorf("longest tenant: %q (%d), %v", id, len(id), err)
	}
}
