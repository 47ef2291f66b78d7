package engine_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// TestClientStorageRoundTrip: what a store writes of a client reads back
// the same, language-tagged and extra members included, and the stored
// form holds no secret in the clear.
func TestClientStorageRoundTrip(t *testing.T) {
	age := int64(0)
	c := &engine.Client{
		Tenant: "acme", ID: "abc", IssuedAt: time.Unix(1795348800, 0).UTC(), UpdatedAt: time.Unix(1795348900, 0).UTC(),
		ExpiresAt: time.Unix(1795400000, 0).UTC(), SecretHash: engine.HashToken("s"), RegistrationTokenHash: engine.HashToken("t"),
		RegistrationPolicies: []string{"p1"}, IssuedBy: "iat",
		Metadata: engine.Metadata{
			RedirectURIs: []string{"https://a.example/cb"}, GrantTypes: []string{"client_credentials"}, ResponseTypes: []string{},
			TokenEndpointAuthMethod: "client_secret_basic", ApplicationType: "web", DefaultMaxAge: &age,
			JWKS:      json.RawMessage(`{"keys":[{"kty":"EC"}]}`),
			Localized: map[string]string{"client_name#ja": "アプリ"},
			Extra:     map[string]json.RawMessage{"tier": json.RawMessage(`"gold"`), "scope_x": json.RawMessage(`[1]`)},
		},
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back engine.Client
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, c) {
		t.Fatalf("round trip\n got %+v\nwant %+v\njson %s", back, *c, b)
	}
	for _, secret := range []string{`"s"`, `"t"`} {
		if strings.Contains(string(b), secret) {
			t.Errorf("stored form holds %s: %s", secret, b)
		}
	}
}
