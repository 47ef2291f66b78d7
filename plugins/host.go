package plugins

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/registrar-dev/registrar/plugins/internal/wasm"

	"github.com/registrar-dev/registrar/engine"
)

// Config configures a Host. The zero value of each field means the default
// in its comment.
type Config struct {
	// Dir is the policy folder (docs/policies.md): <Dir>/<name>.wasm for every
	// tenant, <Dir>/<tenant>/<name>.wasm for one tenant, shadowing a shared
	// module of the same name; <name>.cases.json beside a module holds
	// self-test cases (sdk/ABI.md §7). Default: no folder.
	Dir string
	// Watch makes Run watch Dir, so that a new, changed or removed module
	// is live within a fraction of a second. Default false: only the
	// periodic rescan notices changes. It needs Dir.
	Watch bool
	// Store keeps the modules uploaded through the admin API and carries
	// their changes and the replicas' status between replicas. A module
	// uploaded for a tenant shadows the folder's of the same name. Default:
	// none (the policy folder only).
	Store engine.PolicyStore
	// Rescan is how often Run compares the folder and the store with what
	// runs, to catch changes that a watcher missed. Default 10s.
	Rescan time.Duration
	// Replica identifies this process in the status it reports. Default:
	// host name, process ID and a random suffix.
	Replica string
	// StatusEvery is how often Run reports this replica's status to the
	// Store, which forgets it after three times that. Default 5s.
	StatusEvery time.Duration
	// CacheDir keeps compiled native code across restarts. It keeps the
	// code of every version ever compiled (a file per version, which may be
	// removed at any time). Default: an in-memory cache only, which frees a
	// version's code when its last module is closed.
	CacheDir string
	// Limits bound every module.
	Limits Limits
	// Now is the clock of the "now" input member and of status and audit
	// times. Default time.Now.
	Now func() time.Time
	// Logger receives module logs and failures. Default slog.Default().
	Logger *slog.Logger
	// Observe, when set, is told about every hook call once it has
	// finished, on the goroutine that made it: it must be quick and safe
	// for concurrent use. Default: none.
	Observe func(Call)
	// Audit, when set, is told when a module version is loaded or refused
	// (engine.AuditPolicyLoaded, engine.AuditPolicyRefused) and when an
	// uploaded one is activated, shadowed, promoted or removed. Default:
	// none.
	Audit func(context.Context, engine.AuditEvent)
	// Shadow, when set, is told the outcome of every shadow run (see
	// ShadowResult), from a goroutine of its own: it must be safe for
	// concurrent use. Default: none.
	Shadow func(ShadowResult)
}

// The defaults of Config.
const (
	defaultRescan      = 10 * time.Second
	defaultStatusEvery = 5 * time.Second
)

// check refuses a configuration that cannot work.
func (c *Config) check() error {
	switch {
	case c.Rescan < 0 || c.StatusEvery < 0:
		return errors.New("plugins: rescan and status intervals must not be negative")
	case c.Watch && c.Dir == "":
		return errors.New("plugins: watching needs a policy folder")
	}
	return c.Limits.check()
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
//
// Its set of modules is an immutable catalogue behind an atomic pointer: a
// request takes a Snapshot of its tenant's modules once and runs every
// hook on those versions to the end. A new
// version is read, checked, compiled, instantiated, pre-warmed and
// self-tested beside the running one; then a new catalogue is swapped in,
// and the replaced version is closed in the background once its calls
// have drained. A version that fails any step is refused and the previous
// one keeps serving.
type Host struct {
	folder      *policyFolder // Config.Dir; nil without one
	watch       bool
	store       engine.PolicyStore
	uploads     storeSource // reads and watches store, when set
	rescan      time.Duration
	replica     string
	statusEvery time.Duration
	limits      Limits
	cache       *wasm.Cache
	now         func() time.Time
	log         *slog.Logger
	observe     func(Call)
	audit       func(context.Context, engine.AuditEvent)
	shadowed    func(ShadowResult)
	loops       []sourceLoop // the folder's and the store's, as configured

	cat atomic.Pointer[catalogue]

	// mu guards what follows, and the swaps of cat.
	mu        sync.Mutex
	slots     map[key]*slot       // the status of every module a source names or that runs
	locks     map[key]*sync.Mutex // one activation of a module at a time
	storeRead bool                // the store's list has been read once
	closed    bool
	bg        sync.WaitGroup // retirements and shadow runs

	statusKick chan struct{}
	live       atomic.Int64 // modules loaded and not yet closed
	// shadowRuns bounds the shadow runs in flight: beyond it, live calls
	// are not shadowed (the results are then a sample).
	shadowRuns chan struct{}
	// tenantCalls holds, per tenant, one token per hook call running for
	// it (Limits.TenantCalls); guarded by turnsMu.
	turnsMu     sync.Mutex
	tenantCalls map[string]chan struct{}
	tenantLimit int
	tenantWait  time.Duration
	reclaim     wasm.Reclaimer
}

var _ engine.Modules = (*Host)(nil)

// New returns a Host with the modules of cfg.Dir and of cfg.Store loaded.
// Any module of the folder that fails to load fails New, with every
// failure listed: the folder is configuration. A stored module that fails
// to load here (it passed when it was uploaded) is reported in Status and
// Ready, as is a store that cannot be read.
func New(ctx context.Context, cfg Config) (*Host, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	h := &Host{
		watch: cfg.Watch, store: cfg.Store, rescan: cfg.Rescan, replica: cfg.Replica,
		statusEvery: cfg.StatusEvery, limits: cfg.Limits, now: cfg.Now, log: cfg.Logger,
		observe: cfg.Observe, audit: cfg.Audit, shadowed: cfg.Shadow,
		slots: map[key]*slot{}, locks: map[key]*sync.Mutex{},
		statusKick:  make(chan struct{}, 1),
		shadowRuns:  make(chan struct{}, cfg.Limits.withDefaults().MaxInstances),
		tenantCalls: map[string]chan struct{}{}, tenantLimit: cfg.Limits.withDefaults().TenantCalls,
		tenantWait: cfg.Limits.withDefaults().TenantWait,
	}
	if h.rescan == 0 {
		h.rescan = defaultRescan
	}
	if h.statusEvery == 0 {
		h.statusEvery = defaultStatusEvery
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.replica == "" {
		h.replica = replicaID()
	}
	c, err := wasm.NewCache(cfg.CacheDir)
	if err != nil {
		return nil, fmt.Errorf("plugins: compilation cache %s: %w", cfg.CacheDir, err)
	}
	h.cache = c
	h.cat.Store(&catalogue{})
	if cfg.Dir != "" {
		h.folder = newPolicyFolder(cfg.Dir, h.rescan, h.log)
	}
	h.uploads = storeSource{store: h.store, rescan: h.rescan, log: h.log}
	h.loops = h.sourceLoops()
	for _, l := range h.loops {
		if err := l.load(ctx); err != nil {
			_ = h.Close(ctx)
			return nil, err
		}
	}
	return h, nil
}

// replicaID names this process: host name, process ID and a random suffix.
func replicaID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "registrar"
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Modules describes the modules that serve requests (not those in shadow),
// shared ones first, then by tenant and name; a tenant's uploaded module
// comes after its folder module of the same name.
func (h *Host) Modules() []Info {
	var infos []Info
	for _, ke := range h.cat.Load().entries() {
		infos = append(infos, ke.e.active.Info())
	}
	return infos
}

// Visible describes the modules a tenant can use, sorted by name: its
// uploaded ones, its folder ones that no upload shadows, and the shared
// ones that neither shadows.
func (h *Host) Visible(tenant string) []engine.ModuleInfo {
	cat := h.cat.Load()
	seen := map[string]bool{}
	var infos []engine.ModuleInfo
	for _, layer := range []map[string]*entry{cat.store[tenant], cat.folder[tenant], cat.folder[""]} {
		for name, e := range layer {
			if !seen[name] {
				seen[name] = true
				infos = append(infos, e.active.Info())
			}
		}
	}
	slices.SortFunc(infos, func(a, b engine.ModuleInfo) int { return strings.Compare(a.Name, b.Name) })
	return infos
}

// Close frees every module, after the calls in flight (once ctx is done, it
// stops them instead: a call sleeping in WASI or looping fails at once),
// and the compilation cache. Run must have returned. A call never outlives
// its deadline, even asleep, so Close returns within the longest deadline
// of the calls in flight whatever ctx.
func (h *Host) Close(ctx context.Context) error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	cat := h.cat.Load()
	h.mu.Unlock()
	var mods []*Module
	for _, ke := range cat.entries() {
		mods = append(mods, ke.e.modules()...)
	}
	drainAll(ctx, mods)
	var errs []error
	for _, m := range mods {
		errs = append(errs, m.Close(ctx))
		h.live.Add(-1)
	}
	h.bg.Wait()
	errs = append(errs, h.cache.Close(ctx))
	return errors.Join(errs...)
}

// drainAll closes mods to new calls and waits for the calls in flight to
// leave; once ctx is done it stops them all. All at once, not module by
// module: a request holds every module of its tenant's snapshot until it
// ends, so waiting for one module while another keeps the request asleep
// would never end.
func drainAll(ctx context.Context, mods []*Module) {
	for _, m := range mods {
		m.markClosing()
	}
	drained := make(chan struct{})
	go func() {
		for _, m := range mods {
			<-m.drained()
		}
		close(drained)
	}()
	select {
	case <-drained:
	case <-ctx.Done():
		for _, m := range mods {
			m.stopCalls()
		}
		<-drained
	}
}

// Has implements engine.Modules.
func (h *Host) Has(tenant, name string, hook engine.Hook) bool {
	e := h.cat.Load().lookup(tenant, name)
	return e != nil && e.active.Has(hook)
}

// invoke runs a hook of a module of a snapshot (e, nil when the snapshot
// has none of that name) with the engine's input and reads its output
// document with parse; a rejection comes back as the module's
// *engine.Error. Failures are logged here, with their cause, and returned
// for the engine to answer with server_error. Every call is reported to
// Config.Observe. The input document is returned with the output.
func invoke[T any](h *Host, ctx context.Context, tenant, name string, e *entry, hook engine.Hook, in any, parse func([]byte) (T, error)) (T, []byte, error) {
	start := time.Now()
	v, doc, err := invokeModule(h, ctx, tenant, name, e, hook, in, parse)
	o := outcome(err)
	if o == OutcomeFailed && e != nil {
		h.fail(ctx, e.active, hook, start, err)
		h.reclaim.AfterFailure()
	}
	if h.observe != nil {
		c := Call{Tenant: tenant, Module: name, Hook: hook, Outcome: o, Duration: time.Since(start)}
		if e != nil {
			c.Digest = e.active.info.Digest
		}
		h.observe(c)
	}
	return v, doc, err
}

// invokeModule is invoke without the logging and the observation. The
// snapshot holds e's active module, so that the call runs on it even if a
// new version has replaced it since the snapshot was taken. The call waits
// for one of the tenant's turns (Limits.TenantCalls, TenantWait) before its
// deadline starts.
func invokeModule[T any](h *Host, ctx context.Context, tenant, name string, e *entry, hook engine.Hook, in any, parse func([]byte) (T, error)) (T, []byte, error) {
	var zero T
	if e == nil {
		return zero, nil, fmt.Errorf("no module %q for tenant %q", name, tenant)
	}
	doc, err := wasm.Envelope(hook, h.now(), in)
	if err != nil {
		return zero, nil, err
	}
	turns, err := h.takeTurn(ctx, tenant)
	if err != nil {
		return zero, doc, err
	}
	defer func() { <-turns }()
	out, err := e.active.w.CallHeld(ctx, hook, doc)
	if err != nil {
		return zero, doc, err
	}
	v, err := parse(out)
	return v, doc, err
}

// turns returns the tenant's call tokens.
func (h *Host) turns(tenant string) chan struct{} {
	h.turnsMu.Lock()
	defer h.turnsMu.Unlock()
	t := h.tenantCalls[tenant]
	if t == nil {
		t = make(chan struct{}, h.tenantLimit)
		h.tenantCalls[tenant] = t
	}
	return t
}

// takeTurn waits for one of the tenant's turns, at most TenantWait, and
// returns the tokens, from which the turn is to be taken back when the
// call ends.
func (h *Host) takeTurn(ctx context.Context, tenant string) (chan struct{}, error) {
	turns := h.turns(tenant)
	select {
	case turns <- struct{}{}:
		return turns, nil
	default:
	}
	wait, cancel := context.WithTimeout(ctx, h.tenantWait)
	defer cancel()
	select {
	case turns <- struct{}{}:
		return turns, nil
	case <-wait.Done():
		return nil, fmt.Errorf("no turn within %s: the tenant's %d concurrent calls were busy: %w", h.tenantWait, cap(turns), wait.Err())
	}
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

// Policy runs a module's policy hook on the tenant's modules of now: a
// snapshot of one call. The engine runs hooks on a Snapshot instead.
func (h *Host) Policy(ctx context.Context, tenant, name string, in *engine.PolicyInput) (*engine.PolicyOutput, error) {
	s := h.Snapshot(tenant)
	defer s.Release()
	return s.Policy(ctx, name, in)
}

// ClientID runs a module's id_factory hook, as Policy does.
func (h *Host) ClientID(ctx context.Context, tenant, name string, in *engine.FactoryInput) (string, error) {
	s := h.Snapshot(tenant)
	defer s.Release()
	return s.ClientID(ctx, name, in)
}

// ClientSecret runs a module's secret_factory hook, as Policy does.
func (h *Host) ClientSecret(ctx context.Context, tenant, name string, in *engine.FactoryInput) (string, error) {
	s := h.Snapshot(tenant)
	defer s.Release()
	return s.ClientSecret(ctx, name, in)
}

// Decide runs a module's decision hook, as Policy does.
func (h *Host) Decide(ctx context.Context, tenant, name string, hook engine.Hook, in *engine.DecisionInput) (bool, error) {
	s := h.Snapshot(tenant)
	defer s.Release()
	return s.Decide(ctx, name, hook, in)
}

// IssueAccessToken runs a module's issue_access_token hook, as Policy does.
func (h *Host) IssueAccessToken(ctx context.Context, tenant, name string, in *engine.AccessTokenInput) (*engine.AccessTokenOutput, error) {
	s := h.Snapshot(tenant)
	defer s.Release()
	return s.IssueAccessToken(ctx, name, in)
}
