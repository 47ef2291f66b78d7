package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	registrar "github.com/registrar-dev/registrar/sdk/go"
)

// TestCases runs ../cases.json against check natively: each case's input
// is the shared input with the case's members in place, and the answer
// must be the case's (the host replays the same file against the built
// modules of every language: go test ./plugins -run Example).
func TestCases(t *testing.T) {
	raw, err := os.ReadFile("../cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Input map[string]json.RawMessage `json:"input"`
		Cases []struct {
			Name            string                     `json:"name"`
			Input           map[string]json.RawMessage `json:"input"`
			Want            json.RawMessage            `json:"want"`
			WantError       string                     `json:"want_error"`
			WantDescription string                     `json:"want_description"`
			WantFailure     bool                       `json:"want_failure"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range file.Cases {
		t.Run(c.Name, func(t *testing.T) {
			doc := map[string]json.RawMessage{"abi": json.RawMessage("1"), "hook": json.RawMessage(`"policy"`)}
			for k, v := range file.Input {
				doc[k] = v
			}
			for k, v := range c.Input {
				if string(v) == "null" {
					delete(doc, k)
					continue
				}
				doc[k] = v
			}
			b, _ := json.Marshal(doc)
			var in registrar.PolicyInput
			if err := in.UnmarshalJSON(b); err != nil {
				t.Fatal(err)
			}
			out, err := check(&in)
			r, isRejection := err.(*registrar.Rejection)
			switch {
			case c.WantFailure:
				if err == nil || isRejection {
					t.Errorf("got %+v, %v; want a failure", out, err)
				}
			case c.WantError != "":
				if !isRejection || string(r.Code) != c.WantError || !strings.Contains(r.Description, c.WantDescription) {
					t.Errorf("got %+v, %v; want %s %q", out, err, c.WantError, c.WantDescription)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				got, _ := json.Marshal(map[string]json.RawMessage{"metadata": out.Metadata.AppendJSON(nil)})
				if !sameJSON(got, c.Want) {
					t.Errorf("got %s; want %s", got, c.Want)
				}
			}
		})
	}
}

// sameJSON compares two documents as JSON values.
func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xa, yb)
}
