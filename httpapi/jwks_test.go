package httpapi_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/engine"
)

// A tenant with JWT access tokens: the token's kid is in the published
// set, which caches allow for less than the publication lead, and the
// token is active until revoked.
func TestJWTAccessTokenOverHTTP(t *testing.T) {
	s := newServer(t, map[string]engine.Settings{
		"jwt": {InitialAccessToken: engine.TokenNone, AccessTokenFormat: engine.AccessTokenJWT},
	})
	empty := s.get("/tenants/jwt/jwks")
	if empty.StatusCode != http.StatusOK || strings.TrimSpace(string(empty.body)) != `{"keys":[]}` {
		t.Fatalf("jwks before any token: %d %s", empty.StatusCode, empty.body)
	}
	id, secret := s.m2m("/tenants/jwt", "client_secret_basic", "read")
	tok := s.token("/tenants/jwt/token", "grant_type=client_credentials", basicAuth(id, secret))
	at, _ := tok["access_token"].(string)
	head, _, _ := strings.Cut(at, ".")
	b, _ := base64.RawURLEncoding.DecodeString(head)
	var h struct{ Kid, Typ string }
	if err := json.Unmarshal(b, &h); err != nil || h.Typ != "at+jwt" {
		t.Fatalf("header %s", b)
	}
	r := s.get("/tenants/jwt/jwks")
	if r.Header.Get("Content-Type") != "application/jwk-set+json" || r.Header.Get("Cache-Control") != "public, max-age=300" {
		t.Errorf("jwks headers %v", r.Header)
	}
	var set struct{ Keys []map[string]any }
	if err := json.Unmarshal(r.body, &set); err != nil || len(set.Keys) != 2 {
		t.Fatalf("jwks %s", r.body)
	}
	found := false
	for _, k := range set.Keys {
		found = found || k["kid"] == h.Kid
		if _, ok := k["d"]; ok {
			t.Error("the jwks has a private member")
		}
	}
	if !found {
		t.Errorf("the token's kid %s is not published", h.Kid)
	}
	if in := s.introspect("/tenants/jwt", at, basicAuth(id, secret)); in["active"] != true || in["client_id"] != id {
		t.Errorf("introspection %v", in)
	}
	if r := s.post("/tenants/jwt/revoke", "token="+url.QueryEscape(at), basicAuth(id, secret)); r.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.StatusCode, r.body)
	}
	if in := s.introspect("/tenants/jwt", at, basicAuth(id, secret)); in["active"] != false {
		t.Errorf("introspection after revocation %v", in)
	}
}
