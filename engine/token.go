package engine

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"time"
)

// InitialAccessToken is an initial access token (RFC 7591 §3) as the store
// keeps it: everything but the token itself, of which only the digest is
// kept, as the ID.
type InitialAccessToken struct {
	Tenant string `json:"tenant"`
	// ID is HashToken of the token: it names the token in the store and in
	// the admin API, and cannot be turned back into the token.
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt is when the token stops working; zero means never.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// Policies run, in order, for each registration made with the token, and
	// are carried over to the registration access token.
	Policies []string `json:"policies,omitempty"`
	// MaxUses bounds the registrations the token admits; 0 means no bound.
	MaxUses int64 `json:"max_uses,omitempty"`
	// Uses counts the registrations it admitted.
	Uses int64 `json:"uses"`
	// ClientID, when set, is the client_id every registration with this
	// token receives.
	ClientID string `json:"client_id,omitempty"`
	// Replacement lets the token register ClientID again, replacing it.
	Replacement bool `json:"replacement,omitempty"`
	// SoftwareStatementRequired refuses a registration with the token that
	// carries no software statement, whatever the tenant's setting.
	SoftwareStatementRequired bool `json:"software_statement_required,omitempty"`
}

// Clone returns a deep copy.
func (t *InitialAccessToken) Clone() *InitialAccessToken {
	d := *t
	d.Policies = slices.Clone(t.Policies)
	return &d
}

// Exhausted reports whether the token has no uses left.
func (t *InitialAccessToken) Exhausted() bool {
	return t.MaxUses > 0 && t.Uses >= t.MaxUses
}

// tokenBytes is the entropy of every bearer token Registrar issues.
const tokenBytes = 32

// newToken returns a random bearer token: 32 bytes, base64url (43 characters).
func newToken(r io.Reader) (string, error) {
	return randomString(r, tokenBytes)
}

// randomString returns n random bytes from r, base64url-encoded without padding.
func randomString(r io.Reader, n int) (string, error) {
	b := make([]byte, n)
	if err := readRandom(r, b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// HashToken returns the digest under which a bearer token or client secret
// is stored: hex SHA-256. The values Registrar issues carry 256 bits or more
// of entropy, so an unsalted fast hash is enough to make a leaked digest
// useless: it cannot be inverted or guessed.
func HashToken(token string) string {
	var digest [2 * sha256.Size]byte
	hashHex(&digest, token)
	return string(digest[:])
}

// hashHex writes HashToken(token) into digest. The tokens and secrets
// Registrar issues are hashed from a copy on the stack: this allocates
// nothing for them.
func hashHex(digest *[2 * sha256.Size]byte, token string) {
	var buf [128]byte // a token (43 characters) or secret (86)
	sum := sha256.Sum256(append(buf[:0], token...))
	hex.Encode(digest[:], sum[:])
}

// hashEqual compares a presented secret with a stored digest in constant time.
func hashEqual(presented, digest string) bool {
	if digest == "" {
		return false
	}
	var got [2 * sha256.Size]byte
	hashHex(&got, presented)
	return subtle.ConstantTimeCompare(got[:], []byte(digest)) == 1
}

// ValidBearerValue reports whether s is a syntactically valid bearer token:
// only the b64token characters of RFC 6750 §2.1.
func ValidBearerValue(s string) bool {
	if s == "" {
		return false
	}
	i := 0
	for i < len(s) && isToken68(s[i]) {
		i++
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

// isToken68 reports whether c is a character of RFC 6750's b64token other
// than its trailing "=".
func isToken68(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
}

// readRandom fills b from the source of randomness.
func readRandom(r io.Reader, b []byte) error {
	if _, err := io.ReadFull(r, b); err != nil {
		return fmt.Errorf("read randomness: %w", err)
	}
	return nil
}

// validDigest reports whether s looks like a HashToken digest.
func validDigest(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for _, c := range []byte(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
