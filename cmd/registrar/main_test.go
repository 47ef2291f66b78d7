package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/internal/testkit"
)

// testEnv is an environment with the variables vars, no input, and
// buffers for standard output and standard error.
func testEnv(vars map[string]string) (env, *testkit.Buffer, *testkit.Buffer) {
	out, errb := &testkit.Buffer{}, &testkit.Buffer{}
	return env{stdout: out, stderr: errb, stdin: strings.NewReader(""), getenv: func(k string) string { return vars[k] }}, out, errb
}

// startServe runs "registrar serve" in the background until the test ends,
// and waits until it answers.
func startServe(t *testing.T, vars map[string]string, args ...string) (addr, adminAddr string, stdout *testkit.Buffer) {
	t.Helper()
	addr, adminAddr, stdout, _, _ = backgroundServe(t, vars, args...)
	return addr, adminAddr, stdout
}

// startServeStoppable is startServe with a function that stops the
// server, as SIGTERM does, and waits for it; it returns the server's
// standard error, where its log goes.
func startServeStoppable(t *testing.T, vars map[string]string, args ...string) (addr, adminAddr string, logs *testkit.Buffer, stop func()) {
	t.Helper()
	addr, adminAddr, _, logs, stop = backgroundServe(t, vars, args...)
	return addr, adminAddr, logs, stop
}

// backgroundServe runs "registrar serve" in the background until stop is
// called or the test ends, and waits until it answers.
func backgroundServe(t *testing.T, vars map[string]string, args ...string) (addr, adminAddr string, stdout, stderr *testkit.Buffer, stop func()) {
	t.Helper()
	addr, adminAddr = testkit.FreeAddr(t), testkit.FreeAddr(t)
	e, out, errb := testEnv(vars)
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan struct{})
	var runErr error
	go func() {
		runErr = run(ctx, append([]string{"serve", "--addr", addr, "--admin-addr", adminAddr}, args...), e)
		close(exited)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-exited:
				if runErr != nil {
					t.Errorf("serve returned %v after shutdown", runErr)
				}
			case <-time.After(10 * time.Second):
				t.Error("serve did not stop on cancel")
			}
		})
	}
	t.Cleanup(stop)
	testkit.WaitReady(t, "http://"+addr+"/healthz", exited, 20*time.Second, func() string {
		select {
		case <-exited:
			return fmt.Sprintf("serve: %v\n%s", runErr, errb)
		default:
			return errb.String()
		}
	})
	return addr, adminAddr, out, errb, stop
}

func TestServeRegisterEndToEnd(t *testing.T) {
	const adminToken = "cli-admin-token-0123456789"
	addr, adminAddr, _ := startServe(t, map[string]string{"REGISTRAR_ADMIN_TOKEN": adminToken})
	ctx := context.Background()

	// Mint an initial access token with the CLI.
	e, out, errb := testEnv(map[string]string{"REGISTRAR_ADMIN_TOKEN": adminToken})
	if err := run(ctx, []string{"iat", "create", "--tenant", "default", "--admin-url", "http://" + adminAddr, "--expires-in", "PT1H", "--max-uses", "2"}, e); err != nil {
		t.Fatalf("iat create: %v\n%s", err, errb.String())
	}
	var iat struct {
		Token   string `json:"initial_access_token"`
		MaxUses int    `json:"max_uses"`
	}
	if err := json.Unmarshal([]byte(out.String()), &iat); err != nil || iat.Token == "" || iat.MaxUses != 2 {
		t.Fatalf("iat create printed %q (%v)", out.String(), err)
	}

	// Register from a file, then from standard input.
	file := filepath.Join(t.TempDir(), "client.json")
	if err := os.WriteFile(file, []byte(`{"redirect_uris":["https://app.example/cb"],"client_name":"CLI"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	e, out, errb = testEnv(nil)
	if err := run(ctx, []string{"register", "--issuer", "http://" + addr, "--iat", iat.Token, "--metadata", file}, e); err != nil {
		t.Fatalf("register: %v\n%s", err, errb.String())
	}
	var client map[string]any
	if err := json.Unmarshal([]byte(out.String()), &client); err != nil || client["client_name"] != "CLI" || client["client_secret"] == nil {
		t.Fatalf("register printed %q (%v)", out.String(), err)
	}
	e, _, _ = testEnv(map[string]string{"REGISTRAR_IAT": iat.Token})
	e.stdin = strings.NewReader(`{"redirect_uris":["https://app.example/cb2"]}`)
	if err := run(ctx, []string{"register", "--issuer", "http://" + addr, "--metadata", "-"}, e); err != nil {
		t.Fatalf("register from stdin: %v", err)
	}
	// The token admits two registrations; the third is refused, and the
	// provider's error JSON reaches standard error.
	e, _, errb = testEnv(map[string]string{"REGISTRAR_IAT": iat.Token})
	err := run(ctx, []string{"register", "--issuer", "http://" + addr, "--metadata", file}, e)
	if err == nil || !strings.Contains(err.Error(), "invalid_token") || !strings.Contains(errb.String(), `"error": "invalid_token"`) {
		t.Fatalf("third registration: err %v, stderr %s", err, errb.String())
	}
}

// TestServeMetrics: the served process counts its requests by route,
// tenant and status, and its store operations, at GET /metrics.
func TestServeMetrics(t *testing.T) {
	addr, adminAddr, _ := startServe(t, map[string]string{"REGISTRAR_ADMIN_TOKEN": "cli-admin-token-0123456789"})
	// The admin listener serves the same metrics, without a token.
	resp, err := http.Get("http://" + adminAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "registrar_build_info{") {
		t.Errorf("admin /metrics: %d %.200s", resp.StatusCode, b)
	}
	for _, p := range []string{"/.well-known/openid-configuration", "/tenants/nope/.well-known/openid-configuration", "/readyz"} {
		resp, err := http.Get("http://" + addr + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err = http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ = io.ReadAll(resp.Body)
	for _, want := range []string{
		`registrar_http_requests_total{listener="public",method="GET",route="/.well-known/openid-configuration",status="200",tenant="default"} 1`,
		`registrar_http_requests_total{listener="public",method="GET",route="/tenants/{tenant}/.well-known/openid-configuration",status="404",tenant="unknown"} 1`,
		`registrar_store_operation_duration_seconds_count{operation="Ping"}`,
		`registrar_build_info{`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(string(b), `tenant="nope"`) {
		t.Error("an unknown tenant's name became a label")
	}
}

func TestServeGeneratesAdminToken(t *testing.T) {
	_, adminAddr, out := startServe(t, nil)
	line := out.String()
	_, token, ok := strings.Cut(strings.TrimSpace(line), ": ")
	if !ok || len(token) < 32 {
		t.Fatalf("no admin token printed: %q", line)
	}
	req, _ := http.NewRequest("GET", "http://"+adminAddr+"/admin/tenants", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("printed admin token does not work: %d", resp.StatusCode)
	}
}

func TestServeConfigFile(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tenants.yaml")
	if err := os.WriteFile(cfg, []byte("tenants:\n  default:\n    initial_access_token: none\n  acme:\n    registration_validity: PT1H\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr, _, _ := startServe(t, map[string]string{"REGISTRAR_ADMIN_TOKEN": "cli-admin-token-0123456789", "REGISTRAR_CONFIG": cfg})
	resp, err := http.Post("http://"+addr+"/reg", "application/json", strings.NewReader(`{"redirect_uris":["https://app.example/cb"]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("open registration from the config file: %d", resp.StatusCode)
	}
	resp, err = http.Get("http://" + addr + "/tenants/acme/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("tenant from the config file: %d", resp.StatusCode)
	}
}

func TestServeRefusesBadStartup(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("tenants:\n  default:\n    initial_acess_token: none\n"), 0o600)
	badPolicies := filepath.Join(dir, "policies")
	os.Mkdir(badPolicies, 0o755)
	copyFile(t, "../../plugins/testdata/forbidden-import.wasm", filepath.Join(badPolicies, "forbidden.wasm"))
	badTenant := filepath.Join(dir, "badtenant.json")
	os.WriteFile(badTenant, []byte(`{"tenants":{"Bad_Name":{}}}`), 0o600)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"bad redis url", []string{"--redis-url", "http://127.0.0.1:6379"}, "--redis-url"},
		{"missing policy dir", []string{"--policy-dir", filepath.Join(dir, "no-such-dir")}, "--policy-dir"},
		{"bad policy module", []string{"--policy-dir", badPolicies}, "forbidden.wasm"},
		{"misspelt setting", []string{"--config", bad}, "initial_acess_token"},
		{"bad tenant name", []string{"--config", badTenant}, "Bad_Name"},
		{"missing config", []string{"--config", filepath.Join(dir, "nope.yaml")}, "nope.yaml"},
		{"bad log level", []string{"--log-level", "loud"}, "log-level"},
		{"bad issuer", []string{"--issuer", "ftp://x"}, "issuer"},
		{"stray argument", []string{"extra"}, "extra"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, _, _ := testEnv(map[string]string{"REGISTRAR_ADMIN_TOKEN": "cli-admin-token-0123456789"})
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"}, tc.args...)
			err := run(context.Background(), args, e)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// TestRegisterAgainstForeignProvider runs the client against a provider
// that only has RFC 8414 metadata, under an issuer with a path.
func TestRegisterAgainstForeignProvider(t *testing.T) {
	var got struct {
		auth, contentType string
		body              []byte
	}
	mux := http.NewServeMux()
	var issuer string
	mux.HandleFunc("GET /.well-known/oauth-authorization-server/auth", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"issuer":"`+issuer+`","registration_endpoint":"`+issuer+`/clients"}`)
	})
	mux.HandleFunc("POST /auth/clients", func(w http.ResponseWriter, r *http.Request) {
		got.auth, got.contentType = r.Header.Get("Authorization"), r.Header.Get("Content-Type")
		got.body, _ = io.ReadAll(r.Body)
		w.WriteHeader(201)
		io.WriteString(w, `{"client_id":"abc"}`)
	})
	srv := testkit.NewServer(t, mux)
	issuer = srv.URL + "/auth"

	e, out, errb := testEnv(nil)
	e.stdin = strings.NewReader(`{"redirect_uris":["https://x.example/cb"]}`)
	if err := run(context.Background(), []string{"register", "--issuer", issuer, "--iat", "tok", "--metadata", "-"}, e); err != nil {
		t.Fatalf("register: %v\n%s", err, errb.String())
	}
	if got.auth != "Bearer tok" || got.contentType != "application/json" || !strings.Contains(string(got.body), "x.example") {
		t.Errorf("provider received %+v", got)
	}
	if !strings.Contains(out.String(), `"client_id": "abc"`) {
		t.Errorf("output %q", out.String())
	}

	// A metadata document for another issuer is refused.
	e, _, _ = testEnv(nil)
	e.stdin = strings.NewReader(`{}`)
	err := run(context.Background(), []string{"register", "--issuer", srv.URL + "/other", "--metadata", "-"}, e)
	if err == nil {
		t.Fatal("registered without valid discovery")
	}
	mux.HandleFunc("GET /evil/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"issuer":"https://attacker.example","registration_endpoint":"https://attacker.example/reg"}`)
	})
	e.stdin = strings.NewReader(`{}`)
	err = run(context.Background(), []string{"register", "--issuer", srv.URL + "/evil", "--metadata", "-"}, e)
	if err == nil || !strings.Contains(err.Error(), "attacker") {
		t.Fatalf("issuer mismatch not refused: %v", err)
	}
}

func TestVersionAndUsage(t *testing.T) {
	e, out, _ := testEnv(nil)
	if err := run(context.Background(), []string{"version"}, e); err != nil || !strings.HasPrefix(out.String(), "registrar ") {
		t.Errorf("version: %v %q", err, out.String())
	}
	e, _, _ = testEnv(nil)
	if err := run(context.Background(), []string{"frobnicate"}, e); exitCode(err) != 2 {
		t.Errorf("unknown command: %v (exit %d)", err, exitCode(err))
	}
	if err := run(context.Background(), nil, e); exitCode(err) != 2 {
		t.Errorf("no command: %v", err)
	}
	if err := run(context.Background(), []string{"register"}, e); exitCode(err) != 2 {
		t.Errorf("register without flags: %v", err)
	}
	// --help of the binary and of every command exits 0 and lists the
	// command's flags.
	for _, args := range [][]string{{"--help"}, {"help"}, {"serve", "--help"}, {"policy", "push", "--help"}, {"iat", "create", "-h"}, {"client", "list", "--help"}} {
		e, out, _ := testEnv(nil)
		if err := run(context.Background(), args, e); err != nil {
			t.Errorf("%v: %v", args, err)
		}
		if !strings.Contains(out.String(), "Usage:") {
			t.Errorf("%v printed no usage: %q", args, out.String())
		}
	}
	e, out, _ = testEnv(nil)
	run(context.Background(), []string{"--help"}, e)
	for _, cmd := range []string{"serve", "register", "policy", "tenant", "iat", "client", "admin-token", "audit", "config", "version", "completion"} {
		if !strings.Contains(out.String(), "\n  "+cmd+" ") {
			t.Errorf("registrar --help does not list %s:\n%s", cmd, out.String())
		}
	}
	e, out, _ = testEnv(nil)
	run(context.Background(), []string{"policy", "--help"}, e)
	for _, cmd := range []string{"push", "run", "test", "inspect", "evaluate", "rollback", "status"} {
		if !strings.Contains(out.String(), "\n  "+cmd+" ") {
			t.Errorf("registrar policy --help does not list %s", cmd)
		}
	}
	// A flag error names the flag and is a usage error.
	e, _, _ = testEnv(nil)
	err := run(context.Background(), []string{"serve", "--max-body-bytes", "-5"}, e)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "--max-body-bytes") {
		t.Errorf("--max-body-bytes -5: %v", err)
	}
	err = run(context.Background(), []string{"iat", "create", "--bogus"}, e)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("unknown flag: %v", err)
	}
	err = run(context.Background(), []string{"register", "--issuer", "http://127.0.0.1:1", "--metadata", "-", "--iat", ""}, e)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "--iat") {
		t.Errorf("empty --iat: %v", err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
