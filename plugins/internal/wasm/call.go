package wasm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tetratelabs/wazero/sys"

	"github.com/registrar-dev/registrar/engine"
)

// retirePages: an instance whose memory has grown by more than this many
// pages (16 MiB) since it started is retired after its call rather than
// kept, so that one large request does not pin memory.
const retirePages = 256

// Call runs one hook with an input document and returns the output
// document. A failure of the module (trap, deadline, memory, bad address,
// size) is an error; the instance that failed is discarded. Call does not
// interpret the output.
func (m *Module) Call(ctx context.Context, hook engine.Hook, input []byte) ([]byte, error) {
	return m.call(ctx, hook, input, m.limits.Timeout)
}

// call is Call under a given deadline.
func (m *Module) call(ctx context.Context, hook engine.Hook, input []byte, deadline time.Duration) ([]byte, error) {
	if !m.acquire() {
		return nil, ErrClosed
	}
	defer m.release()
	return m.callHeld(ctx, hook, input, deadline)
}

// callHeld is call for a caller that holds the module (acquire): it runs
// even once Close has begun, which waits for the holders.
func (m *Module) callHeld(ctx context.Context, hook engine.Hook, input []byte, deadline time.Duration) ([]byte, error) {
	if !m.hooks[hook] {
		return nil, fmt.Errorf("module %q does not implement the %s hook", m.info.Name, hook)
	}
	if len(input) > m.limits.MaxInput {
		return nil, fmt.Errorf("input of %d bytes is over the %d-byte limit", len(input), m.limits.MaxInput)
	}
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	if !m.fuel {
		// Close-on-context-done needs the context cancelled on StopCalls;
		// fuelled code's yield and the sleeps watch m.stop themselves.
		var unstop context.CancelFunc
		ctx, unstop = m.stoppable(ctx)
		defer unstop()
	}
	inst, err := m.pool.get(ctx, m.stop, m.instantiate)
	if err != nil {
		return nil, err
	}
	out, err := m.run(ctx, inst, exportName(hook), input, deadline)
	inst.stdout.flush()
	inst.stderr.flush()
	inst.calls++
	switch {
	case err != nil:
		m.pool.discard(inst) // its state is undefined after a failure
		go m.warm()
		return nil, err
	case inst.calls >= inst.retire,
		inst.mod.Memory().Size()/65536 > max(inst.initPages+retirePages, 256):
		m.pool.discard(inst)
		go m.warm()
	default:
		m.pool.put(inst)
	}
	return out, nil
}

// warm makes a replacement instance in the background, so that the next
// call does not pay for instantiation (about 10 ms for a Go module).
func (m *Module) warm() {
	if !m.acquire() {
		return
	}
	defer m.release()
	select {
	case m.pool.slots <- struct{}{}:
	default:
		return // the pool is full
	}
	inst, err := m.instantiate(context.Background())
	if err != nil {
		<-m.pool.slots
		m.log.Debug("policy module: replacement instance not made", "err", err.Error())
		return
	}
	m.pool.put(inst)
}

// prewarm fills the pool with up to its idle size of instances, so that
// the first calls after the module goes live do not pay for
// instantiation.
func (m *Module) prewarm(ctx context.Context) error {
	if !m.acquire() {
		return ErrClosed
	}
	defer m.release()
	for len(m.pool.idle) < cap(m.pool.idle) {
		select {
		case m.pool.slots <- struct{}{}:
		default:
			return nil // every instance is live already
		}
		inst, err := m.instantiate(ctx)
		if err != nil {
			<-m.pool.slots
			return err
		}
		m.pool.put(inst)
	}
	return nil
}

// run is one call on an instance: alloc, write, call, read.
func (m *Module) run(ctx context.Context, inst *instance, fn string, input []byte, deadline time.Duration) ([]byte, error) {
	inst.log.reset(ctx)
	ctx = withLog(ctx, inst.log)
	mem := inst.mod.Memory()
	stack := inst.stack[:]
	stack[0] = uint64(len(input))
	if err := inst.alloc.CallWithStack(ctx, stack); err != nil {
		return nil, fmt.Errorf("%s: %w", exportAlloc, describe(err, deadline))
	}
	ptr := uint32(stack[0])
	if ptr == 0 || !mem.Write(ptr, input) {
		return nil, fmt.Errorf("%s(%d) returned %d, not room for the input", exportAlloc, len(input), ptr)
	}
	stack[0], stack[1] = uint64(ptr), uint64(len(input))
	if err := inst.hooks[fn].CallWithStack(ctx, stack); err != nil {
		return nil, fmt.Errorf("%s: %w", fn, describe(err, deadline))
	}
	outPtr, outLen := uint32(stack[0]>>32), uint32(stack[0])
	if int(outLen) > m.limits.MaxOutput {
		return nil, fmt.Errorf("%s returned %d bytes, over the %d-byte limit", fn, outLen, m.limits.MaxOutput)
	}
	b, ok := mem.Read(outPtr, outLen)
	if !ok {
		return nil, fmt.Errorf("%s returned bytes %d-%d, outside its %d-byte memory", fn, outPtr, uint64(outPtr)+uint64(outLen), mem.Size())
	}
	return append([]byte(nil), b...), nil
}

// describe turns a wazero error into a sentence for the log.
func describe(err error, deadline time.Duration) error {
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		switch exit.ExitCode() {
		case sys.ExitCodeDeadlineExceeded:
			return fmt.Errorf("stopped: ran past its %s deadline", deadline)
		case sys.ExitCodeContextCanceled:
			return errors.New("stopped: the request was cancelled")
		default:
			return fmt.Errorf("exited with code %d", exit.ExitCode())
		}
	}
	return fmt.Errorf("trapped: %w", err)
}
