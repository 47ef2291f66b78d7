package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/idn"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/plugins"
)

// policyCmd groups the policy author's local tools (inspect, run, test)
// and the operator's commands over the admin API.
func policyCmd(e env) *cobra.Command {
	o := &adminOptions{}
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Test policy modules locally; push, list, activate, shadow and evaluate them on a server",
		Long: `Local tools, which need no server:
  inspect, run, test

Commands over the admin API (--admin-url, REGISTRAR_ADMIN_TOKEN or
--admin-token-file, --tenant):
  push, list, get, delete, activate, rollback, shadow, promote, evaluate, status`,
		Args: cobra.NoArgs,
	}
	addAdminFlags(cmd, o, e, true)
	cmd.AddCommand(policyInspectCmd(e), policyRunCmd(e), policyTestCmd(e))
	cmd.AddCommand(policyRemoteCmds(o, e)...)
	return cmd
}

// loadModule loads a module file the way the server does.
func loadModule(ctx context.Context, path string, opts plugins.LoadOptions) (*plugins.Module, []byte, error) {
	wasm, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	opts.Name = strings.TrimSuffix(filepath.Base(path), ".wasm")
	m, err := plugins.Load(ctx, wasm, opts)
	return m, wasm, err
}

func policyInspectCmd(e env) *cobra.Command {
	return &cobra.Command{
		Use:   "inspect MODULE.wasm",
		Short: "Load a module as the server would; print its ABI version, hooks, imports, size and digest",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, _, err := loadModule(cmd.Context(), args[0], plugins.LoadOptions{Logger: slog.New(slog.NewTextHandler(e.stderr, nil))})
			if err != nil {
				return fmt.Errorf("refused: %w", err)
			}
			defer m.Close(cmd.Context())
			b, err := json.MarshalIndent(m.Info(), "", "  ")
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s\n", b)
			return nil
		},
	}
}

// runOptions are the flags of policy run.
type runOptions struct {
	hook, input, config, tenant string
	serverConfig                string
	timeout                     time.Duration
	allowReject                 bool
}

func policyRunCmd(e env) *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run MODULE.wasm --input FILE|-",
		Short: "Call one hook of a module in the server's sandbox and print its output",
		Long: `Calls one hook of a module in the same sandbox as the server, under the
server's limits (its defaults, or the policy_limits of --server-config), and
prints its output (or its rejection), the metadata diff for the policy hook,
and the module's log lines on standard error. --input is the hook's input
document (sdk/ABI.md §2) without abi, hook and now; a JSON object without a
"metadata" member is taken as the metadata itself. The metadata is decoded as
the server decodes a request (member names unescaped, duplicates refused,
server-managed members dropped; no tenant client_defaults). Missing members
get defaults (tenant "default", phase "register", no token, the module as the
only policy).

Exit status: 0 when the hook accepted; 3 when it rejected (0 with
--allow-reject); 1 when the module failed, or answered output the server
would refuse (not JSON, an unknown or server-managed member, ...): the
server would answer 500.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return policyRun(cmd.Context(), args[0], o, e)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.hook, "hook", string(engine.HookPolicy), "hook to call: "+hookNames())
	f.StringVar(&o.input, "input", "", `input document file, or "-" for standard input (required)`)
	f.StringVar(&o.config, "config", "", "JSON file with the module's configuration (the config member)")
	f.StringVar(&o.tenant, "tenant", engine.DefaultTenant, "tenant of the input, when it names none")
	f.DurationVar(&o.timeout, "timeout", 0, "deadline of the call (default: the server's)")
	f.StringVar(&o.serverConfig, "server-config", envOr(e, "REGISTRAR_CONFIG", ""), "the server's configuration file (env REGISTRAR_CONFIG), for its policy_limits (default: the server's default limits)")
	f.BoolVar(&o.allowReject, "allow-reject", false, "exit 0 when the hook rejects its input")
	_ = cmd.MarkFlagRequired("input")
	return cmd
}

// limits are the server's limits (its defaults, or the policy_limits of
// --server-config), with --timeout's deadline when it is given.
func (o runOptions) limits() (plugins.Limits, error) {
	if o.timeout < 0 {
		return plugins.Limits{}, usageError{"--timeout must not be negative"}
	}
	limits := plugins.Limits{}
	if o.serverConfig != "" {
		fc, err := loadConfig(o.serverConfig)
		if err != nil {
			return limits, fmt.Errorf("--server-config: %w", err)
		}
		limits = fc.PolicyLimits.limits()
	}
	if o.timeout != 0 {
		limits.Timeout = o.timeout
	}
	return limits, nil
}

// runnableHook refuses a --hook that policy run cannot call.
func runnableHook(h engine.Hook) error {
	if !slices.Contains(plugins.Hooks, h) {
		return usageError{fmt.Sprintf("--hook %q: want one of %s", h, hookNames())}
	}
	if h == engine.HookIssueAccessToken {
		return usageError{"--hook issue_access_token: policy run does not build token endpoint input yet; test the hook with cases (cases.json)"}
	}
	return nil
}

func policyRun(ctx context.Context, path string, o runOptions, e env) error {
	h := engine.Hook(o.hook)
	if err := runnableHook(h); err != nil {
		return err
	}
	limits, err := o.limits()
	if err != nil {
		return err
	}
	name := strings.TrimSuffix(filepath.Base(path), ".wasm")
	in, before, err := readInput(e, o.input, o.config, o.tenant, h, name)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m, _, err := loadModule(ctx, path, plugins.LoadOptions{Limits: limits, Logger: log})
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
		if o.allowReject {
			return nil
		}
		return rejected{fmt.Sprintf("the %s hook rejected its input: %s", h, rej.Code)}
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
	md, ri, err := parseRunInput(e, path)
	if err != nil {
		return nil, nil, err
	}
	ri.fill(tenant, hook, module)
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
	valid, err := engine.ValidateMetadata(engine.Settings{}, md, jose.KeySetChecker{}, idn.Normalizer{})
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

// parseRunInput reads the --input file: the metadata, decoded as the
// server decodes a request, and the other members of the input document.
func parseRunInput(e env, path string) (map[string]json.RawMessage, runInput, error) {
	var ri runInput
	b, err := readSource(e, "--input", path)
	if err != nil {
		return nil, ri, err
	}
	top, err := engine.DecodeObject(b)
	if err != nil {
		return nil, ri, fmt.Errorf("--input: %v", err)
	}
	raw, ok := top["metadata"]
	if !ok {
		raw, top = b, nil // the file is the metadata
	}
	md, err := engine.RequestMetadata(raw)
	if err != nil {
		return nil, ri, fmt.Errorf("--input: metadata: %v", err)
	}
	for _, k := range []string{"metadata", "abi", "hook", "now"} {
		delete(top, k) // the envelope is the host's
	}
	rest, err := json.Marshal(top)
	if err != nil {
		return nil, ri, err
	}
	dec := json.NewDecoder(bytes.NewReader(rest))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ri); err != nil {
		return nil, ri, fmt.Errorf("--input: %v", err)
	}
	return md, ri, nil
}

// fill gives the members the input file left out their defaults: the
// tenant of --tenant, the register phase, the module as the only policy,
// open registration, a loopback client.
func (ri *runInput) fill(tenant string, hook engine.Hook, module string) {
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

// policyRemoteCmds are the policy commands over the admin API.
func policyRemoteCmds(o *adminOptions, e env) []*cobra.Command {
	simple := func(use, short string, needName, needTenant bool, path func(args []string) string) *cobra.Command {
		args := cobra.NoArgs
		if needName {
			args = cobra.ExactArgs(1)
		}
		return &cobra.Command{
			Use: use, Short: short, Args: args,
			RunE: runE(o, needTenant, func(ctx context.Context, a []string) error {
				return o.print(ctx, request{method: http.MethodGet, path: path(a)})
			}),
		}
	}
	list := simple("list", "List the modules the tenant can use (GET …/policies)", false, true, func([]string) string { return o.tenantPath("policies") })
	get := simple("get NAME", "Show the serving version and the uploaded versions of a policy (GET …/policies/{name})", true, true, func(a []string) string { return o.policyPath(a[0]) })
	status := simple("status", "Show every replica's policy modules: versions, state, last error (GET /admin/policies/status)", false, false, func([]string) string { return "/admin/policies/status" })
	return []*cobra.Command{
		policyPushCmd(o), list, get, policyDeleteCmd(o),
		policyChangeCmd(o, "activate NAME --version SHA256", "Serve a kept version: roll back or forward (POST …/activate)", "activate", true),
		policyRollbackCmd(o),
		policyChangeCmd(o, "shadow NAME [--version SHA256]", "Run a kept version in shadow; without --version, stop the shadow (POST …/shadow)", "shadow", false),
		policyChangeCmd(o, "promote NAME", "Make the shadow version the active one (POST …/promote)", "promote", false),
		policyEvaluateCmd(o, e), status,
	}
}

// policyPath is the admin path of a tenant's policy, followed by elems.
func (o *adminOptions) policyPath(name string, elems ...string) string {
	return o.tenantPath(append([]string{"policies", name}, elems...)...)
}

func policyPushCmd(o *adminOptions) *cobra.Command {
	var (
		name    string
		shadow  bool
		ifMatch int64
	)
	push := &cobra.Command{
		Use:   "push MODULE.wasm --tenant T --name NAME",
		Short: "Upload a module to a running server (PUT …/policies/{name})",
		Long: `Uploads a module through the admin API: the server verifies it, runs its
self-tests, stores it and activates it on every replica (--shadow: runs it in
shadow beside the active version instead). Prints the policy's record: its
versions and which one is active. --tenant and --name are required, so that a
module never lands in the wrong place under a guessed name.`,
		Args: cobra.ExactArgs(1),
		RunE: runE(o, true, func(ctx context.Context, args []string) error {
			wasm, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			path := o.policyPath(name)
			if shadow {
				path += "?shadow=true"
			}
			return o.print(ctx, request{method: http.MethodPut, path: path, body: wasm, contentType: "application/wasm", header: ifMatchHeader(ifMatch)})
		}),
	}
	push.Flags().StringVar(&name, "name", "", "the policy's name in the tenant (required)")
	push.Flags().BoolVar(&shadow, "shadow", false, "run the new version in shadow instead of activating it")
	push.Flags().Int64Var(&ifMatch, "if-match", 0, "upload only if the policy is at this revision")
	_ = push.MarkFlagRequired("name")
	return push
}

func policyDeleteCmd(o *adminOptions) *cobra.Command {
	var ifMatch int64
	del := &cobra.Command{
		Use: "delete NAME", Short: "Remove an uploaded policy and its versions (DELETE …/policies/{name})", Args: cobra.ExactArgs(1),
		RunE: runE(o, true, func(ctx context.Context, args []string) error {
			return o.print(ctx, request{method: http.MethodDelete, path: o.policyPath(args[0]), header: ifMatchHeader(ifMatch)})
		}),
	}
	del.Flags().Int64Var(&ifMatch, "if-match", 0, "remove only if the policy is at this revision")
	return del
}

// policyChangeCmd is a POST to one of a policy's change routes; those that
// name a version take --version.
func policyChangeCmd(o *adminOptions, use, short, route string, needDigest bool) *cobra.Command {
	var digest string
	var rev int64
	c := &cobra.Command{
		Use: use, Short: short, Args: cobra.ExactArgs(1),
		RunE: runE(o, true, func(ctx context.Context, args []string) error {
			if needDigest && digest == "" {
				return usageError{"--version is required: the SHA-256 of a kept version (policy get lists them)"}
			}
			var body []byte
			if route != "promote" {
				body = jsonBody(map[string]string{"digest": digest})
			}
			return o.print(ctx, request{method: http.MethodPost, path: o.policyPath(args[0], route), body: body, header: ifMatchHeader(rev)})
		}),
	}
	if route != "promote" {
		c.Flags().StringVar(&digest, "version", "", "the version's SHA-256 digest")
	}
	c.Flags().Int64Var(&rev, "if-match", 0, "change only if the policy is at this revision")
	return c
}

func policyRollbackCmd(o *adminOptions) *cobra.Command {
	var ifMatch int64
	rollback := &cobra.Command{
		Use:   "rollback NAME",
		Short: "Serve the version uploaded before the active one (POST …/activate)",
		Args:  cobra.ExactArgs(1),
		RunE: runE(o, true, func(ctx context.Context, args []string) error {
			b, err := o.do(ctx, request{method: http.MethodGet, path: o.policyPath(args[0])})
			if err != nil {
				return fail(o.e.stderr, err)
			}
			digest, rev, err := previousVersion(b)
			if err != nil {
				return err
			}
			if ifMatch > 0 && ifMatch != rev {
				return fmt.Errorf("the policy is at revision %d, not %d", rev, ifMatch)
			}
			// Conditional on the revision read, so that a change in between
			// is not rolled back blindly.
			return o.print(ctx, request{method: http.MethodPost, path: o.policyPath(args[0], "activate"), body: jsonBody(map[string]string{"digest": digest}), header: ifMatchHeader(rev)})
		}),
	}
	rollback.Flags().Int64Var(&ifMatch, "if-match", 0, "roll back only if the policy is at this revision")
	return rollback
}

// evaluateOptions are the flags of policy evaluate.
type evaluateOptions struct {
	metadata, version, module, phase, config string
}

// body builds the evaluate request from the flags.
func (ev evaluateOptions) body(e env) ([]byte, error) {
	if ev.version != "" && ev.module != "" {
		return nil, usageError{"--version and --module exclude each other"}
	}
	md, err := readSource(e, "--metadata", ev.metadata)
	if err != nil {
		return nil, err
	}
	if !json.Valid(md) {
		return nil, usageError{"--metadata: not JSON"}
	}
	req := map[string]any{"metadata": json.RawMessage(md)}
	if ev.version != "" {
		req["digest"] = ev.version
	}
	if ev.module != "" {
		wasm, err := os.ReadFile(ev.module)
		if err != nil {
			return nil, fmt.Errorf("--module: %w", err)
		}
		req["wasm_base64"] = base64.StdEncoding.EncodeToString(wasm)
	}
	if ev.phase != "" {
		req["phase"] = ev.phase
	}
	if ev.config != "" {
		c, err := os.ReadFile(ev.config)
		if err != nil || !json.Valid(c) {
			return nil, usageError{fmt.Sprintf("--config: %s is not a JSON file (%v)", ev.config, err)}
		}
		req["config"] = json.RawMessage(c)
	}
	return jsonBody(req), nil
}

func policyEvaluateCmd(o *adminOptions, e env) *cobra.Command {
	var ev evaluateOptions
	evaluate := &cobra.Command{
		Use:   "evaluate NAME --metadata FILE|- [--version SHA256 | --module FILE.wasm]",
		Short: "Dry-run a version on client metadata; print the decision and diff (POST …/evaluate)",
		Long: `Runs the active version of a policy, a kept version (--version) or a module
file (--module, sent in the request body, so modules of any size work) on the
given client metadata, and prints the decision and the member diff. Nothing
is stored.`,
		Args: cobra.ExactArgs(1),
		RunE: runE(o, true, func(ctx context.Context, args []string) error {
			body, err := ev.body(e)
			if err != nil {
				return err
			}
			return o.print(ctx, request{method: http.MethodPost, path: o.policyPath(args[0], "evaluate"), body: body})
		}),
	}
	f := evaluate.Flags()
	f.StringVar(&ev.metadata, "metadata", "", `client metadata JSON file, or "-" for standard input (required)`)
	f.StringVar(&ev.version, "version", "", "evaluate this kept version (default: the active one)")
	f.StringVar(&ev.module, "module", "", "evaluate this module file instead of a stored version")
	f.StringVar(&ev.phase, "phase", "", "register (default) or update")
	f.StringVar(&ev.config, "config", "", "JSON file with the module's configuration")
	_ = evaluate.MarkFlagRequired("metadata")
	return evaluate
}

// previousVersion reads a policy view and returns the digest of the
// version uploaded before the active one, and the record's revision.
func previousVersion(view []byte) (string, int64, error) {
	var v struct {
		Uploaded *engine.StoredPolicy `json:"uploaded"`
	}
	if err := json.Unmarshal(view, &v); err != nil {
		return "", 0, fmt.Errorf("reading the policy: %w", err)
	}
	if v.Uploaded == nil {
		return "", 0, errors.New("the policy has no uploaded versions to roll back to (a policy folder module is rolled back by replacing its file)")
	}
	for i, u := range v.Uploaded.Versions {
		if u.Digest == v.Uploaded.Active {
			if i+1 < len(v.Uploaded.Versions) {
				return v.Uploaded.Versions[i+1].Digest, v.Uploaded.Revision, nil
			}
			break
		}
	}
	return "", 0, errors.New("no version older than the active one is kept")
}
