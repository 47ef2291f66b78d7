package engine_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/idn"
	"github.com/registrar-dev/registrar/jose"
)

// Public keys generated for these tests (RSA 2048, EC P-256, Ed25519), and
// the private exponent of the RSA key.
const (
	rsaN   = "nrxfZsUuCYifbxwBbCtDq0Qg8Csi1zfSLYQKr5ZEdPAgBSeZK6D4Bfom6gmk83XS6AeDWoIkqgcG98_FKpWdFy-0m6vpHHgy9w1QjY1rJD0EJPXqaWhAFxeisnCN8AaBP1tE_ahMM2LwQzNhxIiWLEBO6k_RClMTynfcfHXTt7hpIO6C1ZKKmnBNYHozGb84YawfX0_h46G-R9UnpVGos1OXyunZAIzJMNu_NzWuPbRkBYQbqjUh7cbfZEz526UXMDsVOGX9_r4PfPk8OSnUZz5RWukg1HEZ2_Nuru8enyn_nFtFZLmMDMAz0jz31YHQj8DClJs3MOJS1zu3DjzRHw"
	rsaD   = "GVZ4pKxz3qS2zQ27h7suODU4oW2ZSEu079FZwqZqCKqDH0ovWnX9ho1kJHaOpH1vFtzgJungQAhoIIAYo7qxvSTpykbk1R0LXEEoAGMNslalBeCqiXx7wn6M2Lk7sY_a618-bNOuT4OLANxqTkH-iqi8kA1WkQnVfmZR78dVGMhau64UR0A6Qyy7QnPsQ8CCkguF5EXSFA7JCC1f7XtGuONtyZHFvbCTF84PUaQN8vkN7rwpq19noUlrzH4IrONsvuyAqVN9Mj2DvGMSWYi-LEtJ61oZLVXrznk7TvLwhb5RrwQ8nUJb1rw73TddMyNt1-ASo330JC6_YGhJRzxOhQ"
	rsaJWK = `{"kty":"RSA","kid":"rsa-1","use":"sig","alg":"RS256","n":"` + rsaN + `","e":"AQAB"}`
	ecJWK  = `{"kty":"EC","kid":"ec-1","crv":"P-256","x":"4naqzmVbuBzlk15-XcBAM5RMgre-08WHq7Par5P5M58","y":"DNd1IdIvL-QWPpIS2KjIx-epWfrKlr3BP3OqYPE4i0Y"}`
	okpJWK = `{"kty":"OKP","kid":"ed-1","crv":"Ed25519","x":"Z6jKOrq9goLOy-d9n53gcpzPxyBS8Pb36mYsiTrMnIE"}`
	// rsaPrivateJWK carries "d": a private key, which must never be registered.
	rsaPrivateJWK = `{"kty":"RSA","n":"` + rsaN + `","e":"AQAB","d":"` + rsaD + `"}`
	octJWK        = `{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"}`
)

// jwks returns a JWK Set of the given keys.
func jwks(keys ...string) string { return `{"keys":[` + strings.Join(keys, ",") + `]}` }

// q returns s as a JSON string.
func q(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// obj joins members ("name":value pairs) into a JSON object.
func obj(members ...string) string { return "{" + strings.Join(members, ",") + "}" }

// rp is a web client with one https redirect URI plus members.
func rp(members ...string) string {
	return obj(append([]string{`"redirect_uris":["https://rp.example/cb"]`}, members...)...)
}

// web is a web client with the given redirect URIs plus members.
func web(uris []string, members ...string) string {
	return obj(append([]string{`"redirect_uris":` + strs(uris...)}, members...)...)
}

// native is a native client with the given redirect URIs plus members.
func native(uris []string, members ...string) string {
	return web(uris, append([]string{`"application_type":"native"`}, members...)...)
}

// strs returns a JSON array of strings.
func strs(ss ...string) string {
	b, err := json.Marshal(ss)
	if err != nil {
		panic(err)
	}
	if ss == nil {
		return "[]"
	}
	return string(b)
}

func validateBody(t *testing.T, s engine.Settings, body string) (engine.Metadata, error) {
	t.Helper()
	o, err := engine.DecodeObject([]byte(body))
	if err != nil {
		t.Fatalf("DecodeObject(%s): %v", body, err)
	}
	return engine.ValidateMetadata(s, o, jose.KeySetChecker{}, idn.Normalizer{})
}

// wantError fails unless err is an *engine.Error with the code whose
// description contains mention.
func wantError(t *testing.T, err error, code engine.ErrorCode, mention string) {
	t.Helper()
	var e *engine.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want an *engine.Error with code %s", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("code = %s (%q), want %s", e.Code, e.Description, code)
	}
	if !strings.Contains(e.Description, mention) {
		t.Fatalf("description %q does not name %q", e.Description, mention)
	}
}

// metadataObject returns md as a JSON object keyed by member name.
func metadataObject(t *testing.T, md engine.Metadata) map[string]json.RawMessage {
	t.Helper()
	b, err := json.Marshal(md)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

func eq(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

type metadataCase struct {
	name     string
	settings engine.Settings
	body     string
	// code is the expected error code; "" means the body is accepted.
	code engine.ErrorCode
	// mention must appear in the error description (the member's name).
	mention string
	// check inspects the accepted metadata.
	check func(t *testing.T, md engine.Metadata)
}

const (
	icm = engine.CodeInvalidClientMetadata
	iru = engine.CodeInvalidRedirectURI
	iss = engine.CodeInvalidSoftwareStatement
)

func runMetadataCases(t *testing.T, cases []metadataCase) {
	t.Helper()
	seen := map[string]bool{}
	for _, tc := range cases {
		if seen[tc.name] {
			t.Fatalf("duplicate case name %q", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			md, err := validateBody(t, tc.settings, tc.body)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("rejected: %v\nbody: %s", err, tc.body)
				}
				if tc.check != nil {
					tc.check(t, md)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want %s naming %q\nbody: %s", tc.code, tc.mention, tc.body)
			}
			if tc.mention == "" {
				t.Fatal("case has no mention")
			}
			wantError(t, err, tc.code, tc.mention)
		})
	}
}

// Settings used by several tables.
var (
	loopbackSettings = engine.Settings{WebLoopbackRedirectURIs: true}
	pairwiseSettings = engine.Settings{SubjectTypesSupported: []string{"public", "pairwise"}}
)

func TestValidateApplicationType(t *testing.T) {
	runMetadataCases(t, []metadataCase{
		{name: "default web", body: rp(), check: func(t *testing.T, md engine.Metadata) { eq(t, "application_type", md.ApplicationType, "web") }},
		{name: "web", body: rp(`"application_type":"web"`), check: func(t *testing.T, md engine.Metadata) { eq(t, "application_type", md.ApplicationType, "web") }},
		{name: "native", body: native([]string{"com.example.app:/cb"}), check: func(t *testing.T, md engine.Metadata) { eq(t, "application_type", md.ApplicationType, "native") }},
		{name: "unknown", body: rp(`"application_type":"desktop"`), code: icm, mention: "application_type"},
		{name: "case matters", body: rp(`"application_type":"Web"`), code: icm, mention: "application_type"},
	})
}

func TestValidateTokenEndpointAuthMethod(t *testing.T) {
	method := func(want string) func(*testing.T, engine.Metadata) {
		return func(t *testing.T, md engine.Metadata) {
			eq(t, "token_endpoint_auth_method", md.TokenEndpointAuthMethod, want)
		}
	}
	restricted := engine.Settings{TokenEndpointAuthMethodsSupported: []string{"private_key_jwt", "none"}}
	runMetadataCases(t, []metadataCase{
		{name: "default client_secret_basic", body: rp(), check: method("client_secret_basic")},
		{name: "client_secret_basic", body: rp(`"token_endpoint_auth_method":"client_secret_basic"`), check: method("client_secret_basic")},
		{name: "client_secret_post", body: rp(`"token_endpoint_auth_method":"client_secret_post"`), check: method("client_secret_post")},
		{name: "none", body: rp(`"token_endpoint_auth_method":"none"`), check: method("none")},
		{name: "private_key_jwt with jwks", body: rp(`"token_endpoint_auth_method":"private_key_jwt"`, `"jwks":`+jwks(ecJWK)), check: method("private_key_jwt")},
		{name: "tls_client_auth", body: rp(`"token_endpoint_auth_method":"tls_client_auth"`, `"tls_client_auth_san_dns":"client.example"`), check: method("tls_client_auth")},
		{name: "self_signed_tls_client_auth", body: rp(`"token_endpoint_auth_method":"self_signed_tls_client_auth"`, `"jwks_uri":"https://rp.example/jwks"`), check: method("self_signed_tls_client_auth")},
		{name: "client_secret_jwt refused", body: rp(`"token_endpoint_auth_method":"client_secret_jwt"`), code: icm, mention: "token_endpoint_auth_method"},
		{name: "unknown", body: rp(`"token_endpoint_auth_method":"magic"`), code: icm, mention: "token_endpoint_auth_method"},
		{name: "not offered by tenant", settings: restricted, body: rp(`"token_endpoint_auth_method":"client_secret_post"`), code: icm, mention: "token_endpoint_auth_method"},
		{name: "offered by tenant", settings: restricted, body: rp(`"token_endpoint_auth_method":"none"`), check: method("none")},
		// The RFC 7591 default must not slip past a tenant that does not offer it.
		{name: "default not offered by tenant", settings: restricted, body: rp(), code: icm, mention: "token_endpoint_auth_method"},
	})
}

func TestValidateResponseAndGrantTypes(t *testing.T) {
	types := func(rts, gts []string) func(*testing.T, engine.Metadata) {
		return func(t *testing.T, md engine.Metadata) {
			eq(t, "response_types", md.ResponseTypes, rts)
			eq(t, "grant_types", md.GrantTypes, gts)
		}
	}
	runMetadataCases(t, []metadataCase{
		{name: "both absent", body: rp(), check: types([]string{"code"}, []string{"authorization_code"})},
		{name: "both null", body: rp(`"response_types":null`, `"grant_types":null`), check: types([]string{"code"}, []string{"authorization_code"})},
		{name: "code explicit", body: rp(`"response_types":["code"]`, `"grant_types":["authorization_code","refresh_token"]`), check: types([]string{"code"}, []string{"authorization_code", "refresh_token"})},
		{name: "normalised", body: rp(`"response_types":["id_token code"]`), check: types([]string{"code id_token"}, []string{"authorization_code", "implicit"})},
		{name: "repeated token in one type", body: rp(`"response_types":["code id_token code"]`), check: types([]string{"code id_token"}, []string{"authorization_code", "implicit"})},
		{name: "deduplicated after normalising", body: rp(`"response_types":["code id_token","id_token code","code","code"]`), check: types([]string{"code id_token", "code"}, []string{"authorization_code", "implicit"})},
		{name: "id_token derives implicit", body: rp(`"response_types":["id_token"]`), check: types([]string{"id_token"}, []string{"implicit"})},
		{name: "none", body: rp(`"response_types":["none"]`), check: types([]string{"none"}, []string{})},
		{name: "none needs redirect_uris", body: obj(`"response_types":["none"]`), code: iru, mention: "redirect_uris"},
		// RFC 7591 §2 defaults only an omitted member: an empty list that
		// leaves the client nothing to use is refused, not widened.
		{name: "empty grant_types", body: rp(`"grant_types":[]`), code: icm, mention: "grant_types"},
		{name: "empty grant_types and response_types", body: obj(`"response_types":[]`, `"grant_types":[]`), code: icm, mention: "grant_types"},
		{name: "empty response_types", body: obj(`"response_types":[]`), code: icm, mention: "grant_types"},
		{name: "empty grant_types with none", body: rp(`"response_types":["none"]`, `"grant_types":[]`), check: types([]string{"none"}, []string{})},
		{name: "client_credentials only", body: obj(`"grant_types":["client_credentials"]`), check: func(t *testing.T, md engine.Metadata) {
			types([]string{}, []string{"client_credentials"})(t, md)
			eq(t, "redirect_uris", md.RedirectURIs, []string{})
		}},
		{name: "grant_types derive code", body: rp(`"grant_types":["authorization_code","refresh_token"]`), check: types([]string{"code"}, []string{"authorization_code", "refresh_token"})},
		{name: "grant_types deduplicated", body: rp(`"grant_types":["authorization_code","authorization_code"]`), check: types([]string{"code"}, []string{"authorization_code"})},
		{name: "implicit without response_types", body: rp(`"grant_types":["implicit"]`), code: icm, mention: "response_types"},
		{name: "code without authorization_code", body: rp(`"response_types":["code"]`, `"grant_types":["implicit"]`), code: icm, mention: "grant_types authorization_code"},
		{name: "id_token without implicit", body: rp(`"response_types":["id_token"]`, `"grant_types":["authorization_code"]`), code: icm, mention: "grant_types implicit"},
		{name: "client_credentials for a public client", body: obj(`"grant_types":["client_credentials"]`, `"token_endpoint_auth_method":"none"`), code: icm, mention: "client_credentials"},
		{name: "client_credentials with private_key_jwt", body: obj(`"grant_types":["client_credentials"]`, `"token_endpoint_auth_method":"private_key_jwt"`, `"jwks_uri":"https://rp.example/jwks"`), check: types([]string{}, []string{"client_credentials"})},
		{name: "code with client_credentials", body: rp(`"response_types":["code"]`, `"grant_types":["client_credentials"]`), code: icm, mention: "grant_types authorization_code"},
		{name: "authorization_code without code", body: rp(`"response_types":[]`, `"grant_types":["authorization_code"]`), code: icm, mention: "grant_types authorization_code"},
		{name: "implicit without token", body: rp(`"response_types":["code"]`, `"grant_types":["authorization_code","implicit"]`), code: icm, mention: "grant_types implicit"},
		{name: "token not offered", body: rp(`"response_types":["token"]`), code: icm, mention: "response_types"},
		{name: "unknown response type", body: rp(`"response_types":["magic"]`), code: icm, mention: "response_types"},
		{name: "none combined", body: rp(`"response_types":["code none"]`), code: icm, mention: "response_types"},
		{name: "double space", body: rp(`"response_types":["code  id_token"]`), code: icm, mention: "response_types"},
		{name: "leading space", body: rp(`"response_types":[" code"]`), code: icm, mention: "response_types"},
		{name: "unknown grant type", body: rp(`"grant_types":["magic"]`), code: icm, mention: "grant_types"},
		{name: "password not offered by default", body: obj(`"grant_types":["password"]`), code: icm, mention: "grant_types"},
		{name: "password offered", settings: engine.Settings{GrantTypesSupported: []string{"password"}}, body: obj(`"grant_types":["password"]`), check: types([]string{}, []string{"password"})},
		{name: "derived default not offered", settings: engine.Settings{GrantTypesSupported: []string{"client_credentials"}}, body: rp(), code: icm, mention: "grant_types"},
		{name: "derived implicit not offered", settings: engine.Settings{GrantTypesSupported: []string{"authorization_code"}}, body: rp(`"response_types":["code id_token"]`), code: icm, mention: "grant_types"},
		{name: "response type not offered by tenant", settings: engine.Settings{ResponseTypesSupported: []string{"code"}}, body: rp(`"response_types":["id_token"]`), code: icm, mention: "response_types"},
		{name: "tenant list normalised", settings: engine.Settings{ResponseTypesSupported: []string{"id_token code"}}, body: rp(`"response_types":["code id_token"]`), check: types([]string{"code id_token"}, []string{"authorization_code", "implicit"})},
	})
}

func TestValidateRedirectURIs(t *testing.T) {
	one := func(u string) []string { return []string{u} }
	uris := func(want ...string) func(*testing.T, engine.Metadata) {
		if want == nil {
			want = []string{} // always present, if empty
		}
		return func(t *testing.T, md engine.Metadata) { eq(t, "redirect_uris", md.RedirectURIs, want) }
	}
	implicit := `"response_types":["id_token"]`
	long := "https://rp.example/" + strings.Repeat("a", 2048)
	cases := []metadataCase{
		{name: "web https", body: web(one("https://rp.example/cb")), check: uris("https://rp.example/cb")},
		{name: "web https port query", body: web(one("https://rp.example:8443/cb?x=1")), check: uris("https://rp.example:8443/cb?x=1")},
		{name: "kept verbatim", body: web(one("HTTPS://RP.example/cb")), check: uris("HTTPS://RP.example/cb")},
		{name: "deduplicated", body: web([]string{"https://rp.example/a", "https://rp.example/b", "https://rp.example/a"}), check: uris("https://rp.example/a", "https://rp.example/b")},
		{name: "relative path", body: web(one("/cb")), code: iru, mention: "redirect_uris"},
		{name: "relative", body: web(one("cb")), code: iru, mention: "redirect_uris"},
		{name: "scheme-relative", body: web(one("//rp.example/cb")), code: iru, mention: "redirect_uris"},
		{name: "fragment", body: web(one("https://rp.example/cb#frag")), code: iru, mention: "redirect_uris"},
		{name: "empty fragment", body: web(one("https://rp.example/cb#")), code: iru, mention: "redirect_uris"},
		{name: "native fragment", body: native(one("com.example.app:/cb#x")), code: iru, mention: "redirect_uris"},
		{name: "leading space", body: web(one(" https://rp.example/cb")), code: iru, mention: "redirect_uris"},
		{name: "trailing space", body: web(one("https://rp.example/cb ")), code: iru, mention: "redirect_uris"},
		{name: "inner space", body: web(one("https://rp.example/c b")), code: iru, mention: "redirect_uris"},
		{name: "tab", body: web(one("https://rp.example/\tcb")), code: iru, mention: "redirect_uris"},
		{name: "newline", body: web(one("https://rp.example/cb\n")), code: iru, mention: "redirect_uris"},
		{name: "control character", body: web(one("https://rp.example/\u0007")), code: iru, mention: "redirect_uris"},
		{name: "C1 control character", body: web(one("https://rp.example/\u0085")), code: iru, mention: "redirect_uris"},
		{name: "userinfo", body: web(one("https://user:pw@rp.example/cb")), code: iru, mention: "redirect_uris"},
		{name: "user only", body: web(one("https://user@rp.example/cb")), code: iru, mention: "redirect_uris"},
		{name: "no host", body: web(one("https:///cb")), code: iru, mention: "redirect_uris"},
		{name: "invalid port", body: web(one("https://rp.example:port/cb")), code: iru, mention: "redirect_uris"},
		{name: "too long", body: web(one(long)), code: iru, mention: "redirect_uris"},
		{name: "one bad among good", body: web([]string{"https://rp.example/cb", "http://rp.example/cb"}), code: iru, mention: "redirect_uris"},

		{name: "web http loopback refused by default", body: web(one("http://127.0.0.1:8080/cb")), code: iru, mention: "redirect_uris"},
		{name: "web http localhost refused by default", body: web(one("http://localhost/cb")), code: iru, mention: "redirect_uris"},
		{name: "web http loopback allowed", settings: loopbackSettings, body: web(one("http://127.0.0.1:8080/cb")), check: uris("http://127.0.0.1:8080/cb")},
		{name: "web http localhost allowed", settings: loopbackSettings, body: web(one("http://localhost:3000/cb")), check: uris("http://localhost:3000/cb")},
		{name: "web http ipv6 loopback allowed", settings: loopbackSettings, body: web(one("http://[::1]:3000/cb")), check: uris("http://[::1]:3000/cb")},
		{name: "web http 127/8 allowed", settings: loopbackSettings, body: web(one("http://127.1.2.3/cb")), check: uris("http://127.1.2.3/cb")},
		{name: "web http non-loopback refused even when loopback allowed", settings: loopbackSettings, body: web(one("http://rp.example/cb")), code: iru, mention: "redirect_uris"},
		{name: "web http localhost lookalike refused", settings: loopbackSettings, body: web(one("http://localhost.evil.example/cb")), code: iru, mention: "redirect_uris"},
		{name: "web http", body: web(one("http://rp.example/cb")), code: iru, mention: "redirect_uris"},
		{name: "web custom scheme", body: web(one("com.example.app:/cb")), code: iru, mention: "redirect_uris"},
		{name: "web implicit https", body: web(one("https://rp.example/cb"), implicit), check: uris("https://rp.example/cb")},
		{name: "web implicit https localhost", body: web(one("https://localhost/cb"), implicit), code: iru, mention: "redirect_uris"},
		{name: "web implicit https 127.0.0.1", body: web(one("https://127.0.0.1/cb"), implicit), code: iru, mention: "redirect_uris"},
		{name: "web implicit http localhost even when loopback allowed", settings: loopbackSettings, body: web(one("http://localhost/cb"), implicit), code: iru, mention: "redirect_uris"},
		{name: "web https localhost without implicit", body: web(one("https://localhost/cb")), check: uris("https://localhost/cb")},

		{name: "native custom scheme", body: native(one("com.example.app:/oauth2redirect")), check: uris("com.example.app:/oauth2redirect")},
		{name: "native custom scheme with authority", body: native(one("com.example.app://callback")), check: uris("com.example.app://callback")},
		{name: "native http 127.0.0.1", body: native(one("http://127.0.0.1:51004/cb")), check: uris("http://127.0.0.1:51004/cb")},
		{name: "native http ipv6 loopback", body: native(one("http://[::1]:51004/cb")), check: uris("http://[::1]:51004/cb")},
		{name: "native http localhost", body: native(one("http://localhost/cb")), check: uris("http://localhost/cb")},
		{name: "native http non-loopback", body: native(one("http://rp.example/cb")), code: iru, mention: "redirect_uris"},
		{name: "native http no host", body: native(one("http:/cb")), code: iru, mention: "redirect_uris"},
		{name: "native https loopback", body: native(one("https://127.0.0.1/cb")), code: iru, mention: "redirect_uris"},
		{name: "native https localhost", body: native(one("https://localhost/cb")), code: iru, mention: "redirect_uris"},
		{name: "native https claimed", body: native(one("https://app.example/cb")), check: uris("https://app.example/cb")},
		{name: "native implicit http loopback", body: native(one("http://127.0.0.1/cb"), implicit), check: uris("http://127.0.0.1/cb")},

		{name: "required for code", body: obj(), code: iru, mention: "redirect_uris"},
		{name: "required: null", body: obj(`"redirect_uris":null`), code: iru, mention: "redirect_uris"},
		{name: "required: empty", body: obj(`"redirect_uris":[]`), code: iru, mention: "redirect_uris"},
		{name: "required for implicit", body: obj(implicit), code: iru, mention: "redirect_uris"},
		{name: "not required without response types", body: obj(`"response_types":[]`, `"grant_types":["client_credentials"]`), check: uris()},
		{name: "allowed without response types", body: web(one("https://rp.example/cb"), `"grant_types":["client_credentials"]`), check: uris("https://rp.example/cb")},
		{name: "not an array", body: obj(`"redirect_uris":"https://rp.example/cb"`), code: iru, mention: "redirect_uris"},
		{name: "number element", body: obj(`"redirect_uris":[1]`), code: iru, mention: "redirect_uris"},
		{name: "empty element", body: obj(`"redirect_uris":[""]`), code: iru, mention: "redirect_uris"},
		{name: "null element", body: obj(`"redirect_uris":["https://rp.example/cb",null]`), code: iru, mention: "redirect_uris"},
		{name: "object", body: obj(`"redirect_uris":{}`), code: iru, mention: "redirect_uris"},
	}
	for _, u := range []string{
		"javascript:alert(1)", "JavaScript:alert(1)", "javascript://rp.example/%0Aalert(1)",
		"vbscript:msgbox(1)", "data:text/html,<script>alert(1)</script>", "data:,x",
		"file:///etc/passwd", "blob:https://rp.example/0c3c", "about:blank", "filesystem:https://rp.example/temporary/x",
	} {
		cases = append(cases,
			metadataCase{name: "web forbidden scheme " + u, body: web(one(u)), code: iru, mention: "redirect_uris"},
			metadataCase{name: "native forbidden scheme " + u, body: native(one(u)), code: iru, mention: "redirect_uris"},
		)
	}
	runMetadataCases(t, cases)
}

func TestValidatePostLogoutRedirectURIs(t *testing.T) {
	plr := func(uris ...string) string { return `"post_logout_redirect_uris":` + strs(uris...) }
	runMetadataCases(t, []metadataCase{
		{name: "web https", body: rp(plr("https://rp.example/bye")), check: func(t *testing.T, md engine.Metadata) {
			eq(t, "post_logout_redirect_uris", md.PostLogoutRedirectURIs, []string{"https://rp.example/bye"})
		}},
		{name: "deduplicated", body: rp(plr("https://rp.example/bye", "https://rp.example/bye")), check: func(t *testing.T, md engine.Metadata) {
			eq(t, "post_logout_redirect_uris", md.PostLogoutRedirectURIs, []string{"https://rp.example/bye"})
		}},
		{name: "empty array is absent", body: rp(plr()), check: func(t *testing.T, md engine.Metadata) {
			eq(t, "post_logout_redirect_uris", md.PostLogoutRedirectURIs, []string(nil))
		}},
		{name: "native custom scheme", body: native([]string{"com.example.app:/cb"}, plr("com.example.app:/bye")), check: func(t *testing.T, md engine.Metadata) {
			eq(t, "post_logout_redirect_uris", md.PostLogoutRedirectURIs, []string{"com.example.app:/bye"})
		}},
		{name: "web loopback allowed", settings: loopbackSettings, body: rp(plr("http://localhost/bye")), check: func(t *testing.T, md engine.Metadata) {
			eq(t, "post_logout_redirect_uris", md.PostLogoutRedirectURIs, []string{"http://localhost/bye"})
		}},
		{name: "fragment", body: rp(plr("https://rp.example/bye#x")), code: icm, mention: "post_logout_redirect_uris"},
		{name: "empty fragment", body: rp(plr("https://rp.example/bye#")), code: icm, mention: "post_logout_redirect_uris"},
		{name: "relative", body: rp(plr("/bye")), code: icm, mention: "post_logout_redirect_uris"},
		{name: "javascript", body: rp(plr("javascript:alert(1)")), code: icm, mention: "post_logout_redirect_uris"},
		{name: "web http", body: rp(plr("http://rp.example/bye")), code: icm, mention: "post_logout_redirect_uris"},
		{name: "web http loopback by default", body: rp(plr("http://127.0.0.1/bye")), code: icm, mention: "post_logout_redirect_uris"},
		{name: "web custom scheme", body: rp(plr("com.example.app:/bye")), code: icm, mention: "post_logout_redirect_uris"},
		{name: "native https loopback", body: native([]string{"com.example.app:/cb"}, plr("https://localhost/bye")), code: icm, mention: "post_logout_redirect_uris"},
		{name: "userinfo", body: rp(plr("https://u@rp.example/bye")), code: icm, mention: "post_logout_redirect_uris"},
		{name: "whitespace", body: rp(plr("https://rp.example/ bye")), code: icm, mention: "post_logout_redirect_uris"},
		{name: "not an array", body: rp(`"post_logout_redirect_uris":"https://rp.example/bye"`), code: icm, mention: "post_logout_redirect_uris"},
		{name: "empty element", body: rp(`"post_logout_redirect_uris":[""]`), code: icm, mention: "post_logout_redirect_uris"},
	})
}

func TestValidateHumanReadable(t *testing.T) {
	cases := []metadataCase{
		{name: "client_name", body: rp(`"client_name":"My App – ünïcode"`), check: func(t *testing.T, md engine.Metadata) {
			eq(t, "client_name", md.ClientName, "My App – ünïcode")
		}},
		{name: "client_name control character", body: rp(`"client_name":"a\u0001b"`), code: icm, mention: "client_name"},
		{name: "client_name newline", body: rp(`"client_name":"a\nb"`), code: icm, mention: "client_name"},
		{name: "client_name leading space", body: rp(`"client_name":" app"`), code: icm, mention: "client_name"},
		{name: "client_name only spaces", body: rp(`"client_name":"   "`), code: icm, mention: "client_name"},
		{name: "localized kept", body: rp(`"client_name":"App"`, `"client_name#ja-Jpan-JP":"アプリ"`, `"client_name#en":"App"`), check: func(t *testing.T, md engine.Metadata) {
			eq(t, "client_name", md.ClientName, "App")
			eq(t, "Localized", md.Localized, map[string]string{"client_name#ja-Jpan-JP": "アプリ", "client_name#en": "App"})
			eq(t, "Extra", md.Extra, map[string]json.RawMessage(nil))
		}},
		{name: "localized without base", body: rp(`"tos_uri#de":"https://rp.example/agb"`), check: func(t *testing.T, md engine.Metadata) {
			eq(t, "tos_uri", md.TOSURI, "")
			eq(t, "Localized", md.Localized, map[string]string{"tos_uri#de": "https://rp.example/agb"})
		}},
		{name: "localized null dropped", body: rp(`"client_name#en":null`), check: func(t *testing.T, md engine.Metadata) {
			eq(t, "Localized", md.Localized, map[string]string(nil))
		}},
		{name: "localized empty dropped", body: rp(`"client_name#en":""`), check: func(t *testing.T, md engine.Metadata) {
			eq(t, "Localized", md.Localized, map[string]string(nil))
		}},
		{name: "localized empty tag", body: rp(`"client_name#":"x"`), code: icm, mention: "client_name"},
		{name: "localized tag with space", body: rp(`"client_name#en US":"x"`), code: icm, mention: "client_name"},
		{name: "localized tag trailing hyphen", body: rp(`"client_name#en-":"x"`), code: icm, mention: "client_name"},
		{name: "localized tag too long subtag", body: rp(`"client_name#abcdefghi":"x"`), code: icm, mention: "client_name"},
		{name: "localized tag starts with digit", body: rp(`"client_name#1en":"x"`), code: icm, mention: "client_name"},
		{name: "localized control character", body: rp(`"client_name#en":"a\u0000"`), code: icm, mention: "client_name#en"},
		{name: "localized number", body: rp(`"client_name#en":5`), code: icm, mention: "client_name#en"},
		{name: "localized uri bad", body: rp(`"logo_uri#fr":"ftp://rp.example/logo.png"`), code: icm, mention: "logo_uri#fr"},
		{name: "localized uri good", body: rp(`"logo_uri#fr":"https://rp.example/logo-fr.png"`), check: func(t *testing.T, md engine.Metadata) {
			eq(t, "Localized", md.Localized, map[string]string{"logo_uri#fr": "https://rp.example/logo-fr.png"})
		}},
		{name: "tagged non-localizable dropped", body: rp(`"scope#en":"openid"`, `"redirect_uris#en":5`, `"contacts#fr":["x"]`), check: func(t *testing.T, md engine.Metadata) {
			eq(t, "Localized", md.Localized, map[string]string(nil))
			eq(t, "Extra", md.Extra, map[string]json.RawMessage(nil))
			eq(t, "scope", md.Scope, "")
		}},
	}
	for _, m := range []string{"client_uri", "logo_uri", "policy_uri", "tos_uri"} {
		get := func(md engine.Metadata) string {
			return map[string]string{"client_uri": md.ClientURI, "logo_uri": md.LogoURI, "policy_uri": md.PolicyURI, "tos_uri": md.TOSURI}[m]
		}
		for _, good := range []string{"https://rp.example/" + m, "http://rp.example/" + m} {
			cases = append(cases, metadataCase{name: m + " " + good, body: rp(`"` + m + `":` + q(good)), check: func(t *testing.T, md engine.Metadata) {
				eq(t, m, get(md), good)
			}})
		}
		for i, bad := range []string{"ftp://rp.example/x", "javascript:alert(1)", "data:image/png;base64,AAAA", "/relative", "https://rp.example/x#f", "https://", "https://u:p@rp.example/", "https://rp.example/a b", "rp.example"} {
			cases = append(cases, metadataCase{name: m + " bad " + string(rune('a'+i)) + " " + bad, body: rp(`"` + m + `":` + q(bad)), code: icm, mention: m})
		}
	}
	runMetadataCases(t, cases)
}

func TestValidateScope(t *testing.T) {
	scope := func(want string) func(*testing.T, engine.Metadata) {
		return func(t *testing.T, md engine.Metadata) { eq(t, "scope", md.Scope, want) }
	}
	bounded := engine.Settings{ScopesSupported: []string{"openid", "profile", "email"}}
	runMetadataCases(t, []metadataCase{
		{name: "tokens", body: rp(`"scope":"openid profile urn:example:read"`), check: scope("openid profile urn:example:read")},
		{name: "deduplicated", body: rp(`"scope":"openid profile openid"`), check: scope("openid profile")},
		{name: "printable ASCII", body: rp(`"scope":"a!#$%&'()*+,-./:;<=>?@[]^_` + "`" + `{|}~"`), check: scope("a!#$%&'()*+,-./:;<=>?@[]^_`{|}~")},
		{name: "double space", body: rp(`"scope":"openid  profile"`), code: icm, mention: "scope"},
		{name: "leading space", body: rp(`"scope":" openid"`), code: icm, mention: "scope"},
		{name: "trailing space", body: rp(`"scope":"openid "`), code: icm, mention: "scope"},
		{name: "tab", body: rp(`"scope":"openid\tprofile"`), code: icm, mention: "scope"},
		{name: "quote", body: rp(`"scope":"a\"b"`), code: icm, mention: "scope"},
		{name: "backslash", body: rp(`"scope":"a\\b"`), code: icm, mention: "scope"},
		{name: "non-ASCII", body: rp(`"scope":"écrire"`), code: icm, mention: "scope"},
		{name: "array", body: rp(`"scope":["openid"]`), code: icm, mention: "scope"},
		{name: "supported subset", settings: bounded, body: rp(`"scope":"openid email"`), check: scope("openid email")},
		{name: "unsupported", settings: bounded, body: rp(`"scope":"openid admin"`), code: icm, mention: "scope"},
	})
}

func TestValidateContacts(t *testing.T) {
	contacts := func(want ...string) func(*testing.T, engine.Metadata) {
		return func(t *testing.T, md engine.Metadata) { eq(t, "contacts", md.Contacts, want) }
	}
	runMetadataCases(t, []metadataCase{
		{name: "e-mails", body: rp(`"contacts":["ops@rp.example","a.b+c@sub.rp.example"]`), check: contacts("ops@rp.example", "a.b+c@sub.rp.example")},
		{name: "deduplicated", body: rp(`"contacts":["ops@rp.example","ops@rp.example"]`), check: contacts("ops@rp.example")},
		{name: "empty array is absent", body: rp(`"contacts":[]`), check: func(t *testing.T, md engine.Metadata) { eq(t, "contacts", md.Contacts, []string(nil)) }},
		{name: "not an e-mail", body: rp(`"contacts":["ops"]`), code: icm, mention: "contacts"},
		{name: "display name", body: rp(`"contacts":["Ops <ops@rp.example>"]`), code: icm, mention: "contacts"},
		{name: "angle brackets", body: rp(`"contacts":["<ops@rp.example>"]`), code: icm, mention: "contacts"},
		{name: "two addresses", body: rp(`"contacts":["a@rp.example, b@rp.example"]`), code: icm, mention: "contacts"},
		{name: "string", body: rp(`"contacts":"ops@rp.example"`), code: icm, mention: "contacts"},
		{name: "empty element", body: rp(`"contacts":[""]`), code: icm, mention: "contacts"},
	})
}

func TestValidateKeys(t *testing.T) {
	keys := func(uri, set string) func(*testing.T, engine.Metadata) {
		return func(t *testing.T, md engine.Metadata) {
			eq(t, "jwks_uri", md.JWKSURI, uri)
			eq(t, "jwks", string(md.JWKS), set)
		}
	}
	pkj := `"token_endpoint_auth_method":"private_key_jwt"`
	runMetadataCases(t, []metadataCase{
		{name: "jwks_uri", body: rp(`"jwks_uri":"https://rp.example/jwks.json"`), check: keys("https://rp.example/jwks.json", "")},
		{name: "jwks_uri http", body: rp(`"jwks_uri":"http://rp.example/jwks.json"`), code: icm, mention: "jwks_uri"},
		{name: "jwks_uri fragment", body: rp(`"jwks_uri":"https://rp.example/jwks.json#k"`), code: icm, mention: "jwks_uri"},
		{name: "jwks_uri relative", body: rp(`"jwks_uri":"/jwks.json"`), code: icm, mention: "jwks_uri"},
		{name: "jwks_uri empty is absent", body: rp(`"jwks_uri":""`), check: keys("", "")},
		{name: "jwks rsa", body: rp(`"jwks":` + jwks(rsaJWK)), check: keys("", jwks(rsaJWK))},
		{name: "jwks ec", body: rp(`"jwks":` + jwks(ecJWK)), check: keys("", jwks(ecJWK))},
		{name: "jwks okp", body: rp(`"jwks":` + jwks(okpJWK)), check: keys("", jwks(okpJWK))},
		{name: "jwks all three", body: rp(`"jwks":` + jwks(rsaJWK, ecJWK, okpJWK)), check: keys("", jwks(rsaJWK, ecJWK, okpJWK))},
		{name: "jwks compacted", body: rp(`"jwks": { "keys" : [ ` + okpJWK + ` ] }`), check: keys("", jwks(okpJWK))},
		{name: "jwks null is absent", body: rp(`"jwks":null`), check: keys("", "")},
		{name: "both", body: rp(`"jwks_uri":"https://rp.example/jwks.json"`, `"jwks":`+jwks(ecJWK)), code: icm, mention: "jwks"},
		{name: "private key", body: rp(`"jwks":` + jwks(rsaPrivateJWK)), code: icm, mention: "jwks"},
		{name: "private among public", body: rp(`"jwks":` + jwks(ecJWK, rsaPrivateJWK)), code: icm, mention: "jwks"},
		{name: "symmetric", body: rp(`"jwks":` + jwks(octJWK)), code: icm, mention: "jwks"},
		{name: "weak RSA exponent", body: rp(`"jwks":` + jwks(`{"kty":"RSA","kid":"weak","n":"`+rsaN+`","e":"Aw"}`)), code: icm, mention: `kid "weak"`},
		{name: "no keys", body: rp(`"jwks":{"keys":[]}`), code: icm, mention: "jwks"},
		{name: "no keys member", body: rp(`"jwks":{}`), code: icm, mention: "jwks"},
		{name: "keys not an array", body: rp(`"jwks":{"keys":{}}`), code: icm, mention: "jwks"},
		{name: "key not an object", body: rp(`"jwks":{"keys":["x"]}`), code: icm, mention: "jwks"},
		{name: "unknown kty", body: rp(`"jwks":{"keys":[{"kty":"XYZ"}]}`), code: icm, mention: "jwks"},
		{name: "ec missing y", body: rp(`"jwks":{"keys":[{"kty":"EC","crv":"P-256","x":"4naqzmVbuBzlk15-XcBAM5RMgre-08WHq7Par5P5M58"}]}`), code: icm, mention: "jwks"},
		{name: "string", body: rp(`"jwks":"{\"keys\":[]}"`), code: icm, mention: "jwks"},
		{name: "array", body: rp(`"jwks":[` + okpJWK + `]`), code: icm, mention: "jwks"},
		{name: "number", body: rp(`"jwks":5`), code: icm, mention: "jwks"},
		{name: "private_key_jwt without keys", body: rp(pkj), code: icm, mention: "jwks"},
		{name: "private_key_jwt with jwks_uri", body: rp(pkj, `"jwks_uri":"https://rp.example/jwks.json"`), check: keys("https://rp.example/jwks.json", "")},
		{name: "private_key_jwt with jwks", body: rp(pkj, `"jwks":`+jwks(ecJWK)), check: keys("", jwks(ecJWK))},
		{name: "private_key_jwt with bad jwks", body: rp(pkj, `"jwks":{"keys":[]}`), code: icm, mention: "jwks"},
		{name: "self_signed_tls_client_auth without keys", body: rp(`"token_endpoint_auth_method":"self_signed_tls_client_auth"`), code: icm, mention: "jwks"},
		{name: "self_signed_tls_client_auth with jwks", body: rp(`"token_endpoint_auth_method":"self_signed_tls_client_auth"`, `"jwks":`+jwks(rsaJWK)), check: keys("", jwks(rsaJWK))},
	})
}

func TestValidateSigningAlgs(t *testing.T) {
	pkj := []string{`"token_endpoint_auth_method":"private_key_jwt"`, `"jwks":` + jwks(ecJWK)}
	esOnly := engine.Settings{SigningAlgValuesSupported: []string{"ES256"}}
	cases := []metadataCase{
		{name: "auth signing alg with private_key_jwt", body: rp(append(pkj, `"token_endpoint_auth_signing_alg":"ES256"`)...), check: func(t *testing.T, md engine.Metadata) {
			eq(t, "token_endpoint_auth_signing_alg", md.TokenEndpointAuthSigningAlg, "ES256")
		}},
		{name: "auth signing alg with client_secret_basic", body: rp(`"token_endpoint_auth_signing_alg":"RS256"`), code: icm, mention: "token_endpoint_auth_signing_alg"},
		{name: "auth signing alg with none", body: rp(`"token_endpoint_auth_method":"none"`, `"token_endpoint_auth_signing_alg":"RS256"`), code: icm, mention: "token_endpoint_auth_signing_alg"},
		{name: "auth signing alg HS256", body: rp(append(pkj, `"token_endpoint_auth_signing_alg":"HS256"`)...), code: icm, mention: "token_endpoint_auth_signing_alg"},
		{name: "auth signing alg none", body: rp(append(pkj, `"token_endpoint_auth_signing_alg":"none"`)...), code: icm, mention: "token_endpoint_auth_signing_alg"},
		{name: "auth signing alg not offered", settings: esOnly, body: rp(append(pkj, `"token_endpoint_auth_signing_alg":"RS256"`)...), code: icm, mention: "token_endpoint_auth_signing_alg"},
		{name: "auth signing alg offered", settings: esOnly, body: rp(append(pkj, `"token_endpoint_auth_signing_alg":"ES256"`)...)},
		{name: "request object alg needs keys", body: rp(`"request_object_signing_alg":"RS256"`), code: icm, mention: "request_object_signing_alg"},
		{name: "request object alg with jwks_uri", body: rp(`"request_object_signing_alg":"PS256"`, `"jwks_uri":"https://rp.example/jwks"`), check: func(t *testing.T, md engine.Metadata) {
			eq(t, "request_object_signing_alg", md.RequestObjectSigningAlg, "PS256")
		}},
		{name: "request object alg with jwks", body: rp(`"request_object_signing_alg":"EdDSA"`, `"jwks":`+jwks(okpJWK)), check: func(t *testing.T, md engine.Metadata) {
			eq(t, "request_object_signing_alg", md.RequestObjectSigningAlg, "EdDSA")
		}},
	}
	for _, m := range []string{"id_token_signed_response_alg", "userinfo_signed_response_alg", "request_object_signing_alg"} {
		keys := `"jwks_uri":"https://rp.example/jwks"`
		cases = append(cases,
			metadataCase{name: m + " RS256", body: rp(`"`+m+`":"RS256"`, keys)},
			metadataCase{name: m + " ES512", body: rp(`"`+m+`":"ES512"`, keys)},
			metadataCase{name: m + " none", body: rp(`"`+m+`":"none"`, keys), code: icm, mention: m},
			metadataCase{name: m + " HS256", body: rp(`"`+m+`":"HS256"`, keys), code: icm, mention: m},
			metadataCase{name: m + " lower case", body: rp(`"`+m+`":"rs256"`, keys), code: icm, mention: m},
			metadataCase{name: m + " not offered", settings: esOnly, body: rp(`"`+m+`":"RS256"`, keys), code: icm, mention: m},
			metadataCase{name: m + " ES256K offered", settings: engine.Settings{SigningAlgValuesSupported: []string{"ES256K"}}, body: rp(`"`+m+`":"ES256K"`, keys)},
		)
	}
	runMetadataCases(t, cases)
}

func TestValidateTLSClientAuth(t *testing.T) {
	tca := `"token_endpoint_auth_method":"tls_client_auth"`
	cases := []metadataCase{
		{name: "subject dn", body: rp(tca, `"tls_client_auth_subject_dn":"CN=client, O=Example, C=DE"`), check: func(t *testing.T, md engine.Metadata) {
			eq(t, "tls_client_auth_subject_dn", md.TLSClientAuthSubjectDN, "CN=client, O=Example, C=DE")
		}},
		{name: "san dns", body: rp(tca, `"tls_client_auth_san_dns":"client.rp.example"`), check: func(t *testing.T, md engine.Metadata) {
			eq(t, "tls_client_auth_san_dns", md.TLSClientAuthSANDNS, "client.rp.example")
		}},
		{name: "san dns wildcard", body: rp(tca, `"tls_client_auth_san_dns":"*.rp.example"`)},
		{name: "san uri", body: rp(tca, `"tls_client_auth_san_uri":"spiffe://rp.example/client"`), check: func(t *testing.T, md engine.Metadata) {
			eq(t, "tls_client_auth_san_uri", md.TLSClientAuthSANURI, "spiffe://rp.example/client")
		}},
		{name: "san ip v4", body: rp(tca, `"tls_client_auth_san_ip":"192.0.2.7"`), check: func(t *testing.T, md engine.Metadata) {
			eq(t, "tls_client_auth_san_ip", md.TLSClientAuthSANIP, "192.0.2.7")
		}},
		{name: "san ip v6", body: rp(tca, `"tls_client_auth_san_ip":"2001:db8::7"`)},
		{name: "san email", body: rp(tca, `"tls_client_auth_san_email":"client@rp.example"`), check: func(t *testing.T, md engine.Metadata) {
			eq(t, "tls_client_auth_san_email", md.TLSClientAuthSANEmail, "client@rp.example")
		}},
		{name: "none of them", body: rp(tca), code: icm, mention: "tls_client_auth"},
		{name: "only an empty one", body: rp(tca, `"tls_client_auth_san_dns":""`), code: icm, mention: "tls_client_auth"},
		{name: "two of them", body: rp(tca, `"tls_client_auth_san_dns":"client.rp.example"`, `"tls_client_auth_san_ip":"192.0.2.7"`), code: icm, mention: "tls_client_auth"},
		{name: "san dns underscore", body: rp(tca, `"tls_client_auth_san_dns":"bad_name.example"`), code: icm, mention: "tls_client_auth_san_dns"},
		{name: "san dns empty label", body: rp(tca, `"tls_client_auth_san_dns":"a..example"`), code: icm, mention: "tls_client_auth_san_dns"},
		{name: "san dns hyphen edge", body: rp(tca, `"tls_client_auth_san_dns":"-a.example"`), code: icm, mention: "tls_client_auth_san_dns"},
		{name: "san ip bad", body: rp(tca, `"tls_client_auth_san_ip":"999.0.0.1"`), code: icm, mention: "tls_client_auth_san_ip"},
		{name: "san email bad", body: rp(tca, `"tls_client_auth_san_email":"client"`), code: icm, mention: "tls_client_auth_san_email"},
		{name: "san uri relative", body: rp(tca, `"tls_client_auth_san_uri":"/client"`), code: icm, mention: "tls_client_auth_san_uri"},
		{name: "san uri space", body: rp(tca, `"tls_client_auth_san_uri":"spiffe://rp.example/a b"`), code: icm, mention: "tls_client_auth_san_uri"},
		{name: "subject dn control", body: rp(tca, `"tls_client_auth_subject_dn":"CN=a\u0000"`), code: icm, mention: "tls_client_auth_subject_dn"},
	}
	for _, m := range []string{"tls_client_auth_subject_dn", "tls_client_auth_san_dns", "tls_client_auth_san_uri", "tls_client_auth_san_ip", "tls_client_auth_san_email"} {
		for _, method := range []string{"client_secret_basic", "none", "self_signed_tls_client_auth"} {
			cases = append(cases, metadataCase{
				name:    m + " with " + method,
				body:    rp(`"token_endpoint_auth_method":"`+method+`"`, `"jwks_uri":"https://rp.example/jwks"`, `"`+m+`":"client.rp.example"`),
				code:    icm,
				mention: m,
			})
		}
	}
	runMetadataCases(t, cases)
}

func TestValidateSoftware(t *testing.T) {
	runMetadataCases(t, []metadataCase{
		{name: "software id and version", body: rp(`"software_id":"4NRB1-0XZABZI9E6-5SM3R"`, `"software_version":"2.1 beta"`), check: func(t *testing.T, md engine.Metadata) {
			eq(t, "software_id", md.SoftwareID, "4NRB1-0XZABZI9E6-5SM3R")
			eq(t, "software_version", md.SoftwareVersion, "2.1 beta")
		}},
		{name: "software_id control", body: rp(`"software_id":"a\u0007"`), code: icm, mention: "software_id"},
		{name: "software_version control", body: rp(`"software_version":"1\n"`), code: icm, mention: "software_version"},
		{name: "software_version number", body: rp(`"software_version":1.2`), code: icm, mention: "software_version"},
		{name: "statement", body: rp(`"software_statement":"eyJhbGciOiJSUzI1NiJ9.eyJzb2Z0d2FyZV9pZCI6IngifQ.c2ln"`), check: func(t *testing.T, md engine.Metadata) {
			eq(t, "software_statement", md.SoftwareStatement, "eyJhbGciOiJSUzI1NiJ9.eyJzb2Z0d2FyZV9pZCI6IngifQ.c2ln")
		}},
		{name: "statement not a jwt", body: rp(`"software_statement":"hello"`), code: iss, mention: "software_statement"},
		{name: "statement two parts", body: rp(`"software_statement":"a.b"`), code: iss, mention: "software_statement"},
		{name: "statement five parts", body: rp(`"software_statement":"a.b.c.d.e"`), code: iss, mention: "software_statement"},
		{name: "statement empty payload", body: rp(`"software_statement":"a..c"`), code: iss, mention: "software_statement"},
		{name: "statement padding", body: rp(`"software_statement":"a=.b.c"`), code: iss, mention: "software_statement"},
		{name: "statement number", body: rp(`"software_statement":5`), code: iss, mention: "software_statement"},
		{name: "statement object", body: rp(`"software_statement":{"software_id":"x"}`), code: iss, mention: "software_statement"},
	})
}

func TestValidateSubject(t *testing.T) {
	two := []string{"https://a.rp.example/cb", "https://b.rp.example/cb"}
	runMetadataCases(t, []metadataCase{
		{name: "public", body: rp(`"subject_type":"public"`), check: func(t *testing.T, md engine.Metadata) { eq(t, "subject_type", md.SubjectType, "public") }},
		{name: "absent", body: rp(), check: func(t *testing.T, md engine.Metadata) { eq(t, "subject_type", md.SubjectType, "") }},
		{name: "pairwise not offered", body: rp(`"subject_type":"pairwise"`), code: icm, mention: "subject_type"},
		{name: "pairwise offered", settings: pairwiseSettings, body: rp(`"subject_type":"pairwise"`), check: func(t *testing.T, md engine.Metadata) { eq(t, "subject_type", md.SubjectType, "pairwise") }},
		{name: "unknown", settings: pairwiseSettings, body: rp(`"subject_type":"secret"`), code: icm, mention: "subject_type"},
		{name: "pairwise two hosts", settings: pairwiseSettings, body: web(two, `"subject_type":"pairwise"`), code: icm, mention: "sector_identifier_uri"},
		{name: "pairwise two hosts with sector", settings: pairwiseSettings, body: web(two, `"subject_type":"pairwise"`, `"sector_identifier_uri":"https://rp.example/sector.json"`), check: func(t *testing.T, md engine.Metadata) {
			eq(t, "sector_identifier_uri", md.SectorIdentifierURI, "https://rp.example/sector.json")
		}},
		{name: "public two hosts", settings: pairwiseSettings, body: web(two, `"subject_type":"public"`)},
		{name: "pairwise one host two paths", settings: pairwiseSettings, body: web([]string{"https://rp.example/a", "https://rp.example/b"}, `"subject_type":"pairwise"`)},
		// OIDC Core §8.1 speaks of the host component: the port is not part of it.
		{name: "pairwise one host two ports", settings: pairwiseSettings, body: web([]string{"https://rp.example/a", "https://rp.example:8443/b"}, `"subject_type":"pairwise"`)},
		{name: "pairwise one host two cases", settings: pairwiseSettings, body: web([]string{"https://rp.example/a", "https://RP.example/b"}, `"subject_type":"pairwise"`)},
		{name: "sector http", body: rp(`"sector_identifier_uri":"http://rp.example/sector.json"`), code: icm, mention: "sector_identifier_uri"},
		{name: "sector fragment", body: rp(`"sector_identifier_uri":"https://rp.example/sector.json#x"`), code: icm, mention: "sector_identifier_uri"},
		{name: "sector relative", body: rp(`"sector_identifier_uri":"sector.json"`), code: icm, mention: "sector_identifier_uri"},
		{name: "sector without pairwise kept", body: rp(`"sector_identifier_uri":"https://rp.example/s.json"`), check: func(t *testing.T, md engine.Metadata) {
			eq(t, "sector_identifier_uri", md.SectorIdentifierURI, "https://rp.example/s.json")
		}},
	})
}

func TestValidateOIDCMisc(t *testing.T) {
	maxAge := func(want int64) func(*testing.T, engine.Metadata) {
		return func(t *testing.T, md engine.Metadata) {
			if md.DefaultMaxAge == nil || *md.DefaultMaxAge != want {
				t.Errorf("default_max_age = %v, want %d", md.DefaultMaxAge, want)
			}
		}
	}
	acr := engine.Settings{ACRValuesSupported: []string{"urn:acr:silver", "urn:acr:gold"}}
	runMetadataCases(t, []metadataCase{
		{name: "max age", body: rp(`"default_max_age":3600`), check: maxAge(3600)},
		{name: "max age zero is kept", body: rp(`"default_max_age":0`), check: maxAge(0)},
		{name: "max age absent", body: rp(), check: func(t *testing.T, md engine.Metadata) { eq(t, "default_max_age", md.DefaultMaxAge, (*int64)(nil)) }},
		{name: "max age negative", body: rp(`"default_max_age":-1`), code: icm, mention: "default_max_age"},
		{name: "max age fraction", body: rp(`"default_max_age":1.5`), code: icm, mention: "default_max_age"},
		{name: "max age point zero", body: rp(`"default_max_age":60.0`), code: icm, mention: "default_max_age"},
		{name: "max age exponent", body: rp(`"default_max_age":1e3`), code: icm, mention: "default_max_age"},
		{name: "max age overflow", body: rp(`"default_max_age":9223372036854775808`), code: icm, mention: "default_max_age"},
		{name: "max age string", body: rp(`"default_max_age":"60"`), code: icm, mention: "default_max_age"},
		{name: "auth time", body: rp(`"require_auth_time":true`), check: func(t *testing.T, md engine.Metadata) { eq(t, "require_auth_time", md.RequireAuthTime, true) }},
		{name: "auth time false", body: rp(`"require_auth_time":false`), check: func(t *testing.T, md engine.Metadata) { eq(t, "require_auth_time", md.RequireAuthTime, false) }},
		{name: "auth time string", body: rp(`"require_auth_time":"true"`), code: icm, mention: "require_auth_time"},
		{name: "auth time number", body: rp(`"require_auth_time":1`), code: icm, mention: "require_auth_time"},
		{name: "acr values", body: rp(`"default_acr_values":["urn:acr:gold","urn:acr:silver","urn:acr:gold"]`), check: func(t *testing.T, md engine.Metadata) {
			eq(t, "default_acr_values", md.DefaultACRValues, []string{"urn:acr:gold", "urn:acr:silver"})
		}},
		{name: "acr values empty is absent", body: rp(`"default_acr_values":[]`), check: func(t *testing.T, md engine.Metadata) {
			eq(t, "default_acr_values", md.DefaultACRValues, []string(nil))
		}},
		{name: "acr values supported", settings: acr, body: rp(`"default_acr_values":["urn:acr:gold"]`)},
		{name: "acr values unsupported", settings: acr, body: rp(`"default_acr_values":["urn:acr:bronze"]`), code: icm, mention: "default_acr_values"},
		{name: "acr values space", body: rp(`"default_acr_values":["a b"]`), code: icm, mention: "default_acr_values"},
		{name: "acr values string", body: rp(`"default_acr_values":"urn:acr:gold"`), code: icm, mention: "default_acr_values"},
		{name: "initiate login", body: rp(`"initiate_login_uri":"https://rp.example/login"`), check: func(t *testing.T, md engine.Metadata) {
			eq(t, "initiate_login_uri", md.InitiateLoginURI, "https://rp.example/login")
		}},
		{name: "initiate login http", body: rp(`"initiate_login_uri":"http://rp.example/login"`), code: icm, mention: "initiate_login_uri"},
		{name: "initiate login fragment", body: rp(`"initiate_login_uri":"https://rp.example/login#x"`), code: icm, mention: "initiate_login_uri"},
		{name: "initiate login custom scheme", body: rp(`"initiate_login_uri":"app:/login"`), code: icm, mention: "initiate_login_uri"},
		{name: "request uris", body: rp(`"request_uris":["https://rp.example/req/1","https://rp.example/req/2#GtCrQ6k8ZnXR","https://rp.example/req/1"]`), check: func(t *testing.T, md engine.Metadata) {
			eq(t, "request_uris", md.RequestURIs, []string{"https://rp.example/req/1", "https://rp.example/req/2#GtCrQ6k8ZnXR"})
		}},
		{name: "request uris empty is absent", body: rp(`"request_uris":[]`), check: func(t *testing.T, md engine.Metadata) { eq(t, "request_uris", md.RequestURIs, []string(nil)) }},
		{name: "request uris http", body: rp(`"request_uris":["http://rp.example/req"]`), code: icm, mention: "request_uris"},
		{name: "request uris relative", body: rp(`"request_uris":["/req"]`), code: icm, mention: "request_uris"},
		{name: "request uris only fragment", body: rp(`"request_uris":["#abc"]`), code: icm, mention: "request_uris"},
		{name: "request uris space in fragment", body: rp(`"request_uris":["https://rp.example/req#a b"]`), code: icm, mention: "request_uris"},
		{name: "request uris control in fragment", body: rp(`"request_uris":["https://rp.example/req#a\u0000"]`), code: icm, mention: "request_uris"},
		{name: "request uris too long fragment", body: rp(`"request_uris":["https://rp.example/req#` + strings.Repeat("a", 2048) + `"]`), code: icm, mention: "request_uris"},
		{name: "request uris string", body: rp(`"request_uris":"https://rp.example/req"`), code: icm, mention: "request_uris"},
	})
}

func TestValidateExtraAndUnknownMembers(t *testing.T) {
	extra := engine.Settings{ExtraClientMetadata: []string{"tenant_ref", "flags", "nested", "n", "s", "b", "nothing"}}
	runMetadataCases(t, []metadataCase{
		{name: "extra kept verbatim", settings: extra, body: rp(
			`"tenant_ref":"abc"`, `"flags":[1,"two",{"three":3}]`, `"nested": {"a" : {"b" : null}}`,
			`"n":1.50e2`, `"b":false`, `"s":""`, `"nothing":null`, `"unknown":"dropped"`,
		), check: func(t *testing.T, md engine.Metadata) {
			eq(t, "Extra", md.Extra, map[string]json.RawMessage{
				"tenant_ref": json.RawMessage(`"abc"`),
				"flags":      json.RawMessage(`[1,"two",{"three":3}]`),
				"nested":     json.RawMessage(`{"a":{"b":null}}`),
				"n":          json.RawMessage(`1.50e2`),
				"b":          json.RawMessage(`false`),
				"s":          json.RawMessage(`""`),
			})
		}},
		{name: "extra escaping is canonical", settings: extra, body: rp(`"tenant_ref":"<a&b>"`), check: func(t *testing.T, md engine.Metadata) {
			// The value is stored as the standard encoder would write it, so
			// that it survives a JSON round trip byte for byte.
			eq(t, "Extra", md.Extra, map[string]json.RawMessage{"tenant_ref": json.RawMessage(`"\u003ca\u0026b\u003e"`)})
		}},
		{name: "unknown members dropped", body: rp(`"unknown":"x"`, `"response_modes":["query"]`, `"frontchannel_logout_uri":5`), check: func(t *testing.T, md engine.Metadata) {
			eq(t, "Extra", md.Extra, map[string]json.RawMessage(nil))
			eq(t, "Localized", md.Localized, map[string]string(nil))
		}},
		{name: "server-managed members ignored", body: rp(
			`"client_id":"mine"`, `"client_secret":5`, `"client_id_issued_at":"x"`, `"client_secret_expires_at":[]`,
			`"registration_access_token":{}`, `"registration_client_uri":"javascript:x"`,
		), check: func(t *testing.T, md engine.Metadata) {
			o := metadataObject(t, md)
			for _, m := range []string{"client_id", "client_secret", "client_id_issued_at", "client_secret_expires_at", "registration_access_token", "registration_client_uri"} {
				if _, ok := o[m]; ok {
					t.Errorf("metadata has %s", m)
				}
			}
			eq(t, "Extra", md.Extra, map[string]json.RawMessage(nil))
		}},
	})
}

// TestValidateNullIsAbsent: a member that is null validates exactly as if it
// were absent.
func TestValidateNullIsAbsent(t *testing.T) {
	base, err := validateBody(t, engine.Settings{}, rp())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range append(stringMembers(), "grant_types", "response_types", "contacts", "post_logout_redirect_uris",
		"default_acr_values", "request_uris", "require_auth_time", "default_max_age", "jwks") {
		t.Run(m, func(t *testing.T) {
			md, err := validateBody(t, engine.Settings{}, rp(q(m)+":null"))
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if !reflect.DeepEqual(md, base) {
				t.Errorf("got %+v, want %+v", md, base)
			}
		})
	}
}

// TestValidateEmptyStringIsAbsent: an optional string member that is ""
// validates exactly as if it were absent.
func TestValidateEmptyStringIsAbsent(t *testing.T) {
	base, err := validateBody(t, engine.Settings{}, rp())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range stringMembers() {
		t.Run(m, func(t *testing.T) {
			md, err := validateBody(t, engine.Settings{}, rp(q(m)+`:""`))
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if !reflect.DeepEqual(md, base) {
				t.Errorf("got %+v, want %+v", md, base)
			}
		})
	}
}

// stringMembers are the string-valued members the validator reads.
func stringMembers() []string {
	return []string{
		"application_type", "token_endpoint_auth_method", "token_endpoint_auth_signing_alg",
		"client_name", "client_uri", "logo_uri", "policy_uri", "tos_uri", "client_name#en", "tos_uri#de",
		"scope", "jwks_uri", "software_id", "software_version", "software_statement",
		"subject_type", "sector_identifier_uri", "id_token_signed_response_alg",
		"userinfo_signed_response_alg", "request_object_signing_alg", "initiate_login_uri",
		"tls_client_auth_subject_dn", "tls_client_auth_san_dns", "tls_client_auth_san_uri",
		"tls_client_auth_san_ip", "tls_client_auth_san_email",
	}
}

// TestValidateTypeErrors: a value of the wrong JSON type is refused with the
// member's error code and a description that names it, never a panic.
func TestValidateTypeErrors(t *testing.T) {
	wrong := map[string][]string{
		"string":  {`5`, `-1.5`, `true`, `false`, `["x"]`, `{}`, `{"a":"b"}`},
		"array":   {`"x"`, `5`, `true`, `{}`, `[5]`, `[true]`, `[""]`, `[null]`, `[["x"]]`, `[{}]`, `["ok",1]`},
		"boolean": {`"true"`, `"false"`, `1`, `0`, `[]`, `{}`, `[true]`},
		"integer": {`-1`, `1.5`, `60.0`, `1e3`, `1E3`, `-0.0`, `"60"`, `true`, `[]`, `[60]`, `{}`, `9223372036854775808`, `99999999999999999999999`},
		"object":  {`"x"`, `5`, `[]`, `true`, `[{}]`},
	}
	kinds := map[string]string{
		"redirect_uris": "array", "grant_types": "array", "response_types": "array", "contacts": "array",
		"post_logout_redirect_uris": "array", "default_acr_values": "array", "request_uris": "array",
		"require_auth_time": "boolean", "default_max_age": "integer", "jwks": "object",
	}
	for _, m := range stringMembers() {
		kinds[m] = "string"
	}
	for m, kind := range kinds {
		code := icm
		switch m {
		case "redirect_uris":
			code = iru
		case "software_statement":
			code = iss
		}
		for _, v := range wrong[kind] {
			t.Run(m+"="+v, func(t *testing.T) {
				body := rp(q(m) + ":" + v)
				if m == "redirect_uris" {
					body = obj(q(m) + ":" + v)
				}
				md, err := validateBody(t, engine.Settings{}, body)
				if err == nil {
					t.Fatalf("accepted: %+v", md)
				}
				wantError(t, err, code, m)
			})
		}
	}
}

func TestValidateSettingsErrors(t *testing.T) {
	for name, s := range map[string]engine.Settings{
		"unknown grant type":                   {GrantTypesSupported: []string{"magic"}},
		"hmac alg":                             {SigningAlgValuesSupported: []string{"HS256"}},
		"none alg":                             {SigningAlgValuesSupported: []string{"none"}},
		"client_secret_jwt":                    {TokenEndpointAuthMethodsSupported: []string{"client_secret_jwt"}},
		"extra standard member":                {ExtraClientMetadata: []string{"scope"}},
		"extra server-managed":                 {ExtraClientMetadata: []string{"client_id"}},
		"extra localized member":               {ExtraClientMetadata: []string{"client_name#en"}},
		"extra in another case":                {ExtraClientMetadata: []string{"Scope"}},
		"extra server-managed in another case": {ExtraClientMetadata: []string{"Client_ID"}},
		"extra with a hash":                    {ExtraClientMetadata: []string{"tier#"}},
		"extra empty":                          {ExtraClientMetadata: []string{""}},
		"bad scope":                            {ScopesSupported: []string{"a b"}},
	} {
		t.Run(name, func(t *testing.T) {
			o, _ := engine.DecodeObject([]byte(rp()))
			_, err := engine.ValidateMetadata(s, o, jose.KeySetChecker{}, idn.Normalizer{})
			if err == nil {
				t.Fatal("bad settings accepted")
			}
		})
	}
}

func TestValidateNilKeySetChecker(t *testing.T) {
	o, err := engine.DecodeObject([]byte(rp()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := engine.ValidateMetadata(engine.Settings{}, o, nil, nil); err != nil {
		t.Fatalf("no jwks, nil checker: %v", err)
	}
	o, err = engine.DecodeObject([]byte(rp(`"jwks":` + jwks(ecJWK))))
	if err != nil {
		t.Fatal(err)
	}
	_, err = engine.ValidateMetadata(engine.Settings{}, o, nil, nil)
	wantError(t, err, engine.CodeServerError, "jwks")
}

func TestMetadataJSON(t *testing.T) {
	t.Run("zero value has the arrays", func(t *testing.T) {
		b, err := json.Marshal(engine.Metadata{})
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]json.RawMessage
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		for _, m := range []string{"redirect_uris", "grant_types", "response_types"} {
			if string(got[m]) != "[]" {
				t.Errorf("%s = %s, want []", m, got[m])
			}
		}
		if _, ok := got["default_max_age"]; ok {
			t.Error("absent default_max_age written")
		}
	})
	t.Run("validated client-credentials client has the arrays", func(t *testing.T) {
		md, err := validateBody(t, engine.Settings{}, obj(`"grant_types":["client_credentials"]`))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(md)
		for _, want := range []string{`"redirect_uris":[]`, `"response_types":[]`, `"grant_types":["client_credentials"]`} {
			if !strings.Contains(string(b), want) {
				t.Errorf("%s lacks %s", b, want)
			}
		}
	})
	t.Run("stored member names are exact", func(t *testing.T) {
		// A store may hold metadata whose extra member differs only in case
		// from a standard one (settings refuse that today, stores are
		// older than settings): it must not overwrite the standard member.
		var md engine.Metadata
		if err := json.Unmarshal([]byte(`{"scope":"openid","Scope":"other","redirect_uris":[],"grant_types":[],"response_types":[]}`), &md); err != nil {
			t.Fatal(err)
		}
		eq(t, "scope", md.Scope, "openid")
		eq(t, "Extra[Scope]", string(md.Extra["Scope"]), `"other"`)
	})
	t.Run("round trip", func(t *testing.T) {
		settings := engine.Settings{
			ExtraClientMetadata:     []string{"tenant_ref", "tier", "flags"},
			SubjectTypesSupported:   []string{"public", "pairwise"},
			WebLoopbackRedirectURIs: true,
		}
		md, err := validateBody(t, settings, rp(
			`"client_name":"App"`, `"client_name#ja-Jpan-JP":"アプリ"`, `"logo_uri#de":"https://rp.example/l.png"`,
			`"tenant_ref":{"id":7,"tags":["a","<b>"]}`, `"tier":"gold"`, `"flags":[true,null]`,
			`"default_max_age":0`, `"jwks":`+jwks(ecJWK, okpJWK), `"contacts":["ops@rp.example"]`,
			`"scope":"openid"`, `"subject_type":"pairwise"`, `"require_auth_time":true`,
			`"request_uris":["https://rp.example/r#h"]`, `"post_logout_redirect_uris":["http://localhost/bye"]`,
		))
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(md)
		if err != nil {
			t.Fatal(err)
		}
		var back engine.Metadata
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, md) {
			t.Fatalf("round trip\n got %+v\nwant %+v\njson %s", back, md, b)
		}
		eq(t, "scope", back.Scope, "openid")
		eq(t, "Extra[tier]", string(back.Extra["tier"]), `"gold"`)
		eq(t, "Localized", back.Localized, map[string]string{"client_name#ja-Jpan-JP": "アプリ", "logo_uri#de": "https://rp.example/l.png"})
		// The flat object re-validates to the same metadata.
		again, err := validateBody(t, settings, string(b))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(again, md) {
			t.Fatalf("re-validation\n got %+v\nwant %+v", again, md)
		}
		// And the JSON object has the same members.
		o := metadataObject(t, md)
		for _, m := range []string{"client_name#ja-Jpan-JP", "tenant_ref", "tier", "redirect_uris", "jwks"} {
			if _, ok := o[m]; !ok {
				t.Errorf("JSON object lacks %s", m)
			}
		}
	})
	t.Run("clone is deep", func(t *testing.T) {
		md, err := validateBody(t, engine.Settings{ExtraClientMetadata: []string{"x"}}, rp(`"x":[1]`, `"client_name#en":"a"`, `"default_max_age":5`, `"contacts":["a@rp.example"]`))
		if err != nil {
			t.Fatal(err)
		}
		c := engine.CloneMetadata(md)
		if !reflect.DeepEqual(c, md) {
			t.Fatal("clone differs")
		}
		c.RedirectURIs[0] = "changed"
		c.Extra["x"][0] = '{'
		c.Localized["client_name#en"] = "changed"
		*c.DefaultMaxAge = 6
		c.Contacts[0] = "changed"
		if md.RedirectURIs[0] == "changed" || md.Extra["x"][0] == '{' || md.Localized["client_name#en"] == "changed" || *md.DefaultMaxAge != 5 || md.Contacts[0] == "changed" {
			t.Fatalf("clone shares memory with the original: %+v", md)
		}
	})
}
