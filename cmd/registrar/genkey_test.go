package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
)

// registeredKeys returns the keys of the jwks a client information
// response printed.
func registeredKeys(t *testing.T, out string) (map[string]any, []map[string]any) {
	t.Helper()
	var c struct {
		Jwks struct {
			Keys []map[string]any `json:"keys"`
		} `json:"jwks"`
	}
	var all map[string]any
	if json.Unmarshal([]byte(out), &c) != nil || json.Unmarshal([]byte(out), &all) != nil {
		t.Fatalf("not JSON: %q", out)
	}
	return all, c.Jwks.Keys
}

// sameKey reports whether the private key in file is the one whose
// public JWK was registered.
func sameKey(t *testing.T, file string, registered map[string]any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	key, err := jose.ParseSigningKey(b, "")
	if err != nil {
		t.Fatalf("the key file: %v", err)
	}
	pub, _ := key.PublicJWK()
	var want map[string]any
	_ = json.Unmarshal(pub, &want)
	for _, m := range []string{"kty", "crv", "x", "y", "n", "e", "kid", "alg", "use"} {
		if want[m] != registered[m] {
			t.Fatalf("member %s: file's key %v, registered %v", m, want[m], registered[m])
		}
	}
	if tp, _ := jose.Thumbprint(key.Signer.Public()); registered["kid"] != tp {
		t.Fatalf("registered kid %v is not the thumbprint %q", registered["kid"], tp)
	}
}

func TestRegisterGenerateKeyAgainstRegistrar(t *testing.T) {
	base := ownServer(t)
	dir := t.TempDir()
	meta := filepath.Join(dir, "client.json")
	if err := os.WriteFile(meta, []byte(`{"redirect_uris":["https://app.example/cb"],"client_name":"K"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "client.key")
	out, errb, err := runCLI(t, nil, "register", "--issuer", base, "--metadata", meta, "--generate-key", keyFile)
	if err != nil {
		t.Fatalf("%v\n%s", err, errb)
	}
	client, keys := registeredKeys(t, out)
	if client["token_endpoint_auth_method"] != "private_key_jwt" || client["client_name"] != "K" || len(keys) != 1 || keys[0]["alg"] != "ES256" || keys[0]["crv"] != "P-256" {
		t.Fatalf("registered %s", out)
	}
	info, err := os.Stat(keyFile)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", info, err)
	}
	if b, _ := os.ReadFile(keyFile); !bytes.HasPrefix(b, []byte("-----BEGIN PRIVATE KEY-----")) {
		t.Fatalf("not PKCS#8 PEM: %.40q", b)
	}
	sameKey(t, keyFile, keys[0])
	if !strings.Contains(errb, keys[0]["kid"].(string)) {
		t.Fatalf("stderr does not name the kid: %q", errb)
	}
}

// fakeRegistrar is a provider whose registration endpoint answers with
// answer and counts the registrations.
type fakeRegistrar struct {
	url    string
	mu     sync.Mutex
	bodies [][]byte
	answer func(body []byte) (int, []byte)
}

func newFakeRegistrar(t *testing.T) *fakeRegistrar {
	t.Helper()
	f := &fakeRegistrar{answer: func(b []byte) (int, []byte) { return http.StatusCreated, b }}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"issuer":"` + f.url + `","registration_endpoint":"` + f.url + `/register"}`))
	})
	mux.HandleFunc("POST /register", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.bodies = append(f.bodies, b)
		f.mu.Unlock()
		status, out := f.answer(b)
		if status == 0 {
			// No answer: the connection closes.
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				_ = conn.Close()
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(out)
	})
	f.url = testkit.NewServer(t, mux).URL
	return f
}

func (f *fakeRegistrar) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.bodies)
}

func TestRegisterGenerateKey(t *testing.T) {
	p := newFakeRegistrar(t)
	dir := t.TempDir()
	metaFile := func(name, body string) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	other, _ := jose.GenerateKey("ES256")
	otherJWK, _ := other.PublicJWK()

	// EdDSA as a JWK file; the metadata's own key and auth method kept.
	jwkFile := filepath.Join(dir, "k.json")
	meta := metaFile("m1.json", `{"client_name":"J","token_endpoint_auth_method":"self_signed_tls_client_auth","jwks":{"keys":[`+string(otherJWK)+`]}}`)
	out, errb, err := runCLI(t, nil, "register", "--issuer", p.url, "--metadata", meta, "--generate-key", jwkFile, "--key-alg", "EdDSA")
	if err != nil {
		t.Fatalf("%v\n%s", err, errb)
	}
	client, keys := registeredKeys(t, out)
	if client["token_endpoint_auth_method"] != "self_signed_tls_client_auth" || len(keys) != 2 || keys[0]["kid"] != other.KeyID || keys[1]["alg"] != "EdDSA" {
		t.Fatalf("registered %s", out)
	}
	if b, _ := os.ReadFile(jwkFile); !json.Valid(b) || !bytes.Contains(b, []byte(`"d"`)) {
		t.Fatalf("not a private JWK: %s", b)
	}
	sameKey(t, jwkFile, keys[1])

	// An existing file is never overwritten, and nothing is registered.
	before, _ := os.ReadFile(jwkFile)
	n := p.count()
	_, _, err = runCLI(t, nil, "register", "--issuer", p.url, "--metadata", meta, "--generate-key", jwkFile)
	if exitCode(err) != exitError || !strings.Contains(err.Error(), "exists") || p.count() != n {
		t.Fatalf("existing file: %v, %d registrations", err, p.count()-n)
	}
	if after, _ := os.ReadFile(jwkFile); !bytes.Equal(before, after) {
		t.Fatal("the existing key file changed")
	}

	// A refused registration removes the key it wrote.
	refused := filepath.Join(dir, "refused.pem")
	var existedAtRegistration atomic.Bool
	p.answer = func([]byte) (int, []byte) {
		_, err := os.Stat(refused)
		existedAtRegistration.Store(err == nil)
		return http.StatusBadRequest, []byte(`{"error":"invalid_client_metadata","error_description":"no"}`)
	}
	out, errb, err = runCLI(t, nil, "register", "--issuer", p.url, "--metadata", metaFile("m2.json", `{}`), "--generate-key", refused, "--key-alg", "RS256")
	if exitCode(err) != exitError || out != "" || !strings.Contains(errb, "invalid_client_metadata") {
		t.Fatalf("refused: %v %q %q", err, out, errb)
	}
	if _, err := os.Stat(refused); !os.IsNotExist(err) || !existedAtRegistration.Load() {
		t.Fatalf("the key of a refused registration: written before %v, left after: %v", existedAtRegistration.Load(), err)
	}
	// Without an answer the registration may have happened: the key is
	// kept.
	p.answer = func([]byte) (int, []byte) { return 0, nil }
	unanswered := filepath.Join(dir, "unanswered.pem")
	_, _, err = runCLI(t, nil, "register", "--issuer", p.url, "--metadata", metaFile("m6.json", `{}`), "--generate-key", unanswered)
	if exitCode(err) != exitError || !strings.Contains(err.Error(), "kept in "+unanswered) {
		t.Fatalf("unanswered: %v", err)
	}
	if info, err := os.Stat(unanswered); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the key of an unanswered registration: %v %v", info, err)
	}
	// Without a token_endpoint_auth_method in the metadata,
	// private_key_jwt is sent.
	p.mu.Lock()
	var sent map[string]any
	_ = json.Unmarshal(p.bodies[len(p.bodies)-1], &sent)
	p.mu.Unlock()
	if sent["token_endpoint_auth_method"] != "private_key_jwt" {
		t.Fatalf("sent %v", sent)
	}

	// Refusals before anything is written or sent.
	n = p.count()
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"jwks_uri", []string{"--metadata", metaFile("m3.json", `{"jwks_uri":"https://app.example/jwks"}`), "--generate-key", filepath.Join(dir, "a.pem")}, "jwks_uri"},
		{"unknown alg", []string{"--metadata", metaFile("m4.json", `{}`), "--generate-key", filepath.Join(dir, "b.pem"), "--key-alg", "HS256"}, "--key-alg"},
		{"alg without key", []string{"--metadata", metaFile("m5.json", `{}`), "--key-alg", "ES256"}, "--generate-key"},
	} {
		_, _, err := runCLI(t, nil, append([]string{"register", "--issuer", p.url}, tt.args...)...)
		if exitCode(err) != exitUsage || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	if p.count() != n {
		t.Fatal("a refused command line registered")
	}
	for _, f := range []string{"a.pem", "b.pem"} {
		if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
			t.Errorf("%s was written", f)
		}
	}
}
