package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigValidate: config validate runs serve's start-up checks, and
// each error names the file, the line, the tenant and the setting.
func TestConfigValidate(t *testing.T) {
	dir := t.TempDir()
	policies := filepath.Join(dir, "policies")
	os.Mkdir(policies, 0o755)
	copyFile(t, "../../sdk/testdata/minimal.wasm", filepath.Join(policies, "https-only.wasm"))
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yaml", `tenants:
  default:
    initial_access_token: none
    default_policies: [https-only]
  acme:
    registration_validity: PT1H
    registration_rate_limit:
      off: true
    software_statement:
      issuers:
        - issuer: https://directory.example
          jwks_uri: https://keys.directory.example/jwks
`)
	cases := []struct {
		name, file string
		want       []string // substrings of the error; none: valid
	}{
		{"good", good, nil},
		{"unknown setting", write("typo.yaml", "tenants:\n  acme:\n    max_clients: 3\n    initial_acess_token: none\n"),
			[]string{"typo.yaml:4", `tenant "acme"`, `unknown setting "initial_acess_token"`}},
		{"wrong type", write("type.yaml", "tenants:\n  acme:\n\n    max_clients: lots\n"),
			[]string{"type.yaml:4", `tenant "acme"`, "max_clients"}},
		{"bad value", write("value.yaml", "tenants:\n  acme:\n    initial_access_token: sometimes\n"),
			[]string{"value.yaml:3", `tenant "acme"`, "initial_access_token"}},
		{"missing module", write("missing.yaml", "tenants:\n  globex:\n    id_factory: nope\n    default_policies: [https-only]\n"),
			[]string{"missing.yaml:3", `tenant "globex"`, "id_factory", `"nope"`, "--policy-dir"}},
		{"syntax", write("syntax.yaml", "tenants:\n  acme: [\n"), []string{"syntax.yaml:", "line"}},
		{"statement issuer refused by the guard", write("guard.yaml", "tenants:\n  acme:\n    software_statement:\n      issuers:\n        - issuer: x\n          jwks_uri: https://169.254.169.254/jwks\n"),
			[]string{`tenant "acme"`, "software_statement", "outbound guard"}},
		{"encrypted secrets", write("enc.yaml", "tenants:\n  default: {}\n  acme:\n    client_secret_storage: encrypted\n    token_endpoint_auth_methods_supported: [client_secret_jwt]\n"), nil},
		{"client_secret_jwt with hashed secrets", write("hashed.yaml", "tenants:\n  acme:\n    token_endpoint_auth_methods_supported: [client_secret_jwt]\n"),
			[]string{`tenant "acme"`, "client_secret_storage encrypted"}},
		{"twice", write("twice.yaml", "tenants:\n  acme: {}\n  acme: {}\n"), []string{"twice.yaml:3", "twice"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, out, _ := testEnv(nil)
			err := run(context.Background(), []string{"config", "validate", tc.file, "--policy-dir", policies}, e)
			if tc.want == nil {
				if err != nil || !strings.Contains(out.String(), "ok (2 tenants)") {
					t.Fatalf("valid file: %v %q", err, out.String())
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "json:") || strings.Contains(err.Error(), "unmarshal") {
				t.Errorf("error shows decoder internals: %q", err)
			}
		})
	}

	// serve runs the same checks: a policy named in the config that does
	// not exist stops start-up, naming it, before anything serves.
	e, _, _ := testEnv(map[string]string{"REGISTRAR_ADMIN_TOKEN": "cli-admin-token-0123456789"})
	err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--config", filepath.Join(dir, "missing.yaml"), "--policy-dir", policies}, e)
	if err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("serve with a missing module: %v", err)
	}
}
