package jsontext

import "testing"

// BenchmarkReadRaw reads client metadata of typical shapes through skip,
// the decoder's hot path.
func BenchmarkReadRaw(b *testing.B) {
	doc := []byte(`{"redirect_uris":["https://a.example/cb","https://b.example/cb","https://c.example/cb"],` +
		`"client_name":"An app","grant_types":["authorization_code","refresh_token"],"token_endpoint_auth_method":"private_key_jwt",` +
		`"jwks":{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","use":"sig"}]},` +
		`"default_max_age":3600,"require_auth_time":true,"x":null,"n":[1.5e3,-0,2]}`)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		d := NewDecoder(doc)
		if _, err := d.ReadRaw(); err != nil {
			b.Fatal(err)
		}
	}
}
