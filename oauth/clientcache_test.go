package oauth_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/memstore"
	"github.com/registrar-dev/registrar/oauth"
)

// countingStore counts the client reads of the token endpoint's store,
// and fails its conditional token writes while down is set.
type countingStore struct {
	*memstore.Store
	reads atomic.Int64
	down  atomic.Bool
}

func (s *countingStore) PutTokenIf(ctx context.Context, t *oauth.Token, record, key string) (bool, bool, error) {
	if s.down.Load() {
		return false, false, engine.ErrUnavailable
	}
	return s.Store.PutTokenIf(ctx, t, record, key)
}

func (s *countingStore) ClientRecord(ctx context.Context, tenant, id, key string) (*engine.Client, string, bool, error) {
	s.reads.Add(1)
	return s.Store.ClientRecord(ctx, tenant, id, key)
}

// rememberingFixture is a fixture whose token endpoint reads its store
// through a countingStore.
func rememberingFixture(t *testing.T, settings engine.Settings) (*fixture, *countingStore) {
	t.Helper()
	f := newFixture(t, settings)
	cs := &countingStore{Store: f.store}
	srv, err := oauth.New(oauth.Config{Registrar: f.reg, Clients: cs, Store: cs, AuditLog: f.store, Limiter: f.store, Now: f.clock.Now, Logger: testkit.DiscardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	return f, cs
}

// TestTokenClientRemembered: a client that authenticated is not read
// again for its next token requests, for five seconds.
func TestTokenClientRemembered(t *testing.T) {
	f, cs := rememberingFixture(t, engine.Settings{})
	id, secret := f.register("")
	for range 3 {
		resp, err := f.token(basic(id, secret))
		if err != nil {
			t.Fatal(err)
		}
		if !f.active(basic(id, secret), resp.AccessToken) {
			t.Error("a token issued to a remembered client is not active")
		}
	}
	// One read for the first token request, one per introspection.
	if n := cs.reads.Load(); n != 4 {
		t.Errorf("%d client reads, want 4: the token requests after the first read nothing", n)
	}
	f.clock.Advance(5 * time.Second)
	before := cs.reads.Load()
	if _, err := f.token(basic(id, secret)); err != nil {
		t.Fatal(err)
	}
	if cs.reads.Load() == before {
		t.Error("the client was still remembered after five seconds")
	}
}

// TestTokenRememberedClientChangedElsewhere: a client deleted, given a new
// secret, narrowed or locked out by another replica (here, straight in
// the store) gets, from a replica that remembers it, the answer a fresh
// read gives; and a failure with a remembered client is counted and
// audited as any other.
func TestTokenRememberedClientChangedElsewhere(t *testing.T) {
	ctx := context.Background()
	settings := engine.Settings{ClientLockout: engine.Lockout{Rate: engine.Rate{Events: 3, Per: time.Minute}}}
	t.Run("new secret", func(t *testing.T) {
		f, _ := rememberingFixture(t, settings)
		id, secret := f.register("")
		remembered(t, f, id, secret)
		if _, err := f.store.UpdateClient(ctx, engine.DefaultTenant, id, func(c *engine.Client) error {
			c.SecretHash = engine.HashToken("the-new-secret")
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		_, err := f.token(basic(id, secret))
		wantCode(t, err, engine.CodeInvalidClient)
		if _, err := f.token(basic(id, "the-new-secret")); err != nil {
			t.Errorf("the new secret: %v", err)
		}
		events, _, err := f.store.AuditEvents(ctx, engine.DefaultTenant, "", 50)
		if err != nil {
			t.Fatal(err)
		}
		failed := 0
		for _, e := range events {
			if e.Type == oauth.AuditAuthFailed && e.ClientID == id {
				failed++
			}
		}
		if failed != 1 {
			t.Errorf("%d authentication failures audited, want 1 (the old secret)", failed)
		}
	})
	t.Run("deleted", func(t *testing.T) {
		f, _ := rememberingFixture(t, settings)
		id, secret := f.register("")
		remembered(t, f, id, secret)
		if err := f.store.DeleteClient(ctx, engine.DefaultTenant, id); err != nil {
			t.Fatal(err)
		}
		_, err := f.token(basic(id, secret))
		wantCode(t, err, engine.CodeInvalidClient)
	})
	// Narrowed: the answer is the stored client's.
	for _, tc := range []struct {
		name   string
		change func(*engine.Client)
		check  func(*testing.T, *oauth.TokenResponse, error)
	}{
		{"grant types narrowed", func(c *engine.Client) { c.Metadata.GrantTypes = []string{"authorization_code"} },
			func(t *testing.T, _ *oauth.TokenResponse, err error) { wantCode(t, err, engine.CodeUnauthorizedClient) }},
		{"scope narrowed", func(c *engine.Client) { c.Metadata.Scope = "write" },
			func(t *testing.T, resp *oauth.TokenResponse, err error) {
				if err != nil || resp.Scope != "write" {
					t.Errorf("%+v, %v: want a token with the stored client's scope %q", resp, err, "write")
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _ := rememberingFixture(t, settings)
			id, secret := f.register("")
			remembered(t, f, id, secret)
			if _, err := f.store.UpdateClient(ctx, engine.DefaultTenant, id, func(c *engine.Client) error {
				tc.change(c)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			resp, err := f.token(basic(id, secret))
			tc.check(t, resp, err)
		})
	}
	t.Run("locked out", func(t *testing.T) {
		f, _ := rememberingFixture(t, settings)
		id, secret := f.register("")
		lock := func() {
			t.Helper()
			if _, err := f.store.Mark(ctx, engine.DefaultTenant, "lockout:"+id, f.clock.Now().Add(10*time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		remembered(t, f, id, secret)
		lock()
		_, err := f.token(basic(id, secret))
		wantCode(t, err, engine.CodeTooManyRequests)
		// A request refused for another reason (a scope the client may
		// not have) is refused as locked out, as a fresh read answers
		// that first.
		f.clock.Advance(11 * time.Second)
		remembered(t, f, id, secret)
		lock()
		_, err = f.srv.Token(ctx, oauth.TokenRequest{
			Tenant: engine.DefaultTenant, Endpoints: oauth.Endpoints{Issuer: asIssuer, Endpoint: asIssuer + "/token"},
			Credentials: basic(id, secret), GrantType: oauth.GrantClientCredentials, Scope: "admin", HasScope: true,
		})
		wantCode(t, err, engine.CodeTooManyRequests)
	})
	t.Run("wrong secret", func(t *testing.T) {
		f, _ := rememberingFixture(t, settings)
		id, secret := f.register("")
		remembered(t, f, id, secret)
		for range 3 {
			_, err := f.token(basic(id, "wrong"))
			wantCode(t, err, engine.CodeInvalidClient)
		}
		// Each failure was counted: the fourth spends the budget, and
		// the right secret is refused too.
		_, err := f.token(basic(id, "wrong"))
		wantCode(t, err, engine.CodeTooManyRequests)
		_, err = f.token(basic(id, secret))
		wantCode(t, err, engine.CodeTooManyRequests)
	})
}

// TestTokenRememberedStoreDown: a store failure while issuing to a
// remembered client is answered as it is, without reading the client
// again (each read would wait for the store's timeout in an outage).
func TestTokenRememberedStoreDown(t *testing.T) {
	f, cs := rememberingFixture(t, engine.Settings{})
	id, secret := f.register("")
	remembered(t, f, id, secret)
	cs.down.Store(true)
	before := cs.reads.Load()
	_, err := f.token(basic(id, secret))
	wantCode(t, err, engine.CodeTemporarilyUnavailable)
	if n := cs.reads.Load() - before; n != 0 {
		t.Errorf("%d client reads after the store failed, want 0", n)
	}
}

// remembered makes the fixture's token endpoint remember a client.
func remembered(t *testing.T, f *fixture, id, secret string) {
	t.Helper()
	if _, err := f.token(basic(id, secret)); err != nil {
		t.Fatal(err)
	}
}
