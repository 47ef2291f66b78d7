package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/plugins"
)

const policyUsage = `Usage:
  registrar policy inspect MODULE.wasm
  registrar policy run MODULE.wasm [--hook policy] --input FILE|- [--config FILE] [--tenant T] [--timeout 100ms] [--server-config FILE]
  registrar policy push MODULE.wasm --tenant T [--name NAME] [--shadow] [--if-match REVISION] [--admin-url URL]

inspect loads a module as Registrar would and prints its ABI version, hooks,
imports, size and digest, or why it would be refused.

run calls one hook of a module in the same sandbox as the server, under the
server's limits (its defaults, or the policy_limits of --server-config), and
prints its output (or its rejection), the metadata diff for the policy hook,
and the module's log lines on standard error. Output the server would refuse
(not JSON, an unknown member, a server-managed member, ...) is an error, as
are a trap and a deadline: run exits 1. --input is the hook's input document
(sdk/ABI.md §2) without abi, hook and now; a JSON object without a
"metadata" member is taken as the metadata itself. The metadata is decoded
as the server decodes a request (member names unescaped, duplicates refused,
server-managed members dropped; no tenant client_defaults). Missing members
get defaults (tenant "default", phase "register", no token, the module as
the only policy).

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
	timeout := fs.Duration("timeout", 0, "deadline of the call (default: the server's)")
	serverConfig := fs.String("server-config", envOr(e, "REGISTRAR_CONFIG", ""), "the server's configuration file (env REGISTRAR_CONFIG), for its policy_limits (default: the server's default limits)")
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
	limits := plugins.Limits{}
	if *serverConfig != "" {
		fc, err := loadConfig(*serverConfig)
		if err != nil {
			return fmt.Errorf("--server-config: %w", err)
		}
		limits = fc.PolicyLimits.limits()
	}
	if *timeout != 0 {
		limits.Timeout = *timeout
	}
	name := strings.TrimSuffix(filepath.Base(path), ".wasm")
	in, before, err := readInput(e, *input, *config, *tenant, h, name)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m, err := loadModule(ctx, path, limits, log)
	if err != nil {
		return fmt.Errorf("refused: %w", err)
	}
	defer m.Close(ctx)
	start := time.Now()
	trial, err := m.Try(ctx, h, start, in)
	took := time.Since(start)
	var rej *engine.Error
	switch {
	case errors.As(err, &rej):
		// The module's answer, which the client would receive.
		printJSON(e.stdout, trial.Output)
		fmt.Fprintf(e.stderr, "(%s hook rejected the request in %s)\n", h, took.Round(time.Microsecond))
		return nil
	case err == nil && h == engine.HookPolicy:
		// What the engine checks of a policy's answer besides the host.
		for k := range trial.Policy.Metadata {
			if engine.IsServerManaged(k) {
				err = fmt.Errorf("policy set the server-managed member %q", k)
			}
		}
	}
	if err != nil {
		if trial != nil && trial.Output != nil {
			fmt.Fprintf(e.stderr, "output refused: %q\n", truncateOutput(trial.Output))
		}
		return fmt.Errorf("the module failed (the server would answer 500 server_error): %w", err)
	}
	printJSON(e.stdout, trial.Output)
	fmt.Fprintf(e.stderr, "(%s hook ran in %s)\n", h, took.Round(time.Microsecond))
	if h == engine.HookPolicy {
		fmt.Fprint(e.stdout, metadataDiff(before, trial.Policy.Metadata))
	}
	return nil
}

// truncateOutput shortens a refused output for the error message.
func truncateOutput(b []byte) []byte {
	if len(b) > 256 {
		return append(b[:256:256], "..."...)
	}
	return b
}

func hookNames() string {
	names := make([]string, len(plugins.Hooks))
	for i, h := range plugins.Hooks {
		names[i] = string(h)
	}
	return strings.Join(names, ", ")
}

// runInput is the --input document besides its metadata: the members of
// the engine's hook inputs (sdk/ABI.md §2).
type runInput struct {
	Phase    engine.Phase         `json:"phase"`
	Tenant   string               `json:"tenant"`
	ClientID string               `json:"client_id"`
	Current  *engine.Metadata     `json:"current"`
	Token    *engine.TokenFacts   `json:"token"`
	Request  *engine.RequestFacts `json:"request"`
	Policies []string             `json:"policies"`
	Config   json.RawMessage      `json:"config"`
}

// readInput builds what the engine would pass to a hook from the --input
// file, filling in what it omits, and returns it with the metadata as the
// policy sees it. The metadata goes through the server's own decoding
// (engine.RequestMetadata: member names unescaped, duplicates refused,
// server-managed members dropped); for the factory and decision hooks it
// is validated as a tenant with default settings would.
func readInput(e env, path, configPath, tenant string, hook engine.Hook, module string) (any, map[string]json.RawMessage, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = readAll(e.stdin)
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("--input: %w", err)
	}
	top, err := engine.DecodeObject(b)
	if err != nil {
		return nil, nil, fmt.Errorf("--input: %v", err)
	}
	raw, ok := top["metadata"]
	if !ok {
		raw, top = b, nil // the file is the metadata
	}
	md, err := engine.RequestMetadata(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("--input: metadata: %v", err)
	}
	for _, k := range []string{"metadata", "abi", "hook", "now"} {
		delete(top, k) // the envelope is the host's
	}
	var ri runInput
	rest, err := json.Marshal(top)
	if err != nil {
		return nil, nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(rest))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ri); err != nil {
		return nil, nil, fmt.Errorf("--input: %v", err)
	}
	if ri.Tenant == "" {
		ri.Tenant = tenant
	}
	if ri.Phase == "" && hook != engine.HookIDFactory && hook != engine.HookSecretFactory {
		ri.Phase = engine.PhaseRegister
	}
	if ri.Policies == nil {
		ri.Policies = []string{module}
	}
	if ri.Token == nil {
		ri.Token = &engine.TokenFacts{Kind: "none", Policies: ri.Policies}
	}
	if ri.Request == nil {
		ri.Request = &engine.RequestFacts{RemoteIP: "127.0.0.1"}
	}
	if configPath != "" {
		c, err := os.ReadFile(configPath)
		if err != nil || !json.Valid(c) {
			return nil, nil, fmt.Errorf("--config: %s is not a JSON file (%v)", configPath, err)
		}
		ri.Config = c
	}
	if hook == engine.HookPolicy {
		return &engine.PolicyInput{
			Phase: ri.Phase, Tenant: ri.Tenant, ClientID: ri.ClientID, Metadata: md, Current: ri.Current,
			Token: *ri.Token, Request: *ri.Request, Policies: ri.Policies, Config: ri.Config,
		}, md, nil
	}
	valid, err := engine.ValidateMetadata(engine.Settings{}, md, jose.KeySetChecker{})
	if err != nil {
		return nil, nil, fmt.Errorf("--input: the server would refuse this metadata before the %s hook: %v", hook, err)
	}
	if hook == engine.HookIDFactory || hook == engine.HookSecretFactory {
		return &engine.FactoryInput{Tenant: ri.Tenant, Metadata: valid, Token: *ri.Token, Request: *ri.Request, Config: ri.Config}, md, nil
	}
	return &engine.DecisionInput{
		Phase: ri.Phase, Tenant: ri.Tenant, ClientID: ri.ClientID, Metadata: valid,
		Token: *ri.Token, Request: *ri.Request, Config: ri.Config,
	}, md, nil
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
