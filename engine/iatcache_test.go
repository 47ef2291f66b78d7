package engine_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/memstore"
)

// iatCountingStore counts the reads of initial access tokens from the
// store it wraps.
type iatCountingStore struct {
	*memstore.Store
	reads atomic.Int64
}

func (s *iatCountingStore) InitialAccessToken(ctx context.Context, tenant, id string) (*engine.InitialAccessToken, error) {
	s.reads.Add(1)
	return s.Store.InitialAccessToken(ctx, tenant, id)
}

// Underlying lets the engine see that the store is also the audit log and
// replay cache (engine.Decorator).
func (s *iatCountingStore) Underlying() any { return s.Store }

// iatFleet is two Registrars ("replicas") on one store, as a fleet of
// registrar serve processes on one Redis, with statements verified by a
// fake and their jtis spent in a replay cache apart from the store (so
// before the create).
type iatFleet struct {
	t      *testing.T
	store  *iatCountingStore
	replay *memstore.Store
	clock  *testkit.Clock
	a, b   *engine.Registrar
}

func newIATFleet(t *testing.T) *iatFleet {
	clock := newClock()
	f := &iatFleet{
		t: t, clock: clock,
		store:  &iatCountingStore{Store: memstore.New(memstore.Config{Now: clock.Now})},
		replay: memstore.New(memstore.Config{Now: clock.Now}),
	}
	claims := map[string]json.RawMessage{}
	if err := json.Unmarshal([]byte(`{"iss":"https://dir.example","iat":`+jsonTime(clock.Now())+`,"jti":"once","software_id":"sw"}`), &claims); err != nil {
		t.Fatal(err)
	}
	settings := statementTenant()
	settings.DefaultPolicies = nil
	settings.InitialAccessToken = engine.TokenStored
	for _, r := range []**engine.Registrar{&f.a, &f.b} {
		var err error
		*r, err = engine.New(engine.Config{
			Store: f.store, AuditLog: f.store, Keys: nopKeys{}, Replay: f.replay,
			Statements: &fakeStatements{known: map[string]*engine.Statement{"s.t.u": {Issuer: "https://dir.example", Claims: claims}}},
			Tenants:    map[string]engine.Settings{"t": settings}, Now: clock.Now, Logger: testkit.DiscardLogger(),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return f
}

const (
	iatPlain     = `{"redirect_uris":["https://a.example/cb"]}`
	iatStatement = `{"redirect_uris":["https://a.example/cb"],"software_statement":"s.t.u"}`
	iatBad       = `{"redirect_uris":["not a uri"]}`
)

func (f *iatFleet) mint(r *engine.Registrar, req engine.MintRequest) string {
	f.t.Helper()
	tok, _, err := r.MintInitialAccessToken(context.Background(), "t", req)
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

func (f *iatFleet) register(r *engine.Registrar, tok, body string) error {
	_, err := r.Register(context.Background(), engine.RegisterRequest{Tenant: "t", Token: tok, Body: []byte(body)})
	return err
}

func (f *iatFleet) mustRegister(r *engine.Registrar, tok, body string) {
	f.t.Helper()
	if err := f.register(r, tok, body); err != nil {
		f.t.Fatalf("register: %v", err)
	}
}

// wantReads fails the test unless the store has served n token reads.
func (f *iatFleet) wantReads(n int64, when string) {
	f.t.Helper()
	if got := f.store.reads.Load(); got != n {
		f.t.Errorf("%s: %d reads of the token from the store, want %d", when, got, n)
	}
}

// TestIATRemembered: a registration with a token in steady use (no use
// limit) reads it from the store once per iatCacheTTL; a token with a
// use limit is read every time (its count decides the early refusal).
func TestIATRemembered(t *testing.T) {
	f := newIATFleet(t)
	tok := f.mint(f.a, engine.MintRequest{})
	for range 3 {
		f.mustRegister(f.a, tok, iatPlain)
	}
	f.wantReads(1, "three registrations")
	f.clock.Advance(engine.IATCacheTTL)
	f.mustRegister(f.a, tok, iatPlain)
	f.wantReads(2, "a registration once the record is older than the TTL")

	limited := f.mint(f.a, engine.MintRequest{MaxUses: 3})
	for range 3 {
		f.mustRegister(f.a, limited, iatPlain)
	}
	f.wantReads(5, "three registrations with a limited token")
	wantCode(t, f.register(f.a, limited, iatPlain), engine.CodeInvalidToken)
	f.wantReads(6, "the limited token used up")
}

// TestIATRememberedNotAfterExpiry: a remembered record is not used once
// its token has expired, even within the TTL.
func TestIATRememberedNotAfterExpiry(t *testing.T) {
	f := newIATFleet(t)
	tok := f.mint(f.a, engine.MintRequest{ExpiresIn: engine.IATCacheTTL / 2})
	f.mustRegister(f.a, tok, iatPlain)
	f.clock.Advance(engine.IATCacheTTL / 2)
	wantCode(t, f.register(f.a, tok, iatPlain), engine.CodeInvalidToken)
	f.wantReads(2, "a registration after the token expired")
}

// TestIATRevokedElsewhere: a token revoked through one replica while
// another remembers it gets, from that one, exactly the answer it gets
// without the cache: 401 with the same description, whatever the body,
// no client, no rejection audited, and a statement's jti left unspent.
// Revoking through the replica that remembers it forgets it at once.
func TestIATRevokedElsewhere(t *testing.T) {
	f := newIATFleet(t)
	ctx := context.Background()
	var uncached *engine.Error
	for i, body := range []string{iatBad, iatStatement, iatPlain} {
		tok := f.mint(f.a, engine.MintRequest{})
		f.mustRegister(f.a, tok, iatPlain) // a remembers it
		if err := f.b.RevokeInitialAccessToken(ctx, "t", engine.HashToken(tok)); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			uncached = wantCode(t, f.register(f.b, tok, iatPlain), engine.CodeInvalidToken)
		}
		e := wantCode(t, f.register(f.a, tok, body), engine.CodeInvalidToken)
		if e.Description != uncached.Description {
			t.Errorf("body %s: description %q, want %q (as without the cache)", body, e.Description, uncached.Description)
		}
	}
	if cs, _, err := f.store.Clients(ctx, "t", engine.ClientFilter{}, "", 10); err != nil || len(cs) != 3 {
		t.Errorf("clients: %d, %v; want the 3 registered before the revocations", len(cs), err)
	}
	events, _, err := f.store.AuditEvents(ctx, "t", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Type == engine.AuditClientRejected {
			t.Errorf("audited %+v for a revoked token", e)
		}
	}
	// The statement's jti was not spent by the refused registration.
	fresh := f.mint(f.b, engine.MintRequest{})
	f.mustRegister(f.a, fresh, iatStatement)

	// Revoked through the replica that remembers it: refused at once,
	// before the body is read.
	reads := f.store.reads.Load()
	if err := f.a.RevokeInitialAccessToken(ctx, "t", engine.HashToken(fresh)); err != nil {
		t.Fatal(err)
	}
	e := wantCode(t, f.register(f.a, fresh, iatBad), engine.CodeInvalidToken)
	if e.Description != uncached.Description {
		t.Errorf("description %q, want %q", e.Description, uncached.Description)
	}
	f.wantReads(reads+1, "a registration after revoking through the same replica")
}
