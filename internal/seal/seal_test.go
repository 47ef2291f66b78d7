package seal_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/internal/seal"
)

func keyText(id string, fill byte) string {
	return id + ":" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{fill}, 32))
}

func TestSealOpen(t *testing.T) {
	k, err := seal.Parse("# KEKs\n" + keyText("k2", 2) + "\n" + keyText("k1", 1) + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if k.Primary() != "k2" {
		t.Fatalf("Primary = %s, want the first key", k.Primary())
	}
	s, err := k.Seal([]byte("secret"), []byte("tenant-a"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s, "secret") || !strings.HasPrefix(s, "seal1.k2.") {
		t.Fatalf("sealed value %q", s)
	}
	if id, _ := seal.KeyID(s); id != "k2" {
		t.Errorf("KeyID = %q", id)
	}
	got, err := k.Open(s, []byte("tenant-a"))
	if err != nil || string(got) != "secret" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := k.Open(s, []byte("tenant-b")); err == nil {
		t.Error("Open with another context succeeded")
	}
	tampered := s[:len(s)-2] + "AA"
	if tampered == s {
		tampered = s[:len(s)-2] + "BB"
	}
	if _, err := k.Open(tampered, []byte("tenant-a")); err == nil {
		t.Error("Open of an altered value succeeded")
	}
}

func TestRotation(t *testing.T) {
	old, _ := seal.Parse(keyText("old", 1))
	s, err := old.Seal([]byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	// The new key seals; the old one still opens.
	both, err := seal.Parse(keyText("new", 2) + "," + keyText("old", 1))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := both.Open(s, nil); err != nil || string(got) != "x" {
		t.Fatalf("Open with the rotated set: %q, %v", got, err)
	}
	s2, _ := both.Seal([]byte("y"), nil)
	if id, _ := seal.KeyID(s2); id != "new" {
		t.Errorf("the rotated set sealed with %q", id)
	}
	// Without the old key: a clear error naming it.
	only, _ := seal.Parse(keyText("new", 2))
	_, err = only.Open(s, nil)
	if !errors.Is(err, seal.ErrUnknownKey) || !strings.Contains(err.Error(), `"old"`) {
		t.Errorf("Open without its key: %v", err)
	}
	// The same ID with other bytes: a clear error, not garbage.
	wrong, _ := seal.Parse(keyText("old", 9))
	if _, err := wrong.Open(s, nil); err == nil || !strings.Contains(err.Error(), "not the one that sealed it") {
		t.Errorf("Open with the wrong key under the same ID: %v", err)
	}
}

func TestParseRefuses(t *testing.T) {
	for name, text := range map[string]string{
		"empty":          "\n# only a comment\n",
		"no colon":       base64.StdEncoding.EncodeToString(make([]byte, 32)),
		"short key":      "k:" + base64.StdEncoding.EncodeToString(make([]byte, 16)),
		"not base64":     "k:!!!!",
		"bad id":         "k/1:" + base64.StdEncoding.EncodeToString(make([]byte, 32)),
		"duplicate id":   keyText("k", 1) + "\n" + keyText("k", 2),
		"empty id":       ":" + base64.StdEncoding.EncodeToString(make([]byte, 32)),
		"trailing colon": "k:",
	} {
		if _, err := seal.Parse(text); err == nil {
			t.Errorf("%s: Parse(%q) succeeded", name, text)
		}
	}
	// URL-safe, unpadded keys are fine.
	if _, err := seal.Parse("k:" + base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32))); err != nil {
		t.Errorf("URL-safe key: %v", err)
	}
}

func TestGenerate(t *testing.T) {
	a, err := seal.Generate(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := seal.Generate(nil)
	if !strings.HasPrefix(a.Primary(), "ephemeral-") || a.Primary() == b.Primary() {
		t.Errorf("generated IDs %q, %q", a.Primary(), b.Primary())
	}
	s, _ := a.Seal([]byte("z"), nil)
	if _, err := b.Open(s, nil); err == nil {
		t.Error("another generated key opened the value")
	}
}

func FuzzOpen(f *testing.F) {
	k, _ := seal.Parse(keyText("k", 1))
	s, _ := k.Seal([]byte("v"), nil)
	f.Add(s)
	f.Add("seal1.k.")
	f.Fuzz(func(t *testing.T, v string) {
		_, _ = k.Open(v, nil)
	})
}
