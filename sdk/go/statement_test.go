package registrar

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestPolicyInputSoftwareStatement(t *testing.T) {
	doc := `{"abi":1,"hook":"policy","now":1767225600,"phase":"register","tenant":"acme","metadata":{},
	 "software_statement":{"issuer":"https://directory.example","claims":{"iat":1767225500,"org_id":"org-\u0031",
	 "software_roles":["AISP","PISP"],"x":{"a":1}},"verified":true,"added_later":[1]}}`
	var in PolicyInput
	if err := json.Unmarshal([]byte(doc), &in); err != nil {
		t.Fatal(err)
	}
	s := in.SoftwareStatement
	if s == nil || s.Issuer != "https://directory.example" || !s.Verified {
		t.Fatalf("SoftwareStatement = %+v", s)
	}
	if org, err := s.Claims.String("org_id"); org != "org-1" || err != nil {
		t.Errorf("org_id = %q, %v", org, err)
	}
	if roles, err := s.Claims.StringSlice("software_roles"); !slices.Equal(roles, []string{"AISP", "PISP"}) || err != nil {
		t.Errorf("software_roles = %q, %v", roles, err)
	}
	if iat, err := s.Claims.Int64("iat"); iat != 1767225500 || err != nil {
		t.Errorf("iat = %d, %v", iat, err)
	}
	// A claim of another type is a rejection, as a metadata member's is.
	if _, err := s.Claims.String("software_roles"); err == nil {
		t.Error("software_roles read as a string")
	} else if r, ok := err.(*Rejection); !ok || r.Code != InvalidClientMetadata {
		t.Errorf("type error %v", err)
	}
}

func TestPolicyInputSoftwareStatementAbsent(t *testing.T) {
	for _, doc := range []string{
		`{"abi":1,"hook":"policy","phase":"register","metadata":{}}`,
		`{"abi":1,"hook":"policy","phase":"register","metadata":{},"software_statement":null}`,
	} {
		var in PolicyInput
		if err := json.Unmarshal([]byte(doc), &in); err != nil || in.SoftwareStatement != nil {
			t.Errorf("%s: %+v, %v", doc, in.SoftwareStatement, err)
		}
	}
	// Members that are absent or null read as empty, never as a nil
	// Claims; verified is only ever true when it says so.
	var in PolicyInput
	if err := json.Unmarshal([]byte(`{"abi":1,"hook":"policy","phase":"register","software_statement":{"claims":null,"verified":false}}`), &in); err != nil {
		t.Fatal(err)
	}
	if s := in.SoftwareStatement; s == nil || s.Claims == nil || s.Claims.Len() != 0 || s.Verified || s.Issuer != "" {
		t.Errorf("SoftwareStatement = %+v", s)
	}
	for _, doc := range []string{
		`{"abi":1,"hook":"policy","phase":"register","software_statement":[1]}`,
		`{"abi":1,"hook":"policy","phase":"register","software_statement":{"claims":[1]}}`,
		`{"abi":1,"hook":"policy","phase":"register","software_statement":{"verified":"yes"}}`,
		`{"abi":1,"hook":"policy","phase":"register","software_statement":{"issuer":5}}`,
	} {
		var in PolicyInput
		if err := json.Unmarshal([]byte(doc), &in); err == nil {
			t.Errorf("%s decoded: %+v", doc, in.SoftwareStatement)
		}
	}
}
