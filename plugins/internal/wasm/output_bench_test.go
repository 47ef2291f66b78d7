package wasm

import "testing"

// BenchmarkPolicyOutput: reading a policy module's usual output, its
// metadata with the members of a registration (533 bytes).
func BenchmarkPolicyOutput(b *testing.B) {
	out := []byte(`{"metadata":{"redirect_uris":["https://app.example.com/cb","https://app.example.com/cb2"],"grant_types":["authorization_code","refresh_token"],"response_types":["code"],"contacts":["dev@example.com","ops@example.com"],"client_name":"Example application","token_endpoint_auth_method":"client_secret_basic","logo_uri":"https://app.example.com/logo.png","policy_uri":"https://app.example.com/policy","tos_uri":"https://app.example.com/tos","scope":"openid profile email","software_id":"4NRB1-0XZABZI9E6-5SM3R","software_version":"2.1"}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PolicyOutput(out); err != nil {
			b.Fatal(err)
		}
	}
}
