package oauth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/memstore"
	"github.com/registrar-dev/registrar/oauth"
)

const asIssuer = "https://as.example"

// fixture is a Registrar and an oauth.Server on one memstore with a
// clock the test moves.
type fixture struct {
	t     *testing.T
	clock *testkit.Clock
	store *memstore.Store
	reg   *engine.Registrar
	srv   *oauth.Server

	outcomes testkit.Recorder[oauth.Outcome]
}

func newFixture(t *testing.T, settings engine.Settings) *fixture {
	t.Helper()
	clock := testkit.NewClock(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	store := memstore.New(memstore.Config{Now: clock.Now})
	settings.InitialAccessToken = engine.TokenNone
	reg, err := engine.New(engine.Config{
		Store: store, AuditLog: store, Limiter: store, Keys: jose.KeySetChecker{}, Now: clock.Now,
		Tenants: map[string]engine.Settings{engine.DefaultTenant: settings}, Logger: testkit.DiscardLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, clock: clock, store: store, reg: reg}
	f.srv, err = oauth.New(oauth.Config{Registrar: reg, Clients: store, Store: store, AuditLog: store, Limiter: store, Observe: f.outcomes.Add, Now: clock.Now, Logger: testkit.DiscardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// register registers a client_secret_basic client_credentials client.
func (f *fixture) register(extra string) (id, secret string) {
	f.t.Helper()
	body := `{"grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],"token_endpoint_auth_method":"client_secret_basic","scope":"read"` + extra + `}`
	info, err := f.reg.Register(context.Background(), engine.RegisterRequest{Tenant: engine.DefaultTenant, Body: []byte(body)})
	if err != nil {
		f.t.Fatalf("register: %v", err)
	}
	return info.Client.ID, info.Secret
}

func basic(id, secret string) oauth.Credentials {
	return oauth.Credentials{Basic: true, BasicID: id, BasicSecret: secret}
}

func (f *fixture) token(cr oauth.Credentials) (*oauth.TokenResponse, error) {
	return f.srv.Token(context.Background(), oauth.TokenRequest{
		Tenant: engine.DefaultTenant, Endpoints: oauth.Endpoints{Issuer: asIssuer, Endpoint: asIssuer + "/token"},
		Credentials: cr, GrantType: oauth.GrantClientCredentials,
	})
}

func (f *fixture) active(cr oauth.Credentials, token string) bool {
	f.t.Helper()
	in, err := f.srv.Introspect(context.Background(), oauth.IntrospectRequest{
		Tenant: engine.DefaultTenant, Endpoints: oauth.Endpoints{Issuer: asIssuer, Endpoint: asIssuer + "/introspect"},
		Credentials: cr, Token: token,
	})
	if err != nil {
		f.t.Fatalf("introspect: %v", err)
	}
	return in.Active
}

func wantCode(t *testing.T, err error, code engine.ErrorCode) {
	t.Helper()
	var e *engine.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("error %v, want %s", err, code)
	}
}

func TestTokenExpiry(t *testing.T) {
	f := newFixture(t, engine.Settings{AccessTokenLifetime: engine.Duration(5 * time.Minute)})
	id, secret := f.register("")
	resp, err := f.token(basic(id, secret))
	if err != nil {
		t.Fatal(err)
	}
	if resp.ExpiresIn != 300 {
		t.Errorf("expires_in %d, want 300", resp.ExpiresIn)
	}
	if !f.active(basic(id, secret), resp.AccessToken) {
		t.Fatal("a fresh token is inactive")
	}
	f.clock.Advance(5*time.Minute - time.Second)
	if !f.active(basic(id, secret), resp.AccessToken) {
		t.Fatal("the token is inactive a second before it expires")
	}
	f.clock.Advance(time.Second)
	if f.active(basic(id, secret), resp.AccessToken) {
		t.Error("the token is active at its expiry")
	}
}

func TestExpiredClientSecretRefused(t *testing.T) {
	f := newFixture(t, engine.Settings{RegistrationValidity: engine.Duration(time.Hour)})
	id, secret := f.register("")
	if _, err := f.token(basic(id, secret)); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	_, err := f.token(basic(id, secret))
	wantCode(t, err, engine.CodeInvalidClient)
}

func TestIssuanceOff(t *testing.T) {
	f := newFixture(t, engine.Settings{IssueAccessToken: engine.Decision{Off: true}})
	id, secret := f.register("")
	_, err := f.token(basic(id, secret))
	wantCode(t, err, engine.CodeUnauthorizedClient)
}

// TestStoreKeepsNoUsableToken checks that the store holds the digest of
// an opaque token, not the token.
func TestStoreKeepsNoUsableToken(t *testing.T) {
	f := newFixture(t, engine.Settings{})
	id, secret := f.register("")
	resp, err := f.token(basic(id, secret))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Token(context.Background(), engine.DefaultTenant, resp.AccessToken); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("the store has a record under the token itself: %v", err)
	}
	rec, err := f.store.Token(context.Background(), engine.DefaultTenant, engine.HashToken(resp.AccessToken))
	if err != nil {
		t.Fatalf("no record under the token's digest: %v", err)
	}
	if strings.Contains(rec.Digest+rec.ID, resp.AccessToken) {
		t.Error("the record holds the token")
	}
}

// TestAuditOfFailures checks that a failed authentication and a
// revocation are audited, without the secret.
func TestAuditOfFailures(t *testing.T) {
	f := newFixture(t, engine.Settings{})
	id, secret := f.register("")
	if _, err := f.token(basic(id, "not-the-secret")); err == nil {
		t.Fatal("a wrong secret was accepted")
	}
	resp, err := f.token(basic(id, secret))
	if err != nil {
		t.Fatal(err)
	}
	err = f.srv.Revoke(context.Background(), oauth.RevokeRequest{
		Tenant: engine.DefaultTenant, Endpoints: oauth.Endpoints{Issuer: asIssuer}, Credentials: basic(id, secret), Token: resp.AccessToken,
	})
	if err != nil {
		t.Fatal(err)
	}
	events, _, err := f.store.AuditEvents(context.Background(), engine.DefaultTenant, "", 50)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]*engine.AuditEvent{}
	for _, e := range events {
		seen[e.Type] = e
		if strings.Contains(e.Detail, "not-the-secret") || strings.Contains(e.Detail, secret) || strings.Contains(e.TokenID, resp.AccessToken) {
			t.Errorf("audit event %s holds a secret: %+v", e.Type, e)
		}
	}
	if e := seen[oauth.AuditAuthFailed]; e == nil || e.ClientID != id || e.Error != engine.CodeInvalidClient {
		t.Errorf("authentication failure event: %+v", e)
	}
	if e := seen[oauth.AuditTokenRevoked]; e == nil || e.ClientID != id || e.TokenID == "" {
		t.Errorf("revocation event: %+v", e)
	}
}

// TestBasicSecretWithSpecialCharacters checks that a secret is compared
// as sent, whatever its characters (the HTTP layer form-decodes it).
func TestBasicSecretWithSpecialCharacters(t *testing.T) {
	f := newFixture(t, engine.Settings{})
	id, secret := f.register("")
	odd := secret + " +:%"
	if _, err := f.token(basic(id, odd)); err == nil {
		t.Error("a secret with extra characters was accepted")
	}
	if _, err := f.token(basic(id, base64.StdEncoding.EncodeToString([]byte(secret)))); err == nil {
		t.Error("an encoded secret was accepted")
	}
}

func TestClientLockout(t *testing.T) {
	f := newFixture(t, engine.Settings{ClientLockout: engine.Lockout{Rate: engine.Rate{Events: 3, Per: time.Minute}}})
	id, secret := f.register("")
	otherID, otherSecret := f.register("")
	for range 3 {
		_, err := f.token(basic(id, "wrong"))
		wantCode(t, err, engine.CodeInvalidClient)
	}
	_, err := f.token(basic(id, "wrong"))
	wantCode(t, err, engine.CodeTooManyRequests)
	if e := engine.AsError(err); e.RetryAfter != 20*time.Second {
		t.Errorf("RetryAfter %v, want 20s (one failure's refill)", e.RetryAfter)
	}
	// Locked out: the right secret is refused too, and no token is issued.
	_, err = f.token(basic(id, secret))
	wantCode(t, err, engine.CodeTooManyRequests)
	// Other clients are not affected.
	if _, err := f.token(basic(otherID, otherSecret)); err != nil {
		t.Errorf("another client: %v", err)
	}
	f.clock.Advance(20 * time.Second)
	if _, err := f.token(basic(id, secret)); err != nil {
		t.Errorf("after the lockout: %v", err)
	}
}

func TestClientLockoutOff(t *testing.T) {
	f := newFixture(t, engine.Settings{ClientLockout: engine.Lockout{Off: true}})
	id, secret := f.register("")
	for range 30 {
		_, err := f.token(basic(id, "wrong"))
		wantCode(t, err, engine.CodeInvalidClient)
	}
	if _, err := f.token(basic(id, secret)); err != nil {
		t.Errorf("with the lockout off: %v", err)
	}
}

func TestTokenRateLimit(t *testing.T) {
	f := newFixture(t, engine.Settings{TokenRateLimit: engine.RateLimit{PerTenant: engine.Rate{Events: 2, Per: time.Minute}}})
	id, secret := f.register("")
	for range 2 {
		if _, err := f.token(basic(id, secret)); err != nil {
			t.Fatal(err)
		}
	}
	_, err := f.token(basic(id, secret))
	wantCode(t, err, engine.CodeTooManyRequests)
	if engine.AsError(err).RetryAfter <= 0 {
		t.Error("no RetryAfter")
	}
	f.clock.Advance(30 * time.Second)
	if _, err := f.token(basic(id, secret)); err != nil {
		t.Errorf("after the refill: %v", err)
	}
}

func TestOutcomesObserved(t *testing.T) {
	f := newFixture(t, engine.Settings{})
	id, secret := f.register("")
	resp, err := f.token(basic(id, secret))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.token(basic(id, "wrong"))
	f.active(basic(id, secret), resp.AccessToken)
	want := []oauth.Outcome{
		{Tenant: engine.DefaultTenant, Endpoint: oauth.EndpointToken, Format: engine.AccessTokenOpaque},
		{Tenant: engine.DefaultTenant, Endpoint: oauth.EndpointToken, Code: engine.CodeInvalidClient},
		{Tenant: engine.DefaultTenant, Endpoint: oauth.EndpointIntrospect},
	}
	if got := f.outcomes.All(); !slices.Equal(got, want) {
		t.Errorf("outcomes %+v, want %+v", got, want)
	}
}

// TestAuthMethodsNeedTheirVerifiers checks that a server advertises only
// the methods it was given the means to verify: the fixture has no
// assertion verifier, no client CAs and no certificate key matcher.
func TestAuthMethodsNeedTheirVerifiers(t *testing.T) {
	f := newFixture(t, engine.Settings{})
	all := []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth", "none"}
	if got := f.srv.AuthMethods(all); !slices.Equal(got, []string{"client_secret_basic", "client_secret_post", "none"}) {
		t.Errorf("AuthMethods = %v", got)
	}
}
