package main

import (
	"crypto"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/registrar-dev/registrar/jose"
)

// TestStatementBodies: each body is the run's body plus a statement of its
// own, signed by the key newStatementKey wrote and verifiable with the set
// it printed.
func TestStatementBodies(t *testing.T) {
	for _, alg := range []string{"ES256", "PS256"} {
		t.Run(alg, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "key.jwk")
			pub, err := newStatementKey(path, alg)
			if err != nil {
				t.Fatal(err)
			}
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("private key file: %v, %v", fi, err)
			}
			var set struct {
				Keys []json.RawMessage `json:"keys"`
			}
			if err := json.Unmarshal(pub, &set); err != nil || len(set.Keys) != 1 {
				t.Fatalf("public set %s: %v", pub, err)
			}
			var members map[string]any
			json.Unmarshal(set.Keys[0], &members)
			if _, private := members["d"]; private || members["alg"] != alg || members["kid"] == "" {
				t.Fatalf("public key %s: want a public key with alg %s and a kid", set.Keys[0], alg)
			}
			publicKey, err := jose.ParsePublicJWK(set.Keys[0])
			if err != nil {
				t.Fatal(err)
			}
			keys := func(kid string) (string, crypto.PublicKey, bool) {
				return alg, publicKey, kid == members["kid"]
			}
			s, err := newStatementSigner(path, "https://directory.example", anchorBody)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.fill(2); err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for range 3 { // two from the pool, one signed late
				b, err := s.next()
				if err != nil {
					t.Fatal(err)
				}
				var body map[string]any
				if err := json.Unmarshal(b, &body); err != nil {
					t.Fatalf("body %s: %v", b, err)
				}
				if _, ok := body["redirect_uris"]; !ok || len(body) != 4 {
					t.Fatalf("body %s: want the run's three members and software_statement", b)
				}
				stmt, _ := body["software_statement"].(string)
				payload, err := jose.VerifyJWT(stmt, "JWT", keys)
				if err != nil {
					t.Fatalf("statement %s does not verify: %v", stmt, err)
				}
				var claims map[string]any
				if err := json.Unmarshal(payload, &claims); err != nil {
					t.Fatal(err)
				}
				jti, _ := claims["jti"].(string)
				if claims["iss"] != "https://directory.example" || claims["iat"] == nil || jti == "" || claims["software_id"] != "sw-"+jti || seen[jti] {
					t.Fatalf("claims %v", claims)
				}
				seen[jti] = true
			}
			if n := s.late.Load(); n != 1 {
				t.Errorf("%d bodies signed late, want 1", n)
			}
		})
	}
	path := filepath.Join(t.TempDir(), "key.jwk")
	if _, err := newStatementKey(path, "HS256"); err == nil {
		t.Error("newStatementKey made an HS256 key")
	}
	if _, err := newStatementKey(path, "ES256"); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{`[]`, `{"software_statement":"x"}`, `{`} {
		if _, err := newStatementSigner(path, "https://directory.example", body); err == nil {
			t.Errorf("newStatementSigner took the body %s", body)
		}
	}
	s, err := newStatementSigner(path, "https://directory.example", " { } ")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.next()
	var body map[string]string
	if err != nil || json.Unmarshal(b, &body) != nil || len(body) != 1 {
		t.Errorf("an empty body with a statement: %s, %v", b, err)
	}
}
