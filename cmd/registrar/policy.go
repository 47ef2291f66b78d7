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
	timeout                     time.Duration
	allowReject                 bool
}

func policyRunCmd(e env) *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run MODULE.wasm --input FILE|-",
		Short: "Call one hook of a module in the server's sandbox and print its output",
		Long: `Calls one hook of a module in the same sandbox as the server and prints its
output (or its rejection), the metadata diff for the policy hook, and the
module's log lines on standard error. --input is the hook's input document
(sdk/ABI.md §2) without abi, hook and now; a JSON object without a
"metadata" member is taken as the metadata itself. Missing members get
defaults (tenant "default", phase "register", no token).

Exit status: 0 when the hook accepted, 3 when it rejected (0 with
--allow-reject), 1 when the module failed as the server would answer 500.`,
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
	f.DurationVar(&o.timeout, "timeout", 0, "deadline of the call (default: the server's, 100ms)")
	f.BoolVar(&o.allowReject, "allow-reject", false, "exit 0 when the hook rejects its input")
	_ = cmd.MarkFlagRequired("input")
	return cmd
}

func policyRun(ctx context.Context, path string, o runOptions, e env) error {
	h := engine.Hook(o.hook)
	if !slices.Contains(plugins.Hooks, h) {
		return usageError{fmt.Sprintf("--hook %q: want one of %s", o.hook, hookNames())}
	}
	if o.timeout < 0 {
		return usageError{"--timeout must not be negative"}
	}
	doc, err := readInput(e, o.input, o.config, o.tenant, h)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m, _, err := loadModule(ctx, path, plugins.LoadOptions{Limits: plugins.Limits{Timeout: o.timeout}, Logger: log})
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
	var res struct {
		Error    string                     `json:"error"`
		Metadata map[string]json.RawMessage `json:"metadata"`
	}
	_ = json.Unmarshal(out, &res)
	if h == engine.HookPolicy {
		var in struct {
			Metadata map[string]json.RawMessage `json:"metadata"`
		}
		if json.Unmarshal(doc, &in) == nil && res.Metadata != nil {
			fmt.Fprint(e.stdout, metadataDiff(in.Metadata, res.Metadata))
		}
	}
	if res.Error != "" && !o.allowReject {
		return rejected{fmt.Sprintf("the %s hook rejected its input: %s", h, res.Error)}
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
	b, err := readSource(e, "--input", path)
	if err != nil {
		return nil, err
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
				return o.fail(err)
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
