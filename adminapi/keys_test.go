package adminapi_test

import (
	"testing"

	"github.com/registrar-dev/registrar/adminapi"
	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/seal"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/memstore"
	"github.com/registrar-dev/registrar/oauth"
)

// signingKeys is the authorization server's key management over store.
func signingKeys(t *testing.T, reg *engine.Registrar, store *memstore.Store) adminapi.SigningKeys {
	t.Helper()
	kek, err := seal.Generate(nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := oauth.New(oauth.Config{Registrar: reg, Clients: store, Store: store, AuditLog: store, KeyEncryption: kek, Logger: testkit.DiscardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	return adminapi.OAuthSigningKeys(s)
}

func TestSigningKeys(t *testing.T) {
	e := setup(t)
	status, m := e.adm("GET", "/admin/tenants/acme/keys", "")
	if status != 200 || m["tenant"] != "acme" || len(m["keys"].([]any)) != 0 {
		t.Fatalf("keys of a tenant that never signed: %d %v", status, m)
	}
	// The first rotation makes the first keys.
	status, m = e.adm("POST", "/admin/tenants/acme/keys/rotate", "")
	keys, _ := m["keys"].([]any)
	if status != 200 || len(keys) != 2 {
		t.Fatalf("first rotation: %d %v", status, m)
	}
	next, active := keys[0].(map[string]any), keys[1].(map[string]any)
	if next["state"] != "next" || active["state"] != "active" || next["alg"] != "RS256" || next["kid"] == active["kid"] {
		t.Errorf("keys %v", keys)
	}
	for _, k := range keys {
		for _, private := range []string{"private", "d", "public"} {
			if _, ok := k.(map[string]any)[private]; ok {
				t.Errorf("a key shows %q: %v", private, k)
			}
		}
	}
	adminTime(t, active["activated_at"])
	// The next key has just been published: rotating now is refused.
	status, m = e.adm("POST", "/admin/tenants/acme/keys/rotate", "")
	if status != 409 || m["error"] != "conflict" {
		t.Errorf("a rotation before the publication lead: %d %v", status, m)
	}
	status, m = e.adm("GET", "/admin/tenants/acme/keys", "")
	if status != 200 || len(m["keys"].([]any)) != 2 {
		t.Errorf("keys after the refused rotation: %d %v", status, m)
	}
	if status, m := e.adm("GET", "/admin/tenants/nope/keys", ""); status != 404 {
		t.Errorf("keys of an unknown tenant: %d %v", status, m)
	}
	// The rotation is audited.
	status, m = e.adm("GET", "/admin/tenants/acme/audit", "")
	events, _ := m["events"].([]any)
	found := false
	for _, ev := range events {
		found = found || ev.(map[string]any)["type"] == "signing_key.rotated"
	}
	if status != 200 || !found {
		t.Errorf("no signing_key.rotated event: %v", m)
	}
}
