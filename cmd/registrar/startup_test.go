package main

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/internal/redistest"
)

// TestFailedStartWritesNothing: a start that fails because a port is taken
// has written nothing to the store: no audit event of the modules it
// loaded, no replica status.
func TestFailedStartWritesNothing(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := t.TempDir()
	copyFile(t, "../../sdk/testdata/minimal.wasm", filepath.Join(dir, "https-only.wasm"))
	e, _, _ := testEnv(map[string]string{"REGISTRAR_ADMIN_TOKEN": "cli-admin-token-0123456789"})
	err = run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", taken.Addr().String(),
		"--redis-url", "redis://" + srv.Addr + "/0", "--policy-dir", dir}, e)
	if err == nil || !strings.Contains(err.Error(), "--admin-addr") {
		t.Fatalf("serve on a taken port: %v", err)
	}
	n, err := redistest.Command(srv.Addr, "DBSIZE")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(n) != "0" {
		keys, _ := redistest.Command(srv.Addr, "KEYS", "*")
		t.Errorf("a failed start left %s keys in Redis: %s", n, keys)
	}
}
