package e2e_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// interopDir holds the openid-client script and its pinned dependencies.
const interopDir = "openid-client"

// requireNode returns the path of node when it and the script's
// dependencies are installed. Otherwise it skips the test, or fails it
// with REGISTRAR_REQUIRE_NODE=1, as CI sets.
func requireNode(t *testing.T) string {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("REGISTRAR_REQUIRE_NODE") == "1" {
			t.Fatalf(format+" (REGISTRAR_REQUIRE_NODE=1)", args...)
		}
		t.Skipf(format, args...)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(interopDir, "node_modules", "openid-client", "package.json")); err != nil {
		missing("openid-client is not installed (run npm ci in e2e/%s): %v", interopDir, err)
	}
	return node
}

// interopClient is a registered client as the script takes it.
type interopClient struct {
	Method       string         `json:"method"`
	ClientID     string         `json:"client_id"`
	ClientSecret string         `json:"client_secret,omitempty"`
	JWK          map[string]any `json:"jwk,omitempty"`
}

// interopSummary is what the script prints.
type interopSummary struct {
	Library string `json:"library"`
	Issuer  string `json:"issuer"`
	Flows   []struct {
		Method   string `json:"method"`
		ClientID string `json:"client_id"`
		Token    struct {
			TokenType string `json:"token_type"`
			Scope     string `json:"scope"`
			ExpiresIn int    `json:"expires_in"`
		} `json:"token"`
		Introspection struct {
			Active   bool     `json:"active"`
			ClientID string   `json:"client_id"`
			Scope    string   `json:"scope"`
			Aud      []string `json:"aud"`
			Iss      string   `json:"iss"`
		} `json:"introspection"`
		AfterRevocation  map[string]any `json:"after_revocation"`
		WrongCredentials struct {
			Status int    `json:"status"`
			Error  string `json:"error"`
		} `json:"wrong_credentials"`
	} `json:"flows"`
}

// TestOpenIDClientInterop has openid-client, a third-party OAuth 2.0
// client library from npm, discover a tenant of a real process over Redis,
// get a token with the client credentials grant, introspect and revoke it,
// with client_secret_basic and private_key_jwt.
func TestOpenIDClientInterop(t *testing.T) {
	node := requireNode(t)
	addr := startRedis(t)
	// An empty --issuer makes the issuer http://<addr>, the address the
	// library discovers, so that the document's issuer matches it.
	p := startProcess(t, "--redis-url", "redis://"+addr, "--issuer", "")
	c := client{t: t, h: http.DefaultClient}
	const resource = "https://api.example/"
	if r := c.do(http.MethodPut, p.admin+"/admin/tenants/interop", adminToken, "application/json",
		[]byte(`{"initial_access_token":"none","resources":["`+resource+`"]}`)); r.status != 201 && r.status != 200 {
		t.Fatalf("create tenant: %d %s", r.status, r.raw)
	}
	tenant := p.public + "/tenants/interop"
	waitTenant(t, c, p, "/tenants/interop")
	doc := c.do(http.MethodGet, tenant+"/.well-known/openid-configuration", "", "", nil)
	if doc.status != http.StatusOK || doc.str("issuer") != tenant {
		t.Fatalf("discovery: %d %s, want the issuer %s", doc.status, doc.raw, tenant)
	}
	var advertised []string
	for _, m := range doc.body["token_endpoint_auth_methods_supported"].([]any) {
		s, _ := m.(string)
		advertised = append(advertised, s)
	}
	register := func(body map[string]any) response {
		t.Helper()
		b, _ := json.Marshal(body)
		r := c.do(http.MethodPost, tenant+"/reg", "", "application/json", b)
		if r.status != http.StatusCreated {
			t.Fatalf("register %s: %d %s", body["token_endpoint_auth_method"], r.status, r.raw)
		}
		return r
	}
	m2m := func(method string) map[string]any {
		return map[string]any{"grant_types": []string{"client_credentials"}, "response_types": []string{}, "redirect_uris": []string{},
			"scope": "read write", "token_endpoint_auth_method": method}
	}
	reg := register(m2m("client_secret_basic"))
	clients := []interopClient{{Method: "client_secret_basic", ClientID: reg.str("client_id"), ClientSecret: reg.str("client_secret")}}
	if !slices.Contains(advertised, "private_key_jwt") {
		t.Fatalf("discovery advertises %v, without private_key_jwt", advertised)
	}
	private, public := ecJWK(t, "interop-1")
	body := m2m("private_key_jwt")
	body["jwks"] = map[string]any{"keys": []any{public}}
	reg = register(body)
	clients = append(clients, interopClient{Method: "private_key_jwt", ClientID: reg.str("client_id"), JWK: private})

	sum := runInterop(t, node, tenant, clients, "read", resource)
	if !strings.HasPrefix(sum.Library, "openid-client@6.") || sum.Issuer != tenant {
		t.Errorf("summary: %s against %s", sum.Library, sum.Issuer)
	}
	if len(sum.Flows) != len(clients) {
		t.Fatalf("the script ran %d flows for %d clients", len(sum.Flows), len(clients))
	}
	for i, f := range sum.Flows {
		want := clients[i]
		if f.Method != want.Method || f.ClientID != want.ClientID {
			t.Errorf("flow %d: %s %s, want %s %s", i, f.Method, f.ClientID, want.Method, want.ClientID)
		}
		if f.Token.TokenType != "bearer" || f.Token.Scope != "read" || f.Token.ExpiresIn <= 0 {
			t.Errorf("%s: token %+v", f.Method, f.Token)
		}
		in := f.Introspection
		if !in.Active || in.ClientID != want.ClientID || in.Scope != "read" || in.Iss != tenant || !slices.Equal(in.Aud, []string{resource}) {
			t.Errorf("%s: introspection %+v", f.Method, in)
		}
		if len(f.AfterRevocation) != 1 || f.AfterRevocation["active"] != false {
			t.Errorf("%s: introspection after revocation %v", f.Method, f.AfterRevocation)
		}
		if f.WrongCredentials.Status != http.StatusUnauthorized || f.WrongCredentials.Error != "invalid_client" {
			t.Errorf("%s: wrong credentials %+v", f.Method, f.WrongCredentials)
		}
	}
}

// runInterop runs the script against a tenant and decodes its summary.
func runInterop(t *testing.T, node, issuer string, clients []interopClient, scope, resource string) interopSummary {
	t.Helper()
	cs, err := json.Marshal(clients)
	if err != nil {
		t.Fatal(err)
	}
	// The deadline only stops a hung script; it is not a measurement.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(interopDir, "interop.mjs"))
	cmd.Env = append(os.Environ(), "REGISTRAR_ISSUER="+issuer, "REGISTRAR_CLIENTS="+string(cs),
		"REGISTRAR_SCOPE="+scope, "REGISTRAR_RESOURCE="+resource)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node %s: %v\n%s", cmd.Args[1], err, stderr.String())
	}
	var sum interopSummary
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatalf("the script's summary: %v\n%s", err, stdout.String())
	}
	t.Logf("summary: %s", stdout.Bytes())
	return sum
}

// ecJWK makes a P-256 key and returns it as a private JWK and its public
// half, both with kid.
func ecJWK(t *testing.T, kid string) (private, public map[string]any) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	e, err := k.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	point := e.PublicKey().Bytes() // 0x04 || x || y
	b64 := base64.RawURLEncoding.EncodeToString
	public = map[string]any{"kty": "EC", "crv": "P-256", "x": b64(point[1:33]), "y": b64(point[33:]), "kid": kid, "alg": "ES256", "use": "sig"}
	private = map[string]any{"d": b64(e.Bytes())}
	for k, v := range public {
		private[k] = v
	}
	return private, public
}
