// Command tenant-prefixed-ids is a Registrar policy module: an id_factory
// that makes client IDs of the form <tenant>-<26 random base32 characters>,
// e.g. acme-k3v7q2m4x9b6t1s8r5n2w7y4za (130 random bits). See README.md.
package main

import (
	"errors"

	registrar "github.com/registrar-dev/registrar/sdk/go"
	"github.com/registrar-dev/registrar/sdk/go/idfactory"
)

func init() { idfactory.Handle(newID) }

// main never runs: a module is a library (-buildmode=c-shared).
func main() {}

// randomChars is the length of the random part: 26 base32 characters
// carry 130 bits, so that IDs never collide in practice (the host fails a
// registration whose module-made ID is taken, rather than retrying).
const randomChars = 26

// maxTenant keeps the ID within the 128 characters of ABI.md §2.
const maxTenant = 128 - 1 - randomChars

func newID(in *registrar.FactoryInput) (string, error) {
	if !validTenant(in.Tenant) {
		return "", errors.New("the tenant name " + quote(in.Tenant) + " cannot prefix a client ID")
	}
	return in.Tenant + "-" + registrar.RandomString(randomChars, registrar.Base32), nil
}

// validTenant reports whether a tenant name is made of client ID characters
// (ABI.md §2: A-Z a-z 0-9 . _ ~ -) and short enough. Registrar's tenant
// names always are; the check keeps the module from making a bad ID if that
// ever changes.
func validTenant(t string) bool {
	if t == "" || len(t) > maxTenant {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '~' || c == '-') {
			return false
		}
	}
	return true
}

func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return `"` + s + `"`
}
