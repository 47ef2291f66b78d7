package e2e_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/registrar-dev/registrar/adminapi"
	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/httpapi"
	"github.com/registrar-dev/registrar/idn"
	"github.com/registrar-dev/registrar/internal/redistest"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/plugins"
	"github.com/registrar-dev/registrar/redisstore"
)

const (
	adminToken = "e2e-global-admin-token-0123456789"
	issuer     = "https://id.example"
)

// replica is one Registrar process: its own Redis client, store, policy
// host, engine and listeners.
type replica struct {
	t             *testing.T
	reg           *engine.Registrar
	host          *plugins.Host
	public, admin *httptest.Server
}

// policyDir lays out a policy folder from built example modules:
// files maps a path in the folder to a path under policies-examples.
func policyDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for dst, src := range files {
		b, err := os.ReadFile(filepath.Join("..", "policies-examples", src))
		if err != nil {
			t.Fatal(err)
		}
		dst = filepath.Join(dir, dst)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func newReplica(t *testing.T, addr, policies string) *replica {
	t.Helper()
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, DisableIdentity: true})
	t.Cleanup(func() { rdb.Close() })
	store, err := redisstore.New(rdb, redisstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	log := testkit.DiscardLogger()
	host, err := plugins.New(ctx, plugins.Config{Dir: policies, Store: store, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	go host.Run(runCtx)
	t.Cleanup(func() { stop(); host.Close(context.Background()) })
	reg, err := engine.New(engine.Config{
		Store: store, AuditLog: store, Limiter: store, Keys: jose.KeySetChecker{}, Hosts: idn.Normalizer{},
		Modules: host, Logger: log, TenantDeleted: host.TenantDeleted,
	})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := httpapi.New(httpapi.Config{Registrar: reg, Issuer: issuer, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	adm, err := adminapi.New(adminapi.Config{Registrar: reg, Token: adminToken, Issuer: issuer, Policies: host, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return &replica{t: t, reg: reg, host: host, public: testkit.NewServer(t, pub), admin: testkit.NewServer(t, adm)}
}

// response is an HTTP answer with its JSON object body.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r response) str(name string) string {
	s, _ := r.body[name].(string)
	return s
}

func (r *replica) do(srv *httptest.Server, method, path, bearer, body string) response {
	r.t.Helper()
	res := testkit.Do(r.t, srv, method, path, body, testkit.Bearer(bearer))
	out := response{status: res.StatusCode, header: res.Header, body: res.Object(r.t), raw: string(res.Bytes)}
	if out.status >= 400 && (out.body["error"] == nil || out.body["error_description"] == nil) {
		r.t.Errorf("%s %s: %d without the error JSON: %s", method, path, out.status, res.Bytes)
	}
	return out
}

func (r *replica) adm(method, path, body string) response {
	r.t.Helper()
	return r.do(r.admin, method, path, adminToken, body)
}

func (r *replica) pub(method, path, bearer, body string) response {
	r.t.Helper()
	return r.do(r.public, method, path, bearer, body)
}

// must fails the test unless the response has the status.
func must(t *testing.T, what string, resp response, status int) response {
	t.Helper()
	if resp.status != status {
		t.Fatalf("%s: %d %s, want %d", what, resp.status, resp.raw, status)
	}
	return resp
}

// path turns a registration_client_uri into a path on the test servers.
func path(uri string) string { return strings.TrimPrefix(uri, issuer) }

// startRedis starts a redis-server for the test, or skips.
func startRedis(t *testing.T) string {
	t.Helper()
	redistest.Require(t)
	return redistest.Start(t, redistest.Options{}).Addr
}
