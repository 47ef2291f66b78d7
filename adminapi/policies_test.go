package adminapi_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/memstore"
	"github.com/registrar-dev/registrar/plugins"
)

// setupPolicies is setup with a real policy host over the memory store.
func setupPolicies(t *testing.T) *env { return setupPoliciesAnswered(t, nil) }

// setupPoliciesAnswered is setupPolicies whose admin server tells answered
// the operation and status of each response (see checked).
func setupPoliciesAnswered(t *testing.T, answered func(string)) *env {
	t.Helper()
	return setupPoliciesWith(t, memstore.Config{}, answered)
}

// setupPoliciesWith is setupPoliciesAnswered over a memory store made with
// cfg.
func setupPoliciesWith(t *testing.T, cfg memstore.Config, answered func(string)) *env {
	t.Helper()
	store := memstore.New(cfg)
	host, err := plugins.New(context.Background(), plugins.Config{Store: store, Logger: testkit.DiscardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	go host.Run(ctx)
	t.Cleanup(func() { stop(); host.Close(context.Background()) })
	return serve(t, store, engine.Config{Modules: host, Tenants: map[string]engine.Settings{"acme": {}, "globex": {}}}, host, answered)
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../plugins/testdata/" + name + ".wasm")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// upload PUTs module bytes.
func (e *env) upload(path, bearer string, wasm []byte, header map[string]string) (int, http.Header, map[string]any) {
	e.t.Helper()
	h := map[string]string{"Content-Type": "application/wasm"}
	for k, v := range header {
		h[k] = v
	}
	return e.do("admin", "PUT", path, bearer, string(wasm), h)
}

func TestPolicyVersions(t *testing.T) {
	e := setupPolicies(t)
	const p = "/admin/tenants/acme/policies/namer"
	v1, v2 := fixture(t, "accept"), fixture(t, "accept-v2")
	d1, d2 := engine.HashToken(string(v1)), engine.HashToken(string(v2))

	status, h, m := e.upload(p, token, v1, nil)
	if status != 201 || h.Get("ETag") != `"1"` || h.Get("Location") != p || m["active"] != d1 {
		t.Fatalf("first upload: %d %v %v", status, h, m)
	}
	status, h, m = e.upload(p, token, v2, map[string]string{"If-Match": `"1"`})
	if status != 200 || h.Get("ETag") != `"2"` || m["active"] != d2 || len(m["versions"].([]any)) != 2 {
		t.Fatalf("second upload: %d %v %v", status, h, m)
	}
	if status, _, m := e.upload(p, token, v1, map[string]string{"If-Match": `"1"`}); status != 412 || m["error"] != "precondition_failed" {
		t.Errorf("stale If-Match: %d %v", status, m)
	}
	for name, tc := range map[string]struct {
		body   []byte
		header map[string]string
		want   string
	}{
		"garbage":           {[]byte("\x00asm\x01\x00\x00\x00garbage"), nil, "invalid_request"},
		"not wasm":          {[]byte("hello"), nil, "invalid_request"},
		"forbidden import":  {fixture(t, "forbidden-import"), nil, "invalid_request"},
		"wrong ABI version": {fixture(t, "abi-v2"), nil, "invalid_request"},
		"empty":             {nil, nil, "invalid_request"},
		"shadow=maybe":      {v1, nil, "invalid_request"},
	} {
		path := p
		if name == "shadow=maybe" {
			path += "?shadow=maybe"
		}
		if status, _, m := e.upload(path, token, tc.body, tc.header); status != 400 || m["error"] != tc.want {
			t.Errorf("%s: %d %v", name, status, m)
		}
	}
	status, m = e.adm("GET", p, "")
	serving, _ := m["serving"].(map[string]any)
	if status != 200 || serving["digest"] != d2 || m["uploaded"].(map[string]any)["revision"] != 2.0 {
		t.Fatalf("inspect: %d %v", status, m)
	}

	// Roll back, then run v2 in shadow and promote it.
	status, m = e.adm("POST", p+"/activate", `{"digest":"`+d1+`"}`)
	if status != 200 || m["active"] != d1 {
		t.Fatalf("rollback: %d %v", status, m)
	}
	if status, m := e.adm("POST", p+"/activate", `{"digest":"`+strings.Repeat("0", 64)+`"}`); status != 404 {
		t.Errorf("activate an unknown version: %d %v", status, m)
	}
	status, m = e.adm("POST", p+"/shadow", `{"digest":"`+d2+`"}`)
	if status != 200 || m["shadow"] != d2 || m["active"] != d1 {
		t.Fatalf("shadow: %d %v", status, m)
	}
	status, m = e.adm("POST", p+"/promote", "")
	if status != 200 || m["active"] != d2 || m["shadow"] != nil {
		t.Fatalf("promote: %d %v", status, m)
	}

	// Dry runs: the active version, a kept one, bytes not stored.
	eval := func(body string) map[string]any {
		t.Helper()
		status, m := e.adm("POST", p+"/evaluate", body)
		if status != 200 {
			t.Fatalf("evaluate %s: %d %v", body, status, m)
		}
		return m
	}
	m = eval(`{"metadata":{"client_name":"mine","redirect_uris":["https://app.example/cb"]}}`)
	if m["version"] != d2 || m["accepted"] != true || !strings.Contains(fmt.Sprint(m["diff"]), "accepted v2") || !strings.Contains(fmt.Sprint(m["diff"]), "removed") {
		t.Errorf("evaluate the active version: %v", m)
	}
	if m := eval(`{"metadata":{},"digest":"` + d1 + `"}`); m["version"] != d1 {
		t.Errorf("evaluate a kept version: %v", m)
	}
	rej := fixture(t, "reject")
	m = eval(`{"metadata":{},"wasm_base64":"` + base64.StdEncoding.EncodeToString(rej) + `"}`)
	if m["accepted"] != false || m["error"] != "invalid_client_metadata" || m["version"] != engine.HashToken(string(rej)) {
		t.Errorf("evaluate a candidate: %v", m)
	}
	if _, m := e.adm("GET", p, ""); len(m["uploaded"].(map[string]any)["versions"].([]any)) != 2 {
		t.Errorf("a dry run stored a version: %v", m)
	}
	if status, m := e.adm("POST", p+"/evaluate", `{"metadata":{},"metadata":{}}`); status != 400 {
		t.Errorf("evaluate with duplicate members: %d %v", status, m)
	}

	// Tenant admins manage their own tenant's policies only.
	acme, _ := e.adminToken("acme")
	if status, _, m := e.upload(p, acme, v1, nil); status != 200 {
		t.Errorf("acme's admin uploads: %d %v", status, m)
	}
	if status, _, _ := e.upload("/admin/tenants/globex/policies/namer", acme, v1, nil); status != 401 {
		t.Errorf("acme's admin uploads to globex: %d", status)
	}
	if status, _ := e.call(e.admin, "GET", "/admin/policies/status", acme, ""); status != 401 {
		t.Errorf("acme's admin reads the fleet status: %d", status)
	}
	// Every replica reports its status to the store (at start, then every
	// few seconds); this one has reported once Run started.
	for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		status, m := e.adm("GET", "/admin/policies/status", "")
		if status == 200 && strings.Contains(fmt.Sprint(m), "namer") {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("status: %d %v", status, m)
		}
	}
	if _, m := e.adm("GET", "/admin/tenants/globex/policies", ""); strings.Contains(fmt.Sprint(m), "namer") {
		t.Errorf("globex sees acme's upload: %v", m)
	}

	// Remove it: gone, with its versions.
	if status, m := e.adm("DELETE", p, ""); status != 204 {
		t.Fatalf("remove: %d %v", status, m)
	}
	if status, _ := e.adm("GET", p, ""); status != 404 {
		t.Errorf("inspect after remove: %d", status)
	}
	if status, m := e.adm("POST", p+"/promote", ""); status < 400 {
		t.Errorf("promote after remove: %d %v", status, m)
	}
}

// TestPolicyLimits: a tenant's uploads beyond its policy limits are
// refused, 409 for one policy too many and 413 for too many bytes, and
// leave nothing behind; another tenant is not affected, and a removal
// makes room.
func TestPolicyLimits(t *testing.T) {
	v1, v2 := fixture(t, "accept"), fixture(t, "accept-v2")
	e := setupPoliciesWith(t, memstore.Config{PolicyLimits: engine.PolicyLimits{
		MaxPolicies: 2, MaxBytes: int64(2*len(v1) + len(v2) - 1),
	}}, nil)
	const base = "/admin/tenants/acme/policies/"
	for _, name := range []string{"a", "b"} {
		if status, _, m := e.upload(base+name, token, v1, nil); status != 201 {
			t.Fatalf("upload %s: %d %v", name, status, m)
		}
	}
	status, _, m := e.upload(base+"c", token, v1, nil)
	if status != 409 || m["error"] != "conflict" || !strings.Contains(fmt.Sprint(m["error_description"]), "remove one first") {
		t.Errorf("a third policy: %d %v, want 409 conflict", status, m)
	}
	if status, _ := e.adm("GET", base+"c", ""); status != 404 {
		t.Errorf("the refused policy exists: %d", status)
	}
	status, _, m = e.upload(base+"a", token, v2, nil)
	if status != 413 || m["error"] != "request_too_large" {
		t.Errorf("a version over the byte limit: %d %v, want 413 request_too_large", status, m)
	}
	if status, m := e.adm("GET", base+"a", ""); status != 200 || m["uploaded"].(map[string]any)["active"] != engine.HashToken(string(v1)) {
		t.Errorf("the refused version changed the policy: %d %v", status, m)
	}
	if status, _, m := e.upload("/admin/tenants/globex/policies/c", token, v1, nil); status != 201 {
		t.Errorf("another tenant's upload: %d %v", status, m)
	}
	if status, _ := e.adm("DELETE", base+"b", ""); status != 204 {
		t.Fatalf("delete: %d", status)
	}
	if status, _, m := e.upload(base+"a", token, v2, nil); status != 200 {
		t.Errorf("upload after a removal made room: %d %v", status, m)
	}
}
