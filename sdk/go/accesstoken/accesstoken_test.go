package accesstoken

import (
	"strings"
	"testing"

	registrar "github.com/registrar-dev/registrar/sdk/go"
)

const input = `{"abi":1,"hook":"issue_access_token","now":1767225600,"tenant":"acme","client_id":"c1",` +
	`"metadata":{"token_endpoint_auth_method":"client_secret_basic","x_tier":"silver"},"grant_type":"client_credentials",` +
	`"auth_method":"client_secret_basic","requested_scope":null,"allowed_scope":["read","write"],"scope":["read","write"],` +
	`"resources":null,"audience":["https://registrar.example"],"lifetime":3600,"policies":["tiers"],"request":{"remote_ip":"203.0.113.7"},` +
	`"claims":{"org":"acme"},"config":{"audience":"https://api.example.com"}}`

func TestServe(t *testing.T) {
	defer hook.Reset()
	cases := []struct {
		name string
		fn   Func
		want string // "" for a failure
	}{
		{"no change", func(*registrar.AccessTokenInput) (*registrar.AccessTokenOutput, error) { return nil, nil }, `{}`},
		{"reads the input and narrows", func(in *registrar.AccessTokenInput) (*registrar.AccessTokenOutput, error) {
			tier, err := in.Metadata.String("x_tier")
			if err != nil || tier != "silver" || in.Lifetime != 3600 || in.ClientID != "c1" || in.AuthMethod != "client_secret_basic" || !in.Claims.Has("org") {
				t.Errorf("input %+v, %v", in, err)
			}
			claims := &registrar.Object{}
			claims.SetString("tier", tier)
			return &registrar.AccessTokenOutput{Scope: in.Scope[:1], Audience: []string{"https://api.example.com"}, Lifetime: 600, Claims: claims}, nil
		}, `{"scope":["read"],"audience":["https://api.example.com"],"lifetime":600,"claims":{"tier":"silver"}}`},
		{"empty scope", func(*registrar.AccessTokenInput) (*registrar.AccessTokenOutput, error) {
			return &registrar.AccessTokenOutput{Scope: []string{}}, nil
		}, `{"scope":[]}`},
		{"lifetime only", func(*registrar.AccessTokenInput) (*registrar.AccessTokenOutput, error) {
			return &registrar.AccessTokenOutput{Lifetime: 60}, nil
		}, `{"lifetime":60}`},
		{"denies", func(*registrar.AccessTokenInput) (*registrar.AccessTokenOutput, error) {
			return nil, registrar.Reject(registrar.AccessDenied, "no tier")
		}, `{"error":"access_denied","error_description":"no tier"}`},
		{"a registration code fails", func(*registrar.AccessTokenInput) (*registrar.AccessTokenOutput, error) {
			return nil, registrar.Reject(registrar.InvalidClientMetadata, "no")
		}, ""},
		{"a wider scope fails", func(*registrar.AccessTokenInput) (*registrar.AccessTokenOutput, error) {
			return &registrar.AccessTokenOutput{Scope: []string{"admin"}}, nil
		}, ""},
		{"a longer lifetime fails", func(*registrar.AccessTokenInput) (*registrar.AccessTokenOutput, error) {
			return &registrar.AccessTokenOutput{Lifetime: 3601}, nil
		}, ""},
		{"a reserved claim fails", func(*registrar.AccessTokenInput) (*registrar.AccessTokenOutput, error) {
			c := &registrar.Object{}
			c.SetString("sub", "x")
			return &registrar.AccessTokenOutput{Claims: c}, nil
		}, ""},
		{"an earlier module's claim fails", func(*registrar.AccessTokenInput) (*registrar.AccessTokenOutput, error) {
			c := &registrar.Object{}
			c.SetString("org", "x")
			return &registrar.AccessTokenOutput{Claims: c}, nil
		}, ""},
		{"too many claims fail", func(*registrar.AccessTokenInput) (*registrar.AccessTokenOutput, error) {
			c := &registrar.Object{}
			c.SetString("big", strings.Repeat("a", 4096))
			return &registrar.AccessTokenOutput{Claims: c}, nil
		}, ""},
		{"an empty audience fails", func(*registrar.AccessTokenInput) (*registrar.AccessTokenOutput, error) {
			return &registrar.AccessTokenOutput{Audience: []string{}}, nil
		}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hook.Reset()
			Handle(c.fn)
			out, err := hook.Run([]byte(input), nil)
			switch {
			case c.want == "" && err == nil:
				t.Errorf("got %s; want a failure", out)
			case c.want == "" && !strings.Contains(err.Error(), "the issue_access_token hook failed"):
				t.Errorf("failure %q does not name the hook", err)
			case c.want != "" && (err != nil || string(out) != c.want):
				t.Errorf("got %s, %v; want %s", out, err, c.want)
			}
		})
	}
}
