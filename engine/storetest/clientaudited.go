package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// testClientAudited checks engine.AuditedClientReader, for a store that
// is also the audit log: a read with the client's registration token
// digest returns the client and appends the event with it; a read with
// another digest, or none, or of a client without a registration token,
// or of no client, appends nothing, even when the client's metadata
// carries a member named like the digest's; and an event of another tenant
// is refused.
func testClientAudited(t *testing.T, s engine.Store) {
	ar, ok := s.(engine.AuditedClientReader)
	log, isLog := s.(engine.AuditLog)
	if !ok || !isLog {
		t.Skip("the store reads no client with its audit event")
	}
	ctx := t.Context()
	tenant := newTenant()
	at := now().Truncate(time.Second)
	event := func(id string) *engine.AuditEvent {
		return &engine.AuditEvent{Tenant: tenant, Type: engine.AuditClientRead, Time: at, Actor: "client:" + id, ClientID: id, RequestID: "req-" + id}
	}
	rat := engine.HashToken("the registration token")
	c := newClient(tenant, "with-rat")
	c.RegistrationTokenHash = rat
	mustCreateClient(t, s, c)
	// A client without a registration token whose metadata names the
	// digest of a token its owner chose.
	planted := engine.HashToken("a token of the owner's choosing")
	noRAT := newClient(tenant, "no-rat")
	noRAT.RegistrationTokenHash = ""
	noRAT.Metadata.Extra = map[string]json.RawMessage{"x": json.RawMessage(`{"registration_token_hash":"` + planted + `"}`)}
	mustCreateClient(t, s, noRAT)

	wantEvents := func(what string, n int) []*engine.AuditEvent {
		t.Helper()
		events, _, err := log.AuditEvents(ctx, tenant, "", 10)
		if err != nil {
			t.Fatalf("AuditEvents: %v", err)
		}
		if len(events) != n {
			t.Fatalf("%s: %d events, want %d: %+v", what, len(events), n, events)
		}
		return events
	}

	got, audited, err := ar.ClientAudited(ctx, tenant, "with-rat", rat, event("with-rat"))
	if err != nil || !audited {
		t.Fatalf("ClientAudited with the token's digest: audited %v, err %v; want true, nil", audited, err)
	}
	checkClient(t, "ClientAudited", got, c)
	events := wantEvents("after a read with the token's digest", 1)
	if e := events[0]; e.ID == "" || e.Type != engine.AuditClientRead || e.ClientID != "with-rat" || e.RequestID != "req-with-rat" || !e.Time.Equal(at) {
		t.Errorf("the read's event: %+v", e)
	}

	for _, tc := range []struct{ what, id, digest string }{
		{"another digest", "with-rat", engine.HashToken("another token")},
		{"no digest", "with-rat", ""},
		{"a client without a registration token, its metadata naming the digest", "no-rat", planted},
	} {
		got, audited, err := ar.ClientAudited(ctx, tenant, tc.id, tc.digest, event(tc.id))
		if err != nil || audited || got == nil || got.ID != tc.id {
			t.Errorf("ClientAudited with %s: %v, audited %v, err %v; want the client, false, nil", tc.what, got, audited, err)
		}
	}
	_, audited, err = ar.ClientAudited(ctx, tenant, "nobody", rat, event("nobody"))
	if !checkErr(t, "ClientAudited of no client", err, engine.ErrNotFound) || audited {
		t.Errorf("ClientAudited of no client: audited %v", audited)
	}
	wantEvents("after the reads that must append nothing", 1)

	other := event("with-rat")
	other.Tenant = newTenant()
	if _, _, err := ar.ClientAudited(ctx, tenant, "with-rat", rat, other); err == nil {
		t.Error("ClientAudited with an event of another tenant: no error")
	}
	wantEvents("after a read with an event of another tenant", 1)
}
