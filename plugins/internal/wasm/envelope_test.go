package wasm

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// FuzzPolicyEnvelope: the hand-written envelope of a policy input is the
// one encoding/json writes, byte for byte, and it takes on a plain
// registration.
func FuzzPolicyEnvelope(f *testing.F) {
	f.Add(`{"redirect_uris":["https://a.example/cb"],"jwks":{"keys":[{"kty":"EC"}]}}`, "acme", "p1", `{"hosts":["a"]}`, "203.0.113.7", true)
	f.Add(`{"client_name":"a<b","x":[1, 2],"y":null}`, "t\u00e9", "", ``, "", false)
	f.Add(`{"a":"\u2028","b\u0063":{"c":1,"c":2}}`, "t\"", "p<", `[1]`, "::1", true)
	f.Fuzz(func(t *testing.T, metadata, tenant, policy, config, ip string, withPolicies bool) {
		in := &engine.PolicyInput{Phase: engine.PhaseRegister, Tenant: tenant, Request: engine.RequestFacts{RemoteIP: ip},
			Token: engine.TokenFacts{Kind: "initial_access_token", ID: policy, Policies: []string{policy}}}
		if md, err := engine.DecodeObject([]byte(metadata)); err == nil {
			in.Metadata = md
		} else if json.Valid([]byte(metadata)) {
			in.Metadata = map[string]json.RawMessage{"raw": json.RawMessage(metadata), "nil": nil}
		}
		if json.Valid([]byte(config)) {
			in.Config = json.RawMessage(config)
		}
		if withPolicies {
			in.Policies = []string{policy, tenant}
		}
		now := time.Unix(1767225600, 0)
		want, err := envelopeJSON(engine.HookPolicy, now, in)
		if err != nil {
			t.Skip(err)
		}
		got, ok := appendPolicyInput(nil, now.Unix(), in)
		if ok && !bytes.Equal(got, want) {
			t.Fatalf("hand-written envelope\n%s\nencoding/json's\n%s", got, want)
		}
	})
}

// TestPolicyEnvelopeTakesRegistrations: a registration's input takes the
// hand-written path.
func TestPolicyEnvelopeTakesRegistrations(t *testing.T) {
	md, err := engine.DecodeObject([]byte(`{"redirect_uris": ["https://a.example/cb"], "client_name": "Shop"}`))
	if err != nil {
		t.Fatal(err)
	}
	in := &engine.PolicyInput{Phase: engine.PhaseRegister, Tenant: "acme", Metadata: md,
		Token: engine.TokenFacts{Kind: "none"}, Policies: []string{"p"}, Config: json.RawMessage(`{"hosts":["a.example"]}`)}
	got, ok := appendPolicyInput(nil, 1, in)
	want, err := envelopeJSON(engine.HookPolicy, time.Unix(1, 0), in)
	if !ok || err != nil || !bytes.Equal(got, want) {
		t.Fatalf("ok %v, err %v\n%s\n%s", ok, err, got, want)
	}
}
