package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/internal/testkit"
)

// recorder is a reverse proxy in front of the admin API that records the
// method and path of every request the CLI sends.
type recorder struct {
	mu   sync.Mutex
	seen []string // "METHOD /path"
}

func (rec *recorder) start(t *testing.T, adminAddr string) string {
	target, _ := url.Parse("http://" + adminAddr)
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := testkit.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.seen = append(rec.seen, r.Method+" "+r.URL.EscapedPath())
		rec.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	return srv.URL
}

// TestAdminCommands drives every admin route through the CLI against a
// running server, and checks that no route of the API's OpenAPI document
// lacks a command.
func TestAdminCommands(t *testing.T) {
	const adminToken = "cli-admin-token-0123456789"
	addr, adminAddr, _ := startServe(t, map[string]string{"REGISTRAR_ADMIN_TOKEN": adminToken})
	var rec recorder
	admin := rec.start(t, adminAddr)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "admin-token")
	if err := os.WriteFile(tokenFile, []byte(adminToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// cli runs a command with the token file and returns its JSON output.
	// The token file's flag goes before a "--", after which every argument
	// is positional: a client ID may begin with "-".
	cli := func(args ...string) map[string]any {
		t.Helper()
		e, out, errb := testEnv(map[string]string{"REGISTRAR_ADMIN_URL": admin})
		end := slices.Index(args, "--")
		if end < 0 {
			end = len(args)
		}
		args = slices.Concat(args[:end], []string{"--admin-token-file", tokenFile}, args[end:])
		if err := run(ctx, args, e); err != nil {
			t.Fatalf("registrar %s: %v\n%s", strings.Join(args, " "), err, errb.String())
		}
		var m map[string]any
		if s := strings.TrimSpace(out.String()); s != "" {
			if err := json.Unmarshal([]byte(s), &m); err != nil {
				t.Fatalf("registrar %s printed %q", strings.Join(args, " "), s)
			}
		}
		return m
	}
	str := func(m map[string]any, k string) string {
		t.Helper()
		s, _ := m[k].(string)
		if s == "" {
			t.Fatalf("no %s in %v", k, m)
		}
		return s
	}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}

	// Tenants. The settings file is YAML 1.2: "off" is a key.
	settings := write("acme.yaml", "initial_access_token: stored\nregistration_rate_limit:\n  off: true\n")
	cli("tenant", "put", "acme", "--settings", settings)
	if got := cli("tenant", "get", "acme"); got["name"] != "acme" {
		t.Fatalf("tenant get: %v", got)
	}
	if got := cli("tenant", "list"); !strings.Contains(jsonString(got), `"acme"`) {
		t.Fatalf("tenant list: %v", got)
	}

	// Initial access tokens, and a registration with one.
	iat := cli("iat", "create", "--tenant", "acme", "--max-uses", "5", "--expires-in", "PT1H")
	iatID, iatToken := str(iat, "id"), str(iat, "initial_access_token")
	cli("iat", "list", "--tenant", "acme", "--all")
	if got := cli("iat", "get", iatID, "--tenant", "acme"); got["id"] != iatID {
		t.Fatalf("iat get: %v", got)
	}
	e, out, errb := testEnv(nil)
	e.stdin = strings.NewReader(`{"redirect_uris":["https://app.example/cb"]}`)
	if err := run(ctx, []string{"register", "--issuer", "http://" + addr + "/tenants/acme", "--iat", iatToken, "--metadata", "-"}, e); err != nil {
		t.Fatalf("register: %v %s", err, errb.String())
	}
	var client map[string]any
	json.Unmarshal([]byte(out.String()), &client)
	clientID := str(client, "client_id")

	// Clients.
	if got := cli("client", "list", "--tenant", "acme", "--initial-access-token", iatID); !strings.Contains(jsonString(got), clientID) {
		t.Fatalf("client list by token: %v", got)
	}
	if got := cli("client", "get", "--tenant", "acme", "--", clientID); got["client_id"] != clientID {
		t.Fatalf("client get: %v", got)
	}
	str(cli("client", "rat", "--tenant", "acme", "--", clientID), "registration_access_token")

	// Policies: push two versions, shadow, promote, roll back, activate,
	// evaluate a file, status, delete.
	v1 := str(cli("policy", "push", "../../plugins/testdata/accept.wasm", "--tenant", "acme", "--name", "namer"), "active")
	pushed := cli("policy", "push", "../../plugins/testdata/accept-v2.wasm", "--tenant", "acme", "--name", "namer", "--shadow")
	v2 := str(pushed, "shadow")
	cli("policy", "list", "--tenant", "acme")
	cli("policy", "get", "namer", "--tenant", "acme")
	if got := cli("policy", "promote", "namer", "--tenant", "acme"); got["active"] != v2 {
		t.Fatalf("promote: %v", got)
	}
	if got := cli("policy", "rollback", "namer", "--tenant", "acme"); got["active"] != v1 {
		t.Fatalf("rollback to %s: %v", v1, got)
	}
	if got := cli("policy", "activate", "namer", "--tenant", "acme", "--version", v2); got["active"] != v2 {
		t.Fatalf("activate: %v", got)
	}
	if got := cli("policy", "shadow", "namer", "--tenant", "acme", "--version", v1); got["shadow"] != v1 {
		t.Fatalf("shadow: %v", got)
	}
	metadata := write("md.json", `{"redirect_uris":["https://app.example/cb"]}`)
	if got := cli("policy", "evaluate", "namer", "--tenant", "acme", "--metadata", metadata, "--module", "../../plugins/testdata/accept.wasm"); got["metadata"] == nil && got["decision"] == nil {
		t.Fatalf("evaluate: %v", got)
	}
	cli("policy", "status")
	cli("policy", "delete", "namer", "--tenant", "acme")

	// Tenant admin tokens.
	at := cli("admin-token", "create", "--tenant", "acme", "--description", "ci")
	atID := str(at, "id")
	cli("admin-token", "list", "--tenant", "acme")
	cli("admin-token", "revoke", atID, "--tenant", "acme")

	// Signing keys: the first rotation makes the tenant's first keys.
	if got := cli("keys", "rotate", "--tenant", "acme"); !strings.Contains(jsonString(got), `"state":"next"`) {
		t.Fatalf("keys rotate: %v", got)
	}
	if keys, _ := cli("keys", "list", "--tenant", "acme")["keys"].([]any); len(keys) != 2 {
		t.Fatalf("keys list: %v", keys)
	}

	// Audit: the tenant's log names the client; the process log answers.
	e, out, errb = testEnv(map[string]string{"REGISTRAR_ADMIN_URL": admin, "REGISTRAR_ADMIN_TOKEN": adminToken})
	if err := run(ctx, []string{"audit", "--tenant", "acme", "--client-id", clientID, "--limit", "50"}, e); err != nil {
		t.Fatalf("audit: %v %s", err, errb.String())
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) < 2 || !strings.Contains(out.String(), `"client.registered"`) {
		t.Fatalf("audit --client-id printed %q", out.String())
	}
	e, _, errb = testEnv(map[string]string{"REGISTRAR_ADMIN_URL": admin, "REGISTRAR_ADMIN_TOKEN": adminToken})
	if err := run(ctx, []string{"audit"}, e); err != nil {
		t.Fatalf("process audit: %v %s", err, errb.String())
	}

	// Deleting: one client, then the rest by filter, the token, the tenant.
	cli("client", "delete", "--tenant", "acme", "--", clientID)
	if got := cli("client", "delete-matching", "--tenant", "acme", "--initial-access-token", iatID, "--yes"); got["deleted"] != 0.0 {
		t.Fatalf("delete-matching after the only client was deleted: %v", got)
	}
	cli("iat", "revoke", iatID, "--tenant", "acme")
	cli("tenant", "delete", "acme")

	// Every route of the OpenAPI document was called by some command.
	b, err := os.ReadFile("../../adminapi/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for path, ops := range doc.Paths {
		if path == "/admin/openapi.json" {
			continue // the document itself, for tools
		}
		segs := strings.Split(path, "/")
		for i, s := range segs {
			if strings.HasPrefix(s, "{") {
				segs[i] = `[^/]+`
			} else {
				segs[i] = regexp.QuoteMeta(s)
			}
		}
		re := regexp.MustCompile("^" + strings.Join(segs, "/") + "$")
		for method := range ops {
			m := strings.ToUpper(method)
			if m != "GET" && m != "PUT" && m != "POST" && m != "DELETE" {
				continue
			}
			found := false
			for _, s := range rec.seen {
				mm, p, _ := strings.Cut(s, " ")
				found = found || (mm == m && re.MatchString(p))
			}
			if !found {
				t.Errorf("no CLI command calls %s %s", m, path)
			}
		}
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestAdminCommandErrors: the shared flags are checked before anything is
// sent, and the server's error reaches standard error.
func TestAdminCommandErrors(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"iat", "create"}, map[string]string{"REGISTRAR_ADMIN_TOKEN": "x"}, "--tenant is required"},
		{[]string{"policy", "push", "x.wasm", "--tenant", "t"}, map[string]string{"REGISTRAR_ADMIN_TOKEN": "x"}, "name"},
		{[]string{"tenant", "list"}, nil, "REGISTRAR_ADMIN_TOKEN"},
		{[]string{"tenant", "list", "--admin-token-file", "/nonexistent/token"}, nil, "--admin-token-file"},
		{[]string{"tenant", "list", "--output", "yaml"}, map[string]string{"REGISTRAR_ADMIN_TOKEN": "x"}, "--output"},
		{[]string{"tenant", "list", "--admin-url", "ftp://x"}, map[string]string{"REGISTRAR_ADMIN_TOKEN": "x"}, "--admin-url"},
		{[]string{"client", "delete-matching", "--tenant", "t", "--policy", "p@x"}, map[string]string{"REGISTRAR_ADMIN_TOKEN": "x"}, "--yes"},
		{[]string{"client", "delete-matching", "--tenant", "t", "--yes"}, map[string]string{"REGISTRAR_ADMIN_TOKEN": "x"}, "needs --initial-access-token or --policy"},
		{[]string{"iat", "create", "--tenant", "t", "--replacement"}, map[string]string{"REGISTRAR_ADMIN_TOKEN": "x"}, "--client-id"},
	}
	for _, tc := range cases {
		e, _, _ := testEnv(tc.env)
		err := run(context.Background(), tc.args, e)
		if exitCode(err) != exitUsage || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v (exit %d), want a usage error mentioning %q", tc.args, err, exitCode(err), tc.want)
		}
	}

	const adminToken = "cli-admin-token-0123456789"
	_, adminAddr, _ := startServe(t, map[string]string{"REGISTRAR_ADMIN_TOKEN": adminToken})
	e, _, errb := testEnv(map[string]string{"REGISTRAR_ADMIN_TOKEN": adminToken, "REGISTRAR_ADMIN_URL": "http://" + adminAddr})
	err := run(context.Background(), []string{"tenant", "get", "nope"}, e)
	if exitCode(err) != exitError || !strings.Contains(err.Error(), "404") || !strings.Contains(errb.String(), `"error"`) {
		t.Errorf("tenant get of a missing tenant: %v, stderr %q", err, errb.String())
	}
	// A table shows a listing with a header row.
	e, out, _ := testEnv(map[string]string{"REGISTRAR_ADMIN_TOKEN": adminToken, "REGISTRAR_ADMIN_URL": "http://" + adminAddr})
	if err := run(context.Background(), []string{"tenant", "list", "--output", "table"}, e); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) < 2 || !strings.HasPrefix(lines[0], "NAME") || !strings.HasPrefix(lines[1], "default") {
		t.Errorf("tenant list --output table:\n%s", out.String())
	}
}

// TestAuditFollow: audit --follow prints events as they happen, oldest
// first, with its filters, until interrupted.
func TestAuditFollow(t *testing.T) {
	const adminToken = "cli-admin-token-0123456789"
	_, adminAddr, _ := startServe(t, map[string]string{"REGISTRAR_ADMIN_TOKEN": adminToken})
	vars := map[string]string{"REGISTRAR_ADMIN_TOKEN": adminToken, "REGISTRAR_ADMIN_URL": "http://" + adminAddr}
	ctx, cancel := context.WithCancel(context.Background())
	e, out, _ := testEnv(vars)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"audit", "--tenant", "default", "--follow", "--every", "10ms", "--type", "initial_access_token.minted"}, e)
	}()
	// Three tokens minted one after the other reach the output in order;
	// the revocation in between is filtered out.
	var ids []string
	for i := range 3 {
		e2, o2, _ := testEnv(vars)
		if err := run(context.Background(), []string{"iat", "create", "--tenant", "default"}, e2); err != nil {
			t.Fatal(err)
		}
		var tok struct{ ID string }
		json.Unmarshal([]byte(o2.String()), &tok)
		ids = append(ids, tok.ID)
		if i == 1 {
			run(context.Background(), []string{"iat", "revoke", tok.ID, "--tenant", "default"}, e2)
		}
	}
	testkit.Eventually(t, 30*time.Second, "three lines of output", func() bool { return strings.Count(out.String(), "\n") >= 3 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("audit --follow ended with %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("followed %d events, want 3:\n%s", len(lines), out.String())
	}
	for i, l := range lines {
		if !strings.Contains(l, `"initial_access_token.minted"`) || !strings.Contains(l, ids[i]) {
			t.Errorf("event %d: %s, want the minting of %s", i, l, ids[i])
		}
	}
}
