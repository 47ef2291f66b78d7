package e2e_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const body = `{"redirect_uris":["https://app.example/cb"]}`

// digestOf is the version of an example module: the SHA-256 of its bytes.
func digestOf(t *testing.T, src string) string {
	b, err := os.ReadFile(filepath.Join("..", "policies-examples", src))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestSharedProvider runs one provider for three tenants on two replicas
// over one Redis, and tries every way one tenant could reach another's
// clients, tokens or policies. "acme" and "acme-2" are named so that one is
// a prefix of the other.
func TestSharedProvider(t *testing.T) {
	addr := startRedis(t)
	dir := policyDir(t, map[string]string{
		"max-redirect-uris.wasm":   "max-redirect-uris/c/policy.wasm",
		"acme/allowed-scopes.wasm": "allowed-scopes/rust/policy.wasm",
	})
	a, b := newReplica(t, addr, dir), newReplica(t, addr, dir)
	ctx := context.Background()
	scopes := digestOf(t, "allowed-scopes/rust/policy.wasm")

	// The operator creates three tenants on replica a.
	must(t, "create acme", a.adm("PUT", "/admin/tenants/acme", `{"policy_config":{"allowed-scopes":{"allowed":["openid","profile"]}}}`), 201)
	must(t, "create acme-2", a.adm("PUT", "/admin/tenants/acme-2", `{"initial_access_token":"none","default_policies":["max-redirect-uris"],"policy_config":{"max-redirect-uris":{"max_redirect_uris":2}},"registration_rate_limit":{"per_ip":"6/m"}}`), 201)
	must(t, "create globex", a.adm("PUT", "/admin/tenants/globex", `{"max_clients":3}`), 201)
	// Replica b serves them after its refresh (every second in serve).
	if err := b.reg.Refresh(ctx); err != nil {
		t.Fatal(err)
	}

	// A policy list may only name modules the tenant can see.
	r := must(t, "acme-2 names acme's module", a.adm("POST", "/admin/tenants/acme-2/initial-access-tokens", `{"policies":["allowed-scopes"]}`), 400)
	if !strings.Contains(r.str("error_description"), "allowed-scopes") {
		t.Errorf("refusal: %s", r.raw)
	}
	must(t, "globex default policy from acme", a.adm("PUT", "/admin/tenants/globex", `{"default_policies":["allowed-scopes"]}`), 400)
	policies := func(tenant string) string {
		var names []string
		for _, p := range a.adm("GET", "/admin/tenants/"+tenant+"/policies", "").body["policies"].([]any) {
			names = append(names, p.(map[string]any)["name"].(string))
		}
		return strings.Join(names, ",")
	}
	if got := policies("acme"); got != "allowed-scopes,max-redirect-uris" {
		t.Errorf("acme's policies: %s", got)
	}
	if got := policies("acme-2"); got != "max-redirect-uris" {
		t.Errorf("acme-2's policies: %s", got)
	}

	// Each tenant gets a token and registers on replica b.
	acmeIAT := must(t, "acme token", a.adm("POST", "/admin/tenants/acme/initial-access-tokens", `{"policies":["allowed-scopes"],"expires_in":"PT2H","client_id":"shared-id"}`), 201)
	acmeIAT2 := must(t, "acme token 2", a.adm("POST", "/admin/tenants/acme/initial-access-tokens", `{"max_uses":5}`), 201)
	globexIAT := must(t, "globex token", a.adm("POST", "/admin/tenants/globex/initial-access-tokens", `{"client_id":"shared-id"}`), 201)
	acmeClient := must(t, "acme registers", b.pub("POST", "/tenants/acme/reg", acmeIAT.str("initial_access_token"), `{"redirect_uris":["https://app.example/cb"],"scope":"openid"}`), 201)
	acmeOther := must(t, "acme registers again", b.pub("POST", "/tenants/acme/reg", acmeIAT2.str("initial_access_token"), body), 201)
	globexClient := must(t, "globex registers the same client_id", b.pub("POST", "/tenants/globex/reg", globexIAT.str("initial_access_token"), body), 201)
	openClient := must(t, "acme-2 open registration", b.pub("POST", "/tenants/acme-2/reg", "", body), 201)
	if acmeClient.str("client_id") != "shared-id" || globexClient.str("client_id") != "shared-id" {
		t.Fatalf("reserved IDs: %s / %s", acmeClient.str("client_id"), globexClient.str("client_id"))
	}
	if r := b.pub("POST", "/tenants/acme-2/reg", "", `{"redirect_uris":["https://a.example/1","https://a.example/2","https://a.example/3"]}`); r.status != 400 {
		t.Errorf("acme-2's policy did not run: %d %s", r.status, r.raw)
	}
	if r := b.pub("POST", "/tenants/acme/reg", acmeIAT2.str("initial_access_token"), `{"redirect_uris":["https://app.example/cb"],"scope":"admin"}`); r.status != 201 {
		t.Errorf("acme's second token names no policy, yet: %d %s", r.status, r.raw)
	}

	// Tokens of one tenant are invalid_token at every route of every other.
	iat := acmeIAT2.str("initial_access_token")
	for _, tenant := range []string{"acme-2", "globex", "default"} {
		prefix := "/tenants/" + tenant
		if r := a.pub("POST", prefix+"/reg", iat, body); r.status != 401 || r.str("error") != "invalid_token" || r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("acme's initial access token at %s: %d %s", tenant, r.status, r.raw)
		}
	}
	if r := a.pub("POST", "/reg", iat, body); r.status != 401 {
		t.Errorf("acme's initial access token at the root: %d", r.status)
	}
	rat := acmeClient.str("registration_access_token")
	for _, p := range []string{"/tenants/globex/reg/shared-id", "/tenants/acme-2/reg/shared-id", "/reg/shared-id", "/tenants/acme/reg/" + acmeOther.str("client_id")} {
		for _, method := range []string{"GET", "PUT", "DELETE"} {
			if r := a.pub(method, p, rat, `{"client_id":"shared-id","redirect_uris":["https://evil.example/cb"]}`); r.status != 401 || r.str("error") != "invalid_token" {
				t.Errorf("acme's registration access token: %s %s: %d %s", method, p, r.status, r.raw)
			}
		}
	}
	must(t, "globex's client is untouched", b.pub("GET", "/tenants/globex/reg/shared-id", globexClient.str("registration_access_token"), ""), 200)
	must(t, "acme's client reads itself", b.pub("GET", path(acmeClient.str("registration_client_uri")), rat, ""), 200)

	// Tenant admin tokens manage their own tenant only.
	acmeAdmin := must(t, "acme admin token", a.adm("POST", "/admin/tenants/acme/admin-tokens", `{"description":"acme team"}`), 201).str("admin_token")
	must(t, "acme admin lists acme", b.do(b.admin, "GET", "/admin/tenants/acme/clients", acmeAdmin, ""), 200)
	for _, p := range []string{"/admin/tenants/acme-2/clients", "/admin/tenants/globex/clients/shared-id", "/admin/tenants/globex/audit", "/admin/tenants", "/admin/tenants/acme-2/initial-access-tokens"} {
		if r := b.do(b.admin, "GET", p, acmeAdmin, ""); r.status != 401 {
			t.Errorf("acme's admin token at %s: %d %s", p, r.status, r.raw)
		}
	}
	if r := b.do(b.admin, "DELETE", "/admin/tenants/globex/clients/shared-id", acmeAdmin, ""); r.status != 401 {
		t.Errorf("acme's admin token deleted globex's client: %d", r.status)
	}

	// Listings and audit logs never mix tenants.
	listed := func(tenant string) []string {
		var ids []string
		for _, c := range a.adm("GET", "/admin/tenants/"+tenant+"/clients", "").body["clients"].([]any) {
			c := c.(map[string]any)
			if c["tenant"] != tenant {
				t.Errorf("%s's listing shows a client of %v", tenant, c["tenant"])
			}
			ids = append(ids, c["client_id"].(string))
		}
		return ids
	}
	if got := listed("acme"); len(got) != 3 || !slices.Contains(got, "shared-id") {
		t.Errorf("acme lists %v", got)
	}
	if got := listed("acme-2"); len(got) != 1 || got[0] != openClient.str("client_id") {
		t.Errorf("acme-2 lists %v", got)
	}
	if got := listed("globex"); len(got) != 1 {
		t.Errorf("globex lists %v", got)
	}
	for _, tenant := range []string{"acme", "acme-2", "globex"} {
		for _, e := range a.adm("GET", "/admin/tenants/"+tenant+"/audit?limit=500", "").body["events"].([]any) {
			if e.(map[string]any)["tenant"] != tenant {
				t.Errorf("%s's audit log holds %v", tenant, e)
			}
		}
	}

	// Provenance: the client records the token and the policy version.
	c := a.adm("GET", "/admin/tenants/acme/clients/shared-id", "").body
	h := c["history"].([]any)[0].(map[string]any)
	ran := fmt.Sprint(h["policies"])
	if c["initial_access_token"] != acmeIAT.str("id") || h["initial_access_token"] != acmeIAT.str("id") || !strings.Contains(ran, scopes) {
		t.Errorf("provenance: %v", c)
	}
	byPolicy := a.adm("GET", "/admin/tenants/acme/clients?policy=allowed-scopes@"+scopes, "").body["clients"].([]any)
	if len(byPolicy) != 1 || byPolicy[0].(map[string]any)["client_id"] != "shared-id" {
		t.Errorf("clients by policy version: %v", byPolicy)
	}
	r = must(t, "bulk delete by policy version", a.adm("DELETE", "/admin/tenants/acme/clients?policy=allowed-scopes@"+scopes, ""), 200)
	if r.body["deleted"] != 1.0 {
		t.Errorf("bulk delete: %s", r.raw)
	}
	must(t, "globex's shared-id survives acme's bulk delete", a.adm("GET", "/admin/tenants/globex/clients/shared-id", ""), 200)

	// Keys: every key carries exactly one tenant's hash tag, and no
	// secret or token is stored in the clear.
	rdb := redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true})
	defer rdb.Close()
	keys := rdb.Keys(ctx, "*").Val()
	for _, k := range keys {
		if !strings.HasPrefix(k, "registrar:") {
			t.Errorf("key %q is outside the registrar: prefix", k)
		}
	}
	dump := dumpRedis(t, rdb)
	for what, secret := range map[string]string{
		"acme IAT": acmeIAT.str("initial_access_token"), "acme IAT 2": iat, "globex IAT": globexIAT.str("initial_access_token"),
		"acme RAT": rat, "globex RAT": globexClient.str("registration_access_token"), "acme admin token": acmeAdmin,
		"acme secret": acmeClient.str("client_secret"), "globex secret": globexClient.str("client_secret"),
	} {
		if secret == "" {
			t.Fatalf("%s is empty", what)
		}
		if strings.Contains(dump, secret) {
			t.Errorf("Redis holds the %s in the clear", what)
		}
	}

	// Quota and rate limits hold across replicas.
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	globexIAT2 := must(t, "globex token 2", a.adm("POST", "/admin/tenants/globex/initial-access-tokens", `{}`), 201).str("initial_access_token")
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep := a
			if i%2 == 1 {
				rep = b
			}
			r := rep.pub("POST", "/tenants/globex/reg", globexIAT2, body)
			mu.Lock()
			statuses[r.status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if statuses[201] != 2 || statuses[403] != 8 {
		t.Errorf("globex (max_clients 3, one registered) under 10 parallel registrations on two replicas: %v", statuses)
	}
	// acme-2 allows 6 registration requests a minute per address; three
	// were made above, and the one its policy refused and the one with
	// another tenant's token count too: requests are counted before they
	// are authenticated.
	for i, want := range []int{201, 201, 201, 429, 429} {
		rep := []*replica{a, b}[i%2]
		r := rep.pub("POST", "/tenants/acme-2/reg", "", body)
		if r.status != want {
			t.Errorf("acme-2 registration %d on replica %d: %d %s, want %d", i, i%2, r.status, r.raw, want)
		}
	}

	// acme-2 uploads a policy of its own; both replicas load it.
	accept, err := os.ReadFile("../plugins/testdata/accept.wasm")
	if err != nil {
		t.Fatal(err)
	}
	must(t, "acme-2 uploads a policy", a.adm("PUT", "/admin/tenants/acme-2/policies/namer", string(accept)), 201)
	loaded := func(r *replica) bool {
		for _, s := range r.host.Status() {
			if s.Tenant == "acme-2" && s.Name == "namer" {
				return true
			}
		}
		return false
	}
	for start := time.Now(); !loaded(b); time.Sleep(5 * time.Millisecond) {
		if time.Since(start) > 5*time.Second {
			t.Fatal("replica b never loaded acme-2's upload")
		}
	}

	// Deleting acme-2 on replica b removes its clients and tokens at once;
	// the other tenants, acme first of all, keep theirs. Both replicas drop
	// its uploaded policy at once, not at their next rescan.
	must(t, "delete acme-2", b.adm("DELETE", "/admin/tenants/acme-2", ""), 204)
	if loaded(b) {
		t.Error("replica b still runs the deleted tenant's policy")
	}
	for start := time.Now(); loaded(a); time.Sleep(5 * time.Millisecond) {
		if time.Since(start) > time.Second {
			t.Fatal("replica a still runs the deleted tenant's policy after a second")
		}
	}
	for _, k := range rdb.Keys(ctx, "registrar:{acme-2}*").Val() {
		// The audit log is kept; the tombstone and rate-limit budgets
		// expire by themselves.
		switch {
		case strings.HasSuffix(k, ":audit"):
		case strings.HasSuffix(k, ":tombstone") || strings.Contains(k, ":rate:"):
			if ttl := rdb.PTTL(ctx, k).Val(); ttl <= 0 {
				t.Errorf("key %s does not expire (PTTL %v)", k, ttl)
			}
		default:
			t.Errorf("key %s survived its tenant's deletion", k)
		}
	}
	if err := a.reg.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	must(t, "acme-2 is gone on replica a", a.pub("POST", "/tenants/acme-2/reg", "", body), 404)
	must(t, "acme still serves", a.pub("GET", path(acmeOther.str("registration_client_uri")), acmeOther.str("registration_access_token"), ""), 200)
	if got := listed("globex"); len(got) != 3 {
		t.Errorf("globex lists %v after acme-2's deletion", got)
	}
}

// dumpRedis returns every key and value of the database as text.
func dumpRedis(t *testing.T, rdb *redis.Client) string {
	t.Helper()
	ctx := context.Background()
	var dump strings.Builder
	for _, k := range rdb.Keys(ctx, "*").Val() {
		dump.WriteString(k + "\n")
		switch typ := rdb.Type(ctx, k).Val(); typ {
		case "string":
			dump.WriteString(rdb.Get(ctx, k).Val())
		case "hash":
			fmt.Fprint(&dump, rdb.HGetAll(ctx, k).Val())
		case "zset":
			fmt.Fprint(&dump, rdb.ZRange(ctx, k, 0, -1).Val())
		case "set":
			fmt.Fprint(&dump, rdb.SMembers(ctx, k).Val())
		case "stream":
			fmt.Fprint(&dump, rdb.XRange(ctx, k, "-", "+").Val())
		default:
			t.Errorf("key %s has type %s", k, typ)
		}
		dump.WriteString("\n")
	}
	return dump.String()
}
