package main

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/seal"
)

// keyEncryptionKeys returns the key-encryption keys that seal the tenants'
// signing keys and encrypted client secrets: from --key-encryption-key-file, or from
// REGISTRAR_KEY_ENCRYPTION_KEY (not both). Without either, the embedded
// store gets a random key (its keys die with the process anyway) and a
// Redis store none: then serve refuses a configured tenant with JWT access
// tokens or encrypted client secrets, the admin API a stored tenant with
// encrypted client secrets, and the token endpoint JWT access tokens with
// server_error.
func keyEncryptionKeys(file, text string, memory bool, tenants map[string]engine.Settings, log *slog.Logger) (*seal.Keys, error) {
	switch {
	case file != "" && text != "":
		return nil, usageError{"--key-encryption-key-file and REGISTRAR_KEY_ENCRYPTION_KEY are both set: use one"}
	case file != "":
		fi, err := os.Stat(file)
		if err != nil {
			return nil, fmt.Errorf("--key-encryption-key-file: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			log.Warn("the key-encryption key file is readable by other users than its owner; chmod 600 it", "file", file, "mode", fi.Mode().Perm().String())
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--key-encryption-key-file: %w", err)
		}
		k, err := seal.Parse(string(b))
		if err != nil {
			return nil, usageError{fmt.Sprintf("--key-encryption-key-file %s: %v", file, err)}
		}
		log.Info("key-encryption keys loaded", "file", file, "seal_with", k.Primary(), "keys", k.IDs())
		return k, nil
	case text != "":
		k, err := seal.Parse(text)
		if err != nil {
			return nil, usageError{fmt.Sprintf("REGISTRAR_KEY_ENCRYPTION_KEY: %v", err)}
		}
		log.Info("key-encryption keys loaded from REGISTRAR_KEY_ENCRYPTION_KEY", "seal_with", k.Primary(), "keys", k.IDs())
		return k, nil
	case memory:
		k, err := seal.Generate(nil)
		if err != nil {
			return nil, err
		}
		log.Warn("no key-encryption key configured: using a random one for the embedded store (the tenants' signing keys are lost on exit with the rest of its data)")
		return k, nil
	}
	for _, name := range slices.Sorted(maps.Keys(tenants)) {
		if tenants[name].AccessTokenFormat == engine.AccessTokenJWT {
			return nil, usageError{fmt.Sprintf("tenant %q issues JWT access tokens (access_token_format: jwt), whose signing keys the Redis store keeps encrypted: set --key-encryption-key-file or REGISTRAR_KEY_ENCRYPTION_KEY", name)}
		}
		if tenants[name].ClientSecretStorage == engine.SecretEncrypted {
			return nil, usageError{fmt.Sprintf("tenant %q keeps client secrets encrypted (client_secret_storage: encrypted), under the key-encryption key: set --key-encryption-key-file or REGISTRAR_KEY_ENCRYPTION_KEY", name)}
		}
	}
	log.Warn("no key-encryption key configured (--key-encryption-key-file or REGISTRAR_KEY_ENCRYPTION_KEY): tenants cannot issue JWT access tokens nor keep client secrets encrypted (client_secret_jwt)")
	return nil, nil
}

// settingsOnly stands in for the key-encryption keys where tenant
// settings are only checked (config check, serve's check of the file
// before it has read its keys): it never seals anything. Whether serve
// has the keys an encrypted tenant needs is checked where they are read
// (keyEncryptionKeys).
type settingsOnly struct{}

var _ engine.SecretSealer = settingsOnly{}

func (settingsOnly) Seal(_, _ []byte) (string, error) {
	return "", errors.New("tenant settings check: nothing is sealed")
}
