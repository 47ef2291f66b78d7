package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/plugins"
)

const policyUsage = `Usage:
  registrar policy inspect MODULE.wasm
  registrar policy run MODULE.wasm [--hook policy] --input FILE|- [--config FILE] [--tenant T] [--timeout 100ms]
  registrar policy push MODULE.wasm --tenant T [--name NAME] [--shadow] [--if-match REVISION] [--admin-url URL]

inspect loads a module as Registrar would and prints its ABI version, hooks,
imports, size and digest, or why it would be refused.

run calls one hook of a module in the same sandbox as the server and prints
its output (or its rejection), the metadata diff for the policy hook, and the
module's log lines on standard error. --input is the hook's input document
(sdk/ABI.md §2) without abi, hook and now; a JSON object without a
"metadata" member is taken as the metadata itself. Missing members get
defaults (tenant "default", phase "register", no token).

push uploads a module to a running Registrar through its admin API
(PUT /admin/tenants/T/policies/NAME, authenticated by REGISTRAR_ADMIN_TOKEN,
which may be a tenant admin token of T): the server verifies it, runs its
self-tests, stores it and activates it on every replica (--shadow: runs it
in shadow instead). NAME defaults to the file name without .wasm. It prints
the policy's record: its versions and which one is active.
`

func policyCmd(ctx context.Context, args []string, e env) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, policyUsage)
		return usageError{"usage: registrar policy inspect|run MODULE.wasm ..."}
	}
	switch args[0] {
	case "inspect":
		return policyInspect(ctx, args[1:], e)
	case "run":
		return policyRun(ctx, args[1:], e)
	case "push":
		return policyPush(ctx, args[1:], e)
	case "help", "-h", "--help":
		fmt.Fprint(e.stdout, policyUsage)
		return nil
	}
	fmt.Fprint(e.stderr, policyUsage)
	return usageError{fmt.Sprintf("unknown policy command %q", args[0])}
}

// splitModuleArg takes the module path, which may come before or after the flags.
func splitModuleArg(args []string) (string, []string) {
	for i, a := range args {
		if strings.HasSuffix(a, ".wasm") && !strings.HasPrefix(a, "-") && (i == 0 || !strings.HasPrefix(args[i-1], "--") || strings.Contains(args[i-1], "=")) {
			return a, append(slices.Clone(args[:i]), args[i+1:]...)
		}
	}
	return "", args
}

// loadModule loads a module file the way the server does.
func loadModule(ctx context.Context, path string, limits plugins.Limits, log *slog.Logger) (*plugins.Module, error) {
	wasm, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	name := strings.TrimSuffix(filepath.Base(path), ".wasm")
	return plugins.Load(ctx, wasm, plugins.LoadOptions{Name: name, Limits: limits, Logger: log})
}

func policyInspect(ctx context.Context, args []string, e env) error {
	path, rest := splitModuleArg(args)
	if path == "" || len(rest) > 0 {
		return usageError{"usage: registrar policy inspect MODULE.wasm"}
	}
	m, err := loadModule(ctx, path, plugins.Limits{}, slog.New(slog.NewTextHandler(e.stderr, nil)))
	if err != nil {
		return fmt.Errorf("refused: %w", err)
	}
	defer m.Close(ctx)
	b, err := json.MarshalIndent(m.Info(), "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s\n", b)
	return nil
}

func policyRun(ctx context.Context, args []string, e env) error {
	path, rest := splitModuleArg(args)
	fs := newFlagSet("registrar policy run", e)
	hook := fs.String("hook", string(engine.HookPolicy), "hook to call: "+hookNames())
	input := fs.String("input", "", `input document file, or "-" for standard input (required)`)
	config := fs.String("config", "", "JSON file with the module's configuration (the config member)")
	tenant := fs.String("tenant", engine.DefaultTenant, "tenant of the input, when it names none")
	timeout := fs.Duration("timeout", 0, "deadline of the call (default: the server's, 100ms)")
	fs.Usage = func() { fmt.Fprint(fs.Output(), policyUsage) }
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	if path == "" || *input == "" {
		return usageError{"usage: registrar policy run MODULE.wasm --input FILE"}
	}
	h := engine.Hook(*hook)
	if !slices.Contains(plugins.Hooks, h) {
		return usageError{fmt.Sprintf("--hook %q: want one of %s", *hook, hookNames())}
	}
	doc, err := readInput(e, *input, *config, *tenant, h)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m, err := loadModule(ctx, path, plugins.Limits{Timeout: *timeout}, log)
	if err != nil {
		return fmt.Errorf("refused: %w", err)
	}
	defer m.Close(ctx)
	start := time.Now()
	out, err := m.Call(ctx, h, doc)
	took := time.Since(start)
	if err != nil {
		return fmt.Errorf("the module failed (the server would answer 500 server_error): %w", err)
	}
	printJSON(e.stdout, out)
	fmt.Fprintf(e.stderr, "(%s hook ran in %s)\n", h, took.Round(time.Microsecond))
	if h == engine.HookPolicy {
		var in, res struct {
			Metadata map[string]json.RawMessage `json:"metadata"`
		}
		if json.Unmarshal(doc, &in) == nil && json.Unmarshal(out, &res) == nil && res.Metadata != nil {
			fmt.Fprint(e.stdout, metadataDiff(in.Metadata, res.Metadata))
		}
	}
	return nil
}

func hookNames() string {
	names := make([]string, len(plugins.Hooks))
	for i, h := range plugins.Hooks {
		names[i] = string(h)
	}
	return strings.Join(names, ", ")
}

// readInput builds the input document of a hook from the --input file,
// filling in what it omits.
func readInput(e env, path, configPath, tenant string, hook engine.Hook) ([]byte, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = readAll(e.stdin)
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("--input: %w", err)
	}
	var in map[string]json.RawMessage
	if err := json.Unmarshal(b, &in); err != nil || in == nil {
		return nil, fmt.Errorf("--input: not a JSON object")
	}
	if _, ok := in["metadata"]; !ok {
		in = map[string]json.RawMessage{"metadata": json.RawMessage(b)}
	}
	defaults := map[string]string{
		"tenant":  fmt.Sprintf("%q", tenant),
		"token":   `{"kind":"none","policies":[]}`,
		"request": `{"remote_ip":"127.0.0.1"}`,
	}
	if hook == engine.HookPolicy || hook == engine.HookIssueRAT || hook == engine.HookRotateRAT {
		defaults["phase"] = `"register"`
	}
	if hook == engine.HookPolicy {
		defaults["policies"] = `[]`
	}
	for k, v := range defaults {
		if _, ok := in[k]; !ok {
			in[k] = json.RawMessage(v)
		}
	}
	if configPath != "" {
		c, err := os.ReadFile(configPath)
		if err != nil || !json.Valid(c) {
			return nil, fmt.Errorf("--config: %s is not a JSON file (%v)", configPath, err)
		}
		in["config"] = json.RawMessage(c)
	}
	body, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	// The envelope the server writes: abi, hook and now first.
	head := fmt.Sprintf(`{"abi":%d,"hook":%q,"now":%d,`, plugins.ABIVersion, hook, time.Now().Unix())
	return append([]byte(head), body[1:]...), nil
}

// metadataDiff lists what a policy changed: + added, - removed, ~ changed.
func metadataDiff(before, after map[string]json.RawMessage) string {
	var b strings.Builder
	b.WriteString("metadata diff:\n")
	changes := engine.DiffMetadata(before, after)
	for _, c := range changes {
		switch c.Op {
		case "added":
			fmt.Fprintf(&b, "  + %s: %s\n", c.Member, c.After)
		case "removed":
			fmt.Fprintf(&b, "  - %s: %s\n", c.Member, c.Before)
		default:
			fmt.Fprintf(&b, "  ~ %s: %s -> %s\n", c.Member, c.Before, c.After)
		}
	}
	if len(changes) == 0 {
		b.WriteString("  (unchanged)\n")
	}
	return b.String()
}

func compact(v json.RawMessage) []byte {
	var buf bytes.Buffer
	if json.Compact(&buf, v) != nil {
		return v
	}
	return buf.Bytes()
}

func policyPush(ctx context.Context, args []string, e env) error {
	path, rest := splitModuleArg(args)
	fs := newFlagSet("registrar policy push", e)
	adminURL := fs.String("admin-url", envOr(e, "REGISTRAR_ADMIN_URL", "http://127.0.0.1:8081"), "admin API base URL (env REGISTRAR_ADMIN_URL)")
	tenant := fs.String("tenant", "default", "tenant")
	name := fs.String("name", "", "policy name (default: the file name without .wasm)")
	shadow := fs.Bool("shadow", false, "run the new version in shadow instead of activating it")
	ifMatch := fs.Int64("if-match", 0, "upload only if the policy is at this revision")
	fs.Usage = func() { fmt.Fprint(fs.Output(), policyUsage) }
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	if path == "" || fs.NArg() > 0 {
		return usageError{"usage: registrar policy push MODULE.wasm --tenant T [--name NAME] [--shadow]"}
	}
	token := e.getenv("REGISTRAR_ADMIN_TOKEN")
	if token == "" {
		return usageError{"set REGISTRAR_ADMIN_TOKEN to the admin token (or a tenant admin token)"}
	}
	wasm, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if *name == "" {
		*name = strings.TrimSuffix(filepath.Base(path), ".wasm")
	}
	target := strings.TrimRight(*adminURL, "/") + "/admin/tenants/" + url.PathEscape(*tenant) + "/policies/" + url.PathEscape(*name)
	if *shadow {
		target += "?shadow=true"
	}
	var header map[string]string
	if *ifMatch > 0 {
		header = map[string]string{"If-Match": fmt.Sprintf("%q", strconv.FormatInt(*ifMatch, 10))}
	}
	return send(ctx, e, "PUT", target, token, "application/wasm", header, wasm)
}
