package plugins

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/registrar-dev/registrar/engine"
)

// Config configures a Host. The zero value of each field means the default
// in its comment.
type Config struct {
	// Dir is the policy folder (SPEC §4): <Dir>/<name>.wasm for every
	// tenant, <Dir>/<tenant>/<name>.wasm for one tenant, shadowing a shared
	// module of the same name. Default: no folder, no modules.
	Dir string
	// CacheDir keeps compiled native code across restarts. Default: an
	// in-memory cache only.
	CacheDir string
	// Limits bound every module.
	Limits Limits
	// Now is the clock of the "now" input member. Default time.Now.
	Now func() time.Time
	// Logger receives module logs and failures. Default slog.Default().
	Logger *slog.Logger
	// Observe, when set, is told about every hook call once it has
	// finished, on the goroutine that made it: it must be quick and safe
	// for concurrent use. Default: none.
	Observe func(Call)
}

// Call describes one finished hook call, for Config.Observe.
type Call struct {
	// Tenant is the tenant the call was made for (not the owner of the
	// module, which may be shared).
	Tenant string
	// Module is the module's name.
	Module string
	// Digest is the version of the module that ran (hex SHA-256); empty
	// when there was no module of that name to run.
	Digest string
	// Hook is the hook that was called.
	Hook engine.Hook
	// Outcome says how the call ended.
	Outcome Outcome
	// Duration is the time the call took, from preparing the input to
	// reading the output, waiting for a free instance included.
	Duration time.Duration
}

// Outcome is how a hook call ended: one of a small fixed set, so that it
// can label metrics.
type Outcome string

// The outcomes of a hook call.
const (
	// OutcomeOK: the module answered with a valid output.
	OutcomeOK Outcome = "ok"
	// OutcomeRejected: the module refused the request with an OAuth error
	// for the client.
	OutcomeRejected Outcome = "rejected"
	// OutcomeFailed: the call failed (trap, deadline, memory, no free
	// instance, output that breaks the ABI, no such module); the request is
	// answered with server_error.
	OutcomeFailed Outcome = "failed"
)

// Host runs policy modules for the engine. It is safe for concurrent use.
// Its set of modules is an immutable catalogue behind an atomic pointer, so
// that a later reload can swap a complete new set in one step.
type Host struct {
	limits  Limits
	cache   wazero.CompilationCache
	now     func() time.Time
	log     *slog.Logger
	observe func(Call)
	cat     atomic.Pointer[catalogue]
}

var _ engine.Modules = (*Host)(nil)

// catalogue is one immutable set of modules.
type catalogue struct {
	shared  map[string]*Module
	tenants map[string]map[string]*Module
}

// lookup finds the module a tenant sees under a name: its own, else a shared one.
func (c *catalogue) lookup(tenant, name string) *Module {
	if m, ok := c.tenants[tenant][name]; ok {
		return m
	}
	return c.shared[name]
}

func (c *catalogue) all() []*Module {
	var ms []*Module
	for _, m := range c.shared {
		ms = append(ms, m)
	}
	for _, t := range c.tenants {
		for _, m := range t {
			ms = append(ms, m)
		}
	}
	return ms
}

// New returns a Host with the modules of cfg.Dir loaded. Any module that
// fails to load fails New, with every failure listed.
func New(ctx context.Context, cfg Config) (*Host, error) {
	if err := cfg.Limits.check(); err != nil {
		return nil, err
	}
	h := &Host{limits: cfg.Limits, now: cfg.Now, log: cfg.Logger, observe: cfg.Observe}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	if cfg.CacheDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("plugins: compilation cache %s: %w", cfg.CacheDir, err)
		}
		h.cache = c
	} else {
		h.cache = wazero.NewCompilationCache()
	}
	cat := &catalogue{shared: map[string]*Module{}, tenants: map[string]map[string]*Module{}}
	if cfg.Dir != "" {
		var err error
		if cat, err = h.loadDir(ctx, cfg.Dir); err != nil {
			_ = h.cache.Close(ctx)
			return nil, err
		}
	}
	h.cat.Store(cat)
	return h, nil
}

// loadDir loads every module of a policy folder.
func (h *Host) loadDir(ctx context.Context, dir string) (*catalogue, error) {
	cat := &catalogue{shared: map[string]*Module{}, tenants: map[string]map[string]*Module{}}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("plugins: policy folder: %w", err)
	}
	var errs []error
	load := func(path, name, tenant string) {
		m, err := h.loadFile(ctx, path, name, tenant)
		if err != nil {
			errs = append(errs, err)
			return
		}
		if tenant == "" {
			cat.shared[name] = m
			return
		}
		if cat.tenants[tenant] == nil {
			cat.tenants[tenant] = map[string]*Module{}
		}
		cat.tenants[tenant][name] = m
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		switch {
		case e.IsDir():
			if !engine.ValidTenantName(e.Name()) {
				h.log.Warn("policy folder: ignoring a folder that is not a tenant name", "path", path)
				continue
			}
			sub, err := os.ReadDir(path)
			if err != nil {
				errs = append(errs, fmt.Errorf("plugins: %w", err))
				continue
			}
			for _, f := range sub {
				if name, ok := moduleFile(f); ok {
					load(filepath.Join(path, f.Name()), name, e.Name())
				}
			}
		default:
			if name, ok := moduleFile(e); ok {
				load(path, name, "")
			}
		}
	}
	if len(errs) > 0 {
		for _, m := range cat.all() {
			_ = m.Close(ctx)
		}
		return nil, fmt.Errorf("plugins: policy folder %s: %w", dir, errors.Join(errs...))
	}
	return cat, nil
}

// moduleFile reports whether a folder entry is a module file, and its name.
func moduleFile(e os.DirEntry) (string, bool) {
	name, ok := strings.CutSuffix(e.Name(), ".wasm")
	return name, ok && !e.IsDir() && engine.ValidModuleName(name)
}

func (h *Host) loadFile(ctx context.Context, path, name, tenant string) (*Module, error) {
	wasm, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("plugins: %w", err)
	}
	start := time.Now()
	m, err := Load(ctx, wasm, LoadOptions{Name: name, Tenant: tenant, Limits: h.limits, Cache: h.cache, Logger: h.log})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	i := m.Info()
	h.log.Info("policy module loaded", "module", name, "tenant", tenant, "digest", i.Digest, "hooks", i.Hooks, "size", i.Size, "took_ms", time.Since(start).Milliseconds())
	return m, nil
}

// Modules describes the loaded modules, shared ones first, then by tenant
// and name.
func (h *Host) Modules() []Info {
	var infos []Info
	for _, m := range h.cat.Load().all() {
		infos = append(infos, m.Info())
	}
	slices.SortFunc(infos, func(a, b Info) int {
		if c := strings.Compare(a.Tenant, b.Tenant); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return infos
}

// Visible describes the modules a tenant can use, sorted by name: its own,
// and the shared ones that its own do not shadow.
func (h *Host) Visible(tenant string) []engine.ModuleInfo {
	cat := h.cat.Load()
	var infos []engine.ModuleInfo
	for name, m := range cat.shared {
		if _, shadowed := cat.tenants[tenant][name]; !shadowed {
			infos = append(infos, m.Info())
		}
	}
	for _, m := range cat.tenants[tenant] {
		infos = append(infos, m.Info())
	}
	slices.SortFunc(infos, func(a, b engine.ModuleInfo) int { return strings.Compare(a.Name, b.Name) })
	return infos
}

// Close frees every module.
func (h *Host) Close(ctx context.Context) error {
	var errs []error
	for _, m := range h.cat.Load().all() {
		errs = append(errs, m.Close(ctx))
	}
	errs = append(errs, h.cache.Close(ctx))
	return errors.Join(errs...)
}

// Has implements engine.Modules.
func (h *Host) Has(tenant, name string, hook engine.Hook) bool {
	m := h.cat.Load().lookup(tenant, name)
	return m != nil && m.Has(hook)
}

// invoke runs a hook of the named module with the engine's input and reads
// its output document with parse; a rejection comes back as the module's
// *engine.Error. Failures are logged here, with their cause, and returned
// for the engine to answer with server_error. Every call is reported to
// Config.Observe. The module that ran is returned when there was one.
func invoke[T any](h *Host, ctx context.Context, tenant, name string, hook engine.Hook, in any, parse func([]byte) (T, error)) (T, *Module, error) {
	start := time.Now()
	v, m, err := invokeModule(h, ctx, tenant, name, hook, in, parse)
	o := outcome(err)
	if o == OutcomeFailed && m != nil {
		h.fail(ctx, m, hook, start, err)
	}
	if h.observe != nil {
		c := Call{Tenant: tenant, Module: name, Hook: hook, Outcome: o, Duration: time.Since(start)}
		if m != nil {
			c.Digest = m.info.Digest
		}
		h.observe(c)
	}
	return v, m, err
}

// invokeModule is invoke without the logging and the observation.
func invokeModule[T any](h *Host, ctx context.Context, tenant, name string, hook engine.Hook, in any, parse func([]byte) (T, error)) (T, *Module, error) {
	var zero T
	m := h.cat.Load().lookup(tenant, name)
	if m == nil {
		return zero, nil, fmt.Errorf("no module %q for tenant %q", name, tenant)
	}
	doc, err := envelope(hook, h.now(), in)
	if err != nil {
		return zero, m, err
	}
	out, err := m.Call(ctx, hook, doc)
	if err != nil {
		return zero, m, err
	}
	v, err := parse(out)
	return v, m, err
}

// outcome classifies the error of a hook call.
func outcome(err error) Outcome {
	var e *engine.Error
	switch {
	case err == nil:
		return OutcomeOK
	case errors.As(err, &e):
		return OutcomeRejected
	default:
		return OutcomeFailed
	}
}

// fail logs a failed module call.
func (h *Host) fail(ctx context.Context, m *Module, hook engine.Hook, start time.Time, err error) {
	i := m.info
	h.log.ErrorContext(ctx, "policy module failed", "module", i.Name, "tenant", i.Tenant, "digest", i.Digest,
		"hook", hook, "err", err.Error(), "took_ms", float64(time.Since(start).Microseconds())/1000)
}

// Policy implements engine.Modules. The output's Version is the digest of
// the module that ran; a rejection comes with an output that holds only
// the Version, a failure with none.
func (h *Host) Policy(ctx context.Context, tenant, name string, in *engine.PolicyInput) (*engine.PolicyOutput, error) {
	out, m, err := invoke(h, ctx, tenant, name, engine.HookPolicy, in, policyOutput)
	switch outcome(err) {
	case OutcomeOK:
		out.Version = m.info.Digest
		return out, nil
	case OutcomeRejected:
		return &engine.PolicyOutput{Version: m.info.Digest}, err
	default:
		return nil, err
	}
}

// ClientID implements engine.Modules.
func (h *Host) ClientID(ctx context.Context, tenant, name string, in *engine.FactoryInput) (string, error) {
	id, _, err := invoke(h, ctx, tenant, name, engine.HookIDFactory, in, func(b []byte) (string, error) { return stringOutput(b, "client_id") })
	return id, err
}

// ClientSecret implements engine.Modules.
func (h *Host) ClientSecret(ctx context.Context, tenant, name string, in *engine.FactoryInput) (string, error) {
	s, _, err := invoke(h, ctx, tenant, name, engine.HookSecretFactory, in, func(b []byte) (string, error) { return stringOutput(b, "client_secret") })
	return s, err
}

// Decide implements engine.Modules.
func (h *Host) Decide(ctx context.Context, tenant, name string, hook engine.Hook, in *engine.DecisionInput) (bool, error) {
	if hook != engine.HookIssueRAT && hook != engine.HookRotateRAT {
		return false, fmt.Errorf("plugins: %s is not a decision hook", hook)
	}
	d, _, err := invoke(h, ctx, tenant, name, hook, in, decisionOutput)
	return d, err
}
