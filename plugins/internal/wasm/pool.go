package wasm

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"

	"github.com/tetratelabs/wazero/api"
)

// instance is one instantiated module: it serves one call at a time.
type instance struct {
	mod       api.Module
	alloc     api.Function
	hooks     map[string]api.Function
	log       *moduleLog
	stdout    *stream
	stderr    *stream
	calls     int
	retire    int // calls after which it is retired (Module.retireAfter)
	initPages uint32
	stack     [2]uint64
}

// pool bounds the live instances of a module (slots) and keeps up to
// cap(idle) of them warm. An instance in use is in neither channel.
type pool struct {
	idle  chan *instance
	slots chan struct{} // one token per live instance
}

func newPool(maxLive, maxIdle int) pool {
	return pool{idle: make(chan *instance, maxIdle), slots: make(chan struct{}, maxLive)}
}

// add puts a new instance, made outside get, into the pool.
func (p *pool) add(inst *instance) {
	p.slots <- struct{}{}
	p.put(inst)
}

// get returns an idle instance, or makes one if a slot is free, or waits
// for either until ctx is done or stop is closed.
func (p *pool) get(ctx context.Context, stop <-chan struct{}, make func(context.Context) (*instance, error)) (*instance, error) {
	select {
	case inst := <-p.idle:
		return inst, nil
	default:
	}
	select {
	case inst := <-p.idle:
		return inst, nil
	case p.slots <- struct{}{}:
		inst, err := make(ctx)
		if err != nil {
			<-p.slots
			return nil, err
		}
		return inst, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("no free instance before the deadline (all %d busy): %w", cap(p.slots), ctx.Err())
	case <-stop:
		return nil, fmt.Errorf("no free instance before the module was stopped (all %d busy): %w", cap(p.slots), context.Canceled)
	}
}

// put returns a healthy instance to the idle set, or closes it when the
// set is full.
func (p *pool) put(inst *instance) {
	select {
	case p.idle <- inst:
	default:
		p.discard(inst)
	}
}

// discard closes an instance and frees its slot.
func (p *pool) discard(inst *instance) {
	_ = inst.mod.Close(context.Background())
	<-p.slots
}

// retireAfter is the number of calls a new instance serves: at most
// MaxCallsPerInstance, and down to three quarters of it at random, so that
// instances that serve a module's calls in turn do not all retire at once
// and leave the next call to make one under its own deadline.
func (m *Module) retireAfter() int {
	n := m.limits.MaxCallsPerInstance
	return n - rand.IntN(n/4+1)
}

// instantiate makes a new instance, running _initialize under the
// instantiation deadline.
func (m *Module) instantiate(ctx context.Context) (*instance, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.limits.InstantiateTimeout)
	defer cancel()
	ctx, unstop := m.stoppable(ctx)
	defer unstop()
	w := &moduleLog{log: m.log, rate: m.logRate, maxBytes: m.limits.MaxLogBytes}
	w.reset(ctx)
	out := &stream{w: w, level: slog.LevelInfo}
	errs := &stream{w: w, level: slog.LevelWarn}
	mod, err := m.runtime.InstantiateModule(withMemory(withLog(ctx, w)), m.compiled, m.config.WithStdout(out).WithStderr(errs).WithNanosleep(m.sleeper(w)))
	errs.flush()
	out.flush()
	if err != nil {
		return nil, fmt.Errorf("module %q cannot be instantiated: %w", m.info.Name, describe(err, m.limits.InstantiateTimeout))
	}
	inst := &instance{
		mod: mod, alloc: mod.ExportedFunction(exportAlloc), hooks: map[string]api.Function{},
		log: w, stdout: out, stderr: errs, initPages: mod.Memory().Size() / 65536,
		retire: m.retireAfter(),
	}
	for h := range m.hooks {
		inst.hooks[exportName(h)] = mod.ExportedFunction(exportName(h))
	}
	return inst, nil
}
