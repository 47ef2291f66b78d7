package storetest

import (
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// testCreateAudit checks CreateOptions.Audit, for a store that is also an
// audit log: the event is appended with a create that is made, and not
// with one that is refused.
func testCreateAudit(t *testing.T, s engine.Store) {
	log, ok := s.(engine.AuditLog)
	if !ok {
		t.Skip("the store is not an audit log")
	}
	ctx := t.Context()
	tenant := newTenant()
	at := now().Truncate(time.Second)
	event := func(id string) *engine.AuditEvent {
		return &engine.AuditEvent{Tenant: tenant, Type: engine.AuditClientRegistered, Time: at, Actor: "initial-access-token:t1", ClientID: id, TokenID: "t1", RequestID: "req-" + id}
	}
	if err := s.CreateClient(ctx, newClient(tenant, "made"), engine.CreateOptions{Audit: event("made")}); err != nil {
		t.Fatalf("CreateClient with an audit event: %v", err)
	}
	checkErr(t, "CreateClient of a live ID with an audit event",
		s.CreateClient(ctx, newClient(tenant, "made"), engine.CreateOptions{Audit: event("refused")}), engine.ErrAlreadyExists)
	checkErr(t, "CreateClient over the quota with an audit event",
		s.CreateClient(ctx, newClient(tenant, "over"), engine.CreateOptions{MaxClients: 1, Audit: event("over")}), engine.ErrQuotaExceeded)
	if err := s.CreateClient(ctx, newClient(tenant, "plain"), engine.CreateOptions{}); err != nil {
		t.Fatalf("CreateClient without an audit event: %v", err)
	}
	events, _, err := log.AuditEvents(ctx, tenant, "", 10)
	if err != nil {
		t.Fatalf("AuditEvents: %v", err)
	}
	if len(events) != 1 {
		t.Fatalf("%d events after one made create with an event, want 1: %+v", len(events), events)
	}
	got, want := events[0], event("made")
	if got.ID == "" || got.Type != want.Type || got.ClientID != "made" || got.TokenID != "t1" || got.Actor != want.Actor || got.RequestID != "req-made" || !got.Time.Equal(at) {
		t.Errorf("the create's event: %+v, want %+v with an ID", got, want)
	}
}
