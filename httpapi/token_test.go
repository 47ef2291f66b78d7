package httpapi_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/engine"
)

// tokenTenants are the tenants of the token endpoint tests: open
// registration at the root, and a tenant with resources, a default
// audience and a resource server.
func tokenTenants() map[string]engine.Settings {
	return map[string]engine.Settings{
		engine.DefaultTenant: {InitialAccessToken: engine.TokenNone},
		"api": {
			InitialAccessToken: engine.TokenNone,
			Resources:          []string{"https://api.example.com/", "https://files.example.com/"},
			DefaultAudience:    "https://default.example.com/",
			ResourceServers:    []string{"rs"},
		},
	}
}

// m2m registers a client_credentials client at a tenant prefix with a
// method and scope, and returns its ID and secret.
func (s *server) m2m(prefix, method, scope string) (id, secret string) {
	s.t.Helper()
	body := `{"grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],"token_endpoint_auth_method":"` + method + `"`
	if scope != "" {
		body += `,"scope":"` + scope + `"`
	}
	c := s.register(prefix, "", body+"}")
	id, _ = c["client_id"].(string)
	secret, _ = c["client_secret"].(string)
	return id, secret
}

// post sends a form to the public API.
func (s *server) post(path, form string, headers ...string) response {
	s.t.Helper()
	headers = append([]string{"Content-Type:", "Content-Type: application/x-www-form-urlencoded"}, headers...)
	return s.do(s.public, http.MethodPost, path, form, headers...)
}

// basicAuth is the Authorization header of client_secret_basic, with the
// form-encoding of RFC 6749 §2.3.1.
func basicAuth(id, secret string) string {
	return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// token gets a token or fails the test.
func (s *server) token(path, form string, headers ...string) map[string]any {
	s.t.Helper()
	r := s.post(path, form, headers...)
	if r.StatusCode != http.StatusOK {
		s.t.Fatalf("token: %d %s", r.StatusCode, r.body)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		s.t.Errorf("token response Cache-Control %q, want no-store", r.Header.Get("Cache-Control"))
	}
	return r.json(s.t)
}

func (s *server) introspect(prefix, token string, headers ...string) map[string]any {
	s.t.Helper()
	r := s.post(prefix+"/introspect", "token="+url.QueryEscape(token), headers...)
	if r.StatusCode != http.StatusOK {
		s.t.Fatalf("introspect: %d %s", r.StatusCode, r.body)
	}
	return r.json(s.t)
}

func TestDiscoveryAdvertisesTokenEndpoints(t *testing.T) {
	s := newServer(t, tokenTenants())
	for _, prefix := range []string{"", "/tenants/api"} {
		d := s.get(prefix + "/.well-known/openid-configuration").json(t)
		issuer := s.issuer + prefix
		for member, path := range map[string]string{"token_endpoint": "/token", "introspection_endpoint": "/introspect", "revocation_endpoint": "/revoke", "jwks_uri": "/jwks"} {
			if d[member] != issuer+path {
				t.Errorf("%s: %s = %v, want %s", prefix, member, d[member], issuer+path)
			}
		}
		methods, _ := d["token_endpoint_auth_methods_supported"].([]any)
		if !slices.Contains(methods, any("client_secret_basic")) || !slices.Contains(methods, any("client_secret_post")) {
			t.Errorf("token_endpoint_auth_methods_supported %v", methods)
		}
		if im, _ := d["introspection_endpoint_auth_methods_supported"].([]any); slices.Contains(im, any("none")) {
			t.Errorf("introspection advertises none: %v", im)
		}
	}
}

func TestTokenClientSecretBasic(t *testing.T) {
	s := newServer(t, tokenTenants())
	id, secret := s.m2m("", "client_secret_basic", "read write")
	tok := s.token("/token", "grant_type=client_credentials", basicAuth(id, secret))
	if tok["token_type"] != "Bearer" || tok["expires_in"] != float64(3600) || tok["scope"] != "read write" {
		t.Errorf("token response %v", tok)
	}
	at, _ := tok["access_token"].(string)
	if len(at) < 43 {
		t.Fatalf("access_token %q is too short", at)
	}
	in := s.introspect("", at, basicAuth(id, secret))
	want := map[string]any{
		"active": true, "client_id": id, "sub": id, "scope": "read write", "token_type": "Bearer",
		"iss": s.issuer, "aud": []any{s.issuer}, "iat": float64(epoch.Unix()), "exp": float64(epoch.Unix() + 3600),
	}
	for k, v := range want {
		if !equalJSON(in[k], v) {
			t.Errorf("introspection %s = %v, want %v", k, in[k], v)
		}
	}
}

// equalJSON compares decoded JSON values.
func equalJSON(a, b any) bool {
	as, aok := a.([]any)
	bs, bok := b.([]any)
	if aok || bok {
		return aok && bok && slices.Equal(as, bs)
	}
	return a == b
}

func TestTokenClientSecretPost(t *testing.T) {
	s := newServer(t, tokenTenants())
	id, secret := s.m2m("", "client_secret_post", "read")
	tok := s.token("/token", "grant_type=client_credentials&client_id="+url.QueryEscape(id)+"&client_secret="+url.QueryEscape(secret))
	if tok["scope"] != "read" {
		t.Errorf("token response %v", tok)
	}
	// The basic method is refused for a client that registered post.
	wantError(t, s.post("/token", "grant_type=client_credentials", basicAuth(id, secret)), http.StatusUnauthorized, engine.CodeInvalidClient)
}

func TestTokenAuthenticationRefusals(t *testing.T) {
	s := newServer(t, tokenTenants())
	id, secret := s.m2m("", "client_secret_basic", "read")
	postID, postSecret := s.m2m("", "client_secret_post", "read")
	pub := s.register("", "", `{"redirect_uris":["https://app.example.com/cb"],"token_endpoint_auth_method":"none"}`)
	pubID := pub["client_id"].(string)
	cases := []struct {
		name    string
		form    string
		headers []string
		status  int
		code    engine.ErrorCode
	}{
		{"wrong secret", "grant_type=client_credentials", []string{basicAuth(id, secret+"x")}, 401, engine.CodeInvalidClient},
		{"unknown client", "grant_type=client_credentials", []string{basicAuth("nobody", secret)}, 401, engine.CodeInvalidClient},
		{"no credentials", "grant_type=client_credentials", nil, 401, engine.CodeInvalidClient},
		{"post secret of a basic client", "grant_type=client_credentials&client_id=" + id + "&client_secret=" + url.QueryEscape(secret), nil, 401, engine.CodeInvalidClient},
		{"post client with a wrong secret", "grant_type=client_credentials&client_id=" + postID + "&client_secret=nope", nil, 401, engine.CodeInvalidClient},
		{"two methods", "grant_type=client_credentials&client_secret=" + url.QueryEscape(postSecret), []string{basicAuth(id, secret)}, 400, engine.CodeInvalidRequest},
		{"client_id differs from Basic", "grant_type=client_credentials&client_id=" + postID, []string{basicAuth(id, secret)}, 400, engine.CodeInvalidRequest},
		{"malformed Basic", "grant_type=client_credentials", []string{"Authorization: Basic %%%"}, 400, engine.CodeInvalidRequest},
		{"Basic without colon", "grant_type=client_credentials", []string{"Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(id))}, 400, engine.CodeInvalidRequest},
		{"Bearer scheme", "grant_type=client_credentials", []string{"Authorization: Bearer abc"}, 400, engine.CodeInvalidRequest},
		{"public client", "grant_type=client_credentials&client_id=" + pubID, nil, 400, engine.CodeUnauthorizedClient},
		{"assertion type without assertion", "grant_type=client_credentials&client_id=" + id + "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer", nil, 400, engine.CodeInvalidRequest},
		{"unknown assertion type", "grant_type=client_credentials&client_assertion_type=saml&client_assertion=x", nil, 400, engine.CodeInvalidRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, s.post("/token", c.form, c.headers...), c.status, c.code)
		})
	}
}

func TestTokenMalformedRequests(t *testing.T) {
	s := newServer(t, tokenTenants())
	id, secret := s.m2m("", "client_secret_basic", "read")
	auth := basicAuth(id, secret)
	wantError(t, s.do(s.public, http.MethodPost, "/token", `{"grant_type":"client_credentials"}`, auth), 400, engine.CodeInvalidRequest)
	wantError(t, s.post("/token", "grant_type=client_credentials&grant_type=client_credentials", auth), 400, engine.CodeInvalidRequest)
	wantError(t, s.post("/token", "grant_type=client_credentials&scope=read&scope=read", auth), 400, engine.CodeInvalidRequest)
	wantError(t, s.post("/token?grant_type=client_credentials", "scope=read", auth), 400, engine.CodeInvalidRequest)
	wantError(t, s.post("/token", "grant_type=client_credentials&bad=%zz", auth), 400, engine.CodeInvalidRequest)
	wantError(t, s.post("/token", "scope=read", auth), 400, engine.CodeInvalidRequest)
	wantError(t, s.post("/token", "grant_type=authorization_code&code=x", auth), 400, engine.CodeUnsupportedGrantType)
	wantError(t, s.post("/token", "grant_type=password", auth), 400, engine.CodeUnsupportedGrantType)
	wantError(t, s.post("/token", "grant_type=client_credentials&client_assertion="+strings.Repeat("a", 5000), auth), 413, engine.CodeRequestTooLarge)
	if r := s.get("/token"); r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /token: %d", r.StatusCode)
	}
}

func TestTokenGrantTypeNotRegistered(t *testing.T) {
	s := newServer(t, tokenTenants())
	c := s.register("", "", `{"redirect_uris":["https://app.example.com/cb"],"token_endpoint_auth_method":"client_secret_basic"}`)
	id, secret := c["client_id"].(string), c["client_secret"].(string)
	wantError(t, s.post("/token", "grant_type=client_credentials", basicAuth(id, secret)), 400, engine.CodeUnauthorizedClient)
}

func TestTokenScope(t *testing.T) {
	s := newServer(t, tokenTenants())
	id, secret := s.m2m("", "client_secret_basic", "read write admin")
	auth := basicAuth(id, secret)
	if tok := s.token("/token", "grant_type=client_credentials&scope=write+read", auth); tok["scope"] != "write read" {
		t.Errorf("subset: scope %v", tok["scope"])
	}
	wantError(t, s.post("/token", "grant_type=client_credentials&scope=read+delete", auth), 400, engine.CodeInvalidScope)
	wantError(t, s.post("/token", "grant_type=client_credentials&scope=read++write", auth), 400, engine.CodeInvalidScope)
	wantError(t, s.post("/token", "grant_type=client_credentials&scope=", auth), 400, engine.CodeInvalidScope)
	// A client without a registered scope gets none, and may ask for none.
	bare, bareSecret := s.m2m("", "client_secret_basic", "")
	if tok := s.token("/token", "grant_type=client_credentials", basicAuth(bare, bareSecret)); tok["scope"] != nil {
		t.Errorf("no registered scope: scope %v", tok["scope"])
	}
	wantError(t, s.post("/token", "grant_type=client_credentials&scope=read", basicAuth(bare, bareSecret)), 400, engine.CodeInvalidScope)
}

func TestTokenResourceAndAudience(t *testing.T) {
	s := newServer(t, tokenTenants())
	const prefix = "/tenants/api"
	id, secret := s.m2m(prefix, "client_secret_basic", "read")
	auth := basicAuth(id, secret)
	aud := func(form string) any {
		at := s.token(prefix+"/token", form, auth)["access_token"].(string)
		return s.introspect(prefix, at, auth)["aud"]
	}
	if got := aud("grant_type=client_credentials"); !equalJSON(got, []any{"https://default.example.com/"}) {
		t.Errorf("default audience %v", got)
	}
	if got := aud("grant_type=client_credentials&resource=https%3A%2F%2Fapi.example.com%2F&resource=https%3A%2F%2Ffiles.example.com%2F"); !equalJSON(got, []any{"https://api.example.com/", "https://files.example.com/"}) {
		t.Errorf("resources %v", got)
	}
	wantError(t, s.post(prefix+"/token", "grant_type=client_credentials&resource=https%3A%2F%2Fevil.example.com%2F", auth), 400, engine.CodeInvalidTarget)
}

func TestIntrospectionAccess(t *testing.T) {
	s := newServer(t, tokenTenants())
	const prefix = "/tenants/api"
	id, secret := s.m2m(prefix, "client_secret_basic", "read")
	otherID, otherSecret := s.m2m(prefix, "client_secret_post", "read")
	at := s.token(prefix+"/token", "grant_type=client_credentials", basicAuth(id, secret))["access_token"].(string)
	// Another client learns nothing.
	r := s.post(prefix+"/introspect", "token="+at+"&client_id="+otherID+"&client_secret="+url.QueryEscape(otherSecret))
	if r.StatusCode != 200 || string(r.body) != "{\"active\":false}\n" {
		t.Errorf("another client's introspection: %d %s", r.StatusCode, r.body)
	}
	// Unknown and malformed tokens are inactive.
	for _, tok := range []string{"unknown-token", "bad token\x01"} {
		if in := s.introspect(prefix, tok, basicAuth(id, secret)); in["active"] != false {
			t.Errorf("introspection of %q: %v", tok, in)
		}
	}
	wantError(t, s.post(prefix+"/introspect", "token_type_hint=access_token", basicAuth(id, secret)), 400, engine.CodeInvalidRequest)
	wantError(t, s.post(prefix+"/introspect", "token="+at, basicAuth(id, "wrong")), 401, engine.CodeInvalidClient)
	// A token of another tenant is unknown here.
	rootID, rootSecret := s.m2m("", "client_secret_basic", "")
	if in := s.introspect("", at, basicAuth(rootID, rootSecret)); in["active"] != false {
		t.Errorf("introspection in another tenant: %v", in)
	}
}

func TestIntrospectionByResourceServer(t *testing.T) {
	s := newServer(t, tokenTenants())
	const prefix = "/tenants/api"
	// The resource server's client ID is reserved through an initial
	// access token in a tenant that takes stored tokens too.
	iat := s.mintIAT("api", `{"client_id":"rs"}`)
	rs := s.register(prefix, iat, `{"grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],"token_endpoint_auth_method":"client_secret_basic"}`)
	if rs["client_id"] != "rs" {
		t.Fatalf("resource server client_id %v", rs["client_id"])
	}
	id, secret := s.m2m(prefix, "client_secret_basic", "read")
	at := s.token(prefix+"/token", "grant_type=client_credentials", basicAuth(id, secret))["access_token"].(string)
	in := s.introspect(prefix, at, basicAuth("rs", rs["client_secret"].(string)))
	if in["active"] != true || in["client_id"] != id {
		t.Errorf("resource server's introspection: %v", in)
	}
}

func TestRevocation(t *testing.T) {
	s := newServer(t, tokenTenants())
	id, secret := s.m2m("", "client_secret_basic", "read")
	otherID, otherSecret := s.m2m("", "client_secret_basic", "read")
	auth, other := basicAuth(id, secret), basicAuth(otherID, otherSecret)
	at := s.token("/token", "grant_type=client_credentials", auth)["access_token"].(string)

	wantError(t, s.post("/revoke", "token="+at, other), 400, engine.CodeUnauthorizedClient)
	if in := s.introspect("", at, auth); in["active"] != true {
		t.Fatalf("after another client's revocation attempt the token is %v", in)
	}
	for _, tok := range []string{"unknown", at, at} {
		if r := s.post("/revoke", "token="+tok+"&token_type_hint=access_token", auth); r.StatusCode != 200 {
			t.Errorf("revoke %q: %d %s", tok, r.StatusCode, r.body)
		}
	}
	if in := s.introspect("", at, auth); in["active"] != false {
		t.Errorf("after revocation the token is %v", in)
	}
	wantError(t, s.post("/revoke", "", auth), 400, engine.CodeInvalidRequest)
}

func TestDeletingClientEndsItsTokens(t *testing.T) {
	s := newServer(t, tokenTenants())
	const prefix = "/tenants/api"
	rs := s.register(prefix, s.mintIAT("api", `{"client_id":"rs"}`), `{"grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],"token_endpoint_auth_method":"client_secret_basic"}`)
	rsAuth := basicAuth("rs", rs["client_secret"].(string))
	c := s.register(prefix, "", `{"grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],"token_endpoint_auth_method":"client_secret_basic"}`)
	id, secret := c["client_id"].(string), c["client_secret"].(string)
	at := s.token(prefix+"/token", "grant_type=client_credentials", basicAuth(id, secret))["access_token"].(string)
	if in := s.introspect(prefix, at, rsAuth); in["active"] != true {
		t.Fatalf("before the delete: %v", in)
	}
	r := s.do(s.public, http.MethodDelete, prefix+"/reg/"+id, "", bearer(c["registration_access_token"].(string)))
	if r.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.StatusCode, r.body)
	}
	if in := s.introspect(prefix, at, rsAuth); in["active"] != false {
		t.Errorf("a deleted client's token is %v", in)
	}
}

func TestManagementWithClientCredentials(t *testing.T) {
	tenants := map[string]engine.Settings{
		engine.DefaultTenant: {InitialAccessToken: engine.TokenNone},
		"cc":                 {InitialAccessToken: engine.TokenNone, RegistrationManagementAuth: engine.ManagementByClientCredentials},
		"either":             {InitialAccessToken: engine.TokenNone, RegistrationManagementAuth: engine.ManagementByEither},
	}
	s := newServer(t, tenants)
	const body = `{"grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],"token_endpoint_auth_method":"client_secret_basic","client_name":"m2m"}`
	type client struct{ id, rat, at, prefix string }
	newClient := func(prefix string) client {
		c := s.register(prefix, "", body)
		id, secret := c["client_id"].(string), c["client_secret"].(string)
		at := s.token(prefix+"/token", "grant_type=client_credentials", basicAuth(id, secret))["access_token"].(string)
		return client{id: id, rat: c["registration_access_token"].(string), at: at, prefix: prefix}
	}
	get := func(c client, token string) response {
		return s.get(c.prefix+"/reg/"+c.id, bearer(token))
	}

	// The default: only the registration access token.
	def := newClient("")
	wantError(t, get(def, def.at), http.StatusUnauthorized, engine.CodeInvalidToken)
	if r := get(def, def.rat); r.StatusCode != http.StatusOK {
		t.Errorf("default mode, RAT: %d %s", r.StatusCode, r.body)
	}

	// client_credentials: only an access token of that very client.
	cc, other := newClient("/tenants/cc"), newClient("/tenants/cc")
	wantError(t, get(cc, cc.rat), http.StatusUnauthorized, engine.CodeInvalidToken)
	wantError(t, get(cc, other.at), http.StatusUnauthorized, engine.CodeInvalidToken)
	r := get(cc, cc.at)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("client_credentials mode, access token: %d %s", r.StatusCode, r.body)
	}
	if m := r.json(t); m["registration_access_token"] != nil || m["registration_client_uri"] != nil || m["client_id"] != cc.id {
		t.Errorf("read with an access token: %s (the access token must not come back as a registration access token)", r.body)
	}
	update := `{"client_id":"` + cc.id + `","grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],"token_endpoint_auth_method":"client_secret_basic","client_name":"renamed"}`
	upd := s.do(s.public, http.MethodPut, cc.prefix+"/reg/"+cc.id, update, bearer(cc.at))
	if upd.StatusCode != http.StatusOK {
		t.Fatalf("update with an access token: %d %s", upd.StatusCode, upd.body)
	}
	if m := upd.json(t); m["client_name"] != "renamed" || m["registration_access_token"] != nil {
		t.Errorf("update with an access token: %s", upd.body)
	}
	if r := s.do(s.public, http.MethodDelete, cc.prefix+"/reg/"+cc.id, "", bearer(cc.at)); r.StatusCode != http.StatusNoContent {
		t.Errorf("delete with an access token: %d %s", r.StatusCode, r.body)
	}

	// either: both.
	ei := newClient("/tenants/either")
	for name, tok := range map[string]string{"RAT": ei.rat, "access token": ei.at} {
		if r := get(ei, tok); r.StatusCode != http.StatusOK {
			t.Errorf("either mode, %s: %d %s", name, r.StatusCode, r.body)
		}
	}
	if m := get(ei, ei.rat).json(t); m["registration_access_token"] != ei.rat {
		t.Errorf("either mode, read with the RAT does not return it: %v", m["registration_access_token"])
	}
}
