package engine_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/memstore"
	"github.com/registrar-dev/registrar/metrics"
)

// TestStatementJTISpentWithTheClient checks that a statement's jti is
// spent in the create's atomic write when the store is the replay cache,
// seen through a decorator (metrics.Store, as serve wires it): a
// registration the store refuses (here for the tenant's quota) leaves the
// jti unspent, so the same statement registers once there is room, and
// only once. With a replay cache apart from the store the jti is spent
// before the create, as before.
func TestStatementJTISpentWithTheClient(t *testing.T) {
	for _, tc := range []struct {
		name        string
		separate    bool // the replay cache is another store
		reusable    bool // the refused registration left the jti unspent
		wantOutcome []string
	}{
		{"store is the replay cache", false, true, []string{"verified", "verified", "invalid"}},
		{"separate replay cache", true, false, []string{"verified", "invalid"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newClock()
			store := memstore.New(memstore.Config{Now: clock.Now})
			var replay engine.ReplayCache = store
			if tc.separate {
				replay = memstore.New(memstore.Config{Now: clock.Now})
			}
			var (
				mu       sync.Mutex
				outcomes []string
			)
			claims := map[string]json.RawMessage{}
			if err := json.Unmarshal([]byte(`{"iss":"https://dir.example","iat":`+jsonTime(clock.Now())+`,"jti":"once","software_id":"sw"}`), &claims); err != nil {
				t.Fatal(err)
			}
			settings := statementTenant()
			settings.DefaultPolicies = nil
			settings.MaxClients = 1
			m := metrics.New(metrics.Config{})
			r, err := engine.New(engine.Config{
				Store: m.Store(store), AuditLog: m.AuditLog(store), Keys: nopKeys{}, Replay: replay,
				Statements: &fakeStatements{known: map[string]*engine.Statement{"s.t.u": {Issuer: "https://dir.example", Claims: claims}}},
				ObserveStatement: func(o engine.StatementOutcome) {
					mu.Lock()
					defer mu.Unlock()
					outcomes = append(outcomes, o.Outcome)
				},
				Tenants: map[string]engine.Settings{"t": settings}, Now: clock.Now, Logger: testkit.DiscardLogger(),
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			register := func(body string) (*engine.ClientInformation, error) {
				return r.Register(ctx, engine.RegisterRequest{Tenant: "t", Body: []byte(body)})
			}
			plain, err := register(`{"redirect_uris":["https://a.example/cb"]}`)
			if err != nil {
				t.Fatal(err)
			}
			withStatement := `{"redirect_uris":["https://a.example/cb"],"software_statement":"s.t.u"}`
			if _, err := register(withStatement); engine.AsError(err).Code != engine.CodeAccessDenied {
				t.Fatalf("registration over the quota: %v, want access_denied", err)
			}
			if err := store.DeleteClient(ctx, "t", plain.Client.ID); err != nil {
				t.Fatal(err)
			}
			_, err = register(withStatement)
			if tc.reusable && err != nil {
				t.Fatalf("the statement refused by the quota, registered again with room: %v, want success (its jti unspent)", err)
			}
			if !tc.reusable && engine.AsError(err).Code != engine.CodeInvalidSoftwareStatement {
				t.Fatalf("the statement refused by the quota, registered again: %v, want invalid_software_statement (jti spent before the create)", err)
			}
			if tc.reusable {
				if err := store.DeleteClient(ctx, "t", mustOnlyClient(t, store)); err != nil {
					t.Fatal(err)
				}
				if _, err := register(withStatement); engine.AsError(err).Code != engine.CodeInvalidSoftwareStatement {
					t.Errorf("the statement a second time: %v, want invalid_software_statement (its jti spent)", err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if !slices.Equal(outcomes, tc.wantOutcome) {
				t.Errorf("statement outcomes %q, want %q", outcomes, tc.wantOutcome)
			}
		})
	}
}

// mustOnlyClient returns the ID of tenant t's one client.
func mustOnlyClient(t *testing.T, s engine.Store) string {
	t.Helper()
	cs, _, err := s.Clients(context.Background(), "t", engine.ClientFilter{}, "", 10)
	if err != nil || len(cs) != 1 {
		t.Fatalf("clients: %v, %v; want one", cs, err)
	}
	return cs[0].ID
}
