package main

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/engine"
)

func TestKeyEncryptionKeys(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	key := func(id string, fill byte) string {
		return id + ":" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{fill}, 32))
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "kek")
	if err := os.WriteFile(file, []byte("# rotated 2026-12\n"+key("k2", 2)+"\n"+key("k1", 1)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := keyEncryptionKeys(file, "", false, nil, log)
	if err != nil || k.Primary() != "k2" || len(k.IDs()) != 2 {
		t.Fatalf("from the file: %v, %v", k, err)
	}
	k, err = keyEncryptionKeys("", key("env", 3), false, nil, log)
	if err != nil || k.Primary() != "env" {
		t.Fatalf("from the environment: %v, %v", k, err)
	}
	if _, err := keyEncryptionKeys(file, key("env", 3), false, nil, log); err == nil {
		t.Error("both the file and the environment were accepted")
	}
	if _, err := keyEncryptionKeys("", "k:short", false, nil, log); err == nil || !strings.Contains(err.Error(), "REGISTRAR_KEY_ENCRYPTION_KEY") {
		t.Errorf("a bad key: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "open"), []byte(key("k", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	logs.Reset()
	if _, err := keyEncryptionKeys(filepath.Join(dir, "open"), "", false, nil, log); err != nil || !strings.Contains(logs.String(), "chmod 600") {
		t.Errorf("a world-readable file: %v, logged %q", err, logs.String())
	}
	// None: the embedded store makes one, Redis has none and refuses a
	// configured JWT tenant.
	if k, err := keyEncryptionKeys("", "", true, nil, log); err != nil || !strings.HasPrefix(k.Primary(), "ephemeral-") {
		t.Errorf("embedded store: %v, %v", k, err)
	}
	if k, err := keyEncryptionKeys("", "", false, map[string]engine.Settings{"a": {}}, log); err != nil || k != nil {
		t.Errorf("Redis without JWT tenants: %v, %v", k, err)
	}
	_, err = keyEncryptionKeys("", "", false, map[string]engine.Settings{"a": {}, "b": {AccessTokenFormat: engine.AccessTokenJWT}}, log)
	if err == nil || !strings.Contains(err.Error(), `"b"`) || !strings.Contains(err.Error(), "--key-encryption-key-file") {
		t.Errorf("Redis with a JWT tenant: %v", err)
	}
	_, err = keyEncryptionKeys("", "", false, map[string]engine.Settings{"c": {ClientSecretStorage: engine.SecretEncrypted}}, log)
	if err == nil || !strings.Contains(err.Error(), `"c"`) || !strings.Contains(err.Error(), "client_secret_storage") {
		t.Errorf("Redis with an encrypted-secrets tenant: %v", err)
	}
}
