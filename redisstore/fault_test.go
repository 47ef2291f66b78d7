package redisstore_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/redistest"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/oauth"
	"github.com/registrar-dev/registrar/redisstore"
)

// checkUnavailable checks a response to a request made while Redis was
// down: 503 temporarily_unavailable with Retry-After.
func checkUnavailable(t *testing.T, what string, resp response) {
	t.Helper()
	if resp.status != http.StatusServiceUnavailable || resp.header.Get("Retry-After") == "" {
		t.Errorf("%s with Redis down: %d, Retry-After %q: %s", what, resp.status, resp.header.Get("Retry-After"), resp.raw)
		return
	}
	if what != "readyz" && resp.body["error"] != "temporarily_unavailable" {
		t.Errorf("%s with Redis down: error %v", what, resp.body["error"])
	}
}

// TestRedisCrash kills Redis (SIGKILL) under a running Registrar: requests
// get 503 with Retry-After at once, readiness fails, liveness does not.
// Redis restarts on the same port with its append-only file, and Registrar
// resumes by itself, every acknowledged registration intact.
func TestRedisCrash(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{Persist: true})
	const timeout = time.Second
	r := newRegistrar(t, redisstore.Config{Timeout: timeout}, srv.Addr)
	iat := r.mintIAT(`{"expires_in":3600}`)
	before := r.register(iat)

	srv.Kill()
	for name, req := range map[string]func() response{
		"register": func() response { return r.do(r.public, "POST", "/reg", iat, clientBody) },
		"read":     func() response { return r.read(before) },
		"update": func() response {
			return r.do(r.public, "PUT", "/reg/"+before.id, before.rat, `{"client_id":"`+before.id+`","redirect_uris":["https://app.example.com/cb"]}`)
		},
		"delete":     func() response { return r.do(r.public, "DELETE", "/reg/"+before.id, before.rat, "") },
		"readyz":     func() response { return r.do(r.public, "GET", "/readyz", "", "") },
		"admin list": func() response { return r.do(r.admin, "GET", "/admin/tenants/default/clients", adminToken, "") },
		"admin mint": func() response {
			return r.do(r.admin, "POST", "/admin/tenants/default/initial-access-tokens", adminToken, `{}`)
		},
	} {
		start := time.Now()
		checkUnavailable(t, name, req())
		if d := time.Since(start); d > timeout+500*time.Millisecond {
			t.Errorf("%s with Redis down took %v; the store's timeout is %v", name, d, timeout)
		}
	}
	if resp := r.do(r.public, "GET", "/healthz", "", ""); resp.status != 200 {
		t.Errorf("healthz with Redis down: %d", resp.status)
	}

	srv.Restart()
	testkit.Eventually(t, 10*time.Second, "ready after Redis restarted", func() bool {
		return r.do(r.public, "GET", "/readyz", "", "").status == 200
	})
	if resp := r.read(before); resp.status != 200 {
		t.Errorf("read of a registration acknowledged before the crash: %d %s", resp.status, resp.raw)
	}
	after := r.register(iat)
	if resp := r.read(after); resp.status != 200 {
		t.Errorf("read of a registration made after the restart: %d", resp.status)
	}
}

// TestRedisHangs points the store at a server that accepts connections and
// never answers, as a stuck or partitioned Redis does: every call fails
// with ErrUnavailable once its timeout has passed, not later.
func TestRedisHangs(t *testing.T) {
	t.Parallel()
	addr := testkit.SilentServer(t)
	const timeout = 300 * time.Millisecond
	rdb := newClient(t, addr)
	s, err := redisstore.New(rdb, redisstore.Config{Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	c := &engine.Client{Tenant: "default", ID: "x"}
	wasm := []byte("\x00asm\x01\x00\x00\x00")
	sum := sha256.Sum256(wasm)
	digest := hex.EncodeToString(sum[:])
	for name, call := range map[string]func() error{
		"Ping":         func() error { return s.Ping(ctx) },
		"Client":       func() error { _, err := s.Client(ctx, "default", "x"); return err },
		"CreateClient": func() error { return s.CreateClient(ctx, c, engine.CreateOptions{}) },
		"UpdateClient": func() error {
			_, err := s.UpdateClient(ctx, "default", "x", func(*engine.Client) error { return nil })
			return err
		},
		"DeleteClient": func() error { return s.DeleteClient(ctx, "default", "x") },
		"Clients":      func() error { _, _, err := s.Clients(ctx, "default", engine.ClientFilter{}, "", 10); return err },
		"CreateInitialAccessToken": func() error {
			return s.CreateInitialAccessToken(ctx, &engine.InitialAccessToken{Tenant: "default", ID: "x"})
		},
		"InitialAccessToken":       func() error { _, err := s.InitialAccessToken(ctx, "default", "x"); return err },
		"DeleteInitialAccessToken": func() error { return s.DeleteInitialAccessToken(ctx, "default", "x") },
		"InitialAccessTokens": func() error {
			_, _, err := s.InitialAccessTokens(ctx, "default", "", 10)
			return err
		},
		"FilteredClients": func() error {
			_, _, err := s.Clients(ctx, "default", engine.ClientFilter{IssuedBy: "x"}, "", 10)
			return err
		},
		"PutTenant": func() error {
			_, err := s.PutTenant(ctx, &engine.TenantRecord{Name: "acme"}, 0)
			return err
		},
		"Tenant":       func() error { _, err := s.Tenant(ctx, "acme"); return err },
		"Tenants":      func() error { _, err := s.Tenants(ctx); return err },
		"DeleteTenant": func() error { return s.DeleteTenant(ctx, "acme") },
		"CreateAdminToken": func() error {
			return s.CreateAdminToken(ctx, &engine.AdminToken{Tenant: "acme", ID: "x"})
		},
		"AdminToken":       func() error { _, err := s.AdminToken(ctx, "acme", "x"); return err },
		"AdminTokens":      func() error { _, err := s.AdminTokens(ctx, "acme"); return err },
		"DeleteAdminToken": func() error { return s.DeleteAdminToken(ctx, "acme", "x") },
		"AppendAudit": func() error {
			_, err := s.AppendAudit(ctx, &engine.AuditEvent{Tenant: "acme", Type: engine.AuditTenantCreated})
			return err
		},
		"AuditEvents": func() error { _, _, err := s.AuditEvents(ctx, "acme", "", 10); return err },
		"Allow": func() error {
			_, _, err := s.Allow(ctx, "acme", "ip", engine.Rate{Events: 1, Per: time.Second})
			return err
		},
		"PutPolicyBlob": func() error { return s.PutPolicyBlob(ctx, "acme", "audit", digest, wasm) },
		"PolicyBlob":    func() error { _, err := s.PolicyBlob(ctx, "acme", "audit", digest); return err },
		"UpdatePolicy": func() error {
			_, err := s.UpdatePolicy(ctx, "acme", "audit", func(*engine.StoredPolicy) (*engine.StoredPolicy, error) {
				return &engine.StoredPolicy{}, nil
			})
			return err
		},
		"StoredPolicy":   func() error { _, err := s.StoredPolicy(ctx, "acme", "audit"); return err },
		"StoredPolicies": func() error { _, err := s.StoredPolicies(ctx); return err },
		"PublishPolicyChange": func() error {
			return s.PublishPolicyChange(ctx, engine.PolicyChange{Tenant: "acme", Name: "audit", Revision: 1})
		},
		"WatchPolicyChanges": func() error { _, err := s.WatchPolicyChanges(ctx); return err },
		"PutReplicaStatus": func() error {
			return s.PutReplicaStatus(ctx, &engine.ReplicaStatus{Replica: "r"}, time.Minute)
		},
		"ReplicaStatuses": func() error { _, err := s.ReplicaStatuses(ctx); return err },
		"PutToken": func() error {
			return s.PutToken(ctx, &oauth.Token{Tenant: "acme", Digest: "x", ExpiresAt: time.Now().Add(time.Hour)})
		},
		"Token":       func() error { _, err := s.Token(ctx, "acme", "x"); return err },
		"DeleteToken": func() error { return s.DeleteToken(ctx, "acme", "x") },
		"Mark":        func() error { _, err := s.Mark(ctx, "acme", "x", time.Now().Add(time.Hour)); return err },
		"Marked":      func() error { _, err := s.Marked(ctx, "acme", "x"); return err },
		"KeyRing":     func() error { _, err := s.KeyRing(ctx, "acme"); return err },
		"PutKeyRing":  func() error { return s.PutKeyRing(ctx, &oauth.KeyRing{Tenant: "acme"}, 0) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			err := call()
			d := time.Since(start)
			if !errors.Is(err, engine.ErrUnavailable) {
				t.Errorf("against a silent server: %v, want ErrUnavailable", err)
			}
			if d > timeout+500*time.Millisecond {
				t.Errorf("against a silent server took %v; the timeout is %v", d, timeout)
			}
		})
	}
}
