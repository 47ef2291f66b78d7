package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/httpapi"
	"github.com/registrar-dev/registrar/idn"
	"github.com/registrar-dev/registrar/internal/seal"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/memstore"
	"github.com/registrar-dev/registrar/oauth"
)

// ownServer runs Registrar's public API with its token endpoint (open
// registration; tenant "api" too) and returns its base URL, which is the
// default tenant's issuer.
func ownServer(t *testing.T) string {
	t.Helper()
	var h http.Handler
	srv := testkit.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	logger := testkit.DiscardLogger()
	store := memstore.New(memstore.Config{})
	kek, err := seal.Generate(nil)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := engine.New(engine.Config{
		Store: store, Keys: jose.KeySetChecker{}, Hosts: idn.Normalizer{}, Logger: logger, Secrets: kek,
		Tenants: map[string]engine.Settings{
			engine.DefaultTenant: {InitialAccessToken: engine.TokenNone},
			"api":                {InitialAccessToken: engine.TokenNone},
			"enc":                {InitialAccessToken: engine.TokenNone, ClientSecretStorage: engine.SecretEncrypted},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	assertions, err := jose.NewAssertions(jose.AssertionsConfig{})
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := oauth.New(oauth.Config{Registrar: reg, Clients: store, Store: store, Assertions: assertions, KeyEncryption: kek, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if h, err = httpapi.New(httpapi.Config{Registrar: reg, Tokens: tokens, Issuer: srv.URL, Logger: logger}); err != nil {
		t.Fatal(err)
	}
	return srv.URL
}

// registerM2M registers a client_credentials client with a method at the
// registration endpoint reg and returns its ID and secret.
func registerM2M(t *testing.T, reg, method string) (id, secret string) {
	t.Helper()
	body := `{"grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],"scope":"read write","token_endpoint_auth_method":"` + method + `"}`
	resp, err := http.Post(reg, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil || resp.StatusCode != http.StatusCreated || c.Secret == "" {
		t.Fatalf("register: %d %v", resp.StatusCode, err)
	}
	return c.ID, c.Secret
}

// runCLI runs a command line and returns its standard output, standard
// error and error.
func runCLI(t *testing.T, vars map[string]string, args ...string) (string, string, error) {
	t.Helper()
	e, out, errb := testEnv(vars)
	err := run(context.Background(), args, e)
	return out.String(), errb.String(), err
}

// introspect asks an introspection endpoint about token as the client id
// with secret, authenticating with client_secret_basic or, if post,
// client_secret_post.
func introspect(t *testing.T, endpoint, id, secret, token string, post bool) map[string]any {
	t.Helper()
	form := url.Values{"token": {token}}
	if post {
		form.Set("client_id", id)
		form.Set("client_secret", secret)
	}
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if !post {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTokenAgainstRegistrar(t *testing.T) {
	base := ownServer(t)
	for _, tenant := range []string{"", "/tenants/api"} {
		issuer := base + tenant
		t.Run("issuer "+issuer, func(t *testing.T) {
			basicID, basicSecret := registerM2M(t, issuer+"/reg", "client_secret_basic")
			postID, postSecret := registerM2M(t, issuer+"/reg", "client_secret_post")
			secretFile := filepath.Join(t.TempDir(), "secret")
			if err := os.WriteFile(secretFile, []byte(postSecret+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}

			// client_secret_basic, the default, with the secret from the
			// environment; the token endpoint discovered (RFC 8414 with
			// the issuer's path inserted).
			out, errb, err := runCLI(t, map[string]string{"REGISTRAR_CLIENT_SECRET": basicSecret},
				"token", "--issuer", issuer, "--client-id", basicID, "--scope", "read")
			if err != nil {
				t.Fatalf("basic: %v\n%s", err, errb)
			}
			var tr map[string]any
			if err := json.Unmarshal([]byte(out), &tr); err != nil || tr["token_type"] != "Bearer" || tr["scope"] != "read" || tr["access_token"] == nil {
				t.Fatalf("basic printed %q (%v)", out, err)
			}
			if m := introspect(t, issuer+"/introspect", basicID, basicSecret, tr["access_token"].(string), false); m["active"] != true || m["client_id"] != basicID {
				t.Fatalf("introspection of the token: %v", m)
			}

			// client_secret_post with the secret from a file, the token
			// alone printed.
			out, errb, err = runCLI(t, nil, "token", "--token-endpoint", issuer+"/token", "--client-id", postID,
				"--auth", "client_secret_post", "--client-secret-file", secretFile, "--output", "token")
			if err != nil {
				t.Fatalf("post: %v\n%s", err, errb)
			}
			token := strings.TrimSuffix(out, "\n")
			if strings.ContainsAny(token, " \n{") || token == "" {
				t.Fatalf("--output token printed %q", out)
			}
			if m := introspect(t, issuer+"/introspect", postID, postSecret, token, true); m["active"] != true || m["client_id"] != postID {
				t.Fatalf("introspection of the token: %v", m)
			}

			// The wrong method is refused: the server's error on stderr,
			// exit 1.
			out, errb, err = runCLI(t, map[string]string{"REGISTRAR_CLIENT_SECRET": postSecret},
				"token", "--issuer", issuer, "--client-id", postID)
			if exitCode(err) != exitError || out != "" || !strings.Contains(errb, `"error": "invalid_client"`) {
				t.Fatalf("wrong method: %v, stdout %q, stderr %q", err, out, errb)
			}
		})
	}
}

// fakeAS is a tiny RFC 6749 authorization server that is not Registrar:
// it serves metadata at the locations given, and records the token
// requests it gets.
type fakeAS struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
	form []url.Values
	// answer decides the token response.
	answer func(r *http.Request, form url.Values) (int, string)
}

func newFakeAS(t *testing.T, issuerPath string, metadataAt ...string) *fakeAS {
	t.Helper()
	f := &fakeAS{}
	mux := http.NewServeMux()
	for _, p := range metadataAt {
		mux.HandleFunc("GET "+p, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{"issuer": f.srv.URL + issuerPath, "token_endpoint": f.srv.URL + "/oauth2/token"})
		})
	}
	mux.HandleFunc("POST /oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, r)
		f.form = append(f.form, r.PostForm)
		f.mu.Unlock()
		status, body := f.answer(r, r.PostForm)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
	f.srv = testkit.NewServer(t, mux)
	return f
}

// last returns the last token request and its form.
func (f *fakeAS) last(t *testing.T) (*http.Request, url.Values) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) == 0 {
		t.Fatal("no token request")
	}
	return f.reqs[len(f.reqs)-1], f.form[len(f.form)-1]
}

func TestTokenAgainstAnotherServer(t *testing.T) {
	// RFC 8414 with the issuer path inserted; no OpenID document.
	as := newFakeAS(t, "/realms/x", "/.well-known/oauth-authorization-server/realms/x")
	const id, secret = "c d:1é", "s+/=%"
	as.answer = func(r *http.Request, form url.Values) (int, string) {
		if form.Get("scope") == "bad" {
			return http.StatusBadRequest, `{"error":"invalid_scope","error_description":"no such scope"}`
		}
		return http.StatusOK, `{"access_token":"at-1","token_type":"Bearer","expires_in":300}`
	}
	out, errb, err := runCLI(t, map[string]string{"REGISTRAR_CLIENT_SECRET": secret},
		"token", "--issuer", as.srv.URL+"/realms/x", "--client-id", id, "--scope", "a b",
		"--resource", "https://r1.example/", "--resource", "https://r2.example/")
	if err != nil {
		t.Fatalf("%v\n%s", err, errb)
	}
	var tr map[string]any
	if err := json.Unmarshal([]byte(out), &tr); err != nil || tr["access_token"] != "at-1" || tr["expires_in"] != float64(300) {
		t.Fatalf("printed %q", out)
	}
	r, form := as.last(t)
	// RFC 6749 §2.3.1: id and secret form-encoded inside Basic.
	wantBasic := "Basic " + base64.StdEncoding.EncodeToString([]byte("c+d%3A1%C3%A9:s%2B%2F%3D%25"))
	if got := r.Header.Get("Authorization"); got != wantBasic {
		t.Fatalf("Authorization %q, want %q", got, wantBasic)
	}
	if form.Get("grant_type") != "client_credentials" || form.Get("scope") != "a b" || strings.Join(form["resource"], ",") != "https://r1.example/,https://r2.example/" || form.Has("client_secret") || form.Has("client_id") {
		t.Fatalf("form %v", form)
	}

	// A public client sends its client_id alone.
	if _, errb, err := runCLI(t, nil, "token", "--issuer", as.srv.URL+"/realms/x", "--client-id", id, "--auth", "none"); err != nil {
		t.Fatalf("none: %v\n%s", err, errb)
	}
	r, form = as.last(t)
	if r.Header.Get("Authorization") != "" || form.Get("client_id") != id || form.Has("client_secret") || form.Has("client_assertion") {
		t.Fatalf("none sent %v %v", r.Header, form)
	}

	// A refusal: the error JSON on standard error, nothing on standard
	// output, exit 1.
	out, errb, err = runCLI(t, map[string]string{"REGISTRAR_CLIENT_SECRET": secret},
		"token", "--issuer", as.srv.URL+"/realms/x", "--client-id", id, "--scope", "bad", "--output", "token")
	if exitCode(err) != exitError || out != "" || !strings.Contains(errb, `"error": "invalid_scope"`) || !strings.Contains(err.Error(), "no such scope") {
		t.Fatalf("refusal: %v, stdout %q, stderr %q", err, out, errb)
	}

	// OpenID Connect Discovery when RFC 8414's document is missing.
	oidc := newFakeAS(t, "/op", "/op/.well-known/openid-configuration")
	oidc.answer = as.answer
	if _, errb, err := runCLI(t, map[string]string{"REGISTRAR_CLIENT_SECRET": secret}, "token", "--issuer", oidc.srv.URL+"/op", "--client-id", "c"); err != nil {
		t.Fatalf("OpenID discovery: %v\n%s", err, errb)
	}

	// A document whose issuer is not the one asked for is refused, and
	// nothing is sent.
	liar := newFakeAS(t, "/elsewhere", "/.well-known/oauth-authorization-server")
	liar.answer = as.answer
	_, _, err = runCLI(t, map[string]string{"REGISTRAR_CLIENT_SECRET": secret}, "token", "--issuer", liar.srv.URL, "--client-id", "c")
	if err == nil || !strings.Contains(err.Error(), "is not") || len(liar.reqs) != 0 {
		t.Fatalf("issuer mismatch: %v, %d token requests", err, len(liar.reqs))
	}

	// A 200 without access_token is an error with --output token.
	as.answer = func(*http.Request, url.Values) (int, string) { return http.StatusOK, `{"token_type":"Bearer"}` }
	out, _, err = runCLI(t, map[string]string{"REGISTRAR_CLIENT_SECRET": secret}, "token", "--token-endpoint", as.srv.URL+"/oauth2/token", "--client-id", id, "--output", "token")
	if exitCode(err) != exitError || out != "" {
		t.Fatalf("no access_token: %v, %q", err, out)
	}
}

func TestTokenUsageErrors(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "k.pem")
	ep := "https://as.example/token"
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no endpoint", []string{"--client-id", "c"}, "either --issuer or --token-endpoint"},
		{"both", []string{"--issuer", "https://as.example", "--token-endpoint", ep, "--client-id", "c"}, "either"},
		{"no client", []string{"--token-endpoint", ep}, "--client-id"},
		{"unknown auth", []string{"--token-endpoint", ep, "--client-id", "c", "--auth", "client_secret_magic"}, "--auth"},
		{"secret jwt with RS256", []string{"--token-endpoint", ep, "--client-id", "c", "--auth", "client_secret_jwt", "--alg", "RS256"}, "HS256, HS384 or HS512"},
		{"secret jwt with a key", []string{"--token-endpoint", ep, "--client-id", "c", "--auth", "client_secret_jwt", "--key-file", keyFile}, "--key-file does not go with"},
		{"secret jwt with a kid", []string{"--token-endpoint", ep, "--client-id", "c", "--auth", "client_secret_jwt", "--kid", "k"}, "--kid does not go with"},
		{"secret jwt without secret", []string{"--token-endpoint", ep, "--client-id", "c", "--auth", "client_secret_jwt"}, "needs the client secret"},
		{"no secret", []string{"--token-endpoint", ep, "--client-id", "c"}, "needs the client secret"},
		{"key with basic", []string{"--token-endpoint", ep, "--client-id", "c", "--key-file", keyFile}, "--key-file does not go with"},
		{"kid with basic", []string{"--token-endpoint", ep, "--client-id", "c", "--kid", "k1"}, "--kid does not go with"},
		{"jwt without key", []string{"--token-endpoint", ep, "--client-id", "c", "--auth", "private_key_jwt"}, "needs --key-file"},
		{"missing key file", []string{"--token-endpoint", ep, "--client-id", "c", "--auth", "private_key_jwt", "--key-file", keyFile}, "--key-file"},
		{"tls without cert", []string{"--token-endpoint", ep, "--client-id", "c", "--auth", "tls_client_auth"}, "needs --cert and --key"},
		{"tls over http", []string{"--token-endpoint", "http://127.0.0.1:1/token", "--client-id", "c", "--auth", "tls_client_auth", "--cert", "c", "--key", "k"}, "needs https"},
		{"not a URL", []string{"--token-endpoint", "ftp://as.example/t", "--client-id", "c"}, "want an http or https URL"},
		{"bad output", []string{"--token-endpoint", ep, "--client-id", "c", "-o", "table"}, "--output"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runCLI(t, nil, append([]string{"token"}, tt.args...)...)
			if exitCode(err) != exitUsage || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v (exit %d), want usage error %q", err, exitCode(err), tt.want)
			}
		})
	}
}

// verifyJWS checks a compact JWS's signature with pub using the standard
// library only, and returns its header and claims.
func verifyJWS(t *testing.T, token string, pub crypto.PublicKey) (map[string]any, map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", token)
	}
	dec := func(s string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("base64url: %v", err)
		}
		return b
	}
	var hdr, claims map[string]any
	if json.Unmarshal(dec(parts[0]), &hdr) != nil || json.Unmarshal(dec(parts[1]), &claims) != nil {
		t.Fatal("header or claims are not JSON")
	}
	input, sig := []byte(parts[0]+"."+parts[1]), dec(parts[2])
	digest := sha256.Sum256(input)
	ok := false
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		ok = hdr["alg"] == "ES256" && len(sig) == 64 && ecdsa.Verify(k, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
	case ed25519.PublicKey:
		ok = hdr["alg"] == "EdDSA" && ed25519.Verify(k, input, sig)
	case *rsa.PublicKey:
		ok = hdr["alg"] == "PS256" && rsa.VerifyPSS(k, crypto.SHA256, digest[:], sig, nil) == nil
	}
	if !ok {
		t.Fatalf("the signature (alg %v) does not verify with the public key", hdr["alg"])
	}
	return hdr, claims
}

func TestTokenPrivateKeyJWT(t *testing.T) {
	as := newFakeAS(t, "", "/.well-known/oauth-authorization-server")
	as.answer = func(*http.Request, url.Values) (int, string) {
		return http.StatusOK, `{"access_token":"at","token_type":"Bearer"}`
	}
	dir := t.TempDir()
	for _, tt := range []struct{ alg, file string }{{"ES256", "k.pem"}, {"EdDSA", "k.json"}, {"PS256", "rsa.pem"}} {
		t.Run(tt.alg+" "+tt.file, func(t *testing.T) {
			key, err := jose.GenerateKey(tt.alg)
			if err != nil {
				t.Fatal(err)
			}
			enc, _ := key.PEM()
			if strings.HasSuffix(tt.file, ".json") {
				enc, _ = key.PrivateJWK()
			}
			file := filepath.Join(dir, tt.file)
			if err := os.WriteFile(file, enc, 0o600); err != nil {
				t.Fatal(err)
			}
			args := []string{"token", "--issuer", as.srv.URL, "--client-id", "client-7", "--auth", "private_key_jwt", "--key-file", file}
			if tt.alg == "PS256" {
				args = append(args, "--alg", "PS256")
			}
			before := time.Now().Unix()
			if _, errb, err := runCLI(t, nil, args...); err != nil {
				t.Fatalf("%v\n%s", err, errb)
			}
			after := time.Now().Unix()
			r, form := as.last(t)
			if r.Header.Get("Authorization") != "" || form.Get("client_id") != "client-7" || form.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
				t.Fatalf("request: %v %v", r.Header, form)
			}
			hdr, claims := verifyJWS(t, form.Get("client_assertion"), key.Signer.Public())
			if hdr["kid"] != key.KeyID {
				t.Fatalf("kid %v, want %q", hdr["kid"], key.KeyID)
			}
			iat, _ := claims["iat"].(float64)
			if claims["iss"] != "client-7" || claims["sub"] != "client-7" || claims["aud"] != as.srv.URL+"/oauth2/token" ||
				claims["exp"] != iat+60 || int64(iat) < before || int64(iat) > after {
				t.Fatalf("claims %v", claims)
			}
			jti, _ := claims["jti"].(string)
			if len(jti) < 16 {
				t.Fatalf("jti %q", jti)
			}
			// Another assertion has another jti; --kid and
			// --assertion-aud override.
			if _, errb, err := runCLI(t, nil, append(args, "--kid", "", "--assertion-aud", as.srv.URL)...); err != nil {
				t.Fatalf("%v\n%s", err, errb)
			}
			_, form = as.last(t)
			hdr, claims = verifyJWS(t, form.Get("client_assertion"), key.Signer.Public())
			if _, has := hdr["kid"]; has || claims["jti"] == jti || claims["aud"] != as.srv.URL {
				t.Fatalf("second assertion: header %v claims %v", hdr, claims)
			}
		})
	}
	// An algorithm that does not fit the key is a usage error.
	key, _ := jose.GenerateKey("ES256")
	enc, _ := key.PEM()
	file := filepath.Join(dir, "es.pem")
	_ = os.WriteFile(file, enc, 0o600)
	_, _, err := runCLI(t, nil, "token", "--issuer", as.srv.URL, "--client-id", "c", "--auth", "private_key_jwt", "--key-file", file, "--alg", "RS256")
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "does not fit") {
		t.Fatalf("RS256 with an EC key: %v", err)
	}
}

// selfSignedCert makes a certificate and key for TLS client
// authentication and writes them as PEM files.
func selfSignedCert(t *testing.T, dir string) (cert *x509.Certificate, certFile, keyFile string) {
	t.Helper()
	key, err := jose.GenerateKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "client-tls"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Signer.Public(), key.Signer)
	if err != nil {
		t.Fatal(err)
	}
	if cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key")
	keyPEM, _ := key.PEM()
	if os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600) != nil || os.WriteFile(keyFile, keyPEM, 0o600) != nil {
		t.Fatal("writing the certificate")
	}
	return cert, certFile, keyFile
}

func TestTokenTLSClientAuth(t *testing.T) {
	dir := t.TempDir()
	cert, certFile, keyFile := selfSignedCert(t, dir)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	var mu sync.Mutex
	var presented []*x509.Certificate
	var form url.Values
	var srv *httptest.Server
	srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/oauth-authorization-server" {
			// The mTLS alias is where the token request must go.
			_, _ = w.Write([]byte(`{"issuer":"` + srv.URL + `","token_endpoint":"` + srv.URL + `/plain","mtls_endpoint_aliases":{"token_endpoint":"` + srv.URL + `/mtls/token"}}`))
			return
		}
		_ = r.ParseForm()
		mu.Lock()
		presented, form = r.TLS.PeerCertificates, r.PostForm
		mu.Unlock()
		if r.URL.Path != "/mtls/token" {
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte(`{"access_token":"mtls-at","token_type":"Bearer"}`))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = &tls.Config{ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}

	out, errb, err := runCLI(t, nil, "token", "--issuer", srv.URL, "--client-id", "tls-client", "--auth", "tls_client_auth",
		"--cert", certFile, "--key", keyFile, "--ca-file", caFile, "-o", "token")
	if err != nil || out != "mtls-at\n" {
		t.Fatalf("%v, %q\n%s", err, out, errb)
	}
	mu.Lock()
	if len(presented) == 0 || !bytes.Equal(presented[0].Raw, cert.Raw) || form.Get("client_id") != "tls-client" || form.Has("client_secret") {
		t.Fatalf("the server saw certificates %d, form %v", len(presented), form)
	}
	mu.Unlock()

	// Without --ca-file the test server's certificate is not trusted.
	_, _, err = runCLI(t, nil, "token", "--token-endpoint", srv.URL+"/mtls/token", "--client-id", "tls-client", "--auth", "tls_client_auth",
		"--cert", certFile, "--key", keyFile)
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("an untrusted server: %v", err)
	}
}
