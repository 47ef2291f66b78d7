package engine

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// AuditEvent is one entry of a tenant's audit log: something happened to a
// client, a token, a tenant or a policy module. It never holds a secret or a
// bearer token, only token IDs (digests).
type AuditEvent struct {
	// ID is assigned by the AuditLog when the event is appended; it orders
	// the events of a tenant and is the cursor of AuditEvents.
	ID string `json:"id,omitempty"`
	// Time is when the event happened.
	Time time.Time `json:"time"`
	// Tenant is the tenant the event concerns; "" for events of the whole
	// process, such as a shared policy module being loaded.
	Tenant string `json:"tenant"`
	// Type says what happened: one of the Audit* constants.
	Type string `json:"type"`
	// Actor says who did it: "admin", "tenant-admin:<token id>",
	// "client:<client_id>" (with its registration access token),
	// "initial-access-token:<id>", "static-token", "anonymous" (open
	// registration) or "system".
	Actor string `json:"actor"`
	// ClientID is the client concerned, if any.
	ClientID string `json:"client_id,omitempty"`
	// TokenID is the ID of the token concerned (minted, revoked), if any.
	TokenID string `json:"token_id,omitempty"`
	// Policy is the policy module concerned: the rejecting one for
	// AuditClientRejected, the loaded one for AuditPolicyLoaded.
	Policy *PolicyVersion `json:"policy,omitempty"`
	// Policies are the policy versions that ran, for registrations and
	// updates.
	Policies []PolicyVersion `json:"policies,omitempty"`
	// Error is the OAuth error code of a rejection.
	Error ErrorCode `json:"error,omitempty"`
	// Detail is a human-readable explanation.
	Detail string `json:"detail,omitempty"`
	// RequestID and RemoteIP identify the HTTP request, when there was one.
	RequestID string `json:"request_id,omitempty"`
	RemoteIP  string `json:"remote_ip,omitempty"`
}

// ErrInvalidCursor: a paging cursor that the store could not have issued.
var ErrInvalidCursor = errors.New("invalid cursor")

// The audit event types.
const (
	AuditClientRegistered   = "client.registered"
	AuditClientRead         = "client.read"
	AuditClientUpdated      = "client.updated"
	AuditClientDeleted      = "client.deleted"
	AuditClientRejected     = "client.rejected"
	AuditIATMinted          = "initial_access_token.minted"
	AuditIATRevoked         = "initial_access_token.revoked"
	AuditRATMinted          = "registration_access_token.minted"
	AuditAdminTokenMinted   = "admin_token.minted"
	AuditAdminTokenRevoked  = "admin_token.revoked"
	AuditTenantCreated      = "tenant.created"
	AuditTenantUpdated      = "tenant.updated"
	AuditTenantDeleted      = "tenant.deleted"
	AuditPolicyLoaded       = "policy.loaded"
	AuditPolicyRefused      = "policy.refused"
	AuditClientsBulkDeleted = "clients.bulk_deleted"
)

// AuditedClientReader is a Store that is also the AuditLog and reads a
// client and records the read in one step: an RFC 7592 read that
// authenticates with the registration access token makes one store round
// trip instead of two (the read, then its client.read event). The engine
// uses it when the Store is also its AuditLog (SameBackend). Both stores
// implement it.
type AuditedClientReader interface {
	// ClientAudited returns a copy of the live client with that tenant and
	// ID, or ErrNotFound. If ratDigest is not empty and is the client's
	// RegistrationTokenHash, it appends e (an event of that tenant) to the
	// audit log in the same atomic step, and reports audited; otherwise
	// it appends nothing.
	ClientAudited(ctx context.Context, tenant, id, ratDigest string, e *AuditEvent) (c *Client, audited bool, err error)
}

// AuditLog keeps each tenant's audit events, capped to the most recent
// ones. It is safe for concurrent use.
type AuditLog interface {
	// AppendAudit appends e to the log of e.Tenant and returns the ID it
	// was given. IDs are opaque: unique within the tenant's log, ordered
	// by it, but not necessarily in the order their strings compare.
	// Appending may drop the tenant's oldest events to keep the log within
	// its cap.
	AppendAudit(ctx context.Context, e *AuditEvent) (string, error)

	// AuditEvents pages through a tenant's events, newest first: at most
	// limit (> 0) events older than the one whose ID is before (empty:
	// from the newest). next is the ID of the page's last event when older
	// events follow, else empty. A before that is not an ID this log
	// could have issued gives ErrInvalidCursor.
	AuditEvents(ctx context.Context, tenant, before string, limit int) (events []*AuditEvent, next string, err error)
}

// actorKey carries the actor of a request in its context.
type actorKey struct{}

// requestKey carries the request facts of a request in its context.
type requestKey struct{}

// WithActor returns a context that names who makes the request, for the
// audit log (see AuditEvent.Actor).
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// Actor returns the actor that WithActor put in ctx.
func Actor(ctx context.Context) (string, bool) {
	a, ok := ctx.Value(actorKey{}).(string)
	return a, ok
}

// RequestInfo identifies an HTTP request in audit events.
type RequestInfo struct {
	ID       string
	RemoteIP string
}

// WithRequest returns a context that carries the request's identity, for
// the audit log.
func WithRequest(ctx context.Context, info RequestInfo) context.Context {
	return context.WithValue(ctx, requestKey{}, info)
}

// audit completes e from ctx, logs it and appends it to the audit log. An
// append that fails is logged: the action it records has happened already.
func (r *Registrar) audit(ctx context.Context, e AuditEvent) {
	r.complete(ctx, &e)
	r.logAudit(ctx, &e)
	r.appendAudit(ctx, &e)
}

// complete fills in what e takes from ctx and the clock.
func (r *Registrar) complete(ctx context.Context, e *AuditEvent) {
	if e.Time.IsZero() {
		e.Time = r.now()
	}
	if e.Actor == "" {
		e.Actor, _ = ctx.Value(actorKey{}).(string)
		if e.Actor == "" {
			e.Actor = "system"
		}
	}
	if info, ok := ctx.Value(requestKey{}).(RequestInfo); ok {
		e.RequestID, e.RemoteIP = info.ID, info.RemoteIP
	}
}

// logAudit writes e to the process log: at debug level when the audit log
// keeps it (one line per request is the request's own), else at info.
func (r *Registrar) logAudit(ctx context.Context, e *AuditEvent) {
	level := slog.LevelInfo
	if r.auditLog != nil {
		level = slog.LevelDebug
	}
	if !r.log.Enabled(ctx, level) {
		return
	}
	attrs := []any{"audit", e.Type, "tenant", e.Tenant, "actor", e.Actor}
	if e.ClientID != "" {
		attrs = append(attrs, "client_id", e.ClientID)
	}
	if e.TokenID != "" {
		attrs = append(attrs, "token_id", e.TokenID)
	}
	if e.Policy != nil {
		attrs = append(attrs, "policy", e.Policy.String())
	}
	if len(e.Policies) > 0 {
		attrs = append(attrs, "policies", e.Policies)
	}
	if e.Error != "" {
		attrs = append(attrs, "error", string(e.Error))
	}
	if e.Detail != "" {
		attrs = append(attrs, "detail", e.Detail)
	}
	if e.RequestID != "" {
		attrs = append(attrs, "request_id", e.RequestID)
	}
	r.log.Log(ctx, level, "audit event", attrs...)
}

// appendAudit appends e to the audit log, if there is one.
func (r *Registrar) appendAudit(ctx context.Context, e *AuditEvent) {
	if r.auditLog == nil {
		return
	}
	if _, err := r.auditLog.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		r.log.ErrorContext(ctx, "audit event not stored", "audit", e.Type, "tenant", e.Tenant, "err", err)
	}
}
