package redisstore

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/seal"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/oauth"
)

// testSigningKeys runs JWT access tokens over Redis on two replicas: the
// first token creates one key ring that both use; a token revoked on one
// is inactive on the other; the stored ring holds the private keys only
// sealed (the bytes in Redis are read and searched for every encoding of
// them); a replica with another key-encryption key cannot sign and says
// so; DeleteTenant removes the ring.
func testSigningKeys(t *testing.T, b backend) {
	ctx := t.Context()
	tenant := randomTenant()
	kek, err := seal.Parse("kek-1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	type replica struct {
		reg *engine.Registrar
		srv *oauth.Server
	}
	var store0 *Store
	newReplica := func(kek *seal.Keys) replica {
		s, _ := b.store(t, Config{})
		if store0 == nil {
			store0 = s
		}
		log := testkit.DiscardLogger()
		reg, err := engine.New(engine.Config{Store: s, Keys: jose.KeySetChecker{}, Logger: log, Tenants: map[string]engine.Settings{
			tenant: {InitialAccessToken: engine.TokenNone, AccessTokenFormat: engine.AccessTokenJWT},
		}})
		if err != nil {
			t.Fatal(err)
		}
		srv, err := oauth.New(oauth.Config{Registrar: reg, Clients: s, Store: s, KeyEncryption: kek, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		return replica{reg, srv}
	}
	a, c := newReplica(kek), newReplica(kek)
	info, err := a.reg.Register(ctx, engine.RegisterRequest{Tenant: tenant, Body: []byte(
		`{"grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],"token_endpoint_auth_method":"client_secret_basic"}`)})
	if err != nil {
		t.Fatal(err)
	}
	cr := oauth.Credentials{Basic: true, BasicID: info.Client.ID, BasicSecret: info.Secret}
	ep := oauth.Endpoints{Issuer: "https://registrar.example/tenants/" + tenant, Endpoint: "https://registrar.example/tenants/" + tenant + "/token"}
	token := func(r replica) (string, error) {
		resp, err := r.srv.Token(ctx, oauth.TokenRequest{Tenant: tenant, Endpoints: ep, Credentials: cr, GrantType: oauth.GrantClientCredentials})
		if err != nil {
			return "", err
		}
		return resp.AccessToken, nil
	}
	active := func(r replica, at string) bool {
		in, err := r.srv.Introspect(ctx, oauth.IntrospectRequest{Tenant: tenant, Endpoints: ep, Credentials: cr, Token: at})
		if err != nil {
			t.Fatal(err)
		}
		return in.Active
	}
	at, err := token(a)
	if err != nil {
		t.Fatal(err)
	}
	at2, err := token(c)
	if err != nil {
		t.Fatal(err)
	}
	if kidOf(t, at) != kidOf(t, at2) {
		t.Errorf("the replicas sign with different keys: %s, %s", kidOf(t, at), kidOf(t, at2))
	}
	if !active(c, at) || !active(a, at2) {
		t.Fatal("a JWT is inactive on the other replica")
	}
	if err := c.srv.Revoke(ctx, oauth.RevokeRequest{Tenant: tenant, Endpoints: ep, Credentials: cr, Token: at}); err != nil {
		t.Fatal(err)
	}
	if active(a, at) {
		t.Error("a JWT revoked on one replica is active on the other")
	}

	// The bytes in Redis: a hash under the tenant's tag, the private keys
	// sealed, never in the clear in any encoding.
	k, _ := store0.tenantKeys(tenant)
	stored, err := store0.rdb.HGetAll(ctx, k.keyRing()).Result()
	if err != nil || stored["rev"] != "1" || !strings.HasPrefix(k.keyRing(), k.base) {
		t.Fatalf("the stored ring: %v, %v", stored, err)
	}
	ring, err := store0.KeyRing(ctx, tenant)
	if err != nil || len(ring.Keys) != 2 {
		t.Fatalf("KeyRing: %+v, %v", ring, err)
	}
	for _, key := range ring.Keys {
		if !strings.Contains(stored["ring"], `"seal1.kek-1.`) {
			t.Error("no sealed key in the stored ring")
		}
		der, err := kek.Open(key.Private, []byte("tenant signing key\x00"+tenant+"\x00"+key.ID))
		if err != nil {
			t.Fatalf("the KEK does not open key %s: %v", key.ID, err)
		}
		for _, enc := range []string{string(der[:48]), hex.EncodeToString(der[:48]), base64.StdEncoding.EncodeToString(der[:48]), base64.RawURLEncoding.EncodeToString(der[:48])} {
			if strings.Contains(stored["ring"], enc) {
				t.Errorf("Redis holds key %s's private key in the clear", key.ID)
			}
		}
	}

	// Another key-encryption key: no signing, and a clear error.
	wrong, _ := seal.Parse("kek-1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{8}, 32)))
	if _, err := token(newReplica(wrong)); err == nil || !strings.Contains(err.Error(), "key-encryption key") {
		t.Errorf("signing with the wrong KEK: %v", err)
	}

	if err := store0.DeleteTenant(context.Background(), tenant); err != nil {
		t.Fatal(err)
	}
	if n, err := store0.rdb.Exists(ctx, k.keyRing()).Result(); err != nil || n != 0 {
		t.Errorf("the ring outlives its tenant: %d, %v", n, err)
	}
}

// kidOf returns a JWT's kid.
func kidOf(t *testing.T, token string) string {
	t.Helper()
	head, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(b), `"kid":"`)
	kid, _, _ := strings.Cut(rest, `"`)
	return kid
}
