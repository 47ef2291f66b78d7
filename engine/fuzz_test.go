package engine_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/idn"
	"github.com/registrar-dev/registrar/jose"
)

// fuzzSeeds are realistic and hostile request bodies.
func fuzzSeeds() []string {
	return []string{
		``, `{}`, `null`, `[]`, `"x"`, `1`, `{}{}`, `{"a":1,"a":2}`, "{\"a\":\"\xff\"}", `{"a":`,
		`{"a":{"b":1,"b":2}}`, `{"a":[` + strings.Repeat(`[`, 100) + strings.Repeat(`]`, 100) + `]}`,
		rp(),
		obj(`"grant_types":["client_credentials"]`, `"token_endpoint_auth_method":"client_secret_post"`),
		obj(`"response_types":[]`, `"grant_types":[]`),
		rp(`"response_types":["id_token code","code"]`, `"grant_types":["authorization_code","implicit","refresh_token"]`),
		rp(`"response_types":["none"]`),
		web([]string{"https://bücher.example:8443/cb?q=%41", "https://app\uff0eexample/cb"}, `"client_uri":"https://user@bücher.example/"`),
		web([]string{"https://app\u202eexample/cb"}),
		rp(`"logo_uri#de":"https://xn--appexample-726e/l.png"`, `"jwks_uri":"https://b%C3%BCcher.example/jwks"`),
		rp(`"grant_types":["implicit"]`),
		native([]string{"com.example.app:/cb", "http://127.0.0.1:5000/cb", "http://[::1]/cb", "http://localhost/cb"}),
		native([]string{"https://127.0.0.1/cb"}),
		web([]string{"http://localhost:3000/cb", "http://127.0.0.1/cb"}),
		web([]string{"https://localhost/cb"}, `"response_types":["id_token"]`),
		web([]string{"javascript:alert(1)", "data:,x", "file:///etc/passwd", "https://u:p@rp.example/", "https://rp.example/#"}),
		web([]string{" https://rp.example/cb", "https://rp.example/\u0000", "//rp.example", "/cb"}),
		rp(`"client_name":"App"`, `"client_name#ja-Jpan-JP":"アプリ"`, `"logo_uri#fr":"https://rp.example/l.png"`, `"client_name#":"x"`, `"scope#en":"x"`),
		rp(`"client_uri":"https://rp.example"`, `"logo_uri":"http://rp.example/l.png"`, `"policy_uri":"https://rp.example/p"`, `"tos_uri":"https://rp.example/t"`),
		rp(`"scope":"openid profile openid email offline_access"`, `"contacts":["ops@rp.example","ops@rp.example"]`),
		rp(`"token_endpoint_auth_method":"private_key_jwt"`, `"token_endpoint_auth_signing_alg":"ES256"`, `"jwks":`+jwks(rsaJWK, ecJWK, okpJWK)),
		rp(`"token_endpoint_auth_method":"self_signed_tls_client_auth"`, `"jwks_uri":"https://rp.example/jwks"`),
		rp(`"jwks":` + jwks(rsaPrivateJWK)), rp(`"jwks":` + jwks(octJWK)), rp(`"jwks":{"keys":[{"kty":"EC","kid":"<&>"}]}`),
		rp(`"jwks":{"keys":[{"kty":"OKP","crv":"Ed25519","x":"Z6jKOrq9goLOy-d9n53gcpzPxyBS8Pb36mYsiTrMnIE","kid":"\u2028<tag>&"}]}`),
		rp(`"token_endpoint_auth_method":"tls_client_auth"`, `"tls_client_auth_san_dns":"client.rp.example"`),
		rp(`"token_endpoint_auth_method":"tls_client_auth"`, `"tls_client_auth_subject_dn":"CN=a, O=b"`, `"tls_client_auth_san_ip":"::1"`),
		rp(`"id_token_signed_response_alg":"ES256"`, `"userinfo_signed_response_alg":"PS256"`, `"request_object_signing_alg":"EdDSA"`, `"jwks_uri":"https://rp.example/k"`),
		rp(`"software_id":"abc"`, `"software_version":"1"`, `"software_statement":"eyJ.eyJ.sig"`),
		web([]string{"https://a.rp.example/cb", "https://b.rp.example/cb"}, `"subject_type":"pairwise"`, `"sector_identifier_uri":"https://rp.example/s.json"`),
		web([]string{"https://rp.example/cb", "https://rp.example:8443/cb"}, `"subject_type":"pairwise"`),
		rp(`"default_max_age":0`, `"require_auth_time":true`, `"default_acr_values":["urn:acr:gold","urn:acr:gold"]`),
		rp(`"default_max_age":-0`, `"default_max_age_x":1e400`),
		rp(`"initiate_login_uri":"https://rp.example/login"`, `"request_uris":["https://rp.example/r#abc","https://rp.example/r"]`),
		rp(`"post_logout_redirect_uris":[]`, `"contacts":[]`, `"request_uris":[]`, `"default_acr_values":[]`),
		rp(`"tenant_ref":{"a":[1,2,{"b":"<>&\u2029"}]}`, `"tier":"x"`, `"x-label":5`, `"flags":null`),
		rp(`"client_id":"x"`, `"client_secret":"y"`, `"registration_access_token":"z"`, `"client_id_issued_at":1`),
		rp(`"redirect_uris":null`), rp(`"application_type":null`, `"scope":""`, `"jwks":null`),
		`{"redirect_uris":"https://rp.example/cb"}`, `{"redirect_uris":[1,true,null,{}]}`, `{"default_max_age":1.5}`,
		`{"__proto__":{"admin":true},"constructor":{"prototype":{}}}`,
		`{"redirect_uris":["https://rp.example/cb"],"client_name":"\ud800"}`,
	}
}

// fuzzSettings are the tenant settings each body is validated under.
var fuzzSettings = []engine.Settings{
	{},
	{
		WebLoopbackRedirectURIs: true,
		SubjectTypesSupported:   []string{"public", "pairwise"},
		ExtraClientMetadata:     []string{"tenant_ref", "flags", "tier", "x-label"},
		GrantTypesSupported:     []string{"authorization_code", "implicit", "refresh_token", "client_credentials", "password", "urn:ietf:params:oauth:grant-type:device_code"},
		ResponseTypesSupported:  []string{"code", "id_token", "code id_token", "token", "code token", "code id_token token", "id_token token", "none"},
	},
	{
		ScopesSupported:                   []string{"openid", "profile", "email"},
		ACRValuesSupported:                []string{"urn:acr:gold"},
		GrantTypesSupported:               []string{"client_credentials", "authorization_code"},
		ResponseTypesSupported:            []string{"code"},
		TokenEndpointAuthMethodsSupported: []string{"private_key_jwt", "none", "tls_client_auth"},
		SigningAlgValuesSupported:         []string{"ES256", "EdDSA"},
	},
}

// FuzzDecodeObject: DecodeObject never panics, refuses with invalid_request
// only, and accepts nothing that the standard decoder reads differently.
func FuzzDecodeObject(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		o, err := engine.DecodeObject(body)
		if err != nil {
			var e *engine.Error
			if !errors.As(err, &e) || e.Code != engine.CodeInvalidRequest {
				t.Fatalf("error %v: want an *engine.Error invalid_request", err)
			}
			if o != nil {
				t.Fatal("members returned with an error")
			}
			if json.Valid(body) && utf8.Valid(body) && bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) &&
				!strings.Contains(e.Description, "more than once") {
				t.Fatalf("valid JSON object refused: %v", err)
			}
			return
		}
		if !json.Valid(body) || !utf8.Valid(body) {
			t.Fatalf("accepted a body that is not valid UTF-8 JSON: %q", body)
		}
		var ref map[string]json.RawMessage
		if err := json.Unmarshal(body, &ref); err != nil {
			t.Fatalf("accepted a body that encoding/json refuses: %v", err)
		}
		if !reflect.DeepEqual(o, ref) && !(len(o) == 0 && len(ref) == 0) {
			t.Fatalf("members differ from encoding/json's\n got %v\nwant %v", o, ref)
		}
	})
}

// FuzzValidateMetadata: for any body and several tenants' settings,
// validation never panics, refuses only with an RFC 7591 metadata code, and
// accepts only metadata whose JSON form validates again to the same value
// and decodes back to it through Metadata.UnmarshalJSON.
func FuzzValidateMetadata(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkValidation(t, body)
	})
}

// FuzzValidateMember aims the same invariants at one member at a time:
// random bytes rarely form a JSON object, a random string in a well-formed
// one does. value is sent as a string, in an array, and as a redirect URI
// of a web and of a native client.
func FuzzValidateMember(f *testing.F) {
	for _, m := range append(stringMembers(), "redirect_uris", "post_logout_redirect_uris", "contacts", "request_uris",
		"default_acr_values", "grant_types", "response_types", "tenant_ref", "tier") {
		for _, v := range []string{"", "x", "https://rp.example/a#b", "http://localhost:8080/cb", "com.example.app:/cb",
			"ops@rp.example", "openid profile", "code id_token", "CN=a", "192.0.2.1", "<&>\u2028", "a b", "\u0000"} {
			f.Add(m, v)
		}
	}
	f.Fuzz(func(t *testing.T, member, value string) {
		if !utf8.ValidString(member) || !utf8.ValidString(value) {
			return
		}
		checkValidation(t, []byte(rp(q(member)+":"+q(value))))
		checkValidation(t, []byte(rp(q(member)+":"+strs(value, value))))
		checkValidation(t, []byte(web([]string{value})))
		checkValidation(t, []byte(native([]string{value}, `"post_logout_redirect_uris":`+strs(value))))
	})
}

// checkValidation validates body under each of fuzzSettings and checks the
// invariants.
func checkValidation(t *testing.T, body []byte) {
	t.Helper()
	o, err := engine.DecodeObject(body)
	if err != nil {
		return
	}
	codes := []engine.ErrorCode{icm, iru, iss}
	keys := jose.KeySetChecker{}
	for i, s := range fuzzSettings {
		md, err := engine.ValidateMetadata(s, o, keys, idn.Normalizer{})
		if err != nil {
			var e *engine.Error
			if !errors.As(err, &e) || !slices.Contains(engine.Codes, e.Code) {
				t.Fatalf("settings %d: error %v (%T) is not an *engine.Error with a known code", i, err, err)
			}
			if !slices.Contains(codes, e.Code) {
				t.Fatalf("settings %d: code %s, want one of %v", i, e.Code, codes)
			}
			if e.Description == "" {
				t.Fatalf("settings %d: empty description", i)
			}
			continue
		}
		b, err := json.Marshal(md)
		if err != nil {
			t.Fatalf("settings %d: marshal %+v: %v", i, md, err)
		}
		o2, err := engine.DecodeObject(b)
		if err != nil {
			t.Fatalf("settings %d: own JSON %s does not decode: %v", i, b, err)
		}
		again, err := engine.ValidateMetadata(s, o2, keys, idn.Normalizer{})
		if err != nil {
			t.Fatalf("settings %d: own JSON %s does not validate: %v\nbody %q", i, b, err, body)
		}
		if !reflect.DeepEqual(again, md) {
			t.Fatalf("settings %d: not idempotent\nfirst  %+v\nsecond %+v\njson %s", i, md, again, b)
		}
		var back engine.Metadata
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("settings %d: UnmarshalJSON(%s): %v", i, b, err)
		}
		if !reflect.DeepEqual(back, md) {
			t.Fatalf("settings %d: JSON round trip differs\n got %+v\nwant %+v\njson %s", i, back, md, b)
		}
	}
}
