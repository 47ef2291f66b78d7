package oauth_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/idn"
	"github.com/registrar-dev/registrar/internal/seal"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/memstore"
	"github.com/registrar-dev/registrar/oauth"
)

const issuerBase = "https://registrar.example/tenants/"

// clock is a settable clock shared by the replicas and the store.
type clock struct{ t atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.t.Store(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) now() time.Time          { return time.Unix(0, c.t.Load()).UTC() }
func (c *clock) advance(d time.Duration) { c.t.Add(int64(d)) }

// jwtTenants: two tenants with JWT access tokens, one with opaque ones.
func jwtTenants() map[string]engine.Settings {
	return map[string]engine.Settings{
		"jwt":    {InitialAccessToken: engine.TokenNone, AccessTokenFormat: engine.AccessTokenJWT, DefaultAudience: "https://api.example.com/"},
		"other":  {InitialAccessToken: engine.TokenNone, AccessTokenFormat: engine.AccessTokenJWT},
		"opaque": {InitialAccessToken: engine.TokenNone},
		"es":     {InitialAccessToken: engine.TokenNone, AccessTokenFormat: engine.AccessTokenJWT, AccessTokenSigningAlg: "ES256"},
	}
}

// replica is one Registrar process: its own engine and oauth.Server over
// the shared store.
type replica struct {
	reg *engine.Registrar
	srv *oauth.Server
}

func testKEK(t testing.TB, fill byte) *seal.Keys {
	t.Helper()
	k, err := seal.Parse("k1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{fill}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newReplica(t testing.TB, store *memstore.Store, c *clock, kek *seal.Keys, seed byte) *replica {
	t.Helper()
	log := testkit.DiscardLogger()
	reg, err := engine.New(engine.Config{
		Store: store, Keys: jose.KeySetChecker{}, Hosts: idn.Normalizer{}, Tenants: jwtTenants(),
		Now: c.now, Rand: testkit.Rand(seed), Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := oauth.New(oauth.Config{
		Registrar: reg, Clients: store, Store: store, AuditLog: store, KeyEncryption: kek,
		Now: c.now, Rand: testkit.Rand(seed + 100), Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &replica{reg: reg, srv: srv}
}

// cluster is two replicas over one store.
type cluster struct {
	store *memstore.Store
	clock *clock
	a, b  *replica
}

func newCluster(t testing.TB) *cluster {
	c := newClock()
	store := memstore.New(memstore.Config{Now: c.now})
	kek := testKEK(t, 1)
	return &cluster{store: store, clock: c, a: newReplica(t, store, c, kek, 1), b: newReplica(t, store, c, kek, 2)}
}

// client registers a client_credentials client and returns its
// credentials for client_secret_basic.
func (r *replica) client(t testing.TB, tenant string) oauth.Credentials {
	t.Helper()
	info, err := r.reg.Register(context.Background(), engine.RegisterRequest{Tenant: tenant, Body: []byte(
		`{"grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],"token_endpoint_auth_method":"client_secret_basic","scope":"read write"}`)})
	if err != nil {
		t.Fatal(err)
	}
	return oauth.Credentials{Basic: true, BasicID: info.Client.ID, BasicSecret: info.Secret}
}

func endpoints(tenant, ep string) oauth.Endpoints {
	return oauth.Endpoints{Issuer: issuerBase + tenant, Endpoint: issuerBase + tenant + "/" + ep}
}

func (r *replica) token(t testing.TB, tenant string, cr oauth.Credentials) string {
	t.Helper()
	resp, err := r.tokenErr(tenant, cr)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	return resp.AccessToken
}

func (r *replica) tokenErr(tenant string, cr oauth.Credentials) (*oauth.TokenResponse, error) {
	return r.srv.Token(context.Background(), oauth.TokenRequest{
		Tenant: tenant, Endpoints: endpoints(tenant, "token"), Credentials: cr, GrantType: oauth.GrantClientCredentials,
	})
}

func (r *replica) introspect(t testing.TB, tenant string, cr oauth.Credentials, token string) *oauth.Introspection {
	t.Helper()
	in, err := r.srv.Introspect(context.Background(), oauth.IntrospectRequest{Tenant: tenant, Endpoints: endpoints(tenant, "introspect"), Credentials: cr, Token: token})
	if err != nil {
		t.Fatalf("Introspect: %v", err)
	}
	return in
}

// parts decodes a JWT's header and claims.
func parts(t testing.TB, token string) (header, claims map[string]any) {
	t.Helper()
	p := strings.Split(token, ".")
	if len(p) != 3 {
		t.Fatalf("%q is not a compact JWS", token)
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(p[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatal(err)
		}
	}
	return header, claims
}

// jwks decodes a tenant's published set into RSA keys by kid.
func (r *replica) jwks(t testing.TB, tenant string) map[string]*rsa.PublicKey {
	t.Helper()
	b, err := r.srv.JWKS(context.Background(), tenant)
	if err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	var set struct {
		Keys []struct{ Kty, Kid, Alg, Use, N, E, D string } `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil || set.Keys == nil {
		t.Fatalf("JWKS %s: %v", b, err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || k.Alg != "RS256" || k.Use != "sig" || k.D != "" {
			t.Errorf("published key %+v", k)
		}
		n, _ := base64.RawURLEncoding.DecodeString(k.N)
		e, _ := base64.RawURLEncoding.DecodeString(k.E)
		keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	return keys
}

// verify checks a JWT's RS256 signature with the standard library against
// a published key, and returns its kid.
func verify(t testing.TB, token string, keys map[string]*rsa.PublicKey) string {
	t.Helper()
	h, _ := parts(t, token)
	kid, _ := h["kid"].(string)
	key, ok := keys[kid]
	if !ok {
		t.Fatalf("kid %q is not published (%d keys)", kid, len(keys))
	}
	i := strings.LastIndex(token, ".")
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(token[:i]))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("signature: %v", err)
	}
	return kid
}

func TestJWTAccessToken(t *testing.T) {
	c := newCluster(t)
	if keys := c.a.jwks(t, "jwt"); len(keys) != 0 {
		t.Fatalf("a tenant that never signed publishes %d keys", len(keys))
	}
	cr := c.a.client(t, "jwt")
	resp, err := c.a.tokenErr("jwt", cr)
	if err != nil {
		t.Fatal(err)
	}
	if resp.TokenType != "Bearer" || resp.ExpiresIn != 3600 || resp.Scope != "read write" {
		t.Errorf("token response %+v", resp)
	}
	at := resp.AccessToken
	h, claims := parts(t, at)
	kid := verify(t, at, c.a.jwks(t, "jwt"))
	if want := map[string]any{"alg": "RS256", "typ": "at+jwt", "kid": kid}; !jsonEqual(h, want) {
		t.Errorf("header %v, want %v", h, want)
	}
	iat := c.clock.now().Unix()
	jti, _ := claims["jti"].(string)
	if len(jti) < 16 {
		t.Errorf("jti %q", jti)
	}
	want := map[string]any{
		"iss": issuerBase + "jwt", "sub": cr.BasicID, "aud": "https://api.example.com/", "exp": iat + 3600, "iat": iat,
		"jti": jti, "client_id": cr.BasicID, "scope": "read write",
	}
	if !jsonEqual(claims, want) {
		t.Errorf("claims %v\nwant %v", claims, want)
	}
	// Both replicas publish the key, and the other one verifies the token.
	verify(t, at, c.b.jwks(t, "jwt"))
	in := c.b.introspect(t, "jwt", cr, at)
	if !in.Active || in.Token.ID != jti || in.Token.Scope != "read write" || in.Token.Subject != cr.BasicID {
		t.Fatalf("introspection %+v", in)
	}
	b, _ := json.Marshal(in)
	var got map[string]any
	json.Unmarshal(b, &got)
	wantIn := map[string]any{
		"active": true, "client_id": cr.BasicID, "scope": "read write", "token_type": "Bearer", "exp": iat + 3600, "iat": iat,
		"sub": cr.BasicID, "aud": []any{"https://api.example.com/"}, "iss": issuerBase + "jwt", "jti": jti,
	}
	if !jsonEqual(got, wantIn) {
		t.Errorf("introspection %s", b)
	}
	// No token record is written for a JWT.
	if _, err := c.store.Token(context.Background(), "jwt", engine.HashToken(at)); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("a JWT has a token record: %v", err)
	}
}

// jsonEqual compares values as JSON.
func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	var u, v any
	json.Unmarshal(x, &u)
	json.Unmarshal(y, &v)
	x, _ = json.Marshal(u)
	y, _ = json.Marshal(v)
	return bytes.Equal(x, y)
}

func TestJWTRevokedOnEveryReplica(t *testing.T) {
	c := newCluster(t)
	cr := c.a.client(t, "jwt")
	at := c.a.token(t, "jwt", cr)
	other := c.a.client(t, "jwt")
	// Another client may not revoke it.
	err := c.b.srv.Revoke(context.Background(), oauth.RevokeRequest{Tenant: "jwt", Endpoints: endpoints("jwt", "revoke"), Credentials: other, Token: at})
	if e, ok := errors.AsType[*engine.Error](err); !ok || e.Code != engine.CodeUnauthorizedClient {
		t.Fatalf("revocation by another client: %v", err)
	}
	if !c.a.introspect(t, "jwt", cr, at).Active {
		t.Fatal("inactive after a refused revocation")
	}
	if err := c.b.srv.Revoke(context.Background(), oauth.RevokeRequest{Tenant: "jwt", Endpoints: endpoints("jwt", "revoke"), Credentials: cr, Token: at}); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if c.a.introspect(t, "jwt", cr, at).Active || c.b.introspect(t, "jwt", cr, at).Active {
		t.Error("a revoked JWT is active")
	}
	// Revoking again is a success (RFC 7009 §2.2).
	if err := c.a.srv.Revoke(context.Background(), oauth.RevokeRequest{Tenant: "jwt", Endpoints: endpoints("jwt", "revoke"), Credentials: cr, Token: at}); err != nil {
		t.Errorf("second Revoke: %v", err)
	}
}

func TestJWTInactive(t *testing.T) {
	c := newCluster(t)
	cr := c.a.client(t, "jwt")
	at := c.a.token(t, "jwt", cr)
	// Another tenant's key: inactive there, even to its resource servers.
	otherCr := c.a.client(t, "other")
	c.a.token(t, "other", otherCr) // the other tenant has keys too
	if c.a.introspect(t, "other", otherCr, at).Active {
		t.Error("a JWT of tenant jwt is active at tenant other")
	}
	// A tampered token.
	h, _, _ := strings.Cut(at, ".")
	forged := h + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"client_id":"`+cr.BasicID+`","jti":"x","exp":9999999999}`)) + at[strings.LastIndex(at, "."):]
	if c.a.introspect(t, "jwt", cr, forged).Active {
		t.Error("a JWT with altered claims is active")
	}
	// Expired.
	c.clock.advance(time.Hour)
	if c.a.introspect(t, "jwt", cr, at).Active {
		t.Error("an expired JWT is active")
	}
	// Deleting the client ends its tokens.
	at = c.a.token(t, "jwt", cr)
	if !c.a.introspect(t, "jwt", cr, at).Active {
		t.Fatal("a fresh JWT is inactive")
	}
	rs := c.a.client(t, "jwt")
	if err := c.a.reg.DeleteClient(context.Background(), "jwt", cr.BasicID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.a.srv.Introspect(context.Background(), oauth.IntrospectRequest{Tenant: "jwt", Endpoints: endpoints("jwt", "introspect"), Credentials: rs, Token: at}); err != nil {
		t.Fatal(err)
	}
	if in := c.b.introspect(t, "jwt", rs, at); in.Active {
		t.Error("a JWT of a deleted client is active")
	}
}

func TestJWTReplicasShareKeys(t *testing.T) {
	c := newCluster(t)
	cr := c.a.client(t, "jwt")
	// Both replicas need the first key at once: one ring is created, and
	// both sign with its active key.
	var wg sync.WaitGroup
	tokens := make([]string, 8)
	for i := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := c.a
			if i%2 == 1 {
				r = c.b
			}
			resp, err := r.tokenErr("jwt", cr)
			if err != nil {
				t.Errorf("Token: %v", err)
				return
			}
			tokens[i] = resp.AccessToken
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	ring, err := c.store.KeyRing(context.Background(), "jwt")
	if err != nil {
		t.Fatal(err)
	}
	if ring.Revision != 1 || len(ring.Keys) != 2 {
		t.Fatalf("ring revision %d with %d keys, want the first writer's ring", ring.Revision, len(ring.Keys))
	}
	for _, at := range tokens {
		if kid := verify(t, at, c.b.jwks(t, "jwt")); kid != ring.Keys[0].ID {
			t.Errorf("a token signed with %s, want the active key %s", kid, ring.Keys[0].ID)
		}
	}
}

func TestJWTRotation(t *testing.T) {
	c := newCluster(t)
	ctx := context.Background()
	cr := c.a.client(t, "jwt")
	old := c.a.token(t, "jwt", cr)
	keys, err := c.a.srv.SigningKeys(ctx, "jwt")
	if err != nil || len(keys) != 2 || keys[0].State != oauth.KeyNext || keys[1].State != oauth.KeyActive || keys[0].KEK != "k1" {
		t.Fatalf("SigningKeys %+v, %v", keys, err)
	}
	next, active := keys[0].ID, keys[1].ID
	// The next key is published before it signs.
	if _, ok := c.b.jwks(t, "jwt")[next]; !ok {
		t.Fatal("the next key is not published")
	}
	// Too soon: resource servers may not have it yet.
	_, err = c.a.srv.RotateSigningKeys(ctx, "jwt")
	if e, ok := errors.AsType[*engine.Error](err); !ok || e.Code != engine.CodeConflict {
		t.Fatalf("rotation before the publication lead: %v", err)
	}
	c.clock.advance(oauth.DefaultKeyPublicationLead)
	// Replica b reads the ring now; it sees a's rotation within its TTL.
	if kid := verify(t, c.b.token(t, "jwt", cr), c.b.jwks(t, "jwt")); kid != active {
		t.Fatalf("signed by %s before the rotation", kid)
	}
	after, err := c.a.srv.RotateSigningKeys(ctx, "jwt")
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]oauth.KeyState{}
	for _, k := range after {
		states[k.ID] = k.State
	}
	if len(after) != 3 || states[active] != oauth.KeyRetired || states[next] != oauth.KeyActive || after[0].State != oauth.KeyNext {
		t.Fatalf("after rotation: %+v", after)
	}
	if want := c.clock.now().Add(engine.MaxAccessTokenLifetime); after[2].RetireAt.Before(want) {
		t.Errorf("the retired key is published until %s, before every token it signed expires (%s)", after[2].RetireAt, want)
	}
	// a signs with the new active key at once; b within its cache TTL.
	if kid := verify(t, c.a.token(t, "jwt", cr), c.a.jwks(t, "jwt")); kid != next {
		t.Errorf("a signs with %s after the rotation, want %s", kid, next)
	}
	c.clock.advance(oauth.DefaultKeyCacheTTL)
	newer := c.b.token(t, "jwt", cr)
	if kid := verify(t, newer, c.b.jwks(t, "jwt")); kid != next {
		t.Errorf("b signs with %s one cache TTL after the rotation, want %s", kid, next)
	}
	// The token the retired key signed still verifies and is active.
	verify(t, old, c.b.jwks(t, "jwt"))
	if !c.b.introspect(t, "jwt", cr, old).Active {
		t.Error("a token of the retired key is inactive")
	}
	// Once the retired key's tokens have expired, it is unpublished.
	c.clock.advance(after[2].RetireAt.Sub(c.clock.now()))
	if _, ok := c.b.jwks(t, "jwt")[active]; ok {
		t.Error("the retired key is published after its time")
	}
	if !c.b.introspect(t, "jwt", cr, c.b.token(t, "jwt", cr)).Active {
		t.Error("a token of the current key is inactive")
	}
}

// The private keys are sealed: the stored ring holds neither the key nor
// any encoding of it, and a copy under another tenant's name does not open.
func TestJWTPrivateKeySealed(t *testing.T) {
	c := newCluster(t)
	c.a.token(t, "jwt", c.a.client(t, "jwt"))
	ring, err := c.store.KeyRing(context.Background(), "jwt")
	if err != nil {
		t.Fatal(err)
	}
	stored, err := json.Marshal(ring)
	if err != nil {
		t.Fatal(err)
	}
	kek := testKEK(t, 1)
	for _, k := range ring.Keys {
		if !strings.HasPrefix(k.Private, "seal1.k1.") {
			t.Errorf("key %s: private part %.20q is not sealed", k.ID, k.Private)
		}
		der, err := kek.Open(k.Private, []byte("tenant signing key\x00jwt\x00"+k.ID))
		if err != nil {
			t.Fatalf("the KEK does not open key %s: %v", k.ID, err)
		}
		for _, enc := range []string{string(der), base64.StdEncoding.EncodeToString(der), base64.RawURLEncoding.EncodeToString(der)} {
			if bytes.Contains(stored, []byte(enc[:64])) {
				t.Errorf("the stored ring contains key %s's private key", k.ID)
			}
		}
		if _, err := kek.Open(k.Private, []byte("tenant signing key\x00other\x00"+k.ID)); err == nil {
			t.Error("a sealed key opens under another tenant's name")
		}
		if bytes.Contains(k.Public, []byte(`"d"`)) {
			t.Errorf("the public JWK of %s has a private member", k.ID)
		}
	}
}

// A replica with the wrong key-encryption key, or none, cannot sign, and
// says why; it still verifies with the public keys.
func TestJWTWrongKEK(t *testing.T) {
	c := newCluster(t)
	cr := c.a.client(t, "jwt")
	at := c.a.token(t, "jwt", cr)
	for name, kek := range map[string]*seal.Keys{"wrong": testKEK(t, 9), "none": nil} {
		r := newReplica(t, c.store, c.clock, kek, 3)
		_, err := r.tokenErr("jwt", cr)
		e, ok := errors.AsType[*engine.Error](err)
		if !ok || e.Code != engine.CodeServerError {
			t.Fatalf("%s KEK: Token: %v", name, err)
		}
		if !strings.Contains(e.Description, "key-encryption key") || !strings.Contains(e.Error(), "REGISTRAR_KEY_ENCRYPTION_KEY") {
			t.Errorf("%s KEK: the error does not say what is wrong: %q / %v", name, e.Description, e)
		}
		if !r.introspect(t, "jwt", cr, at).Active {
			t.Errorf("%s KEK: the replica does not verify a good token", name)
		}
	}
	// Without a KEK, a tenant's first ring cannot be made either.
	r := newReplica(t, c.store, c.clock, nil, 4)
	if _, err := r.tokenErr("other", r.client(t, "other")); err == nil || !strings.Contains(err.Error(), "--key-encryption-key-file") {
		t.Errorf("first signing without a KEK: %v", err)
	}
	if _, err := c.store.KeyRing(context.Background(), "other"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("a ring was stored without a KEK: %v", err)
	}
}

func TestJWKSOfOpaqueTenant(t *testing.T) {
	c := newCluster(t)
	cr := c.a.client(t, "opaque")
	at := c.a.token(t, "opaque", cr)
	if strings.Count(at, ".") != 0 {
		t.Errorf("opaque token %q", at)
	}
	if keys := c.a.jwks(t, "opaque"); len(keys) != 0 {
		t.Errorf("an opaque tenant publishes %d keys", len(keys))
	}
	if _, err := c.a.srv.JWKS(context.Background(), "missing"); err == nil {
		t.Error("JWKS of an unknown tenant")
	}
}

// The hook's extra claims and a certificate binding are in the token, and
// introspection gives them back.
func TestJWTExtraClaimsAndCnf(t *testing.T) {
	c := newCluster(t)
	cr := c.a.client(t, "jwt")
	now := c.clock.now()
	client, err := c.store.Client(context.Background(), "jwt", cr.BasicID)
	if err != nil {
		t.Fatal(err)
	}
	at, err := c.a.srv.IssueJWT(context.Background(), issuerBase+"jwt", &oauth.Token{
		Tenant: "jwt", ID: "jti-1", ClientID: cr.BasicID, ClientIssuedAt: client.IssuedAt, Subject: cr.BasicID,
		Audience: []string{"https://a.example/", "https://b.example/"}, IssuedAt: now, ExpiresAt: now.Add(time.Minute),
		CertThumbprint: "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2",
		Claims:         map[string]json.RawMessage{"tier": json.RawMessage(`"gold"`), "limits": json.RawMessage(`{"rps":5}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	verify(t, at, c.a.jwks(t, "jwt"))
	_, claims := parts(t, at)
	want := map[string]any{
		"iss": issuerBase + "jwt", "sub": cr.BasicID, "aud": []string{"https://a.example/", "https://b.example/"},
		"exp": now.Unix() + 60, "iat": now.Unix(), "jti": "jti-1", "client_id": cr.BasicID,
		"cnf": map[string]string{"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}, "tier": "gold", "limits": map[string]int{"rps": 5},
	}
	if !jsonEqual(claims, want) {
		t.Errorf("claims %v\nwant %v", claims, want)
	}
	in := c.b.introspect(t, "jwt", cr, at)
	if !in.Active || in.Token.CertThumbprint != "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2" || string(in.Token.Claims["tier"]) != `"gold"` || len(in.Token.Claims) != 2 {
		t.Errorf("introspection %+v", in.Token)
	}
}

// BenchmarkTokenJWT measures the token endpoint's work for a JWT access
// token (authentication, RS256 signature; no store write), and
// BenchmarkIntrospectJWT introspection's (signature check, a revocation
// mark and a client read).
func BenchmarkTokenJWT(b *testing.B) {
	c := newCluster(b)
	cr := c.a.client(b, "jwt")
	c.a.token(b, "jwt", cr)
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.a.tokenErr("jwt", cr); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIntrospectJWT(b *testing.B) {
	c := newCluster(b)
	cr := c.a.client(b, "jwt")
	at := c.a.token(b, "jwt", cr)
	req := oauth.IntrospectRequest{Tenant: "jwt", Endpoints: endpoints("jwt", "introspect"), Credentials: cr, Token: at}
	b.ResetTimer()
	for b.Loop() {
		if in, err := c.a.srv.Introspect(context.Background(), req); err != nil || !in.Active {
			b.Fatal(in, err)
		}
	}
}

func BenchmarkTokenOpaque(b *testing.B) {
	c := newCluster(b)
	cr := c.a.client(b, "opaque")
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.a.tokenErr("opaque", cr); err != nil {
			b.Fatal(err)
		}
	}
}

// A tenant that chose ES256 signs with a P-256 key, published as such.
func TestJWTES256(t *testing.T) {
	c := newCluster(t)
	cr := c.a.client(t, "es")
	at := c.a.token(t, "es", cr)
	h, _ := parts(t, at)
	if h["alg"] != "ES256" || h["typ"] != "at+jwt" {
		t.Fatalf("header %v", h)
	}
	b, err := c.b.srv.JWKS(context.Background(), "es")
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []struct{ Kty, Crv, Kid, Alg, X, Y, D string } `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil || len(set.Keys) != 2 {
		t.Fatalf("JWKS %s: %v", b, err)
	}
	var key *ecdsa.PublicKey
	for _, k := range set.Keys {
		if k.Kty != "EC" || k.Crv != "P-256" || k.Alg != "ES256" || k.D != "" {
			t.Errorf("published key %+v", k)
		}
		if k.Kid == h["kid"] {
			x, _ := base64.RawURLEncoding.DecodeString(k.X)
			y, _ := base64.RawURLEncoding.DecodeString(k.Y)
			var err error
			if key, err = ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...)); err != nil {
				t.Fatalf("published key %s: %v", k.Kid, err)
			}
		}
	}
	if key == nil {
		t.Fatal("the token's kid is not published")
	}
	i := strings.LastIndex(at, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(at[i+1:])
	sum := sha256.Sum256([]byte(at[:i]))
	if len(sig) != 64 || !ecdsa.Verify(key, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatal("the ES256 signature does not verify")
	}
	if !c.b.introspect(t, "es", cr, at).Active {
		t.Error("an ES256 token is inactive")
	}
	// Only RS256 and ES256 are settings.
	_, err = engine.New(engine.Config{
		Store: c.store, Keys: jose.KeySetChecker{}, Hosts: idn.Normalizer{}, Logger: testkit.DiscardLogger(),
		Tenants: map[string]engine.Settings{"x": {AccessTokenSigningAlg: "HS256"}},
	})
	if err == nil || !strings.Contains(err.Error(), "access_token_signing_alg") {
		t.Errorf("access_token_signing_alg HS256: %v", err)
	}
}

func BenchmarkTokenJWTES256(b *testing.B) {
	c := newCluster(b)
	cr := c.a.client(b, "es")
	c.a.token(b, "es", cr)
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.a.tokenErr("es", cr); err != nil {
			b.Fatal(err)
		}
	}
}
