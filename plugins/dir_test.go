package plugins_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/plugins"
)

// policyDir lays out a policy folder: files maps "path" to fixture name.
func policyDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for path, name := range files {
		full := filepath.Join(dir, path)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, fixture(t, name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func newHost(t *testing.T, cfg plugins.Config) *plugins.Host {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testkit.DiscardLogger()
	}
	h, err := plugins.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	return h
}

// TestPolicyFolder: shared modules are seen by every tenant, a tenant's
// own module shadows a shared one of the same name and is seen by no one
// else, and other files are ignored.
func TestPolicyFolder(t *testing.T) {
	dir := policyDir(t, map[string]string{
		"minimal.wasm":        "minimal",
		"decide.wasm":         "no-rat",
		"acme/minimal.wasm":   "reject", // acme's own "minimal" rejects everything
		"acme/ids.wasm":       "fixed-id",
		"globex/secrets.wasm": "const-secret",
	})
	os.WriteFile(filepath.Join(dir, "README.md"), []byte("notes"), 0o644)
	os.WriteFile(filepath.Join(dir, "bad name!.wasm"), []byte("ignored: not a module name"), 0o644)
	os.Mkdir(filepath.Join(dir, "Not_A_Tenant"), 0o755)
	h := newHost(t, plugins.Config{Dir: dir, CacheDir: t.TempDir()})

	has := []struct {
		tenant, name string
		hook         engine.Hook
		want         bool
	}{
		{"default", "minimal", engine.HookPolicy, true},
		{"default", "minimal", engine.HookIDFactory, false},
		{"acme", "minimal", engine.HookPolicy, true},
		{"acme", "ids", engine.HookIDFactory, true},
		{"globex", "ids", engine.HookIDFactory, false},
		{"default", "ids", engine.HookIDFactory, false},
		{"acme", "secrets", engine.HookSecretFactory, false},
		{"globex", "secrets", engine.HookSecretFactory, true},
		{"acme", "decide", engine.HookIssueRAT, true},
		{"acme", "nope", engine.HookPolicy, false},
	}
	for _, c := range has {
		if got := h.Has(c.tenant, c.name, c.hook); got != c.want {
			t.Errorf("Has(%s, %s, %s) = %v", c.tenant, c.name, c.hook, got)
		}
	}
	if n := len(h.Modules()); n != 5 {
		t.Errorf("%d modules loaded, want 5: %+v", n, h.Modules())
	}
	visible := func(tenant string) string {
		var s []string
		for _, m := range h.Visible(tenant) {
			s = append(s, m.Tenant+"/"+m.Name)
		}
		return strings.Join(s, " ")
	}
	for tenant, want := range map[string]string{
		"acme":    "/decide acme/ids acme/minimal", // its own minimal shadows the shared one
		"globex":  "/decide /minimal globex/secrets",
		"default": "/decide /minimal",
		"acme-2":  "/decide /minimal", // a name that acme is a prefix of sees nothing of acme's
	} {
		if got := visible(tenant); got != want {
			t.Errorf("Visible(%s) = %q, want %q", tenant, got, want)
		}
	}

	ctx := context.Background()
	in := &engine.PolicyInput{Phase: engine.PhaseRegister, Tenant: "default", Metadata: map[string]json.RawMessage{
		"redirect_uris": json.RawMessage(`["https://app.example/cb"]`),
	}}
	out, err := h.Policy(ctx, "default", "minimal", in)
	if err != nil || string(out.Metadata["redirect_uris"]) != `["https://app.example/cb"]` {
		t.Fatalf("shared minimal: %+v %v", out, err)
	}
	_, err = h.Policy(ctx, "acme", "minimal", in)
	var e *engine.Error
	if !errors.As(err, &e) || e.Code != engine.CodeInvalidClientMetadata || e.Description != "rejected by the reject fixture" {
		t.Fatalf("acme's shadowing minimal: %v", err)
	}
	if id, err := h.ClientID(ctx, "acme", "ids", &engine.FactoryInput{Tenant: "acme"}); err != nil || id != "fixed-client-id" {
		t.Errorf("ClientID: %q %v", id, err)
	}
	if s, err := h.ClientSecret(ctx, "globex", "secrets", &engine.FactoryInput{Tenant: "globex"}); err != nil || len(s) != 42 {
		t.Errorf("ClientSecret: %q %v", s, err)
	}
	if d, err := h.Decide(ctx, "acme", "decide", engine.HookIssueRAT, &engine.DecisionInput{Tenant: "acme"}); err != nil || d {
		t.Errorf("Decide: %v %v", d, err)
	}
	if _, err := h.ClientID(ctx, "globex", "ids", &engine.FactoryInput{Tenant: "globex"}); err == nil {
		t.Error("globex reached acme's module")
	}
}

// TestPolicyFolderRefusesBadModules: one bad module fails start-up, and the
// error names every bad file.
func TestPolicyFolderRefusesBadModules(t *testing.T) {
	dir := policyDir(t, map[string]string{
		"minimal.wasm":      "minimal",
		"bad.wasm":          "forbidden-import",
		"acme/worse.wasm":   "abi-v2",
		"acme/minimal.wasm": "minimal",
	})
	_, err := plugins.New(context.Background(), plugins.Config{Dir: dir, Logger: testkit.DiscardLogger()})
	if err == nil {
		t.Fatal("a folder with bad modules loaded")
	}
	for _, want := range []string{"bad.wasm", "acme/worse.wasm", `imports from "env"`, "ABI version 2"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, err := plugins.New(context.Background(), plugins.Config{Dir: filepath.Join(dir, "missing"), Logger: testkit.DiscardLogger()}); err == nil {
		t.Error("a missing folder loaded")
	}
}

// TestOutputSchema: outputs that break the ABI's schema fail the call; a
// rejection comes through as the client's error.
func TestOutputSchema(t *testing.T) {
	dir := policyDir(t, map[string]string{
		"garbage.wasm": "garbage", "extra-member.wasm": "extra-member", "bad-code.wasm": "bad-code",
		"rat-list.wasm": "rat-list", "bad-id.wasm": "bad-id", "reject.wasm": "reject",
	})
	var buf testkit.Buffer
	h := newHost(t, plugins.Config{Dir: dir, Logger: slogTo(&buf)})
	ctx := context.Background()
	in := &engine.PolicyInput{Tenant: "default", Metadata: map[string]json.RawMessage{}}
	for name, want := range map[string]string{
		"garbage":      "not a JSON object",
		"extra-member": `unexpected member "verdict"`,
		"bad-code":     "error must be one of",
	} {
		_, err := h.Policy(ctx, "default", name, in)
		var e *engine.Error
		if err == nil || errors.As(err, &e) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want a failure saying %q", name, err, want)
		}
		if !strings.Contains(buf.String(), `"module":"`+name+`"`) {
			t.Errorf("%s: failure not logged with the module's name", name)
		}
	}
	out, err := h.Policy(ctx, "default", "rat-list", in)
	if err != nil || strings.Join(out.RegistrationPolicies, ",") != "minimal" || string(out.Metadata["client_name"]) != `"From rat-list"` {
		t.Errorf("rat-list: %+v %v", out, err)
	}
	// The host passes a malformed ID through: the engine refuses it.
	if id, err := h.ClientID(ctx, "default", "bad-id", &engine.FactoryInput{}); err != nil || id != "has spaces" {
		t.Errorf("bad-id: %q %v", id, err)
	}
}

// TestCompilationCacheDir: a second host on the same cache folder loads the
// module from native code.
func TestCompilationCacheDir(t *testing.T) {
	dir := policyDir(t, map[string]string{"minimal.wasm": "minimal"})
	cache := t.TempDir()
	h := newHost(t, plugins.Config{Dir: dir, CacheDir: cache})
	h.Close(context.Background())
	entries, err := os.ReadDir(cache)
	if err != nil || len(entries) == 0 {
		t.Fatalf("nothing cached in %s: %v", cache, err)
	}
	h2 := newHost(t, plugins.Config{Dir: dir, CacheDir: cache, Limits: plugins.Limits{Timeout: time.Second}})
	if !h2.Has("default", "minimal", engine.HookPolicy) {
		t.Error("module not loaded from the cache")
	}
}
