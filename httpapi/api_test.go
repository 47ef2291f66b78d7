package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/engine"
)

const staticToken = "static-token-0123456789"

var off = false

// tenants is the configuration of the test server.
var tenants = map[string]engine.Settings{
	"open":   {InitialAccessToken: engine.TokenNone, WebLoopbackRedirectURIs: true},
	"static": {InitialAccessToken: engine.TokenStatic, StaticInitialAccessToken: staticToken},
	"nomgmt": {InitialAccessToken: engine.TokenNone, Management: &off},
	"fixed": {
		InitialAccessToken:            engine.TokenNone,
		RotateRegistrationAccessToken: engine.Decision{Off: true},
		ClientDefaults:                map[string]json.RawMessage{"client_name": json.RawMessage(`"Unnamed"`)},
	},
}

const webClient = `{"redirect_uris":["https://app.example/cb"],"client_name":"App","contacts":["dev@app.example"]}`

// TestGolden pins the exact shape of every kind of response.
func TestGolden(t *testing.T) {
	cases := []struct {
		name string
		run  func(s *server) response
	}{
		{"discovery", func(s *server) response { return s.get("/.well-known/openid-configuration") }},
		{"discovery-tenant", func(s *server) response { return s.get("/tenants/open/.well-known/openid-configuration") }},
		{"discovery-rfc8414-tenant", func(s *server) response { return s.get("/.well-known/oauth-authorization-server/tenants/static") }},
		{"jwks", func(s *server) response { return s.get("/jwks") }},
		{"register-confidential", func(s *server) response {
			return s.do(s.public, "POST", "/reg", webClient, bearer(s.mintIAT("default", `{}`)))
		}},
		{"register-public-native", func(s *server) response {
			return s.do(s.public, "POST", "/tenants/open/reg", `{"application_type":"native","redirect_uris":["com.example.app:/cb","http://127.0.0.1/cb"],"token_endpoint_auth_method":"none","client_name#ja-Jpan-JP":"アプリ","scope":"openid profile openid"}`)
		}},
		{"register-client-credentials", func(s *server) response {
			return s.do(s.public, "POST", "/tenants/open/reg", `{"grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_post"}`)
		}},
		{"read", func(s *server) response {
			c := s.register("/tenants/open", "", webClient)
			return s.get("/tenants/open/reg/"+c["client_id"].(string), bearer(c["registration_access_token"].(string)))
		}},
		{"update", func(s *server) response {
			c := s.register("/tenants/open", "", webClient)
			return s.do(s.public, "PUT", "/tenants/open/reg/"+c["client_id"].(string),
				fmt.Sprintf(`{"client_id":%q,"redirect_uris":["https://app.example/cb2"],"token_endpoint_auth_method":"none"}`, c["client_id"]),
				bearer(c["registration_access_token"].(string)))
		}},
		{"delete", func(s *server) response {
			c := s.register("/tenants/open", "", webClient)
			return s.do(s.public, "DELETE", "/tenants/open/reg/"+c["client_id"].(string), "", bearer(c["registration_access_token"].(string)))
		}},
		{"error-no-token", func(s *server) response { return s.do(s.public, "POST", "/reg", webClient) }},
		{"error-invalid-token", func(s *server) response { return s.do(s.public, "POST", "/reg", webClient, bearer("nope")) }},
		{"error-invalid-redirect-uri", func(s *server) response {
			return s.do(s.public, "POST", "/tenants/open/reg", `{"redirect_uris":["http://app.example/cb"]}`)
		}},
		{"error-invalid-client-metadata", func(s *server) response {
			return s.do(s.public, "POST", "/tenants/open/reg", `{"redirect_uris":["https://app.example/cb"],"contacts":"dev@app.example"}`)
		}},
		{"error-invalid-software-statement", func(s *server) response {
			return s.do(s.public, "POST", "/tenants/open/reg", `{"redirect_uris":["https://app.example/cb"],"software_statement":"not-a-jwt"}`)
		}},
		{"error-content-type", func(s *server) response {
			return s.do(s.public, "POST", "/tenants/open/reg", webClient, "Content-Type:", "Content-Type: text/plain")
		}},
		{"error-too-large", func(s *server) response {
			return s.do(s.public, "POST", "/tenants/open/reg", `{"client_name":"`+strings.Repeat("x", 5000)+`"}`)
		}},
		{"error-not-found", func(s *server) response { return s.get("/nope") }},
		{"error-method-not-allowed", func(s *server) response { return s.do(s.public, "PATCH", "/reg/abc", "{}") }},
		{"error-unknown-tenant", func(s *server) response { return s.do(s.public, "POST", "/tenants/nope/reg", webClient) }},
		{"admin-mint-iat", func(s *server) response {
			return s.adminDo("POST", "/admin/tenants/default/initial-access-tokens", `{"expires_in":"PT2H","max_uses":3,"client_id":"reserved-1","replacement":true}`)
		}},
		{"admin-client", func(s *server) response {
			c := s.register("/tenants/open", "", webClient)
			return s.adminDo("GET", "/admin/tenants/open/clients/"+c["client_id"].(string), "")
		}},
		{"admin-unauthorized", func(s *server) response { return s.do(s.admin, "GET", "/admin/tenants", "") }},
		{"admin-tenants", func(s *server) response { return s.adminDo("GET", "/admin/tenants", "") }},
		{"admin-tenant", func(s *server) response { return s.adminDo("GET", "/admin/tenants/static", "") }},
		{"admin-clients", func(s *server) response {
			s.register("/tenants/open", "", webClient)
			s.register("/tenants/open", "", webClient)
			return s.adminDo("GET", "/admin/tenants/open/clients?limit=1", "")
		}},
		{"admin-iat", func(s *server) response {
			s.mintIAT("default", `{"max_uses":1}`)
			return s.adminDo("GET", "/admin/tenants/default/initial-access-tokens/0f614f5992652f6ba7f981b14f7ddfc0aea4df76f607ea357ae4ebd3a5eb52dd", "")
		}},
		{"admin-mint-rat", func(s *server) response {
			c := s.register("/tenants/open", "", webClient)
			return s.adminDo("POST", "/admin/tenants/open/clients/"+c["client_id"].(string)+"/registration-access-token", "")
		}},
		{"admin-error-bad-request", func(s *server) response {
			return s.adminDo("POST", "/admin/tenants/default/initial-access-tokens", `{"policies":["nope"]}`)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			golden(t, tc.name, tc.run(newServer(t, tenants)))
		})
	}
}

func TestRegisterReadUpdateDelete(t *testing.T) {
	s := newServer(t, tenants)
	iat := s.mintIAT("default", `{}`)
	c := s.register("", iat, webClient)
	id, rat := c["client_id"].(string), c["registration_access_token"].(string)
	if got, want := c["registration_client_uri"], s.issuer+"/reg/"+id; got != want {
		t.Errorf("registration_client_uri %v, want %v", got, want)
	}
	if c["client_secret"] == nil || c["client_secret_expires_at"] != 0.0 {
		t.Errorf("confidential client: want client_secret and client_secret_expires_at 0, got %v", keys(c))
	}

	// The same tenant is served at the root and under /tenants/default.
	for _, path := range []string{"/reg/" + id, "/tenants/default/reg/" + id} {
		r := s.get(path, bearer(rat))
		if r.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, r.StatusCode, r.body)
		}
		m := r.json(t)
		if m["registration_access_token"] != rat || m["client_name"] != "App" {
			t.Errorf("GET %s: %s", path, r.body)
		}
		if _, ok := m["client_secret"]; ok {
			t.Errorf("GET returned the client secret, which must be unrecoverable")
		}
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET without Cache-Control: no-store")
		}
	}

	r := s.do(s.public, "PUT", "/reg/"+id, fmt.Sprintf(`{"client_id":%q,"client_secret":%q,"redirect_uris":["https://app.example/new"]}`, id, c["client_secret"]), bearer(rat))
	if r.StatusCode != http.StatusOK {
		t.Fatalf("PUT: %d %s", r.StatusCode, r.body)
	}
	u := r.json(t)
	newRAT := u["registration_access_token"].(string)
	if newRAT == rat {
		t.Errorf("update did not rotate the registration access token")
	}
	if _, ok := u["client_name"]; ok {
		t.Errorf("update is a full replacement: client_name should be gone, got %s", r.body)
	}
	wantError(t, s.get("/reg/"+id, bearer(rat)), http.StatusUnauthorized, engine.CodeInvalidToken)
	if r := s.get("/reg/"+id, bearer(newRAT)); r.StatusCode != http.StatusOK {
		t.Fatalf("GET with rotated token: %d", r.StatusCode)
	}

	r = s.do(s.public, "DELETE", "/reg/"+id, "", bearer(newRAT))
	if r.StatusCode != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("DELETE: %d %q", r.StatusCode, r.body)
	}
	for _, method := range []string{"GET", "PUT", "DELETE"} {
		body := ""
		if method == "PUT" {
			body = fmt.Sprintf(`{"client_id":%q}`, id)
		}
		wantError(t, s.do(s.public, method, "/reg/"+id, body, bearer(newRAT)), http.StatusUnauthorized, engine.CodeInvalidToken)
	}
	if r := s.adminDo("GET", "/admin/tenants/default/clients/"+id, ""); r.StatusCode != http.StatusNotFound {
		t.Errorf("deleted client still visible to the admin API: %d", r.StatusCode)
	}
}

func TestBearerExtraction(t *testing.T) {
	s := newServer(t, tenants)
	iat := s.mintIAT("default", `{}`)
	cases := []struct {
		name    string
		path    string
		headers []string
		status  int
		code    engine.ErrorCode
	}{
		{"no token", "/reg", nil, 401, engine.CodeInvalidToken},
		{"unknown token", "/reg", []string{bearer("unknown-token")}, 401, engine.CodeInvalidToken},
		{"token with bad characters", "/reg", []string{"Authorization: Bearer a,b"}, 401, engine.CodeInvalidToken},
		{"query token", "/reg?access_token=" + iat, nil, 400, engine.CodeInvalidRequest},
		{"header and query", "/reg?access_token=" + iat, []string{bearer(iat)}, 400, engine.CodeInvalidRequest},
		{"token in the body", "/tenants/open/reg", nil, 400, engine.CodeInvalidRequest},
		{"two headers", "/reg", []string{bearer(iat), bearer(iat)}, 400, engine.CodeInvalidRequest},
		{"basic scheme", "/reg", []string{"Authorization: Basic dXNlcjpwYXNz"}, 400, engine.CodeInvalidRequest},
		{"scheme only", "/reg", []string{"Authorization: Bearer"}, 400, engine.CodeInvalidRequest},
		{"static token at a stored tenant", "/reg", []string{bearer(staticToken)}, 401, engine.CodeInvalidToken},
		{"stored token at the static tenant", "/tenants/static/reg", []string{bearer(iat)}, 401, engine.CodeInvalidToken},
		{"stored token at another tenant", "/tenants/open/reg", []string{bearer(iat)}, 401, engine.CodeInvalidToken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := webClient
			if tc.name == "token in the body" {
				body = `{"access_token":"` + iat + `","redirect_uris":["https://app.example/cb"]}`
			}
			wantError(t, s.do(s.public, "POST", tc.path, body, tc.headers...), tc.status, tc.code)
		})
	}
	t.Run("lower-case scheme", func(t *testing.T) {
		if r := s.do(s.public, "POST", "/reg", webClient, "Authorization: bearer "+iat); r.StatusCode != http.StatusCreated {
			t.Fatalf("%d %s", r.StatusCode, r.body)
		}
	})
	t.Run("static token", func(t *testing.T) {
		if r := s.do(s.public, "POST", "/tenants/static/reg", webClient, bearer(staticToken)); r.StatusCode != http.StatusCreated {
			t.Fatalf("%d %s", r.StatusCode, r.body)
		}
	})
}

func TestRequestErrors(t *testing.T) {
	s := newServer(t, tenants)
	c := s.register("/tenants/open", "", webClient)
	id, rat := c["client_id"].(string), c["registration_access_token"].(string)
	other := s.register("/tenants/open", "", webClient)
	put := func(body string) response {
		return s.do(s.public, "PUT", "/tenants/open/reg/"+id, body, bearer(rat))
	}
	cases := []struct {
		name   string
		resp   func() response
		status int
		code   engine.ErrorCode
	}{
		{"malformed JSON", func() response { return s.do(s.public, "POST", "/tenants/open/reg", `{"redirect_uris":`) }, 400, engine.CodeInvalidRequest},
		{"array body", func() response { return s.do(s.public, "POST", "/tenants/open/reg", `[]`) }, 400, engine.CodeInvalidRequest},
		{"null body", func() response { return s.do(s.public, "POST", "/tenants/open/reg", `null`) }, 400, engine.CodeInvalidRequest},
		{"no content type", func() response {
			return s.do(s.public, "POST", "/tenants/open/reg", webClient, "Content-Type: ")
		}, 400, engine.CodeInvalidRequest},
		{"form body", func() response {
			return s.do(s.public, "POST", "/tenants/open/reg", "redirect_uris=x", "Content-Type: application/x-www-form-urlencoded")
		}, 400, engine.CodeInvalidRequest},
		{"too large", func() response {
			return s.do(s.public, "POST", "/tenants/open/reg", `{"x":"`+strings.Repeat("a", 4096)+`"}`)
		}, 413, "request_too_large"},
		{"string where array expected", func() response {
			return s.do(s.public, "POST", "/tenants/open/reg", `{"redirect_uris":"https://app.example/cb"}`)
		}, 400, engine.CodeInvalidRedirectURI},
		{"read with another client's token", func() response {
			return s.get("/tenants/open/reg/"+other["client_id"].(string), bearer(rat))
		}, 401, engine.CodeInvalidToken},
		{"read unknown client", func() response { return s.get("/tenants/open/reg/unknown", bearer(rat)) }, 401, engine.CodeInvalidToken},
		{"read without token", func() response { return s.get("/tenants/open/reg/" + id) }, 401, engine.CodeInvalidToken},
		{"update without client_id", func() response { return put(`{"redirect_uris":["https://app.example/cb"]}`) }, 400, engine.CodeInvalidRequest},
		{"update with other client_id", func() response {
			return put(fmt.Sprintf(`{"client_id":%q}`, other["client_id"]))
		}, 400, engine.CodeInvalidRequest},
		{"update with wrong secret", func() response {
			return put(fmt.Sprintf(`{"client_id":%q,"client_secret":"wrong","redirect_uris":["https://app.example/cb"]}`, id))
		}, 400, engine.CodeInvalidRequest},
		{"update with registration_access_token", func() response {
			return put(fmt.Sprintf(`{"client_id":%q,"registration_access_token":null}`, id))
		}, 400, engine.CodeInvalidRequest},
		{"update with a token in the body", func() response {
			return put(fmt.Sprintf(`{"client_id":%q,"access_token":%q,"redirect_uris":["https://app.example/cb"]}`, id, rat))
		}, 400, engine.CodeInvalidRequest},
		{"update with client_id_issued_at", func() response {
			return put(fmt.Sprintf(`{"client_id":%q,"client_id_issued_at":1}`, id))
		}, 400, engine.CodeInvalidRequest},
		{"update with invalid metadata", func() response {
			return put(fmt.Sprintf(`{"client_id":%q,"redirect_uris":["https://app.example/cb#frag"]}`, id))
		}, 400, engine.CodeInvalidRedirectURI},
		{"management off", func() response {
			return s.get("/tenants/nomgmt/reg/"+id, bearer(rat))
		}, 403, engine.CodeAccessDenied},
		{"unknown tenant discovery", func() response { return s.get("/tenants/nope/.well-known/openid-configuration") }, 404, engine.CodeNotFound},
		{"unknown route", func() response { return s.get("/reg/a/b") }, 404, engine.CodeNotFound},
		{"GET /reg", func() response { return s.get("/reg") }, 405, "method_not_allowed"},
		{"POST /reg/id", func() response { return s.do(s.public, "POST", "/reg/x", "{}") }, 405, "method_not_allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, tc.resp(), tc.status, tc.code)
		})
	}
	// None of the failed updates changed the client or burnt its token.
	r := s.get("/tenants/open/reg/"+id, bearer(rat))
	if r.StatusCode != http.StatusOK || r.json(t)["client_name"] != "App" {
		t.Fatalf("client changed by failed requests: %d %s", r.StatusCode, r.body)
	}
}

func TestAllowHeader(t *testing.T) {
	s := newServer(t, tenants)
	cases := map[string]string{"/reg": "POST", "/reg/x": "GET, PUT, DELETE", "/tenants/open/jwks": "GET"}
	for path, want := range cases {
		r := s.do(s.public, "PATCH", path, "{}")
		if r.StatusCode != http.StatusMethodNotAllowed || r.Header.Get("Allow") != want {
			t.Errorf("PATCH %s: %d Allow %q, want 405 Allow %q", path, r.StatusCode, r.Header.Get("Allow"), want)
		}
	}
}

func TestNoRotationAndDefaults(t *testing.T) {
	s := newServer(t, tenants)
	c := s.register("/tenants/fixed", "", `{"redirect_uris":["https://app.example/cb"]}`)
	if c["client_name"] != "Unnamed" {
		t.Errorf("client_defaults not applied: %v", c["client_name"])
	}
	id, rat := c["client_id"].(string), c["registration_access_token"].(string)
	r := s.do(s.public, "PUT", "/tenants/fixed/reg/"+id, fmt.Sprintf(`{"client_id":%q,"redirect_uris":["https://app.example/cb"],"client_name":"Named"}`, id), bearer(rat))
	if r.StatusCode != 200 {
		t.Fatalf("PUT: %d %s", r.StatusCode, r.body)
	}
	if u := r.json(t); u["registration_access_token"] != rat || u["client_name"] != "Named" {
		t.Errorf("rotation is off: want the same token back, got %s", r.body)
	}
}

func TestHealth(t *testing.T) {
	s := newServer(t, tenants)
	for _, path := range []string{"/healthz", "/readyz"} {
		if r := s.get(path); r.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %s", path, r.StatusCode, r.body)
		}
	}
}

func TestRequestID(t *testing.T) {
	s := newServer(t, tenants)
	if r := s.get("/healthz", "X-Request-Id: abc-123"); r.Header.Get("X-Request-Id") != "abc-123" {
		t.Errorf("proxy request ID not echoed: %q", r.Header.Get("X-Request-Id"))
	}
	if r := s.get("/healthz", "X-Request-Id: bad id with spaces"); r.Header.Get("X-Request-Id") == "" || strings.Contains(r.Header.Get("X-Request-Id"), " ") {
		t.Errorf("malformed request ID not replaced: %q", r.Header.Get("X-Request-Id"))
	}
}

// TestNonCanonicalPaths: a path that is not in canonical form is a JSON 404,
// whatever the method, never a redirect to the route it cleans to.
func TestNonCanonicalPaths(t *testing.T) {
	s := newServer(t, tenants)
	client := s.public.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, tc := range []struct{ method, path string }{
		{"POST", "//reg"},
		{"POST", "/./reg"},
		{"GET", "/reg/../healthz"},
		{"GET", "/reg/..%2f..%2fadmin"},
		{"GET", "/reg/..%2F..%2Fhealthz"},
		{"GET", "/reg/%2e%2e"},
		{"GET", "/reg/.."},
		{"GET", "/reg/x/"},
		{"POST", "/tenants/open%2freg"},
		{"POST", "/tenants/open/./reg"},
		{"POST", "/tenants/./reg"},
		{"GET", "/tenants/open/..//.well-known/openid-configuration"},
		{"GET", "//healthz"},
		{"GET", "/healthz/"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, s.public.URL+tc.path, strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if loc := resp.Header.Get("Location"); loc != "" {
				t.Errorf("redirected to %s", loc)
			}
			wantError(t, response{resp, b}, http.StatusNotFound, engine.CodeNotFound)
		})
	}
	// The canonical forms still work.
	if r := s.get("/healthz"); r.StatusCode != http.StatusOK {
		t.Errorf("/healthz: %d", r.StatusCode)
	}
	if r := s.get("/tenants/open/.well-known/openid-configuration"); r.StatusCode != http.StatusOK {
		t.Errorf("discovery: %d", r.StatusCode)
	}
}
