package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"
)

// MaxPolicyVersions is how many versions of an uploaded policy module a
// store keeps: the newest ones; older ones and their bytes are dropped.
const MaxPolicyVersions = 10

// MaxPolicyBytes bounds the size of an uploaded policy module.
const MaxPolicyBytes = 16 << 20

// Defaults of PolicyLimits.
const (
	// defaultMaxTenantPolicies is the default of PolicyLimits.MaxPolicies.
	defaultMaxTenantPolicies = 32
	// defaultMaxTenantPolicyBytes is the default of PolicyLimits.MaxBytes:
	// room for several versions of a few modules built with a full
	// language runtime (a Go module is 2-5 MiB).
	defaultMaxTenantPolicyBytes = 128 << 20
)

// PolicyLimits bound what one tenant keeps in a PolicyStore, so that one
// tenant's admin cannot fill the store every replica depends on. Stores
// take them in their Config and enforce them in the same atomic step as
// the write they refuse.
type PolicyLimits struct {
	// MaxPolicies bounds the tenant's uploaded policy modules: the names
	// that have a record or bytes. Default 32.
	MaxPolicies int
	// MaxBytes bounds the bytes of every version the tenant's uploaded
	// policies keep, whether a record lists them or not (a new version
	// counts from PutPolicyBlob, before UpdatePolicy trims the oldest).
	// Default 128 MiB.
	MaxBytes int64
}

// OrDefaults returns l with each zero field set to its default.
func (l PolicyLimits) OrDefaults() PolicyLimits {
	if l.MaxPolicies == 0 {
		l.MaxPolicies = defaultMaxTenantPolicies
	}
	if l.MaxBytes == 0 {
		l.MaxBytes = defaultMaxTenantPolicyBytes
	}
	return l
}

// Check returns an error naming the first negative field.
func (l PolicyLimits) Check() error {
	switch {
	case l.MaxPolicies < 0:
		return fmt.Errorf("PolicyLimits.MaxPolicies %d is negative", l.MaxPolicies)
	case l.MaxBytes < 0:
		return fmt.Errorf("PolicyLimits.MaxBytes %d is negative", l.MaxBytes)
	}
	return nil
}

// PolicyLimitError is the error of a PutPolicyBlob or UpdatePolicy that
// would take a tenant over its PolicyLimits; it matches ErrPolicyLimit.
// AsError answers it as conflict (too many policies) or request_too_large
// (too many bytes).
type PolicyLimitError struct {
	Tenant string
	// Bytes is true when MaxBytes is the limit reached, false for
	// MaxPolicies.
	Bytes bool
	// Limit is the value of the limit reached.
	Limit int64
}

// Error implements error.
func (e *PolicyLimitError) Error() string {
	if e.Bytes {
		return fmt.Sprintf("tenant %q: its uploaded policy modules would keep more than %d bytes", e.Tenant, e.Limit)
	}
	return fmt.Sprintf("tenant %q: it has %d uploaded policy modules, the most it may keep", e.Tenant, e.Limit)
}

// Unwrap makes a PolicyLimitError match ErrPolicyLimit.
func (e *PolicyLimitError) Unwrap() error { return ErrPolicyLimit }

// oauth is the error response of e.
func (e *PolicyLimitError) oauth() *Error {
	if e.Bytes {
		return &Error{Code: CodeRequestTooLarge, Err: e, Description: fmt.Sprintf(
			"tenant %q may keep at most %d bytes of uploaded policy modules (all kept versions together), and this version would go over; remove a policy module first", e.Tenant, e.Limit)}
	}
	return &Error{Code: CodeConflict, Err: e, Description: fmt.Sprintf(
		"tenant %q has %d uploaded policy modules, the most it may keep; remove one first", e.Tenant, e.Limit)}
}

// StoredPolicy is a policy module uploaded through the admin API, as the
// store keeps it: which of its recent versions is active, which one runs in
// shadow, and the versions themselves (their bytes are kept apart, by
// digest).
type StoredPolicy struct {
	Tenant string `json:"tenant"`
	Name   string `json:"name"`
	// Active is the digest of the version that serves requests.
	Active string `json:"active"`
	// Shadow is the digest of a candidate version that runs beside the
	// active one on live registrations without being enforced; "" for none.
	Shadow string `json:"shadow,omitempty"`
	// Versions are the recent versions, newest upload first, at most
	// MaxPolicyVersions. Active and Shadow are always among them.
	Versions []PolicyUpload `json:"versions"`
	// Revision is set by the store: 1 when created, one more on each
	// update. It is the ETag of If-Match.
	Revision  int64     `json:"revision"`
	UpdatedAt time.Time `json:"updated_at"`
}

// PolicyUpload is one uploaded version of a policy module.
type PolicyUpload struct {
	// Digest is the hex SHA-256 of the module's bytes.
	Digest     string    `json:"digest"`
	Size       int       `json:"size"`
	UploadedAt time.Time `json:"uploaded_at"`
	// UploadedBy is the actor that uploaded it (see AuditEvent.Actor).
	UploadedBy string `json:"uploaded_by,omitempty"`
}

// Clone returns a deep copy.
func (p *StoredPolicy) Clone() *StoredPolicy {
	d := *p
	d.Versions = slices.Clone(p.Versions)
	return &d
}

// Version returns the upload with that digest, if the policy keeps it.
func (p *StoredPolicy) Version(digest string) (PolicyUpload, bool) {
	for _, v := range p.Versions {
		if v.Digest == digest {
			return v, true
		}
	}
	return PolicyUpload{}, false
}

// PolicyChange tells replicas that a tenant's uploaded policy changed.
type PolicyChange struct {
	Tenant string `json:"tenant"`
	Name   string `json:"name"`
	// Revision is the record's revision after the change; 0 when the
	// policy was removed.
	Revision int64 `json:"revision"`
}

// ReplicaStatus is what one Registrar process reports about the policy
// modules it runs, so that an operator can see every replica at once.
type ReplicaStatus struct {
	// Replica identifies the process (host name, process ID and a random
	// suffix).
	Replica   string         `json:"replica"`
	UpdatedAt time.Time      `json:"updated_at"`
	Policies  []PolicyStatus `json:"policies"`
}

// PolicyStatus is the state of one policy module in one replica.
type PolicyStatus struct {
	// Tenant is "" for a shared module of the policy folder.
	Tenant string `json:"tenant"`
	Name   string `json:"name"`
	// Source is "folder" or "store" (uploaded through the admin API).
	Source string `json:"source"`
	// Active is the digest of the version serving requests; "" if none
	// has ever activated.
	Active string `json:"active"`
	// Shadow is the digest of the version running in shadow, if any.
	Shadow string `json:"shadow,omitempty"`
	// Desired is the digest the source asks for: when it differs from
	// Active, that version failed to activate (see LastError) or is being
	// activated.
	Desired string `json:"desired"`
	// State is "active", "activating" or "failed" (the last attempt
	// failed; the previous version, if any, keeps serving).
	State       string    `json:"state"`
	ActivatedAt time.Time `json:"activated_at,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
}

// PolicyStore keeps the policy modules uploaded through the admin API and
// carries their changes and the replicas' status between replicas. It is
// safe for concurrent use. A tenant's policies and their bytes are removed
// with the tenant by Store.DeleteTenant when the same backend implements
// both; while the tenant's tombstone lasts, PutPolicyBlob and an
// UpdatePolicy that writes a record return ErrNoTenant (removals work), so
// that a concurrent upload cannot undo the deletion. Changes from one
// publisher reach each watcher in the order they were published.
type PolicyStore interface {
	// PutPolicyBlob stores the bytes of a version of a policy under their
	// digest, the hex SHA-256 of wasm; a digest that does not match the
	// bytes is an error. Storing the same digest again is a no-op. Bytes
	// that would take the tenant over its PolicyLimits (a new name when it
	// has MaxPolicies, or more than MaxBytes in all) are refused with a
	// *PolicyLimitError, storing nothing. Callers
	// put the bytes, then the record that lists them; bytes whose record
	// update never happens stay until the policy is removed.
	PutPolicyBlob(ctx context.Context, tenant, name, digest string, wasm []byte) error

	// PolicyBlob returns the bytes of a version of a policy, or
	// ErrNotFound.
	PolicyBlob(ctx context.Context, tenant, name, digest string) ([]byte, error)

	// UpdatePolicy applies fn to the policy's current record (nil when there
	// is none) and stores what fn returns, atomically with respect to every
	// other update of that policy: fn may be called more than once, must
	// not have side effects and must not call the store. fn returning nil
	// removes the policy. The store sets Revision; it drops the bytes of
	// the versions the update took off Versions (all of them, and any
	// unlisted bytes of the policy, on removal). An error from fn aborts the update and is returned
	// as is. A record for a new name when the tenant has MaxPolicies is
	// refused with a *PolicyLimitError. It returns the stored record (nil
	// after a removal).
	UpdatePolicy(ctx context.Context, tenant, name string, fn func(*StoredPolicy) (*StoredPolicy, error)) (*StoredPolicy, error)

	// StoredPolicy returns a policy's record, or ErrNotFound.
	StoredPolicy(ctx context.Context, tenant, name string) (*StoredPolicy, error)

	// StoredPolicies returns the records of every tenant's uploaded
	// policies, sorted by tenant and name: what a replica loads at start and
	// compares with what it runs, as a fallback for missed changes.
	StoredPolicies(ctx context.Context) ([]*StoredPolicy, error)

	// PublishPolicyChange tells every replica watching, this one included,
	// that a policy changed. Delivery is best effort.
	PublishPolicyChange(ctx context.Context, c PolicyChange) error

	// WatchPolicyChanges delivers published changes until ctx is done,
	// then closes the channel. Changes published while the watcher is
	// disconnected are lost; callers poll StoredPolicies to catch up.
	WatchPolicyChanges(ctx context.Context) (<-chan PolicyChange, error)

	// PutReplicaStatus records a replica's status, replacing its previous
	// one; it is forgotten after ttl unless put again.
	PutReplicaStatus(ctx context.Context, s *ReplicaStatus, ttl time.Duration) error

	// ReplicaStatuses returns the status of every replica that reported
	// within its ttl, sorted by replica.
	ReplicaStatuses(ctx context.Context) ([]*ReplicaStatus, error)
}

// PolicyChangeOptions qualify a change of an uploaded policy.
type PolicyChangeOptions struct {
	// IfRevision, when positive, makes the change conditional on the
	// record's Revision (HTTP If-Match).
	IfRevision int64
	// By names who makes the change (see AuditEvent.Actor).
	By string
	// Shadow uploads the version to run in shadow instead of active.
	Shadow bool
}

// PolicyEvaluation is the outcome of a dry run of a policy hook.
type PolicyEvaluation struct {
	// Version is the digest of the version that ran.
	Version string `json:"version"`
	// Accepted reports whether the policy accepted the metadata.
	Accepted bool `json:"accepted"`
	// Error and Description are the rejection, when it rejected.
	Error       ErrorCode `json:"error,omitempty"`
	Description string    `json:"error_description,omitempty"`
	// Metadata is the policy's output metadata, when it accepted.
	Metadata map[string]json.RawMessage `json:"metadata,omitempty"`
	// RegistrationPolicies is the list the policy set for the registration
	// access token, if it set one.
	RegistrationPolicies []string `json:"registration_policies,omitempty"`
	// Diff lists the members the policy added, removed or changed.
	Diff []MemberChange `json:"diff"`
	// DurationMicros is how long the hook call took.
	DurationMicros int64 `json:"duration_us"`
}

// MemberChange is one entry of a metadata diff.
type MemberChange struct {
	Member string `json:"member"`
	// Op is "added", "removed" or "changed".
	Op     string          `json:"op"`
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
}

// DiffMetadata lists the members that differ between two metadata objects,
// sorted by name; values are compared as compact JSON.
func DiffMetadata(before, after map[string]json.RawMessage) []MemberChange {
	names := slices.Sorted(maps.Keys(before))
	for k := range after {
		if _, ok := before[k]; !ok {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	out := []MemberChange{}
	for _, k := range names {
		old, inOld := before[k]
		cur, inNew := after[k]
		switch {
		case !inOld:
			out = append(out, MemberChange{Member: k, Op: "added", After: compactJSON(cur)})
		case !inNew:
			out = append(out, MemberChange{Member: k, Op: "removed", Before: compactJSON(old)})
		case !bytes.Equal(compactJSON(old), compactJSON(cur)):
			out = append(out, MemberChange{Member: k, Op: "changed", Before: compactJSON(old), After: compactJSON(cur)})
		}
	}
	return out
}

// CheckPolicyBlob refuses module bytes that are longer than MaxPolicyBytes
// or whose hex SHA-256 is not digest. Stores call it in PutPolicyBlob.
func CheckPolicyBlob(digest string, wasm []byte) error {
	if len(wasm) > MaxPolicyBytes {
		return fmt.Errorf("policy module of %d bytes; at most %d are kept", len(wasm), MaxPolicyBytes)
	}
	sum := sha256.Sum256(wasm)
	if got := hex.EncodeToString(sum[:]); got != digest {
		return fmt.Errorf("policy module digest %q does not match its bytes (SHA-256 %s)", digest, got)
	}
	return nil
}

// TrimVersions drops the oldest versions that are neither active nor
// shadow until at most MaxPolicyVersions remain. versions are newest
// first; it reuses their array.
func TrimVersions(versions []PolicyUpload, active, shadow string) []PolicyUpload {
	for i := len(versions) - 1; i >= 0 && len(versions) > MaxPolicyVersions; i-- {
		if d := versions[i].Digest; d != active && d != shadow {
			versions = append(versions[:i], versions[i+1:]...)
		}
	}
	return versions
}

// NextStoredPolicy is the record a PolicyStore keeps when an UpdatePolicy
// function turned old (nil for none) into next: a copy of next with the
// store's Tenant, Name and Revision and its versions trimmed
// (TrimVersions). dropped are the digests of the versions that old or next
// listed and the record no longer does: the bytes the store drops.
func NextStoredPolicy(tenant, name string, old, next *StoredPolicy) (rec *StoredPolicy, dropped []string) {
	rec = next.Clone()
	rec.Tenant, rec.Name = tenant, name
	rec.Revision = 1
	if old != nil {
		rec.Revision = old.Revision + 1
	}
	rec.Versions = TrimVersions(rec.Versions, rec.Active, rec.Shadow)
	var listed []PolicyUpload
	if old != nil {
		listed = old.Versions
	}
	for _, v := range slices.Concat(listed, next.Versions) {
		if _, ok := rec.Version(v.Digest); !ok && !slices.Contains(dropped, v.Digest) {
			dropped = append(dropped, v.Digest)
		}
	}
	return rec, dropped
}
