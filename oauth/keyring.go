package oauth

import (
	"encoding/json"
	"slices"
	"time"
)

// KeyRing is a tenant's set of access token signing keys, as the store
// keeps it: every replica reads the same ring, and changes it only by a
// compare-and-set on Revision (Store.PutKeyRing).
type KeyRing struct {
	Tenant string `json:"-"`
	// Revision counts the ring's writes; the store sets it.
	Revision int64        `json:"revision"`
	Keys     []SigningKey `json:"keys"`
}

// KeyState is where a signing key is in its life.
type KeyState string

// The key states. A key is created next, becomes active at a rotation, and
// is retired at the following one; every state is published.
const (
	// KeyNext: published, not yet signing; it signs after the next
	// rotation, by which time resource servers have fetched it.
	KeyNext KeyState = "next"
	// KeyActive: signs new tokens. A ring has one.
	KeyActive KeyState = "active"
	// KeyRetired: no longer signs; published until RetireAt, when every
	// token it signed has expired.
	KeyRetired KeyState = "retired"
)

// SigningKey is one key of a ring. The private key is sealed under the
// key-encryption key; the store never sees it in the clear.
type SigningKey struct {
	ID        string    `json:"kid"`
	Algorithm string    `json:"alg"`
	State     KeyState  `json:"state"`
	CreatedAt time.Time `json:"created_at"`
	// ActivatedAt is when the key started signing (zero while next).
	ActivatedAt time.Time `json:"activated_at,omitzero"`
	// RetiredAt is when it stopped, and RetireAt when it stops being
	// published (zero unless retired).
	RetiredAt time.Time `json:"retired_at,omitzero"`
	RetireAt  time.Time `json:"retire_at,omitzero"`
	// Public is the public key as a JWK (with kid, alg and use).
	Public json.RawMessage `json:"public"`
	// Private is the PKCS #8 private key sealed under the key-encryption
	// key (internal/seal), bound to the tenant and kid.
	Private string `json:"private"`
}

// Clone returns a deep copy.
func (r *KeyRing) Clone() *KeyRing {
	d := *r
	d.Keys = slices.Clone(r.Keys)
	for i := range d.Keys {
		d.Keys[i].Public = slices.Clone(r.Keys[i].Public)
	}
	return &d
}
