package e2e_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/jose/josetest"
)

// tokenClient drives one tenant's token endpoints on real processes,
// finding every endpoint through discovery.
type tokenClient struct {
	c      client
	prefix string // tenant path, "" or "/tenants/<t>"
}

// endpoints reads a process's discovery document for the tenant and
// returns the paths of its endpoints, by discovery member.
func (tc tokenClient) endpoints(p *process) map[string]string {
	tc.c.t.Helper()
	r := tc.c.do(http.MethodGet, p.public+tc.prefix+"/.well-known/openid-configuration", "", "", nil)
	if r.status != http.StatusOK {
		tc.c.t.Fatalf("discovery: %d %s", r.status, r.raw)
	}
	out := map[string]string{}
	for _, m := range []string{"registration_endpoint", "token_endpoint", "introspection_endpoint", "revocation_endpoint", "jwks_uri"} {
		u, _ := r.body[m].(string)
		if !strings.HasPrefix(u, issuer) {
			tc.c.t.Fatalf("discovery has no %s under the issuer: %q", m, u)
		}
		out[m] = path(u)
	}
	return out
}

// form posts a form with optional Basic credentials.
func (tc tokenClient) form(target string, f url.Values, id, secret string) response {
	tc.c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(f.Encode()))
	if err != nil {
		tc.c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret))))
	}
	resp, err := tc.c.h.Do(req)
	if err != nil {
		tc.c.t.Fatal(err)
	}
	defer resp.Body.Close()
	out := response{status: resp.StatusCode, header: resp.Header}
	b, _ := io.ReadAll(resp.Body)
	out.raw = string(b)
	_ = json.Unmarshal([]byte(out.raw), &out.body)
	return out
}

// secretAuth authenticates a request with client_secret_basic,
// client_secret_post, client_secret_jwt or (with key set) private_key_jwt.
type secretAuth struct {
	method, id, secret string
	key                *josetest.Key
	t                  *testing.T
}

func (a secretAuth) send(tc tokenClient, target string, f url.Values) response {
	if a.method == "private_key_jwt" || a.method == "client_secret_jwt" {
		// A fresh assertion for each request: its jti is single use. Its
		// audience is the endpoint's URL as the issuer names it.
		aud := issuer + "/" + strings.SplitN(strings.TrimPrefix(target, "http://"), "/", 2)[1]
		now := time.Now().Unix()
		claims := map[string]any{"iss": a.id, "sub": a.id, "aud": aud, "iat": now, "exp": now + 60, "jti": randomID()}
		f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		if a.method == "client_secret_jwt" {
			f.Set("client_assertion", josetest.SignHS256(a.t, []byte(a.secret), claims))
		} else {
			f.Set("client_assertion", a.key.Sign(a.t, nil, claims))
		}
		return tc.form(target, f, "", "")
	}
	if a.method == "client_secret_post" {
		f.Set("client_id", a.id)
		f.Set("client_secret", a.secret)
		return tc.form(target, f, "", "")
	}
	return tc.form(target, f, a.id, a.secret)
}

// TestTokensAcrossReplicas registers a client with each secret method on
// one replica, gets a token on another, introspects and revokes it across
// them, over a real Redis; and does the same on one process with the
// embedded store.
//
// Both access token formats run: opaque, and JWT, whose signing keys the
// replicas share through Redis, sealed under the key-encryption key that
// both are given. The tenants keep client secrets encrypted, so that
// client_secret_jwt runs too: its secret is sealed by one replica and
// opened by the other. A replica without the key refuses such a tenant.
func TestTokensAcrossReplicas(t *testing.T) {
	addr := startRedis(t)
	kek := filepath.Join(t.TempDir(), "kek")
	if err := os.WriteFile(kek, []byte("e2e-1:"+base64.StdEncoding.EncodeToString([]byte(randomID()))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fleet := []*process{
		startProcess(t, "--redis-url", "redis://"+addr, "--key-encryption-key-file", kek),
		startProcess(t, "--redis-url", "redis://"+addr, "--key-encryption-key-file", kek),
	}
	for _, format := range []string{"opaque", "jwt"} {
		t.Run("redis/"+format, func(t *testing.T) { tokenRoundTrip(t, fleet, format) })
	}
	t.Run("redis without a key-encryption key", func(t *testing.T) {
		p := startProcess(t, "--redis-url", "redis://"+addr)
		c := client{t: t, h: http.DefaultClient}
		r := c.do(http.MethodPut, p.admin+"/admin/tenants/no-kek", adminToken, "application/json", []byte(`{"client_secret_storage":"encrypted"}`))
		if r.status != http.StatusBadRequest || !strings.Contains(r.raw, "key-encryption key") {
			t.Fatalf("PUT of an encrypted-secrets tenant: %d %s", r.status, r.raw)
		}
		if r := c.do(http.MethodGet, p.admin+"/admin/tenants/no-kek", adminToken, "", nil); r.status != http.StatusNotFound {
			t.Errorf("the refused tenant was saved: %d %s", r.status, r.raw)
		}
	})
	t.Run("embedded", func(t *testing.T) {
		one := startProcess(t)
		for _, format := range []string{"opaque", "jwt"} {
			t.Run(format, func(t *testing.T) { tokenRoundTrip(t, []*process{one, one}, format) })
		}
	})
}

func tokenRoundTrip(t *testing.T, ps []*process, format string) {
	c := client{t: t, h: http.DefaultClient}
	a, b := ps[0], ps[1]
	admin := func(p *process, method, path, body string) response {
		return c.do(method, p.admin+path, adminToken, "application/json", []byte(body))
	}
	tenant := "m2m-" + format
	if r := admin(a, http.MethodPut, "/admin/tenants/"+tenant, `{"initial_access_token":"none","resources":["https://api.example/"],"client_secret_storage":"encrypted","access_token_format":"`+format+`"}`); r.status != 201 && r.status != 200 {
		t.Fatalf("create tenant: %d %s", r.status, r.raw)
	}
	tc := tokenClient{c: c, prefix: "/tenants/" + tenant}
	waitTenant(t, c, b, tc.prefix)
	ea, eb := tc.endpoints(a), tc.endpoints(b)
	key := josetest.NewKey(t, "ES256", "k1")
	for _, method := range []string{"client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt"} {
		t.Run(method, func(t *testing.T) {
			extra := ""
			if method == "private_key_jwt" {
				extra = `,"jwks":` + string(josetest.JWKS(t, key))
			}
			reg := c.do(http.MethodPost, a.public+ea["registration_endpoint"], "", "application/json",
				[]byte(`{"grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],"scope":"read write","token_endpoint_auth_method":"`+method+`"`+extra+`}`))
			if reg.status != http.StatusCreated {
				t.Fatalf("register: %d %s", reg.status, reg.raw)
			}
			auth := secretAuth{method: method, id: reg.str("client_id"), secret: reg.str("client_secret"), key: key, t: t}
			tok := auth.send(tc, b.public+eb["token_endpoint"], url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}, "resource": {"https://api.example/"}})
			if tok.status != http.StatusOK || tok.str("token_type") != "Bearer" || tok.str("scope") != "read" {
				t.Fatalf("token on the second replica: %d %s", tok.status, tok.raw)
			}
			at := tok.str("access_token")
			if format == "jwt" {
				checkJWT(t, c, a.public+ea["jwks_uri"], at)
			}
			in := auth.send(tc, a.public+ea["introspection_endpoint"], url.Values{"token": {at}})
			if in.body["active"] != true || in.str("client_id") != auth.id || in.str("iss") != issuer+tc.prefix {
				t.Fatalf("introspection on the first replica: %d %s", in.status, in.raw)
			}
			if aud, _ := in.body["aud"].([]any); len(aud) != 1 || aud[0] != "https://api.example/" {
				t.Errorf("aud %v", in.body["aud"])
			}
			bad := secretAuth{method: method, id: auth.id, secret: auth.secret + "x", key: josetest.NewKey(t, "ES256", "k1"), t: t}
			if r := bad.send(tc, a.public+ea["token_endpoint"], url.Values{"grant_type": {"client_credentials"}}); r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" {
				t.Errorf("a wrong secret: %d %s", r.status, r.raw)
			}
			if r := auth.send(tc, b.public+eb["revocation_endpoint"], url.Values{"token": {at}}); r.status != http.StatusOK {
				t.Fatalf("revoke on the second replica: %d %s", r.status, r.raw)
			}
			if in := auth.send(tc, a.public+ea["introspection_endpoint"], url.Values{"token": {at}}); in.body["active"] != false {
				t.Errorf("after revocation on the other replica: %s", in.raw)
			}
		})
	}
}

// waitTenant waits until a process serves a tenant created through
// another one (replicas refresh their tenants from the store).
func waitTenant(t *testing.T, c client, p *process, prefix string) {
	t.Helper()
	for range 200 {
		if r := c.do(http.MethodGet, p.public+prefix+"/.well-known/openid-configuration", "", "", nil); r.status == http.StatusOK {
			return
		}
		sleep()
	}
	t.Fatalf("%s never served %s", p.public, prefix)
}

// randomID returns 16 random bytes in hex.
func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// sleep waits a little between two polls.
func sleep() { time.Sleep(50 * time.Millisecond) }

// checkJWT checks that an access token is a JWT (RFC 9068 typ) whose kid
// the tenant's JWK Set, fetched from a process, publishes.
func checkJWT(t *testing.T, c client, jwksURI, at string) {
	t.Helper()
	head, _, _ := strings.Cut(at, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	var h struct{ Typ, Kid string }
	if err != nil || json.Unmarshal(b, &h) != nil || h.Typ != "at+jwt" || strings.Count(at, ".") != 2 {
		t.Fatalf("not a JWT access token: %q", at)
	}
	r := c.do(http.MethodGet, jwksURI, "", "", nil)
	if r.status != http.StatusOK || !strings.Contains(string(r.raw), `"kid":"`+h.Kid+`"`) {
		t.Fatalf("the other replica's jwks does not publish kid %s: %d %s", h.Kid, r.status, r.raw)
	}
}
