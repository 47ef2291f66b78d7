package plugins_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/plugins"
)

// TestPolicyOutputAsABIMdSays: how the host reads a policy hook's output,
// as sdk/ABI.md §2 states it.
func TestPolicyOutputAsABIMdSays(t *testing.T) {
	rejections := map[string]string{
		`{"error":"invalid_client_metadata"}`:                              "rejected by policy",
		`{"error":"invalid_client_metadata","error_description":""}`:       "rejected by policy",
		`{"error":"invalid_client_metadata","error_description":null}`:     "rejected by policy",
		`{"error":"invalid_redirect_uri","error_description":"caf\u00e9"}`: "café",
	}
	for out, want := range rejections {
		_, err := plugins.ParsePolicyOutput([]byte(out))
		var e *engine.Error
		if !errors.As(err, &e) || e.Description != want {
			t.Errorf("%s: %v, want a rejection described %q", out, err, want)
		}
	}
	failures := []string{
		`{"metadata":{},"metadata":{}}`,
		`{"metadata":{"client_name":"a","client_name":"b"}}`,
		`{"metadata":{"jwks":{"keys":[],"keys":[]}}}`,
		`{"metadata":{"x":[{"k":1,"k":2}]}}`,
		`{"metadata":{},"registration_policies":null}`,
		`{"metadata":null}`,
		`{"metadata":{}}` + "\x00",
		`{"metadata":{}}{}`,
		`{"error":"invalid_client_metadata","error_description":"` + strings.Repeat("x", 1025) + `"}`,
		`{"error":"invalid_client_metadata","error_description":"a\nb"}`,
		`{"error":"invalid_request"}`,
		`{"error":"invalid_client_metadata","metadata":{}}`,
	}
	for _, out := range failures {
		_, err := plugins.ParsePolicyOutput([]byte(out))
		var e *engine.Error
		if err == nil || errors.As(err, &e) {
			t.Errorf("%.80q: %v, want a failure", out, err)
		}
	}
	for _, out := range []string{" {\"metadata\":{}}\n", `{"metadata":{},"registration_policies":[]}`} {
		if _, err := plugins.ParsePolicyOutput([]byte(out)); err != nil {
			t.Errorf("%q: %v", out, err)
		}
	}
}

// TestEnvelopeAsABIMdSays: the host writes compact JSON; member names in
// its own spelling, values with the escapes they were written with, and
// <, >, &, U+2028 and U+2029 escaped; now as whole seconds.
func TestEnvelopeAsABIMdSays(t *testing.T) {
	in := &engine.PolicyInput{
		Phase: engine.PhaseRegister, Tenant: "acme", Policies: []string{"p"},
		Token: engine.TokenFacts{Kind: "none", Policies: []string{"p"}},
		Metadata: map[string]json.RawMessage{
			"x_<é>":       json.RawMessage(`"\u0041 \/ <b> \ud800"`),
			"client_name": json.RawMessage("[ 1.50e+3 ,\t\"\u2028\" ]"),
		},
	}
	doc, err := plugins.Envelope(engine.HookPolicy, time.Unix(1767225600, 999_000_000), in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"abi":1,"hook":"policy","now":1767225600,"phase":"register","tenant":"acme","metadata":{` +
		`"client_name":[1.50e+3,"\u2028"],"x_\u003cé\u003e":"\u0041 \/ \u003cb\u003e \ud800"},` +
		`"token":{"kind":"none","policies":["p"]},"request":{},"policies":["p"]}`
	if string(doc) != want {
		t.Errorf("the host writes\n%s\nwant\n%s", doc, want)
	}
}
