package guest

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	registrar "github.com/registrar-dev/registrar/sdk/go"
)

func TestRun(t *testing.T) {
	ok := func(in, out []byte) ([]byte, error) { return append(out, `{"decision":true}`...), nil }
	reject := func(in, out []byte) ([]byte, error) {
		return nil, registrar.Reject(registrar.InvalidRedirectURI, "bad \"uri\"\n")
	}
	wrapped := func(in, out []byte) ([]byte, error) {
		return nil, errors.Join(errors.New("context"), registrar.Reject(registrar.InvalidClientMetadata, ""))
	}
	badCode := func(in, out []byte) ([]byte, error) { return nil, registrar.Reject("invalid_request", "x") }
	broken := func(in, out []byte) ([]byte, error) { return nil, errors.New("config is missing") }

	tests := []struct {
		name    string
		h       Handler
		want    string
		failure string
	}{
		{"output", ok, `{"decision":true}`, ""},
		{"rejection", reject, `{"error":"invalid_redirect_uri","error_description":"bad \"uri\" "}`, ""},
		{"wrapped rejection without description", wrapped, `{"error":"invalid_client_metadata"}`, ""},
		{"unknown code", badCode, "", "not one of the RFC 7591 codes"},
		{"other error", broken, "", "the policy hook failed: config is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Run("policy", tt.h, []byte(`{}`), nil)
			if tt.failure != "" {
				var f *Failure
				if !errors.As(err, &f) || !strings.Contains(err.Error(), tt.failure) {
					t.Fatalf("Run = %s, %v; want a failure with %q", out, err, tt.failure)
				}
				return
			}
			if err != nil || string(out) != tt.want {
				t.Fatalf("Run = %s, %v; want %s", out, err, tt.want)
			}
		})
	}
}

func TestDescriptionIsMadeSafe(t *testing.T) {
	long := strings.Repeat("é", 600) // 1,200 bytes
	doc := AppendRejection(nil, &registrar.Rejection{Code: registrar.InvalidClientMetadata, Description: "a\x00b\x7f\u0085c\xff" + long})
	var got struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(doc, &got); err != nil {
		t.Fatalf("%s: %v", doc, err)
	}
	if len(got.Description) > maxDescription {
		t.Errorf("description is %d bytes", len(got.Description))
	}
	if !strings.HasPrefix(got.Description, "a b  c\ufffdé") || strings.ContainsFunc(got.Description, func(r rune) bool { return r < 0x20 || r == 0x7f || r == 0x85 }) {
		t.Errorf("description = %.40q", got.Description)
	}
	if !strings.HasSuffix(got.Description, "é") {
		t.Errorf("description was cut inside a character: %q", got.Description[len(got.Description)-4:])
	}
}

func TestValidClientIDAndSecret(t *testing.T) {
	for s, want := range map[string]bool{
		"acme-3f9a1c": true, "A.b_c~d-9": true, strings.Repeat("a", 128): true,
		"": false, strings.Repeat("a", 129): false, "a b": false, "a/b": false, "é": false,
	} {
		if got := ValidClientID(s); got != want {
			t.Errorf("ValidClientID(%q) = %v", s, got)
		}
	}
	for s, want := range map[string]bool{
		strings.Repeat("x", 32): true, strings.Repeat("!~", 256): true,
		strings.Repeat("x", 31): false, strings.Repeat("x", 513): false, strings.Repeat("x", 31) + " ": false,
		strings.Repeat("x", 31) + "é": false,
	} {
		if got := ValidClientSecret(s); got != want {
			t.Errorf("ValidClientSecret(%q) = %v", s, got)
		}
	}
}

func TestCheckHandled(t *testing.T) {
	saved := hooks
	defer func() { hooks = saved }()
	hooks = nil
	Register("policy", "policy", func() bool { return true })
	checkHandled()
	Register("rotate_registration_access_token", "rotatetoken", func() bool { return false })
	defer func() {
		msg, _ := recover().(string)
		if !strings.Contains(msg, "rotatetoken.Handle") {
			t.Errorf("checkHandled panicked with %q", msg)
		}
	}()
	checkHandled()
	t.Error("checkHandled did not panic for a hook without a handler")
}
