package engine

import (
	"context"
	"errors"
	"fmt"
)

// SoftwareIDPolicy says what becomes of a registration whose software_id a
// live client of the tenant has already (docs/statements.md).
type SoftwareIDPolicy string

// The software_id policies.
const (
	// SoftwareIDAllow registers it: any number of clients may share a
	// software_id. The default.
	SoftwareIDAllow SoftwareIDPolicy = "allow"
	// SoftwareIDUnique refuses it with unapproved_software_statement.
	SoftwareIDUnique SoftwareIDPolicy = "unique"
	// SoftwareIDReplace replaces the live client when the registration
	// carries a verified software statement of the same issuer and
	// software_id as the one that client was registered with: the client
	// keeps its client_id and gets the new metadata, a new secret and a
	// new registration access token (an idempotent re-registration).
	// Otherwise it refuses, as SoftwareIDUnique does.
	SoftwareIDReplace SoftwareIDPolicy = "replace"
)

// compileSoftwareIDPolicy checks the software_id_policy setting.
func (t *tenant) compileSoftwareIDPolicy() error {
	switch t.settings.SoftwareIDPolicy {
	case "", SoftwareIDAllow, SoftwareIDUnique, SoftwareIDReplace:
		return nil
	}
	return fmt.Errorf("software_id_policy %q: want %q, %q or %q", t.settings.SoftwareIDPolicy, SoftwareIDAllow, SoftwareIDUnique, SoftwareIDReplace)
}

// softwareIDOptions decides how a new client with c's software_id is
// created under the tenant's software_id_policy: whether the store must
// refuse it when another live client has that software_id
// (CreateOptions.UniqueSoftwareID, atomic with the create), and, under
// "replace", which client it replaces (c.ID is set to that client's and
// replace is true). A live client that the request may not replace is
// unapproved_software_statement.
func (r *Registrar) softwareIDOptions(ctx context.Context, t *tenant, c *Client, vs *verifiedStatement) (unique, replace bool, err error) {
	sid := c.Metadata.SoftwareID
	policy := t.settings.SoftwareIDPolicy
	if sid == "" || policy == "" || policy == SoftwareIDAllow {
		return false, false, nil
	}
	p := vs.provenance()
	if policy == SoftwareIDUnique || p.SoftwareID != sid {
		return true, false, nil
	}
	live, _, err := r.store.Clients(ctx, t.name, ClientFilter{SoftwareID: sid}, "", 2)
	if err != nil {
		return false, false, storeError("find clients by software_id", err)
	}
	switch {
	case len(live) == 0:
		return true, false, nil
	case len(live) > 1:
		return false, false, errSoftwareIDTaken(sid, "more than one live client has it")
	}
	old := live[0]
	if len(old.History) == 0 || old.History[0].SoftwareStatement.Issuer != p.Issuer || old.History[0].SoftwareStatement.SoftwareID != sid {
		return false, false, errSoftwareIDTaken(sid, "the live client that has it was not registered with a statement of this issuer")
	}
	c.ID = old.ID
	return true, true, nil
}

// errSoftwareIDTaken is the refusal of a second live client with a
// software_id.
func errSoftwareIDTaken(sid, why string) *Error {
	return &Error{
		Code:        CodeUnapprovedSoftwareStatement,
		Description: fmt.Sprintf("software_id %q is already registered here and this tenant allows one live client per software_id", truncate(sid, 128)),
		Err:         errors.New(why),
	}
}

// checkSoftwareIDUpdate refuses an update that changes the software_id of
// a client of a tenant that keeps software_ids unique: the store checks
// uniqueness when a client is created, so a change must be a new
// registration.
func checkSoftwareIDUpdate(t *tenant, cur, md *Metadata) error {
	p := t.settings.SoftwareIDPolicy
	if p == "" || p == SoftwareIDAllow || cur.SoftwareID == md.SoftwareID {
		return nil
	}
	return Errorf(CodeInvalidClientMetadata, "software_id cannot change by an update under this tenant's software_id_policy %q; register a new client", p)
}
