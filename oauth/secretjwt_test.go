package oauth_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/seal"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/jose/josetest"
	"github.com/registrar-dev/registrar/memstore"
	"github.com/registrar-dev/registrar/oauth"
)

// secretWorld is an authorization server whose root tenant keeps
// client_secret_jwt secrets sealed, and whose tenant "hashed" does not.
type secretWorld struct {
	t     *testing.T
	clock *testkit.Clock
	store *memstore.Store
	reg   *engine.Registrar
	srv   *oauth.Server
	// kek is the key-encryption key entry of the first replica.
	kek string
}

// kekText returns a key-encryption key entry with a random key.
func kekText(t *testing.T, kid string) string {
	t.Helper()
	b := make([]byte, seal.KeySize)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return kid + ":" + base64.StdEncoding.EncodeToString(b)
}

func newSecretWorld(t *testing.T, kek string) *secretWorld {
	t.Helper()
	w := &secretWorld{t: t, clock: testkit.NewClock(epoch), kek: kek}
	w.store = memstore.New(memstore.Config{Now: w.clock.Now})
	w.reg, w.srv = w.replica(kek)
	return w
}

// replica builds a Registrar and a Server over the world's store with the
// key-encryption keys given ("" for none), as a replica would.
func (w *secretWorld) replica(kek string) (*engine.Registrar, *oauth.Server) {
	w.t.Helper()
	cfg := engine.Config{
		Store: w.store, Keys: jose.KeySetChecker{}, Now: w.clock.Now, Logger: testkit.DiscardLogger(),
		Tenants: map[string]engine.Settings{
			root:     {InitialAccessToken: engine.TokenNone, ClientSecretStorage: engine.SecretEncrypted, RegistrationValidity: engine.Duration(24 * time.Hour)},
			"hashed": {InitialAccessToken: engine.TokenNone},
		},
	}
	var keys *seal.Keys
	if kek != "" {
		var err error
		if keys, err = seal.Parse(kek); err != nil {
			w.t.Fatal(err)
		}
		cfg.Secrets = keys
	} else {
		cfg.Tenants = map[string]engine.Settings{root: {InitialAccessToken: engine.TokenNone}}
	}
	reg, err := engine.New(cfg)
	if err != nil {
		w.t.Fatal(err)
	}
	assertions, _ := jose.NewAssertions(jose.AssertionsConfig{})
	srv, err := oauth.New(oauth.Config{
		Registrar: reg, Clients: w.store, Store: w.store, KeyEncryption: keys, Assertions: assertions,
		Now: w.clock.Now, Logger: testkit.DiscardLogger(),
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return reg, srv
}

// register registers a client_secret_jwt client with the members given
// and returns its ID and secret.
func (w *secretWorld) register(members map[string]any) (string, string) {
	w.t.Helper()
	info := registerClientCredentials(w.t, w.reg, root, "client_secret_jwt", members)
	return info.Client.ID, info.Secret
}

// claims are valid assertion claims of client id, with changes (nil
// removes).
func (w *secretWorld) claims(id string, changes map[string]any) map[string]any {
	return assertionClaims(id, tokenEndpoint, w.clock.Now(), changes)
}

// token asks srv for a token with a client assertion.
func (w *secretWorld) token(srv *oauth.Server, assertion string) (*oauth.TokenResponse, error) {
	return srv.Token(context.Background(), oauth.TokenRequest{
		Tenant: root, Endpoints: oauth.Endpoints{Issuer: issuer, Endpoint: tokenEndpoint}, GrantType: oauth.GrantClientCredentials,
		Credentials: oauth.Credentials{AssertionType: assertionType, Assertion: assertion},
	})
}

// stored returns a client as the store has it.
func (w *secretWorld) stored(id string) *engine.Client {
	w.t.Helper()
	c, err := w.store.Client(context.Background(), root, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// signSecret MACs claims with a client secret under alg, through the
// client-side signer of registrar token.
func signSecret(t *testing.T, secret, alg string, claims map[string]any) string {
	t.Helper()
	exp, _ := claims["exp"].(int64)
	aud, _ := claims["aud"].(string)
	s, err := jose.SignSecretAssertion([]byte(secret), alg, jose.AssertionClaims{
		Issuer: claims["iss"].(string), Subject: claims["sub"].(string), Audience: aud,
		ID: claims["jti"].(string), Expiry: time.Unix(exp, 0), IssuedAt: time.Unix(exp-60, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestClientSecretJWT(t *testing.T) {
	w := newSecretWorld(t, kekText(t, "k1"))
	id, secret := w.register(nil)
	// An HMAC made independently of the server's code (crypto/hmac).
	for _, aud := range []any{tokenEndpoint, issuer, []string{"https://other.example", issuer}} {
		res, err := w.token(w.srv, josetest.SignHS256(t, []byte(secret), w.claims(id, map[string]any{"aud": aud})))
		if err != nil || res.AccessToken == "" {
			t.Fatalf("aud %v: %v", aud, err)
		}
	}
	// Every HMAC alg, through the client-side signer.
	for _, alg := range engine.SecretJWTAlgs {
		if _, err := w.token(w.srv, signSecret(t, secret, alg, w.claims(id, nil))); err != nil {
			t.Errorf("%s: %v", alg, err)
		}
	}
	// The registered alg is enforced.
	id512, secret512 := w.register(map[string]any{"token_endpoint_auth_signing_alg": "HS512"})
	if _, err := w.token(w.srv, signSecret(t, secret512, "HS512", w.claims(id512, nil))); err != nil {
		t.Errorf("registered HS512: %v", err)
	}
	_, err := w.token(w.srv, josetest.SignHS256(t, []byte(secret512), w.claims(id512, nil)))
	wantRefused(t, err, "not allowed")
}

func TestClientSecretJWTRefusals(t *testing.T) {
	w := newSecretWorld(t, kekText(t, "k1"))
	id, secret := w.register(nil)
	otherID, otherSecret := w.register(nil)
	now := w.clock.Now().Unix()
	for _, tc := range []struct {
		name, assertion, want string
	}{
		{"wrong secret", josetest.SignHS256(t, []byte(secret+"x"), w.claims(id, nil)), "signature does not verify"},
		{"another client's secret", josetest.SignHS256(t, []byte(otherSecret), w.claims(id, nil)), "signature does not verify"},
		{"alg none", josetest.Unsigned(t, map[string]any{"alg": "none"}, w.claims(id, nil), nil), "none"},
		{"RS256 presented for a secret client", key("rsa").Sign(t, nil, w.claims(id, nil)), "refused for client_secret_jwt"},
		{"ES256 presented for a secret client", key("ec").Sign(t, nil, w.claims(id, nil)), "refused for client_secret_jwt"},
		{"wrong aud", josetest.SignHS256(t, []byte(secret), w.claims(id, map[string]any{"aud": "https://other.example/token"})), "aud"},
		{"no exp", josetest.SignHS256(t, []byte(secret), w.claims(id, map[string]any{"exp": nil})), "no exp"},
		{"expired", josetest.SignHS256(t, []byte(secret), w.claims(id, map[string]any{"exp": now - 120})), "expired"},
		{"exp too far", josetest.SignHS256(t, []byte(secret), w.claims(id, map[string]any{"exp": now + 3600})), "client_assertion_max_lifetime"},
		{"no jti", josetest.SignHS256(t, []byte(secret), w.claims(id, map[string]any{"jti": nil})), "jti"},
		{"iss is not sub", josetest.SignHS256(t, []byte(secret), w.claims(id, map[string]any{"iss": otherID})), "iss"},
		{"jku header", josetest.Unsigned(t, map[string]any{"alg": "HS256", "jku": "https://evil.example/jwks"}, w.claims(id, nil), []byte("x")), "jku"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.token(w.srv, tc.assertion)
			wantRefused(t, err, tc.want)
		})
	}

	t.Run("replayed jti", func(t *testing.T) {
		a := josetest.SignHS256(t, []byte(secret), w.claims(id, nil))
		if _, err := w.token(w.srv, a); err != nil {
			t.Fatal(err)
		}
		// On another replica too: the mark is in the shared store.
		_, other := w.replica(kekText(t, "k9") + "\n" + w.kek)
		_, err := w.token(other, a)
		wantRefused(t, err, "replayed")
	})

	t.Run("the secret presented as client_secret_post", func(t *testing.T) {
		_, err := w.srv.Token(context.Background(), oauth.TokenRequest{
			Tenant: root, Endpoints: oauth.Endpoints{Issuer: issuer, Endpoint: tokenEndpoint}, GrantType: oauth.GrantClientCredentials,
			Credentials: oauth.Credentials{ClientID: id, ClientSecret: secret},
		})
		wantRefused(t, err, "presented another method")
	})

	t.Run("expired secret", func(t *testing.T) {
		id, secret := w.register(nil)
		// The store still has the client (Redis drops a key a little after
		// its time), but the server's clock is past the secret's expiry.
		later := w.clock.Now().Add(24*time.Hour + time.Second)
		keys, _ := seal.Parse(w.kek)
		srv, err := oauth.New(oauth.Config{
			Registrar: w.reg, Clients: w.store, Store: w.store, KeyEncryption: keys, Assertions: mustAssertions(t),
			Now: func() time.Time { return later }, Logger: testkit.DiscardLogger(),
		})
		if err != nil {
			t.Fatal(err)
		}
		claims := w.claims(id, map[string]any{"iat": later.Unix(), "exp": later.Unix() + 60})
		_, err = w.token(srv, josetest.SignHS256(t, []byte(secret), claims))
		wantRefused(t, err, "has expired")
	})
}

func TestClientSecretJWTSealedSecretBound(t *testing.T) {
	w := newSecretWorld(t, kekText(t, "k1"))
	a, secretA := w.register(nil)
	b, _ := w.register(nil)
	// Copy a's sealed secret onto b: it is bound to a, so b cannot use it.
	sealed := w.stored(a).SecretSealed
	if _, err := w.store.UpdateClient(context.Background(), root, b, func(c *engine.Client) error { c.SecretSealed = sealed; return nil }); err != nil {
		t.Fatal(err)
	}
	_, err := w.token(w.srv, josetest.SignHS256(t, []byte(secretA), w.claims(b, nil)))
	wantRefused(t, err, "sealed client secret")
}

func TestClientSecretJWTKeyRotation(t *testing.T) {
	old, next := kekText(t, "old"), kekText(t, "next")
	w := newSecretWorld(t, old)
	id, secret := w.register(nil)
	if kid, _ := seal.KeyID(w.stored(id).SecretSealed); kid != "old" {
		t.Fatalf("sealed with %q", kid)
	}
	// A replica with only the new key cannot open it...
	_, onlyNext := w.replica(next)
	_, err := w.token(onlyNext, josetest.SignHS256(t, []byte(secret), w.claims(id, nil)))
	wantRefused(t, err, "not configured")
	// ...one that seals with the new key and keeps the old one can, and
	// seals the secret again under the new key on the way.
	_, rotated := w.replica(next + "\n" + old)
	if _, err := w.token(rotated, josetest.SignHS256(t, []byte(secret), w.claims(id, nil))); err != nil {
		t.Fatalf("during the rotation: %v", err)
	}
	if kid, _ := seal.KeyID(w.stored(id).SecretSealed); kid != "next" {
		t.Fatalf("after use, sealed with %q, want next", kid)
	}
	// Now the old key can go.
	if _, err := w.token(onlyNext, josetest.SignHS256(t, []byte(secret), w.claims(id, nil))); err != nil {
		t.Fatalf("after the rotation, with the new key alone: %v", err)
	}
}

func TestClientSecretJWTAdvertised(t *testing.T) {
	w := newSecretWorld(t, kekText(t, "k1"))
	caps, err := w.reg.Capabilities(root)
	if err != nil {
		t.Fatal(err)
	}
	if got := w.srv.AuthMethods(caps.TokenEndpointAuthMethodsSupported); !slices.Contains(got, oauth.MethodSecretJWT) {
		t.Errorf("with a key-encryption key: %v", got)
	}
	// Without the keys, or without assertions, it is not verified, so not
	// advertised.
	noKEK, err := oauth.New(oauth.Config{Registrar: w.reg, Clients: w.store, Store: w.store, Assertions: mustAssertions(t)})
	if err != nil {
		t.Fatal(err)
	}
	if got := noKEK.AuthMethods(caps.TokenEndpointAuthMethodsSupported); slices.Contains(got, oauth.MethodSecretJWT) {
		t.Errorf("without a key-encryption key: %v", got)
	}
	keys, _ := seal.Parse(kekText(t, "k1"))
	noJOSE, err := oauth.New(oauth.Config{Registrar: w.reg, Clients: w.store, Store: w.store, KeyEncryption: keys})
	if err != nil {
		t.Fatal(err)
	}
	if got := noJOSE.AuthMethods(caps.TokenEndpointAuthMethodsSupported); slices.Contains(got, oauth.MethodSecretJWT) {
		t.Errorf("without assertions: %v", got)
	}
	hashed, _ := w.reg.Capabilities("hashed")
	if got := w.srv.AuthMethods(hashed.TokenEndpointAuthMethodsSupported); slices.Contains(got, oauth.MethodSecretJWT) || strings.Contains(strings.Join(hashed.TokenEndpointAuthSigningAlgs, " "), "HS") {
		t.Errorf("a hashed tenant: %v %v", got, hashed.TokenEndpointAuthSigningAlgs)
	}
}

func mustAssertions(t *testing.T) *jose.Assertions {
	t.Helper()
	a, err := jose.NewAssertions(jose.AssertionsConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}
