package wasm

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/registrar-dev/registrar/engine"
)

// Info describes a loaded module. It is the engine's ModuleInfo, so that
// the admin API can show it without importing this package; this package
// leaves its Tenant empty.
type Info = engine.ModuleInfo

// Module is one compiled version of a policy module with its instance pool.
// It is safe for concurrent use.
type Module struct {
	info     Info
	limits   Limits
	log      *slog.Logger
	runtime  wazero.Runtime
	compiled wazero.CompiledModule
	config   wazero.ModuleConfig
	hooks    map[engine.Hook]bool
	pool     pool
	fuel     bool     // compiled with fuel (fuel.go), not close-on-context-done
	logRate  *logRate // its log budget per second, shared by its instances

	// mu guards calls and closing. Every call and background
	// instantiation counts itself in calls; Close stops new ones at once
	// (they fail with ErrClosed, so that the host retries them on the
	// version that replaced this one) and frees the module once the count
	// is back to zero.
	mu        sync.Mutex
	calls     int
	closing   bool
	drained   chan struct{} // closed when closing and calls is zero
	stop      chan struct{} // closed when Close stops the calls left (yield, the sleeps, Module.stoppable)
	stopOnce  sync.Once
	closeOnce sync.Once
	closeErr  error
}

// Options configure Load.
type Options struct {
	// Name names the module in errors.
	Name string
	// Limits bound the module. Every field must be set: zero values are
	// not defaults here.
	Limits Limits
	// Cache shares compiled code between modules and, when it has a
	// directory, across restarts. Default: none.
	Cache *Cache
	// Logger receives the module's log lines and failures, with the
	// module's digest added. Required.
	Logger *slog.Logger
	// Now is the clock of the module's log budget per second. Required.
	Now func() time.Time
}

// Load checks and compiles module bytes, then instantiates one instance to
// run _initialize and read the ABI version; a module that fails any step
// is refused with an error saying which and why. The module must be
// closed.
func Load(ctx context.Context, wasm []byte, opts Options) (*Module, error) {
	m := newModule(wasm, opts)
	if err := m.compile(ctx, wasm, opts.Cache); err != nil {
		return nil, err
	}
	if err := m.start(ctx); err != nil {
		m.free(ctx)
		return nil, err
	}
	return m, nil
}

// Free releases a module that Load returned and that no call used: the
// runtime with its instances, and the compiled code, which a shared
// compilation cache would otherwise keep. It is for a module refused after
// Load (by its self-tests); Close is for the others.
func (m *Module) Free(ctx context.Context) { m.free(ctx) }

// newModule is the module of wasm before it is compiled: its info, limits,
// log and log budget.
func newModule(wasm []byte, opts Options) *Module {
	sum := sha256.Sum256(wasm)
	m := &Module{
		info:    Info{Name: opts.Name, Digest: hex.EncodeToString(sum[:]), Size: len(wasm), Imports: []string{}},
		limits:  opts.Limits,
		hooks:   map[engine.Hook]bool{},
		drained: make(chan struct{}),
		stop:    make(chan struct{}),
	}
	m.logRate = newLogRate(opts.Limits.MaxLogBytesPerSecond, opts.Now)
	m.log = opts.Logger.With("digest", m.info.Digest[:12])
	return m
}

// compile makes the module's runtime and compiles wasm in it, its tables
// capped. On error the module is freed.
func (m *Module) compile(ctx context.Context, wasm []byte, cache *Cache) error {
	// Tables are capped in the binary, as wazero does not bound them, and
	// their capped size is taken off the memory budget.
	wasm, tableBytes, err := capTables(wasm, m.limits.MaxTableElements)
	if err != nil {
		return fmt.Errorf("module %q: %w", m.info.Name, err)
	}
	tablePages := uint32((tableBytes + 65535) / 65536)
	if tablePages >= m.limits.MemoryPages {
		return fmt.Errorf("module %q: its tables may take %d bytes, which leaves no memory within the limit of %d pages", m.info.Name, tableBytes, m.limits.MemoryPages)
	}

	// A module the fuel rewrite does not understand, or whose rewrite
	// the compiler refuses (which would be a bug of the rewrite), runs
	// with close-on-context-done instead (fuel.go).
	fuelled, ferr := addFuel(wasm)
	if ferr == nil {
		ferr = m.build(ctx, fuelled, tablePages, cache, true)
		if ferr == nil {
			return nil
		}
	}
	if err := m.build(ctx, wasm, tablePages, cache, false); err != nil {
		return err
	}
	if !errors.Is(ferr, errFuel) {
		m.log.Warn("policy module: its fuelled form was refused; it runs with close-on-context-done", "err", ferr.Error())
	}
	return nil
}

// build makes the module's runtime and compiles wasm in it, with fuel
// (wasm is addFuel's) or with close-on-context-done. On error the module
// is freed.
func (m *Module) build(ctx context.Context, wasm []byte, tablePages uint32, cache *Cache, fuel bool) error {
	// One runtime per module: its memory cap is the module's, less its
	// tables, and modules of different tenants can never see each other.
	rc := wazero.NewRuntimeConfig().
		WithCloseOnContextDone(!fuel).
		WithMemoryLimitPages(m.limits.MemoryPages - tablePages)
	if cache != nil {
		rc = rc.WithCompilationCache(cache.c)
	}
	// What setUp finds out, afresh for each try.
	m.fuel, m.hooks = fuel, map[engine.Hook]bool{}
	m.info.Imports, m.info.Hooks, m.info.Reactor = []string{}, nil, false
	m.runtime = wazero.NewRuntimeWithConfig(ctx, rc)
	if err := m.setUp(ctx, wasm); err != nil {
		m.free(ctx)
		m.compiled = nil
		return err
	}
	return nil
}

// start makes the module's pool and its first instance, which proves the
// module can start within the limits and tells its ABI version.
func (m *Module) start(ctx context.Context) error {
	m.pool = newPool(m.limits.MaxInstances, m.limits.MaxIdle)
	inst, err := m.instantiate(ctx)
	if err != nil {
		return err
	}
	if err := m.checkABIVersion(ctx, inst); err != nil {
		return err
	}
	m.info.MemoryPages = inst.mod.Memory().Size() / 65536
	m.pool.add(inst)
	return nil
}

// free releases what Load made of a module it refuses: the runtime with
// its instances, and the compiled code, which a shared compilation cache
// would otherwise keep.
func (m *Module) free(ctx context.Context) {
	_ = m.runtime.Close(ctx)
	if m.compiled != nil {
		_ = m.compiled.Close(ctx)
	}
}

// setUp compiles the module and checks its imports and exports.
func (m *Module) setUp(ctx context.Context, wasm []byte) error {
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, m.runtime); err != nil {
		return fmt.Errorf("plugins: set up WASI: %w", err)
	}
	if err := instantiateHostModule(ctx, m.runtime); err != nil {
		return fmt.Errorf("plugins: set up host module: %w", err)
	}
	if m.fuel {
		if err := instantiateFuelModule(ctx, m.runtime, m.stop); err != nil {
			return fmt.Errorf("plugins: set up fuel: %w", err)
		}
	}
	compiled, err := compile(ctx, m.runtime, wasm)
	if err != nil {
		return fmt.Errorf("module %q does not compile: %w", m.info.Name, err)
	}
	m.compiled = compiled
	if err := m.checkImports(); err != nil {
		return fmt.Errorf("module %q: %w", m.info.Name, err)
	}
	if err := m.checkExports(); err != nil {
		return fmt.Errorf("module %q: %w", m.info.Name, err)
	}
	cfg := wazero.NewModuleConfig().
		WithName(""). // anonymous: many instances, importable by none
		WithStartFunctions().
		WithRandSource(rand.Reader).
		WithSysWalltime().WithSysNanotime() // sleeps: Module.sleeper, per instance
	if m.info.Reactor {
		cfg = cfg.WithStartFunctions(exportInitialize)
	}
	m.config = cfg
	return nil
}

// checkImports refuses imports beyond WASI preview1 and the host module,
// and imported memories: a module must own its memory.
func (m *Module) checkImports() error {
	if len(m.compiled.ImportedMemories()) > 0 {
		return errors.New("imports a memory; a module must define and export its own")
	}
	for _, f := range m.compiled.ImportedFunctions() {
		mod, name, _ := f.Import()
		if m.fuel && mod == fuelModule {
			continue // added by addFuel, which refuses a module that imports it
		}
		m.info.Imports = append(m.info.Imports, mod+"."+name)
		switch mod {
		case wasiModule:
			// Any WASI preview1 function: with no preopened directory,
			// environment, arguments or sockets configured, those calls
			// find nothing. A name wazero lacks fails instantiation.
		case hostModule:
			want, ok := hostFunctions[name]
			if !ok {
				return fmt.Errorf("imports %s.%s, which does not exist (see sdk/ABI.md §3)", mod, name)
			}
			if !slices.Equal(f.ParamTypes(), want.params) || !slices.Equal(f.ResultTypes(), want.results) {
				return fmt.Errorf("imports %s.%s with the wrong type", mod, name)
			}
		default:
			return fmt.Errorf("imports from %q; only %q and %q are allowed (sdk/ABI.md §3)", mod, hostModule, wasiModule)
		}
	}
	return nil
}

// checkExports checks that the ABI's exports are there with their types.
func (m *Module) checkExports() error {
	fns := m.compiled.ExportedFunctions()
	if _, ok := m.compiled.ExportedMemories()[exportMemory]; !ok {
		return errors.New(`does not export its memory as "memory"`)
	}
	if _, ok := fns[exportStart]; ok {
		return errors.New("exports _start: it is a WASI command; build a reactor (library) instead")
	}
	i32, i64 := api.ValueTypeI32, api.ValueTypeI64
	want := func(name string, params, results []api.ValueType) error {
		f, ok := fns[name]
		if !ok {
			return fmt.Errorf("does not export %s", name)
		}
		if !slices.Equal(f.ParamTypes(), params) || !slices.Equal(f.ResultTypes(), results) {
			return fmt.Errorf("exports %s with the wrong type", name)
		}
		return nil
	}
	if err := want(exportABIVersion, nil, []api.ValueType{i32}); err != nil {
		return err
	}
	if err := want(exportAlloc, []api.ValueType{i32}, []api.ValueType{i32}); err != nil {
		return err
	}
	if _, ok := fns[exportInitialize]; ok {
		if err := want(exportInitialize, nil, nil); err != nil {
			return err
		}
		m.info.Reactor = true
	}
	for _, h := range Hooks {
		if _, ok := fns[exportName(h)]; !ok {
			continue
		}
		if err := want(exportName(h), []api.ValueType{i32, i32}, []api.ValueType{i64}); err != nil {
			return err
		}
		m.hooks[h] = true
		m.info.Hooks = append(m.info.Hooks, h)
	}
	if len(m.info.Hooks) == 0 {
		names := make([]string, len(Hooks))
		for i, h := range Hooks {
			names[i] = exportName(h)
		}
		return fmt.Errorf("exports no hook; export one of %s", strings.Join(names, ", "))
	}
	return nil
}

// checkABIVersion calls registrar_abi_version on a fresh instance.
func (m *Module) checkABIVersion(ctx context.Context, inst *instance) error {
	ctx, cancel := context.WithTimeout(ctx, m.limits.Timeout)
	defer cancel()
	inst.log.reset(ctx)
	ctx = withLog(ctx, inst.log)
	stack := []uint64{0}
	if err := inst.mod.ExportedFunction(exportABIVersion).CallWithStack(ctx, stack); err != nil {
		return fmt.Errorf("module %q: %s failed: %w", m.info.Name, exportABIVersion, err)
	}
	m.info.ABIVersion = uint32(stack[0])
	if m.info.ABIVersion != ABIVersion {
		return fmt.Errorf("module %q speaks ABI version %d; this host speaks %d", m.info.Name, m.info.ABIVersion, ABIVersion)
	}
	return nil
}

// Info describes the module.
func (m *Module) Info() Info {
	i := m.info
	i.Hooks = slices.Clone(i.Hooks)
	i.Imports = slices.Clone(i.Imports)
	return i
}

// Has reports whether the module implements a hook.
func (m *Module) Has(h engine.Hook) bool { return m.hooks[h] }

// Close stops new calls at once (they fail), waits for the calls in flight
// to finish (or ctx to be done: then it stops them, sleeping or running),
// then frees the module, its instances and its compiled code.
func (m *Module) Close(ctx context.Context) error {
	m.MarkClosing()
	select {
	case <-m.drained:
	case <-ctx.Done():
		// Stop the calls left (their contexts are cancelled: guest code
		// and sleeps end at once) and let them leave, as the runtime must
		// not be closed under a running host function.
		m.StopCalls()
		<-m.drained
	}
	m.closeOnce.Do(func() {
		m.closeErr = errors.Join(m.runtime.Close(ctx), m.compiled.Close(ctx))
	})
	return m.closeErr
}

// MarkClosing refuses new calls; Drained is closed once those in flight
// have left. Close calls it; a host closing several modules that one
// request may hold at once calls it on all of them first.
func (m *Module) MarkClosing() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closing {
		m.closing = true
		if m.calls == 0 {
			close(m.drained)
		}
	}
}

// StopCalls cancels the calls in flight: guest code and sleeps end at once.
func (m *Module) StopCalls() { m.stopOnce.Do(func() { close(m.stop) }) }

// Drained is closed once the module is closing and no call is in flight.
func (m *Module) Drained() <-chan struct{} { return m.drained }

// acquire counts a call in, unless the module is closing.
func (m *Module) acquire() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closing {
		return false
	}
	m.calls++
	return true
}

// release counts a call out.
func (m *Module) release() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls--
	if m.closing && m.calls == 0 {
		close(m.drained)
	}
}

// ErrClosed is the error of a call to a closed module.
var ErrClosed = errors.New("the module has been closed")

// CallHeld runs one hook as Call does, for a caller that holds the module:
// it runs even once Close has begun, which waits for the holders (a
// snapshot that took the module before it was replaced).
func (m *Module) CallHeld(ctx context.Context, hook engine.Hook, input []byte) ([]byte, error) {
	return m.callHeld(ctx, hook, input, m.limits.Timeout)
}

// CallWithin runs one hook as Call does, under deadline instead of
// Limits.Timeout (self-tests run under a longer one).
func (m *Module) CallWithin(ctx context.Context, hook engine.Hook, input []byte, deadline time.Duration) ([]byte, error) {
	return m.call(ctx, hook, input, deadline)
}

// Timeout is the deadline of one hook call (Limits.Timeout).
func (m *Module) Timeout() time.Duration { return m.limits.Timeout }

// Prewarm fills the module's pool with idle instances, off the request
// path.
func (m *Module) Prewarm(ctx context.Context) error { return m.prewarm(ctx) }

// Hold counts a holder of the module in, unless it is closing (then it
// returns false): Close waits for the holders, whose CallHeld calls run.
// Each successful Hold must be matched by one Unhold.
func (m *Module) Hold() bool { return m.acquire() }

// Unhold counts a holder out.
func (m *Module) Unhold() { m.release() }

// compile compiles wasm, turning a panic of wazero's validator into an
// error: some malformed bytes make wazero v1.12 index out of range
// (func_validation.go, found by FuzzAddFuel), and an uploaded module must
// fail its own upload, not take the process down.
func compile(ctx context.Context, r wazero.Runtime, wasm []byte) (c wazero.CompiledModule, err error) {
	defer func() {
		if p := recover(); p != nil {
			c, err = nil, fmt.Errorf("the compiler failed on it (%v)", p)
		}
	}()
	return r.CompileModule(ctx, wasm)
}
