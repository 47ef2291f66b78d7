package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPolicyInspect(t *testing.T) {
	e, out, _ := testEnv(nil)
	if err := run(context.Background(), []string{"policy", "inspect", "../../sdk/testdata/minimal.wasm"}, e); err != nil {
		t.Fatal(err)
	}
	var info struct {
		Name       string   `json:"name"`
		ABIVersion int      `json:"abi_version"`
		Hooks      []string `json:"hooks"`
		Digest     string   `json:"digest"`
	}
	if err := json.Unmarshal([]byte(out.String()), &info); err != nil || info.Name != "minimal" || info.ABIVersion != 1 || len(info.Hooks) != 1 || len(info.Digest) != 64 {
		t.Fatalf("inspect printed %s (%v)", out.String(), err)
	}
	e, _, _ = testEnv(nil)
	err := run(context.Background(), []string{"policy", "inspect", "../../plugins/testdata/abi-v2.wasm"}, e)
	if err == nil || !strings.Contains(err.Error(), "ABI version 2") {
		t.Errorf("inspect of a bad module: %v", err)
	}
}

func TestPolicyRun(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "metadata.json")
	os.WriteFile(input, []byte(`{"redirect_uris":["https://app.example/cb"],"client_name":"App"}`), 0o644)

	e, out, _ := testEnv(nil)
	if err := run(context.Background(), []string{"policy", "run", "../../sdk/testdata/minimal.wasm", "--input", input}, e); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"client_name": "App"`) || !strings.Contains(out.String(), "(unchanged)") {
		t.Errorf("accept: %s", out.String())
	}

	e, out, _ = testEnv(nil)
	e.stdin = strings.NewReader(`{"metadata":{"redirect_uris":["http://app.example/cb"]},"tenant":"acme"}`)
	err := run(context.Background(), []string{"policy", "run", "--input", "-", "../../sdk/testdata/minimal.wasm"}, e)
	if exitCode(err) != exitRejected || !strings.Contains(err.Error(), "invalid_redirect_uri") {
		t.Fatalf("a rejection exits %d (%v), want %d", exitCode(err), err, exitRejected)
	}
	if !strings.Contains(out.String(), `"error": "invalid_redirect_uri"`) {
		t.Errorf("reject: %s", out.String())
	}
	// --allow-reject keeps the exit status 0 for scripts.
	e, _, _ = testEnv(nil)
	e.stdin = strings.NewReader(`{"redirect_uris":["http://app.example/cb"]}`)
	if err := run(context.Background(), []string{"policy", "run", "--allow-reject", "--input", "-", "../../sdk/testdata/minimal.wasm"}, e); err != nil {
		t.Errorf("--allow-reject: %v", err)
	}

	e, out, _ = testEnv(nil)
	if err := run(context.Background(), []string{"policy", "run", "../../plugins/testdata/rat-list.wasm", "--input", input}, e); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`~ client_name: "App" -> "From rat-list"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("diff lacks %q:\n%s", want, out.String())
		}
	}

	e, _, _ = testEnv(nil)
	err = run(context.Background(), []string{"policy", "run", "../../plugins/testdata/loop.wasm", "--input", input, "--timeout", "50ms"}, e)
	if err == nil || !strings.Contains(err.Error(), "50ms deadline") {
		t.Errorf("loop: %v", err)
	}
	e, _, _ = testEnv(nil)
	if err := run(context.Background(), []string{"policy", "run", "../../sdk/testdata/minimal.wasm", "--input", input, "--hook", "nope"}, e); exitCode(err) != 2 {
		t.Errorf("bad hook: %v", err)
	}
}

// TestServeWithPolicyDir: a module dropped in the policy folder is named by
// a token and changes registrations.
func TestServeWithPolicyDir(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, "../../sdk/testdata/minimal.wasm", filepath.Join(dir, "https-only.wasm"))
	const adminToken = "cli-admin-token-0123456789"
	addr, adminAddr, _ := startServe(t, map[string]string{"REGISTRAR_ADMIN_TOKEN": adminToken}, "--policy-dir", dir, "--data-dir", t.TempDir())

	e, out, errb := testEnv(map[string]string{"REGISTRAR_ADMIN_TOKEN": adminToken})
	if err := run(context.Background(), []string{"iat", "create", "--tenant", "default", "--admin-url", "http://" + adminAddr, "--policies", "https-only"}, e); err != nil {
		t.Fatalf("iat create: %v %s", err, errb.String())
	}
	var iat struct {
		Token string `json:"initial_access_token"`
	}
	json.Unmarshal([]byte(out.String()), &iat)
	req, _ := http.NewRequest("POST", "http://"+addr+"/reg", strings.NewReader(`{"redirect_uris":["https://app.example/cb"],"client_uri":"http://app.example"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+iat.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("the policy did not reject an http client_uri: %d", resp.StatusCode)
	}
}

// TestPolicyPush: a module pushed with the CLI serves at once, a shadow
// push leaves the active version alone, a refused module is an error with
// the server's reason.
func TestPolicyPush(t *testing.T) {
	const adminToken = "cli-admin-token-0123456789"
	_, adminAddr, _ := startServe(t, map[string]string{"REGISTRAR_ADMIN_TOKEN": adminToken})
	admin := "http://" + adminAddr
	push := func(args ...string) (map[string]any, string, error) {
		e, out, errb := testEnv(map[string]string{"REGISTRAR_ADMIN_TOKEN": adminToken})
		err := run(context.Background(), append([]string{"policy", "push", "--tenant", "default", "--admin-url", admin}, args...), e)
		var m map[string]any
		json.Unmarshal([]byte(out.String()), &m)
		return m, errb.String(), err
	}
	m, errs, err := push("../../plugins/testdata/accept.wasm", "--name", "namer")
	if err != nil || m["active"] == nil || m["revision"] != 1.0 {
		t.Fatalf("push: %v %v %s", m, err, errs)
	}
	active := m["active"]
	m, errs, err = push("../../plugins/testdata/accept-v2.wasm", "--name", "namer", "--shadow", "--if-match", "1")
	if err != nil || m["active"] != active || m["shadow"] == nil {
		t.Fatalf("shadow push: %v %v %s", m, err, errs)
	}
	_, errs, err = push("../../plugins/testdata/accept-v2.wasm", "--name", "namer", "--if-match", "1")
	if err == nil || !strings.Contains(err.Error(), "412") {
		t.Errorf("stale --if-match: %v %s", err, errs)
	}
	_, errs, err = push("../../plugins/testdata/forbidden-import.wasm", "--name", "namer")
	if err == nil || !strings.Contains(err.Error(), "400 invalid_request") || !strings.Contains(errs, "import") {
		t.Errorf("refused module: %v %s", err, errs)
	}
}

// TestPolicyRunChecksOutput: output the server refuses is an error (exit
// 1) naming why, as the server's own checks say (before: printed, exit 0).
func TestPolicyRunChecksOutput(t *testing.T) {
	input := filepath.Join(t.TempDir(), "metadata.json")
	os.WriteFile(input, []byte(`{"redirect_uris":["https://app.example/cb"]}`), 0o644)
	for module, want := range map[string]string{
		"garbage":        "invalid output: not a JSON object",
		"nul-output":     "invalid output: not a JSON object",
		"extra-member":   `invalid output: unexpected member "verdict"`,
		"server-managed": `policy set the server-managed member "client_id"`,
	} {
		e, out, _ := testEnv(nil)
		err := run(context.Background(), []string{"policy", "run", "../../plugins/testdata/" + module + ".wasm", "--input", input}, e)
		if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "500 server_error") {
			t.Errorf("%s: %v (exit %d), want exit 1 saying %q", module, err, exitCode(err), want)
		}
		if out.String() != "" {
			t.Errorf("%s: printed refused output %q", module, out.String())
		}
	}
}

// TestPolicyRunLimits: run uses the server's limits: a table bomb traps at
// the table cap, an hour's WASI sleep ends at the deadline, and
// --server-config's policy_limits apply.
func TestPolicyRunLimits(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "metadata.json")
	os.WriteFile(input, []byte(`{"redirect_uris":["https://app.example/cb"]}`), 0o644)
	cfg := filepath.Join(dir, "registrar.yaml")
	os.WriteFile(cfg, []byte("policy_limits:\n  timeout: 70ms\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"../../plugins/testdata/table-grow.wasm", "--timeout", "100ms"}, "trapped"},
		{[]string{"../../plugins/testdata/sleep.wasm"}, "ran past its 100ms deadline"},
		{[]string{"../../plugins/testdata/sleep.wasm", "--server-config", cfg}, "ran past its 70ms deadline"},
		{[]string{"../../plugins/testdata/loop.wasm", "--server-config", cfg, "--timeout", "60ms"}, "ran past its 60ms deadline"},
	} {
		e, _, _ := testEnv(nil)
		err := run(context.Background(), append([]string{"policy", "run", "--input", input}, c.args...), e)
		if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
}

// TestPolicyRunInputAsServer: the metadata reaches the module as the
// server passes it: member names unescaped, server-managed members
// dropped, duplicate members refused (before: passed on as written).
func TestPolicyRunInputAsServer(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "metadata.json")
	os.WriteFile(input, []byte(`{"redirect_uris":["https://app.example/cb"],"\u0063lient_name":"App","client_id":"chosen"}`), 0o644)
	e, out, _ := testEnv(nil)
	if err := run(context.Background(), []string{"policy", "run", "../../sdk/testdata/minimal.wasm", "--input", input}, e); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"client_name": "App"`) || strings.Contains(out.String(), `\u0063`) || strings.Contains(out.String(), "chosen") {
		t.Errorf("the module saw the metadata as written, not as the server passes it:\n%s", out.String())
	}
	os.WriteFile(input, []byte(`{"metadata":{"client_name":"A","\u0063lient_name":"B"}}`), 0o644)
	e, _, _ = testEnv(nil)
	if err := run(context.Background(), []string{"policy", "run", "../../sdk/testdata/minimal.wasm", "--input", input}, e); err == nil || !strings.Contains(err.Error(), `"client_name"`) || !strings.Contains(err.Error(), "appears more than once") {
		t.Errorf("duplicate member: %v", err)
	}
}
