package main

import (
	"testing"

	registrar "github.com/registrar-dev/registrar/sdk/go"
)

func TestDecide(t *testing.T) {
	for md, want := range map[string]bool{
		`{"application_type":"native"}`: false,
		`{"application_type":"web"}`:    true,
		`{}`:                            true,
	} {
		obj, err := registrar.ParseObject([]byte(md))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := decide(&registrar.DecisionInput{Metadata: obj}); got != want || err != nil {
			t.Errorf("%s: decide = %v, %v; want %v", md, got, err, want)
		}
	}
}
