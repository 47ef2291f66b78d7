package registrar

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

const policyDoc = `{"abi":1,"hook":"policy","now":1767225600,"phase":"update","tenant":"acme",
 "client_id":"c1","policies":["trusted-hosts","x"],
 "token":{"kind":"registration_access_token","id":"abc","policies":["p"],"client_id":"c1"},
 "request":{"remote_ip":"203.0.113.7"},"config":{"hosts":["example.com"]},
 "metadata":{"redirect_uris":["https://a.example.com/cb"],"client_name":"A\u00e9","x":null},
 "current":{"client_name":"old"},"added_by_a_later_host":{"deep":[1,2,{"a":"b"}]}}`

func TestPolicyInputUnmarshal(t *testing.T) {
	var in PolicyInput
	if err := json.Unmarshal([]byte(policyDoc), &in); err != nil {
		t.Fatal(err)
	}
	if in.ABI != 1 || in.Hook != "policy" || in.Tenant != "acme" || in.Phase != PhaseUpdate || in.ClientID != "c1" {
		t.Errorf("envelope = %+v", in)
	}
	if !in.Now.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Now = %v", in.Now)
	}
	if want := (Token{Kind: "registration_access_token", ID: "abc", Policies: []string{"p"}, ClientID: "c1"}); !slices.Equal(in.Token.Policies, want.Policies) ||
		in.Token.Kind != want.Kind || in.Token.ID != want.ID || in.Token.ClientID != want.ClientID {
		t.Errorf("Token = %+v, want %+v", in.Token, want)
	}
	if in.Request.RemoteIP != "203.0.113.7" || !slices.Equal(in.Policies, []string{"trusted-hosts", "x"}) {
		t.Errorf("Request = %+v, Policies = %q", in.Request, in.Policies)
	}
	if string(in.Config) != `{"hosts":["example.com"]}` {
		t.Errorf("Config = %s", in.Config)
	}
	if name, err := in.Metadata.String("client_name"); name != "Aé" || err != nil {
		t.Errorf("client_name = %q, %v", name, err)
	}
	if name, _ := in.Current.String("client_name"); name != "old" {
		t.Errorf("current client_name = %q", name)
	}
	if got := string(in.Metadata.AppendJSON(nil)); got != `{"redirect_uris":["https://a.example.com/cb"],"client_name":"A\u00e9","x":null}` {
		t.Errorf("metadata written back as %s", got)
	}
}

func TestUnmarshalDoesNotAliasItsInput(t *testing.T) {
	doc := []byte(policyDoc)
	var in PolicyInput
	if err := in.UnmarshalJSON(doc); err != nil {
		t.Fatal(err)
	}
	for i := range doc {
		doc[i] = ' '
	}
	if in.Tenant != "acme" || in.Token.Policies[0] != "p" || !in.Metadata.Has("redirect_uris") {
		t.Errorf("decoded input changed with the document: %+v", in)
	}
}

func TestUnmarshalRefusesMalformedInput(t *testing.T) {
	for _, doc := range []string{
		``, `[]`, `{"metadata":[]}`, `{"tenant":1}`, `{"now":"1"}`, `{"token":{"policies":"p"}}`,
		`{"metadata":{}} x`, `{"metadata":{"a":}}`,
	} {
		var in PolicyInput
		if err := in.UnmarshalJSON([]byte(doc)); err == nil {
			t.Errorf("UnmarshalJSON(%s) = nil, want an error", doc)
		}
	}
	var in PolicyInput
	if err := in.UnmarshalJSON([]byte(`{"metadata":null,"token":null,"config":null,"current":null}`)); err != nil {
		t.Errorf("nulls: %v", err)
	}
	if in.Metadata != nil || in.Config != nil || in.Current != nil {
		t.Errorf("nulls decoded as %+v", in)
	}
}

func TestFactoryAndDecisionInput(t *testing.T) {
	var f FactoryInput
	if err := f.UnmarshalJSON([]byte(`{"abi":1,"hook":"id_factory","tenant":"t","metadata":{"application_type":"native"}}`)); err != nil {
		t.Fatal(err)
	}
	if f.Tenant != "t" || f.Hook != "id_factory" {
		t.Errorf("FactoryInput = %+v", f)
	}
	var d DecisionInput
	if err := d.UnmarshalJSON([]byte(`{"hook":"issue_registration_access_token","phase":"register","client_id":"c","metadata":{"application_type":"native"}}`)); err != nil {
		t.Fatal(err)
	}
	if app, _ := d.Metadata.String("application_type"); app != "native" || d.Phase != PhaseRegister || d.ClientID != "c" {
		t.Errorf("DecisionInput = %+v", d)
	}
}
