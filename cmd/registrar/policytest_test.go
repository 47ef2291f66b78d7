package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/internal/testkit"
)

// TestPolicyTest: policy test runs the module's side file and --cases
// files case by case, reports each, and exits 1 when one fails.
func TestPolicyTest(t *testing.T) {
	dir := t.TempDir()
	module := filepath.Join(dir, "tested.wasm")
	copyFile(t, "../../plugins/testdata/accept.wasm", module)
	// No cases anywhere is a usage error.
	e, _, _ := testEnv(nil)
	if err := run(context.Background(), []string{"policy", "test", module}, e); exitCode(err) != exitUsage {
		t.Fatalf("no cases: %v", err)
	}
	copyFile(t, "../../plugins/testdata/accept-tested.cases.json", filepath.Join(dir, "tested.cases.json"))
	e, out, _ := testEnv(nil)
	if err := run(context.Background(), []string{"policy", "test", module}, e); err != nil {
		t.Fatalf("passing cases: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "ok   names the client") || !strings.Contains(out.String(), "2 passed, 0 failed") {
		t.Errorf("output:\n%s", out.String())
	}
	// A case file whose expectation is wrong fails, with the difference,
	// and the other cases still run.
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"cases":[
	  {"name":"wrong name","hook":"policy","input":{"metadata":{}},"want":{"metadata":{"client_name":"refused"}}},
	  {"name":"right name","hook":"policy","input":{"metadata":{}},"want":{"metadata":{"client_name":"accepted"}}}]}`), 0o644)
	e, out, _ = testEnv(nil)
	err := run(context.Background(), []string{"policy", "test", module, "--cases", bad}, e)
	if exitCode(err) != exitError {
		t.Fatalf("failing case: %v (exit %d)", err, exitCode(err))
	}
	for _, want := range []string{"FAIL wrong name", `"accepted"`, "ok   right name", "3 passed, 1 failed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// The example policies' case files pass against their modules.
	e, out, _ = testEnv(nil)
	if err := run(context.Background(), []string{"policy", "test", "../../policies-examples/trusted-hosts/c/policy.wasm", "--cases", "../../policies-examples/trusted-hosts/cases.json"}, e); err != nil {
		t.Errorf("trusted-hosts: %v\n%s", err, out.String())
	}
}

// TestPolicyTestWatch: --watch runs the cases again when a case file
// changes, until the context ends.
func TestPolicyTestWatch(t *testing.T) {
	dir := t.TempDir()
	module := filepath.Join(dir, "tested.wasm")
	copyFile(t, "../../plugins/testdata/accept.wasm", module)
	cases := filepath.Join(dir, "cases.json")
	os.WriteFile(cases, []byte(`{"cases":[{"name":"first","hook":"policy","input":{"metadata":{}},"want":{"metadata":{"client_name":"accepted"}}}]}`), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	e, out, _ := testEnv(nil)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"policy", "test", module, "--cases", cases, "--watch", "--every", "10ms"}, e)
	}()
	testkit.Eventually(t, 30*time.Second, "the first run", func() bool { return strings.Contains(out.String(), "ok   first") })
	// A different size, so the change is seen whatever the clock's grain.
	os.WriteFile(cases, []byte(`{"cases":[{"name":"second, renamed","hook":"policy","input":{"metadata":{}},"want":{"metadata":{"client_name":"accepted"}}}]}`), 0o644)
	testkit.Eventually(t, 30*time.Second, "the run after the change", func() bool { return strings.Contains(out.String(), "ok   second, renamed") })
	cancel()
	if err := <-done; err != nil {
		t.Errorf("--watch ended with %v", err)
	}
}
