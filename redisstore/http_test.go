package redisstore_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/registrar-dev/registrar/adminapi"
	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/httpapi"
	"github.com/registrar-dev/registrar/internal/redistest"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/redisstore"
)

// The tests in this file run Registrar end to end: HTTP requests through
// httpapi and adminapi, the engine, and a Store over a real Redis.

const adminToken = "redis-e2e-admin-token-0123456789"

// registrar is one Registrar instance: its own Redis client, store,
// engine and listeners, as one replica of a deployment has.
type registrar struct {
	t             *testing.T
	rdb           redis.UniversalClient
	public, admin *httptest.Server
}

// newRegistrar starts a Registrar instance over the Redis at addrs with
// the store configuration cfg.
func newRegistrar(t *testing.T, cfg redisstore.Config, addrs ...string) *registrar {
	t.Helper()
	rdb := newClient(t, addrs...)
	store, err := redisstore.New(rdb, cfg)
	if err != nil {
		t.Fatal(err)
	}
	log := testkit.DiscardLogger()
	reg, err := engine.New(engine.Config{Store: store, Keys: jose.KeySetChecker{}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := httpapi.New(httpapi.Config{Registrar: reg, Issuer: "https://registrar.example", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	adm, err := adminapi.New(adminapi.Config{Registrar: reg, Token: adminToken, Issuer: "https://registrar.example", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	r := &registrar{t: t, rdb: rdb, public: testkit.NewServer(t, pub), admin: testkit.NewServer(t, adm)}
	t.Cleanup(r.close)
	return r
}

// close stops the instance before the test ends: its listeners and its
// Redis client.
func (r *registrar) close() {
	r.public.Close()
	r.admin.Close()
	r.rdb.Close()
}

// response is a response read completely.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r *registrar) do(base *httptest.Server, method, path, token, body string) response {
	r.t.Helper()
	res := testkit.Do(r.t, base, method, path, body, testkit.Bearer(token))
	return response{status: res.StatusCode, header: res.Header, body: res.Object(r.t), raw: string(res.Bytes)}
}

// mintIAT mints an initial access token for the default tenant.
func (r *registrar) mintIAT(body string) string {
	r.t.Helper()
	resp := r.do(r.admin, "POST", "/admin/tenants/default/initial-access-tokens", adminToken, body)
	if resp.status != http.StatusCreated {
		r.t.Fatalf("mint IAT: %d %s", resp.status, resp.raw)
	}
	return resp.body["initial_access_token"].(string)
}

const clientBody = `{"redirect_uris":["https://app.example.com/cb"],"client_name":"E2E"}`

// client is what a registration returned.
type client struct{ id, secret, rat string }

// register registers a client with the IAT and requires success.
func (r *registrar) register(iat string) client {
	r.t.Helper()
	resp := r.do(r.public, "POST", "/reg", iat, clientBody)
	if resp.status != http.StatusCreated {
		r.t.Fatalf("register: %d %s", resp.status, resp.raw)
	}
	return client{resp.body["client_id"].(string), resp.body["client_secret"].(string), resp.body["registration_access_token"].(string)}
}

func (r *registrar) read(c client) response {
	r.t.Helper()
	return r.do(r.public, "GET", "/reg/"+c.id, c.rat, "")
}

// listed returns the client IDs the admin API lists for the default tenant.
func (r *registrar) listed() []string {
	r.t.Helper()
	resp := r.do(r.admin, "GET", "/admin/tenants/default/clients?limit=500", adminToken, "")
	if resp.status != http.StatusOK {
		r.t.Fatalf("list clients: %d %s", resp.status, resp.raw)
	}
	var ids []string
	for _, c := range resp.body["clients"].([]any) {
		ids = append(ids, c.(map[string]any)["client_id"].(string))
	}
	return ids
}

// TestRoundTrip runs testRoundTrip against one server; TestCluster runs it
// against a cluster.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	testRoundTrip(t, []string{redistest.Start(t, redistest.Options{}).Addr})
}

// testRoundTrip registers, reads, updates, lists and deletes clients over
// HTTP against the Redis at addrs, and checks that no secret or bearer
// token reaches Redis in the clear.
func testRoundTrip(t *testing.T, addrs []string) {
	r := newRegistrar(t, redisstore.Config{}, addrs...)
	iat := r.mintIAT(`{"expires_in":3600,"max_uses":2}`)
	c := r.register(iat)
	if resp := r.read(c); resp.status != 200 || resp.body["client_name"] != "E2E" {
		t.Fatalf("read: %d %s", resp.status, resp.raw)
	}
	upd := r.do(r.public, "PUT", "/reg/"+c.id, c.rat,
		fmt.Sprintf(`{"client_id":%q,"redirect_uris":["https://app.example.com/cb"],"client_name":"Renamed"}`, c.id))
	if upd.status != 200 || upd.body["client_name"] != "Renamed" {
		t.Fatalf("update: %d %s", upd.status, upd.raw)
	}
	oldRAT := c.rat
	c.rat = upd.body["registration_access_token"].(string)
	if c.rat == oldRAT {
		t.Fatal("the registration access token was not rotated")
	}
	if resp := r.do(r.public, "GET", "/reg/"+c.id, oldRAT, ""); resp.status != 401 {
		t.Errorf("read with the rotated-out token: %d", resp.status)
	}
	if resp := r.read(c); resp.status != 200 || resp.body["client_name"] != "Renamed" {
		t.Errorf("read after update: %d %s", resp.status, resp.raw)
	}
	second := r.register(iat)
	if ids := r.listed(); len(ids) != 2 || !slices.Contains(ids, c.id) || !slices.Contains(ids, second.id) {
		t.Errorf("listed %q, want %s and %s", ids, c.id, second.id)
	}
	if resp := r.do(r.public, "POST", "/reg", iat, clientBody); resp.status != 401 {
		t.Errorf("third registration with a 2-use token: %d %s", resp.status, resp.raw)
	}

	checkNoPlaintext(t, addrs, map[string]string{
		"client secret": c.secret, "registration access token": c.rat,
		"rotated-out registration access token": oldRAT,
		"second client's secret":                second.secret,
		"initial access token":                  iat,
	})

	if resp := r.do(r.public, "DELETE", "/reg/"+c.id, c.rat, ""); resp.status != 204 {
		t.Fatalf("delete: %d %s", resp.status, resp.raw)
	}
	if resp := r.read(c); resp.status != 401 {
		t.Errorf("read after delete: %d", resp.status)
	}
	if ids := r.listed(); len(ids) != 1 || ids[0] != second.id {
		t.Errorf("listed after delete %q, want [%s]", ids, second.id)
	}
}

// checkNoPlaintext reads every key and value in Redis and fails if any
// holds one of the secrets.
func checkNoPlaintext(t *testing.T, addrs []string, secrets map[string]string) {
	t.Helper()
	var dump strings.Builder
	for _, addr := range addrs {
		rdb := redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true})
		defer rdb.Close()
		ctx := t.Context()
		keys, err := rdb.Keys(ctx, "*").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			dump.WriteString(k + "\n")
			switch rdb.Type(ctx, k).Val() {
			case "string":
				dump.WriteString(rdb.Get(ctx, k).Val())
			case "hash":
				fmt.Fprint(&dump, rdb.HGetAll(ctx, k).Val())
			case "zset":
				fmt.Fprint(&dump, rdb.ZRange(ctx, k, 0, -1).Val())
			case "stream":
				fmt.Fprint(&dump, rdb.XRange(ctx, k, "-", "+").Val())
			default:
				t.Errorf("unexpected key %s", k)
			}
			dump.WriteString("\n")
		}
	}
	if dump.Len() == 0 {
		t.Fatal("Redis holds nothing")
	}
	for what, secret := range secrets {
		if secret == "" {
			t.Fatalf("%s is empty", what)
		}
		if strings.Contains(dump.String(), secret) {
			t.Errorf("Redis holds the %s in the clear", what)
		}
	}
}

// TestRegistrarRestart: what one Registrar instance acknowledged, a new
// instance on the same Redis serves; the old one is gone entirely.
func TestRegistrarRestart(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	first := newRegistrar(t, redisstore.Config{}, srv.Addr)
	iat := first.mintIAT(`{"expires_in":3600,"max_uses":2}`)
	c := first.register(iat)
	first.close()

	second := newRegistrar(t, redisstore.Config{}, srv.Addr)
	if resp := second.read(c); resp.status != 200 || resp.body["client_id"] != c.id {
		t.Fatalf("read through a new instance: %d %s", resp.status, resp.raw)
	}
	// The token's use count survived too: one use is left.
	second.register(iat)
	if resp := second.do(second.public, "POST", "/reg", iat, clientBody); resp.status != 401 {
		t.Errorf("registration past max_uses through the new instance: %d", resp.status)
	}
}

// TestTwoRegistrars runs two instances on one Redis, as two replicas: each
// sees and manages what the other wrote.
func TestTwoRegistrars(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	a := newRegistrar(t, redisstore.Config{}, srv.Addr)
	b := newRegistrar(t, redisstore.Config{}, srv.Addr)
	iat := a.mintIAT(`{"expires_in":3600}`)
	c := b.register(iat) // a token minted on a, used on b
	if resp := a.read(c); resp.status != 200 {
		t.Fatalf("read on a of a client registered on b: %d %s", resp.status, resp.raw)
	}
	upd := a.do(a.public, "PUT", "/reg/"+c.id, c.rat,
		fmt.Sprintf(`{"client_id":%q,"redirect_uris":["https://app.example.com/cb"],"client_name":"From A"}`, c.id))
	if upd.status != 200 {
		t.Fatalf("update on a: %d %s", upd.status, upd.raw)
	}
	if resp := b.read(c); resp.status != 401 {
		t.Errorf("b accepts the token a rotated out: %d", resp.status)
	}
	c.rat = upd.body["registration_access_token"].(string)
	if resp := b.read(c); resp.status != 200 || resp.body["client_name"] != "From A" {
		t.Errorf("read on b after the update on a: %d %s", resp.status, resp.raw)
	}
	if ids := b.listed(); len(ids) != 1 || ids[0] != c.id {
		t.Errorf("b lists %q", ids)
	}
	if resp := b.do(b.public, "DELETE", "/reg/"+c.id, c.rat, ""); resp.status != 204 {
		t.Fatalf("delete on b: %d", resp.status)
	}
	if resp := a.read(c); resp.status != 401 {
		t.Errorf("read on a after delete on b: %d", resp.status)
	}
}

// TestMaxUsesParallel sends 50 registrations at once with a token of 10
// uses, through two instances: exactly 10 succeed.
func TestMaxUsesParallel(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	instances := []*registrar{
		newRegistrar(t, redisstore.Config{}, srv.Addr),
		newRegistrar(t, redisstore.Config{}, srv.Addr),
	}
	iat := instances[0].mintIAT(`{"expires_in":3600,"max_uses":10}`)
	const n = 50
	statuses := make([]int, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := instances[i%2]
			<-start
			req, _ := http.NewRequest("POST", r.public.URL+"/reg", strings.NewReader(clientBody))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+iat)
			resp, err := r.public.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	close(start)
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[201] != 10 || count[401] != n-10 {
		t.Errorf("statuses of %d registrations with a 10-use token: %v", n, count)
	}
	if ids := instances[1].listed(); len(ids) != 10 {
		t.Errorf("%d clients listed, want 10", len(ids))
	}
	id := engine.HashToken(iat)
	resp := instances[1].do(instances[1].admin, "GET", "/admin/tenants/default/initial-access-tokens/"+id, adminToken, "")
	if resp.status != 200 || resp.body["uses"] != float64(10) {
		t.Errorf("token after the run: %d %s", resp.status, resp.raw)
	}
}
