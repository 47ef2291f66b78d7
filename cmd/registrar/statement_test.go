package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/jose/josetest"
)

// TestServeSoftwareStatements: serve verifies the statements of a tenant
// that trusts an issuer (the verifier is wired into the engine, its
// replay marks into the store), counts them in /metrics, and iat create
// can require one.
func TestServeSoftwareStatements(t *testing.T) {
	const adminToken = "cli-admin-token-0123456789"
	key := josetest.NewKey(t, "ES256", "k1")
	config := filepath.Join(t.TempDir(), "tenants.json")
	cfg := map[string]any{"tenants": map[string]any{"fed": map[string]any{
		"initial_access_token": "none",
		"software_statement": map[string]any{
			"issuers": []map[string]any{{"issuer": "https://directory.example", "jwks": json.RawMessage(josetest.JWKS(t, key))}},
		},
	}}}
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(config, b, 0o600); err != nil {
		t.Fatal(err)
	}
	addr, adminAddr, _ := startServe(t, map[string]string{"REGISTRAR_ADMIN_TOKEN": adminToken}, "--config", config)

	statement := key.Sign(t, nil, map[string]any{"iss": "https://directory.example", "iat": time.Now().Unix(), "jti": "once", "client_name": "Vouched"})
	body := `{"redirect_uris":["https://app.example/cb"],"software_statement":"` + statement + `"}`
	post := func() (int, map[string]any) {
		resp, err := http.Post("http://"+addr+"/tenants/fed/reg", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	if status, m := post(); status != http.StatusCreated || m["client_name"] != "Vouched" || m["software_statement"] != statement {
		t.Fatalf("registration: %d %v", status, m)
	}
	if status, m := post(); status != http.StatusBadRequest || m["error"] != "invalid_software_statement" {
		t.Fatalf("replay: %d %v", status, m)
	}
	resp, err := http.Get("http://" + adminAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`registrar_software_statements_total{outcome="verified",tenant="fed"} 1`, `registrar_software_statements_total{outcome="invalid",tenant="fed"} 1`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	e, out, errb := testEnv(map[string]string{"REGISTRAR_ADMIN_TOKEN": adminToken})
	if err := run(context.Background(), []string{"iat", "create", "--tenant", "fed", "--admin-url", "http://" + adminAddr, "--software-statement-required"}, e); err != nil {
		t.Fatalf("iat create: %v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), `"software_statement_required": true`) {
		t.Errorf("iat create printed %s", out.String())
	}
}
