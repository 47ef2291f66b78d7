// Package seal owns the encryption of secrets at rest: AES-256-GCM under
// key-encryption keys (KEKs) that have key IDs, so that they can rotate.
// The first key of a set seals; every key of the set opens. Tenant signing
// keys are sealed with it; encrypted client secrets can be too.
//
// It uses the standard library alone.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
)

// KeySize is the size of a key-encryption key: AES-256.
const KeySize = 32

// prefix starts every sealed value and names its format: version 1 is
// "seal1.<kid>.<base64url(nonce || ciphertext || tag)>".
const prefix = "seal1."

// Keys is a set of key-encryption keys. It is safe for concurrent use.
type Keys struct {
	keys []key // keys[0] seals
}

type key struct {
	id   string
	aead cipher.AEAD
}

// Parse reads a set of keys: entries "kid:base64key" separated by
// newlines, spaces or commas, where kid is 1 to 64 characters of
// A-Z a-z 0-9 - _ and the key is 32 bytes in standard or URL-safe base64,
// padded or not. Lines that start with # are comments. The first entry is
// the key that seals; key IDs must be distinct.
func Parse(text string) (*Keys, error) {
	var k Keys
	seen := map[string]bool{}
	for line := range strings.Lines(text) {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, entry := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' }) {
			id, b64, ok := strings.Cut(entry, ":")
			if !ok {
				return nil, fmt.Errorf("key-encryption key %d: want kid:base64key", len(k.keys)+1)
			}
			if !validID(id) {
				return nil, fmt.Errorf("key-encryption key %d: the key ID must be 1 to 64 characters of A-Z a-z 0-9 - _", len(k.keys)+1)
			}
			if seen[id] {
				return nil, fmt.Errorf("key-encryption key ID %q appears twice", id)
			}
			raw, err := decodeKey(b64)
			if err != nil {
				return nil, fmt.Errorf("key-encryption key %q: %w", id, err)
			}
			if err := k.add(id, raw); err != nil {
				return nil, err
			}
			seen[id] = true
		}
	}
	if len(k.keys) == 0 {
		return nil, errors.New("no key-encryption key: want one or more kid:base64key entries")
	}
	return &k, nil
}

// decodeKey reads a 32-byte key in any of the base64 alphabets.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	s = strings.NewReplacer("+", "-", "/", "_").Replace(s)
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("the key is not base64")
	}
	if len(b) != KeySize {
		return nil, fmt.Errorf("the key is %d bytes; AES-256 needs %d", len(b), KeySize)
	}
	return b, nil
}

// Generate returns a set of one random key whose ID starts with
// "ephemeral-": for a process whose sealed data dies with it.
func Generate(r io.Reader) (*Keys, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, KeySize+6)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("seal: randomness: %w", err)
	}
	var k Keys
	if err := k.add("ephemeral-"+base64.RawURLEncoding.EncodeToString(b[KeySize:]), b[:KeySize]); err != nil {
		return nil, err
	}
	return &k, nil
}

func (k *Keys) add(id string, raw []byte) error {
	block, err := aes.NewCipher(raw)
	if err != nil {
		return fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return fmt.Errorf("seal: %w", err)
	}
	k.keys = append(k.keys, key{id: id, aead: aead})
	return nil
}

// validID reports whether s is a usable key ID.
func validID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Primary returns the ID of the key that seals.
func (k *Keys) Primary() string { return k.keys[0].id }

// IDs returns the IDs of every key, the sealing one first.
func (k *Keys) IDs() []string {
	ids := make([]string, len(k.keys))
	for i, x := range k.keys {
		ids[i] = x.id
	}
	return ids
}

// Seal encrypts plaintext under the first key, bound to context (which
// Open must be given again: say what the value is and whose, so that a
// sealed value cannot be moved to another place). The result is printable
// ASCII and names the key that sealed it.
func (k *Keys) Seal(plaintext, context []byte) (string, error) {
	x := k.keys[0]
	nonce := make([]byte, x.aead.NonceSize(), x.aead.NonceSize()+len(plaintext)+x.aead.Overhead())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return "", fmt.Errorf("seal: randomness: %w", err)
	}
	out := x.aead.Seal(nonce, nonce, plaintext, aad(x.id, context))
	return prefix + x.id + "." + base64.RawURLEncoding.EncodeToString(out), nil
}

// KeyID returns the ID of the key that sealed a value.
func KeyID(sealed string) (string, error) {
	rest, ok := strings.CutPrefix(sealed, prefix)
	id, _, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || !validID(id) {
		return "", errors.New("seal: not a sealed value")
	}
	return id, nil
}

// ErrUnknownKey is wrapped by Open's error when the value was sealed with
// a key that the set does not have.
var ErrUnknownKey = errors.New("the key-encryption key that sealed it is not configured")

// Open decrypts a value that Seal returned, with the key it names and the
// same context. It fails when that key is not in the set (ErrUnknownKey),
// or is another key under the same ID, or the value or context changed.
func (k *Keys) Open(sealed string, context []byte) ([]byte, error) {
	id, err := KeyID(sealed)
	if err != nil {
		return nil, err
	}
	var x *key
	for i := range k.keys {
		if k.keys[i].id == id {
			x = &k.keys[i]
		}
	}
	if x == nil {
		return nil, fmt.Errorf("seal: sealed with key %q: %w (configured: %s)", id, ErrUnknownKey, strings.Join(k.IDs(), ", "))
	}
	b, err := base64.RawURLEncoding.DecodeString(sealed[len(prefix)+len(id)+1:])
	if err != nil || len(b) < x.aead.NonceSize()+x.aead.Overhead() {
		return nil, errors.New("seal: the sealed value is malformed")
	}
	n := x.aead.NonceSize()
	plain, err := x.aead.Open(nil, b[:n], b[n:], aad(id, context))
	if err != nil {
		return nil, fmt.Errorf("seal: cannot open a value sealed with key %q: the key under that ID is not the one that sealed it, or the value was altered", id)
	}
	return plain, nil
}

// aad binds the key ID and the caller's context to the ciphertext.
func aad(id string, context []byte) []byte {
	return append([]byte("registrar seal1\x00"+id+"\x00"), context...)
}
