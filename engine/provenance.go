package engine

import (
	"slices"
	"time"
)

// PolicyVersion names one version of a policy module: its name and the hex
// SHA-256 of its bytes.
type PolicyVersion struct {
	Name   string `json:"name"`
	Digest string `json:"digest"`
}

// String writes the version as name@digest.
func (v PolicyVersion) String() string { return v.Name + "@" + v.Digest }

// HookVersion names the module version that ran a hook other than policy
// (a factory or a decision) for one write of a client.
type HookVersion struct {
	Hook   Hook   `json:"hook"`
	Name   string `json:"name"`
	Digest string `json:"digest"`
}

// The events of a client's history.
const (
	EventRegister = "register"
	EventReplace  = "replace"
	EventUpdate   = "update"
)

// Provenance records one write of a client's metadata: how it came about and
// which policy versions shaped it.
type Provenance struct {
	// Event is EventRegister, EventReplace (a registration with a
	// replacement token) or EventUpdate (RFC 7592 update).
	Event string `json:"event"`
	// At is when the write happened.
	At time.Time `json:"at"`
	// Token is the ID of the initial access token of a registration; empty
	// for updates and for open or static-token registrations.
	Token string `json:"token,omitempty"`
	// Policies are the policy versions that ran, in order.
	Policies []PolicyVersion `json:"policies"`
	// Hooks are the module versions whose other hooks (id_factory,
	// secret_factory, the registration access token decisions) ran, in the
	// order they first ran; none when the built-in defaults served.
	Hooks []HookVersion `json:"hooks,omitempty"`
	// SoftwareStatement records the verified software statement of a
	// registration; zero when there was none or it was not verified.
	SoftwareStatement StatementProvenance `json:"software_statement,omitzero"`
}

// MaxHistory bounds a client's History: the first entry is always kept,
// then the most recent ones.
const MaxHistory = 16

// lastRan reports whether v ran at the client's latest registration or
// update, so that it shaped the metadata the client has now.
func (c *Client) lastRan(v PolicyVersion) bool {
	if len(c.History) == 0 {
		return false
	}
	return slices.Contains(c.History[len(c.History)-1].Policies, v)
}

// record appends p to the history, keeping it within MaxHistory.
func (c *Client) record(p Provenance) {
	if len(c.History) >= MaxHistory {
		c.History = append(c.History[:1], c.History[len(c.History)-MaxHistory+2:]...)
	}
	c.History = append(c.History, p)
}
