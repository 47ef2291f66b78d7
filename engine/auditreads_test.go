package engine_test

import (
	"context"
	"slices"
	"testing"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/memstore"
)

// registerAuditing returns a Registrar on store (also its audit log) with
// an open tenant "t" of that audit_reads setting, and a client registered
// there.
func registerAuditing(t *testing.T, store interface {
	engine.Store
	engine.AuditLog
}, reads *bool) (*engine.Registrar, *engine.ClientInformation) {
	t.Helper()
	r, err := engine.New(engine.Config{
		Store: store, AuditLog: store, Keys: jose.KeySetChecker{}, Logger: testkit.DiscardLogger(),
		Tenants: map[string]engine.Settings{"t": {InitialAccessToken: engine.TokenNone, AuditReads: reads}},
	})
	if err != nil {
		t.Fatal(err)
	}
	info, err := r.Register(context.Background(), engine.RegisterRequest{Tenant: "t", Body: []byte(rp())})
	if err != nil {
		t.Fatal(err)
	}
	return r, info
}

// TestAuditReads checks the audit_reads setting: by default an RFC 7592
// read is an audit event; with audit_reads false it is not, and the
// registration, update and delete still are.
func TestAuditReads(t *testing.T) {
	off := false
	for _, tc := range []struct {
		name  string
		reads *bool
		want  []string
	}{
		{"default", nil, []string{engine.AuditClientRegistered, engine.AuditClientRead, engine.AuditClientUpdated, engine.AuditClientDeleted}},
		{"off", &off, []string{engine.AuditClientRegistered, engine.AuditClientUpdated, engine.AuditClientDeleted}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			r, info := registerAuditing(t, memstore.New(memstore.Config{}), tc.reads)
			id, rat := info.Client.ID, info.RegistrationAccessToken
			if _, err := r.Read(ctx, engine.ManageRequest{Tenant: "t", ClientID: id, Token: rat}); err != nil {
				t.Fatal(err)
			}
			upd, err := r.Update(ctx, engine.ManageRequest{Tenant: "t", ClientID: id, Token: rat,
				Body: []byte(`{"client_id":"` + id + `","redirect_uris":["https://a.example/cb"]}`)})
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Delete(ctx, engine.ManageRequest{Tenant: "t", ClientID: id, Token: upd.RegistrationAccessToken}); err != nil {
				t.Fatal(err)
			}
			es, _, err := r.AuditEvents(ctx, "t", "", 10)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range es {
				got = append(got, e.Type)
			}
			slices.Reverse(got) // newest first
			if !slices.Equal(got, tc.want) {
				t.Errorf("audit events %q, want %q", got, tc.want)
			}
		})
	}
}

// readCountingStore counts the client reads and audit appends of the
// store it wraps.
type readCountingStore struct {
	*memstore.Store
	audited, plain, appends int
}

func (s *readCountingStore) ClientAudited(ctx context.Context, tenant, id, digest string, e *engine.AuditEvent) (*engine.Client, bool, error) {
	s.audited++
	return s.Store.ClientAudited(ctx, tenant, id, digest, e)
}

func (s *readCountingStore) Client(ctx context.Context, tenant, id string) (*engine.Client, error) {
	s.plain++
	return s.Store.Client(ctx, tenant, id)
}

func (s *readCountingStore) AppendAudit(ctx context.Context, e *engine.AuditEvent) (string, error) {
	s.appends++
	return s.Store.AppendAudit(ctx, e)
}

func (s *readCountingStore) Underlying() any { return s.Store }

// TestReadAuditedInOneStep: an audited read with the registration access
// token reads the client and writes its event in one store call
// (engine.AuditedClientReader); a read refused writes no event; with
// audit_reads off the read is a plain one.
func TestReadAuditedInOneStep(t *testing.T) {
	off := false
	for _, tc := range []struct {
		name                   string
		reads                  *bool
		audited, plain, events int
	}{
		{"audited", nil, 2, 0, 1},
		{"audit_reads off", &off, 0, 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			store := &readCountingStore{Store: memstore.New(memstore.Config{})}
			r, info := registerAuditing(t, store, tc.reads)
			id := info.Client.ID
			if _, err := r.Read(ctx, engine.ManageRequest{Tenant: "t", ClientID: id, Token: info.RegistrationAccessToken}); err != nil {
				t.Fatal(err)
			}
			_, err := r.Read(ctx, engine.ManageRequest{Tenant: "t", ClientID: id, Token: "not-the-registration-token"})
			wantCode(t, err, engine.CodeInvalidToken)
			if store.audited != tc.audited || store.plain != tc.plain || store.appends != 0 {
				t.Errorf("store calls: %d audited reads, %d plain reads, %d appends; want %d, %d, 0",
					store.audited, store.plain, store.appends, tc.audited, tc.plain)
			}
			es, _, err := r.AuditEvents(ctx, "t", "", 10)
			if err != nil {
				t.Fatal(err)
			}
			reads := 0
			for _, e := range es {
				if e.Type == engine.AuditClientRead {
					reads++
					if e.ClientID != id || e.Actor != "client:"+id || e.Time.IsZero() {
						t.Errorf("read event %+v", e)
					}
				}
			}
			if reads != tc.events {
				t.Errorf("%d client.read events, want %d", reads, tc.events)
			}
		})
	}
}
