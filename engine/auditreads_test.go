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
			store := memstore.New(memstore.Config{})
			r, err := engine.New(engine.Config{
				Store: store, AuditLog: store, Keys: jose.KeySetChecker{}, Logger: testkit.DiscardLogger(),
				Tenants: map[string]engine.Settings{"t": {InitialAccessToken: engine.TokenNone, AuditReads: tc.reads}},
			})
			if err != nil {
				t.Fatal(err)
			}
			info, err := r.Register(ctx, engine.RegisterRequest{Tenant: "t", Body: []byte(rp())})
			if err != nil {
				t.Fatal(err)
			}
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
