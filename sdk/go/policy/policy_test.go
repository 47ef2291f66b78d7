package policy

import (
	"testing"

	registrar "github.com/registrar-dev/registrar/sdk/go"
)

func TestServe(t *testing.T) {
	defer hook.Reset()
	in := `{"abi":1,"hook":"policy","phase":"register","tenant":"t","metadata":{"client_name":"A","x":[1]}}`
	tests := []struct {
		name string
		fn   Func
		want string
	}{
		{"change", func(in *registrar.PolicyInput) (*registrar.PolicyOutput, error) {
			in.Metadata.Delete("x")
			in.Metadata.SetString("tenant", in.Tenant)
			return &registrar.PolicyOutput{Metadata: in.Metadata, RegistrationPolicies: []string{"a"}}, nil
		}, `{"metadata":{"client_name":"A","tenant":"t"},"registration_policies":["a"]}`},
		{"accept as is", func(*registrar.PolicyInput) (*registrar.PolicyOutput, error) { return nil, nil },
			`{"metadata":{"client_name":"A","x":[1]}}`},
		{"empty policy list", func(in *registrar.PolicyInput) (*registrar.PolicyOutput, error) {
			return &registrar.PolicyOutput{Metadata: in.Metadata, RegistrationPolicies: []string{}}, nil
		}, `{"metadata":{"client_name":"A","x":[1]},"registration_policies":[]}`},
		{"reject", func(*registrar.PolicyInput) (*registrar.PolicyOutput, error) {
			return nil, registrar.Reject(registrar.InvalidRedirectURI, "no")
		}, `{"error":"invalid_redirect_uri","error_description":"no"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hook.Reset()
			Handle(tt.fn)
			out, err := hook.Run([]byte(in), nil)
			if err != nil || string(out) != tt.want {
				t.Errorf("got %s, %v; want %s", out, err, tt.want)
			}
		})
	}
}

func TestHandleTwicePanics(t *testing.T) {
	defer hook.Reset()
	fn := func(*registrar.PolicyInput) (*registrar.PolicyOutput, error) { return nil, nil }
	Handle(fn)
	defer func() {
		if recover() == nil {
			t.Error("a second Handle did not panic")
		}
	}()
	Handle(fn)
}
