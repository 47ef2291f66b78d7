package engine_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/idn"
	"github.com/registrar-dev/registrar/internal/seal"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
)

// encrypted is an open tenant that keeps client_secret_jwt secrets sealed.
var encrypted = engine.Settings{InitialAccessToken: engine.TokenNone, ClientSecretStorage: engine.SecretEncrypted}

func TestValidateClientSecretJWT(t *testing.T) {
	jwt := `"token_endpoint_auth_method":"client_secret_jwt"`
	method := func(want, alg string) func(*testing.T, engine.Metadata) {
		return func(t *testing.T, md engine.Metadata) {
			eq(t, "token_endpoint_auth_method", md.TokenEndpointAuthMethod, want)
			eq(t, "token_endpoint_auth_signing_alg", md.TokenEndpointAuthSigningAlg, alg)
		}
	}
	noJWT := encrypted
	noJWT.TokenEndpointAuthMethodsSupported = []string{"client_secret_basic"}
	listed := encrypted
	listed.TokenEndpointAuthMethodsSupported = []string{"client_secret_jwt"}
	runMetadataCases(t, []metadataCase{
		{name: "hashed refuses it, saying why", body: rp(jwt), code: icm, mention: "client_secret_storage"},
		{name: "encrypted offers it by default", settings: encrypted, body: rp(jwt), check: method("client_secret_jwt", "")},
		{name: "encrypted, listed", settings: listed, body: rp(jwt), check: method("client_secret_jwt", "")},
		{name: "encrypted, left out of the list", settings: noJWT, body: rp(jwt), code: icm, mention: "token_endpoint_auth_method"},
		{name: "HS256", settings: encrypted, body: rp(jwt, `"token_endpoint_auth_signing_alg":"HS256"`), check: method("client_secret_jwt", "HS256")},
		{name: "HS512", settings: encrypted, body: rp(jwt, `"token_endpoint_auth_signing_alg":"HS512"`), check: method("client_secret_jwt", "HS512")},
		{name: "RS256 does not fit a secret", settings: encrypted, body: rp(jwt, `"token_endpoint_auth_signing_alg":"RS256"`), code: icm, mention: "HS256"},
		{name: "none", settings: encrypted, body: rp(jwt, `"token_endpoint_auth_signing_alg":"none"`), code: icm, mention: "token_endpoint_auth_signing_alg"},
		{name: "HS256 for private_key_jwt", settings: encrypted, body: rp(`"token_endpoint_auth_method":"private_key_jwt"`, `"jwks":`+jwks(ecJWK), `"token_endpoint_auth_signing_alg":"HS256"`), code: icm, mention: "token_endpoint_auth_signing_alg"},
		{name: "an alg for client_secret_basic", settings: encrypted, body: rp(`"token_endpoint_auth_signing_alg":"HS256"`), code: icm, mention: "token_endpoint_auth_signing_alg"},
		{name: "HS256 for an ID token", settings: encrypted, body: rp(jwt, `"id_token_signed_response_alg":"HS256"`), code: icm, mention: "id_token_signed_response_alg"},
	})
}

func TestSecretStorageSettings(t *testing.T) {
	for name, s := range map[string]engine.Settings{
		"unknown storage":                    {ClientSecretStorage: "plain"},
		"client_secret_jwt listed, hashed":   {ClientSecretStorage: engine.SecretHashed, TokenEndpointAuthMethodsSupported: []string{"client_secret_jwt"}},
		"client_secret_jwt listed, defaults": {TokenEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_jwt"}},
	} {
		t.Run(name, func(t *testing.T) {
			o, _ := engine.DecodeObject([]byte(rp()))
			if _, err := engine.ValidateMetadata(s, o, jose.KeySetChecker{}, idn.Normalizer{}); err == nil {
				t.Fatal("bad settings accepted")
			}
		})
	}
	// Without a sealer, an encrypted tenant cannot work: the configuration
	// file's is refused at start, a stored one at its PUT, with a message
	// that says what is missing.
	if _, err := engine.New(engine.Config{Store: newFakeStore(newClock().Now), Keys: jose.KeySetChecker{}, Tenants: map[string]engine.Settings{"x": encrypted}}); err == nil || !strings.Contains(err.Error(), "key-encryption key") {
		t.Errorf("New with an encrypted tenant and no sealer: %v", err)
	}
	r, err := engine.New(engine.Config{Store: newFakeStore(newClock().Now), Keys: jose.KeySetChecker{}, Logger: testkit.DiscardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = r.PutTenant(context.Background(), "x", encrypted, 0)
	if e := wantCode(t, err, engine.CodeInvalidRequest); !strings.Contains(e.Description, "key-encryption key") {
		t.Errorf("PUT without a key-encryption key: %q", e.Description)
	}
	if names := r.TenantNames(); slices.Contains(names, "x") {
		t.Error("the refused tenant is served")
	}
	h := newSealingHarness(t)
	if _, _, err := h.r.PutTenant(context.Background(), "y", encrypted, 0); err != nil {
		t.Errorf("PUT with a key-encryption key: %v", err)
	}
}

func TestCapabilitiesClientSecretJWT(t *testing.T) {
	h := newSealingHarness(t)
	for _, tc := range []struct {
		tenant string
		offers bool
	}{{"enc", true}, {"hashed", false}} {
		caps, err := h.r.Capabilities(tc.tenant)
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Contains(caps.TokenEndpointAuthMethodsSupported, "client_secret_jwt"); got != tc.offers {
			t.Errorf("%s: token_endpoint_auth_methods_supported %v", tc.tenant, caps.TokenEndpointAuthMethodsSupported)
		}
		for _, alg := range engine.SecretJWTAlgs {
			if got := slices.Contains(caps.TokenEndpointAuthSigningAlgs, alg); got != tc.offers {
				t.Errorf("%s: token_endpoint_auth_signing_alg_values_supported %v", tc.tenant, caps.TokenEndpointAuthSigningAlgs)
			}
			if slices.Contains(caps.IDTokenSigningAlgs, alg) || slices.Contains(caps.RequestObjectSigningAlgs, alg) {
				t.Errorf("%s: an HMAC alg offered beyond client authentication", tc.tenant)
			}
		}
		if !slices.Contains(caps.TokenEndpointAuthSigningAlgs, "RS256") {
			t.Errorf("%s: RS256 missing: %v", tc.tenant, caps.TokenEndpointAuthSigningAlgs)
		}
	}
}

// sealingHarness is a Registrar whose tenant "enc" keeps client_secret_jwt
// secrets sealed and whose tenant "hashed" keeps them hashed.
type sealingHarness struct {
	*harness
	keys *seal.Keys
}

func newSealingHarness(t *testing.T) *sealingHarness {
	t.Helper()
	keys, err := seal.Parse("k1:" + strings.Repeat("A", 43))
	if err != nil {
		t.Fatal(err)
	}
	clk := newClock()
	h := &harness{t: t, store: newFakeStore(clk.Now), mods: newFakeModules(), clock: clk}
	h.r, err = engine.New(engine.Config{
		Store: h.store, Keys: jose.KeySetChecker{}, Hosts: idn.Normalizer{}, Modules: h.mods, Secrets: keys,
		Tenants: map[string]engine.Settings{"enc": encrypted, "hashed": open},
		Now:     clk.Now, Rand: testkit.Rand(1), Logger: testkit.DiscardLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &sealingHarness{harness: h, keys: keys}
}

// opens fails unless c's sealed secret opens, bound to c, to secret.
func (h *sealingHarness) opens(t *testing.T, c *engine.Client, secret string) {
	t.Helper()
	plain, err := h.keys.Open(c.SecretSealed, engine.SecretContext(c.Tenant, c.ID))
	if err != nil || string(plain) != secret {
		t.Fatalf("the sealed secret opens to %q, %v; want the issued secret", plain, err)
	}
	if c.SecretHash != engine.HashToken(secret) {
		t.Error("the digest is not the issued secret's")
	}
}

func TestRegisterSealsClientSecretJWT(t *testing.T) {
	h := newSealingHarness(t)
	jwt := rp(`"token_endpoint_auth_method":"client_secret_jwt"`, `"token_endpoint_auth_signing_alg":"HS256"`)
	ci := h.mustRegister("enc", "", jwt)
	c := h.stored("enc", ci.Client.ID)
	h.opens(t, c, ci.Secret)
	if !strings.HasPrefix(c.SecretSealed, "seal1.k1.") {
		t.Errorf("sealed with %q", c.SecretSealed)
	}
	b, _ := json.Marshal(ci)
	if strings.Contains(string(b), c.SecretSealed) || strings.Contains(string(b), "secret_sealed") {
		t.Errorf("the registration response shows the sealed secret: %s", b)
	}
	read, err := h.read("enc", c.ID, ci.RegistrationAccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(read); strings.Contains(string(b), "seal1.") || strings.Contains(string(b), `"client_secret"`) {
		t.Errorf("the read response shows a secret: %s", b)
	}

	// Bound to the tenant and the client: moved elsewhere, it does not open.
	other := h.mustRegister("enc", "", jwt)
	if _, err := h.keys.Open(c.SecretSealed, engine.SecretContext("enc", other.Client.ID)); err == nil {
		t.Error("a sealed secret opens for another client")
	}
	if _, err := h.keys.Open(c.SecretSealed, engine.SecretContext("hashed", c.ID)); err == nil {
		t.Error("a sealed secret opens for another tenant")
	}

	// Other methods keep a digest only, even where secrets are encrypted.
	basic := h.mustRegister("enc", "", rp())
	if c := h.stored("enc", basic.Client.ID); c.SecretHash == "" || c.SecretSealed != "" {
		t.Errorf("client_secret_basic: hash %q, sealed %q", c.SecretHash, c.SecretSealed)
	}
	// And a hashed tenant refuses client_secret_jwt, saying why.
	_, err = h.register("hashed", "", jwt)
	if e := wantCode(t, err, engine.CodeInvalidClientMetadata); !strings.Contains(e.Description, "hashes") {
		t.Errorf("hashed tenant: %q", e.Description)
	}
}

func TestUpdateClientSecretJWT(t *testing.T) {
	h := newSealingHarness(t)
	ci := h.mustRegister("enc", "", rp())
	id, rat := ci.Client.ID, ci.RegistrationAccessToken
	body := func(members ...string) string {
		return rp(append([]string{`"client_id":"` + id + `"`}, members...)...)
	}

	// To client_secret_jwt: the digest cannot key an HMAC, so a new secret
	// is issued, sealed, and the old one stops working.
	up := h.mustUpdate("enc", id, rat, body(`"token_endpoint_auth_method":"client_secret_jwt"`))
	if up.Secret == "" || up.Secret == ci.Secret {
		t.Fatalf("switching to client_secret_jwt issued secret %q", up.Secret)
	}
	c := h.stored("enc", id)
	h.opens(t, c, up.Secret)
	rat = up.RegistrationAccessToken

	// Staying: the same secret and seal, none issued.
	again := h.mustUpdate("enc", id, rat, body(`"token_endpoint_auth_method":"client_secret_jwt"`, `"client_name":"n"`))
	if again.Secret != "" || h.stored("enc", id).SecretSealed != c.SecretSealed {
		t.Errorf("an update that keeps client_secret_jwt issued %q or resealed", again.Secret)
	}
	rat = again.RegistrationAccessToken

	// Back to client_secret_basic: the secret stays, its sealed copy goes.
	back := h.mustUpdate("enc", id, rat, body(`"token_endpoint_auth_method":"client_secret_basic"`))
	c2 := h.stored("enc", id)
	if back.Secret != "" || c2.SecretSealed != "" || c2.SecretHash != engine.HashToken(up.Secret) {
		t.Errorf("leaving client_secret_jwt: issued %q, sealed %q, same digest %v", back.Secret, c2.SecretSealed, c2.SecretHash == engine.HashToken(up.Secret))
	}
	rat = back.RegistrationAccessToken

	// A signing alg that does not fit the method is refused.
	_, err := h.update("enc", id, rat, body(`"token_endpoint_auth_method":"client_secret_jwt"`, `"token_endpoint_auth_signing_alg":"ES256"`))
	wantCode(t, err, engine.CodeInvalidClientMetadata)
	// To none: no secret at all.
	h.mustUpdate("enc", id, rat, body(`"token_endpoint_auth_method":"none"`))
	if c := h.stored("enc", id); c.SecretHash != "" || c.SecretSealed != "" {
		t.Errorf("a public client keeps a secret: %+v", c)
	}
}
