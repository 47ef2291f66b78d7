package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTokenClientSecretJWT(t *testing.T) {
	issuer := ownServer(t) + "/tenants/enc"
	id, secret := registerM2M(t, issuer+"/reg", "client_secret_jwt")
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--issuer", issuer},
		{"--issuer", issuer, "--alg", "HS512"},
		{"--token-endpoint", issuer + "/token", "--assertion-aud", issuer},
	} {
		out, errb, err := runCLI(t, nil, append([]string{"token", "--client-id", id, "--auth", "client_secret_jwt", "--client-secret-file", secretFile, "--scope", "read"}, args...)...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errb)
		}
		var tr map[string]any
		if err := json.Unmarshal([]byte(out), &tr); err != nil || tr["token_type"] != "Bearer" || tr["scope"] != "read" {
			t.Fatalf("%v printed %q (%v)", args, out, err)
		}
	}
	// The wrong secret: the server's invalid_client on stderr, exit 1.
	out, errb, err := runCLI(t, map[string]string{"REGISTRAR_CLIENT_SECRET": secret + "x"},
		"token", "--issuer", issuer, "--client-id", id, "--auth", "client_secret_jwt")
	if exitCode(err) != exitError || out != "" || !strings.Contains(errb, `"error": "invalid_client"`) {
		t.Fatalf("wrong secret: %v, stdout %q, stderr %q", err, out, errb)
	}
}
