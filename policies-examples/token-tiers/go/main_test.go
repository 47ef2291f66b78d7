package main

import (
	"encoding/json"
	"os"
	"testing"

	registrar "github.com/registrar-dev/registrar/sdk/go"
)

// TestCases runs ../cases.json against issue natively: each case's input
// is the shared input with the case's members in place, and the answer
// must be the case's (the host replays the same file against the built
// module: go test ./plugins -run Example).
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
	for _, c := range file.Cases {
		t.Run(c.Name, func(t *testing.T) {
			doc := map[string]json.RawMessage{"abi": json.RawMessage("1"), "hook": json.RawMessage(`"issue_access_token"`)}
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
			var in registrar.AccessTokenInput
			if err := in.UnmarshalJSON(b); err != nil {
				t.Fatal(err)
			}
			out, err := issue(&in)
			var r *registrar.Rejection
			switch {
			case c.WantFailure:
				if err == nil {
					t.Errorf("got %+v; want a failure", out)
				}
			case c.WantError != "":
				if !asRejection(err, &r) || string(r.Code) != c.WantError {
					t.Errorf("got %+v, %v; want %s", out, err, c.WantError)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				got := map[string]any{}
				if out.Scope != nil {
					got["scope"] = out.Scope
				}
				if out.Audience != nil {
					got["audience"] = out.Audience
				}
				if out.Lifetime > 0 {
					got["lifetime"] = out.Lifetime
				}
				if out.Claims.Len() > 0 {
					got["claims"] = json.RawMessage(out.Claims.AppendJSON(nil))
				}
				gb, _ := json.Marshal(got)
				var g, w any
				json.Unmarshal(gb, &g)
				json.Unmarshal(c.Want, &w)
				gs, _ := json.Marshal(g)
				ws, _ := json.Marshal(w)
				if string(gs) != string(ws) {
					t.Errorf("got %s; want %s", gs, ws)
				}
			}
		})
	}
}

func asRejection(err error, r **registrar.Rejection) bool {
	rr, ok := err.(*registrar.Rejection)
	*r = rr
	return ok
}
