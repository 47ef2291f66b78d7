package plugins

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/plugins/internal/wasm"
)

// ABIVersion is the version of the module ABI this host speaks (sdk/ABI.md).
const ABIVersion = wasm.ABIVersion

// Hooks lists the hooks of ABI v1 in the order they are documented.
var Hooks = wasm.Hooks

// Info describes a loaded module. It is the engine's ModuleInfo, so that
// the admin API can show it without importing this package.
type Info = engine.ModuleInfo

// Trial is one hook call made the way the host makes it for the engine,
// for tools that must show what the server would see (registrar policy
// run).
type Trial = wasm.Trial

// Module is one compiled version of a policy module with its instance
// pool, self-tested when it was loaded. It is safe for concurrent use.
type Module struct {
	w     *wasm.Module
	info  Info // w's, with the tenant
	cases int  // self-test cases run when it was loaded
}

// LoadOptions configure Load.
type LoadOptions struct {
	// Name and Tenant identify the module ("" tenant: shared).
	Name, Tenant string
	// Limits bound the module; zero fields take their defaults.
	Limits Limits
	// Cache shares compiled code between modules and, when it has a
	// directory, across restarts. Default: none.
	Cache *wasm.Cache
	// Logger receives the module's log lines and failures. Default
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock of the module's log budget per second. Default
	// time.Now.
	Now func() time.Time
	// Cases are self-test cases to run besides those the module ships in
	// its registrar.cases section (a policy folder's side file). Default:
	// only the module's own.
	Cases *Cases
	// SkipCases loads the module without running any self-test case, for
	// tools that run the cases themselves and report each (registrar
	// policy test). Default false: a server never skips them.
	SkipCases bool
}

// Load checks and compiles module bytes, then instantiates one instance to
// run _initialize and read the ABI version, and runs the module's
// self-test cases (its registrar.cases section and opts.Cases); a module
// that fails any step is refused with an error saying which and why. The
// module must be closed.
func Load(ctx context.Context, module []byte, opts LoadOptions) (*Module, error) {
	limits := opts.Limits.withDefaults()
	if err := limits.check(); err != nil {
		return nil, err
	}
	cases, err := selfTests(module, opts)
	if err != nil {
		return nil, err
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	w, err := wasm.Load(ctx, module, wasm.Options{
		Name:   opts.Name,
		Limits: limits.runtime(),
		Cache:  opts.Cache,
		Logger: log.With("module", opts.Name, "tenant", opts.Tenant),
		Now:    now,
	})
	if err != nil {
		return nil, err
	}
	m := &Module{w: w, info: w.Info()}
	m.info.Tenant = opts.Tenant
	for _, cs := range cases {
		if err := m.RunCases(ctx, cs); err != nil {
			w.Free(ctx)
			return nil, fmt.Errorf("module %q: %w", opts.Name, err)
		}
		m.cases += len(cs.Cases)
	}
	return m, nil
}

// selfTests are the self-test cases Load runs: the module's registrar.cases
// section and opts.Cases, or none with opts.SkipCases. A section that does
// not parse refuses the module even so.
func selfTests(module []byte, opts LoadOptions) ([]*Cases, error) {
	var cases []*Cases
	section, err := wasm.CustomSection(module, CasesSection)
	if err != nil {
		return nil, fmt.Errorf("module %q: %w", opts.Name, err)
	}
	if section != nil {
		cs, err := ParseCases(section)
		if err != nil {
			return nil, fmt.Errorf("module %q: custom section %s: %w", opts.Name, CasesSection, err)
		}
		cases = append(cases, cs)
	}
	if opts.Cases != nil {
		cases = append(cases, opts.Cases)
	}
	if opts.SkipCases {
		return nil, nil
	}
	return cases, nil
}

// Call runs one hook with an input document and returns the output
// document. A failure of the module (trap, deadline, memory, bad address,
// size) is an error; the instance that failed is discarded. Call does not
// interpret the output.
func (m *Module) Call(ctx context.Context, hook engine.Hook, input []byte) ([]byte, error) {
	return m.w.Call(ctx, hook, input)
}

// Try runs a hook on in, which is what the engine passes for it
// (*engine.PolicyInput, *engine.FactoryInput or *engine.DecisionInput),
// with the host's input envelope at now, and reads the output with the
// host's checks. A rejection is an *engine.Error; a failure of the module,
// including output the host would refuse, is another error. The Trial
// holds what is known, also with an error.
func (m *Module) Try(ctx context.Context, hook engine.Hook, now time.Time, in any) (*Trial, error) {
	return m.w.Try(ctx, hook, now, in)
}

// Info describes the module.
func (m *Module) Info() Info {
	i := m.w.Info()
	i.Tenant = m.info.Tenant
	return i
}

// Has reports whether the module implements a hook.
func (m *Module) Has(h engine.Hook) bool { return m.w.Has(h) }

// Close stops new calls at once (they fail), waits for the calls in flight
// to finish (or ctx to be done: then it stops them, sleeping or running),
// then frees the module, its instances and its compiled code.
func (m *Module) Close(ctx context.Context) error { return m.w.Close(ctx) }

// truncate shortens s for an error message or a log line.
func truncate(s string) string { return wasm.Truncate(s) }

// markClosing refuses new calls; drained is closed once those in flight
// have left.
func (m *Module) markClosing() { m.w.MarkClosing() }

// stopCalls cancels the calls in flight.
func (m *Module) stopCalls() { m.w.StopCalls() }

// drained is closed once the module is closing and no call is in flight.
func (m *Module) drained() <-chan struct{} { return m.w.Drained() }
