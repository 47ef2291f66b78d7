package plugins

import (
	"bytes"
	"context"
	"crypto/rand"
	"log/slog"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// maxLogLine bounds one line a module logs; maxLogLines bounds the lines of
// one call, so that a chatty or hostile module cannot flood the log.
const (
	maxLogLine  = 1024
	maxLogLines = 64
	maxRandom   = 64 << 10
)

// hostFunctions are the functions of the "registrar" import module, with
// their types, so that imports can be checked before instantiation.
var hostFunctions = map[string]struct{ params, results []api.ValueType }{
	"log":         {[]api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32}, nil},
	"now_unix_ms": {nil, []api.ValueType{api.ValueTypeI64}},
	"random":      {[]api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}},
}

// instantiateHostModule adds the "registrar" import module to a runtime.
func instantiateHostModule(ctx context.Context, r wazero.Runtime) error {
	b := r.NewHostModuleBuilder(hostModule)
	b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(hostLog), hostFunctions["log"].params, nil).Export("log")
	b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, stack []uint64) {
		stack[0] = uint64(time.Now().UnixMilli())
	}), nil, hostFunctions["now_unix_ms"].results).Export("now_unix_ms")
	b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(hostRandom), hostFunctions["random"].params, hostFunctions["random"].results).Export("random")
	_, err := b.Instantiate(ctx)
	return err
}

// hostLog implements registrar.log(level, ptr, len).
func hostLog(ctx context.Context, m api.Module, stack []uint64) {
	level, ptr, n := int32(stack[0]), uint32(stack[1]), uint32(stack[2])
	w := logOf(ctx)
	if w == nil {
		return
	}
	b, ok := m.Memory().Read(ptr, min(n, maxLogLine))
	if !ok {
		return
	}
	lv := slog.LevelInfo
	switch {
	case level <= 0:
		lv = slog.LevelDebug
	case level == 2:
		lv = slog.LevelWarn
	case level >= 3:
		lv = slog.LevelError
	}
	w.line(ctx, lv, b)
}

// hostRandom implements registrar.random(ptr, len) -> 0 | 1.
func hostRandom(ctx context.Context, m api.Module, stack []uint64) {
	ptr, n := uint32(stack[0]), uint32(stack[1])
	if n > maxRandom {
		stack[0] = 1
		return
	}
	b, ok := m.Memory().Read(ptr, n)
	if !ok {
		stack[0] = 1
		return
	}
	if _, err := rand.Read(b); err != nil {
		stack[0] = 1
		return
	}
	stack[0] = 0
}

// moduleLog writes what one instance logs (through registrar.log, or its
// WASI stdout and stderr) to the host's log, tagged with the module, at
// most maxLogLines lines per call.
type moduleLog struct {
	log *slog.Logger
	mu  sync.Mutex
	n   int             // lines written in the current call
	ctx context.Context // the current call's context, for its request ID
}

// reset starts a new call's line budget.
func (w *moduleLog) reset(ctx context.Context) {
	w.mu.Lock()
	w.n, w.ctx = 0, ctx
	w.mu.Unlock()
}

// context returns the current call's context (Background before the
// first).
func (w *moduleLog) context() context.Context {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ctx == nil {
		return context.Background()
	}
	return w.ctx
}

// line logs one line; a nil ctx means the current call's.
func (w *moduleLog) line(ctx context.Context, level slog.Level, b []byte) {
	w.mu.Lock()
	w.n++
	n := w.n
	if ctx == nil {
		ctx = w.ctx
	}
	w.mu.Unlock()
	if ctx == nil {
		ctx = context.Background()
	}
	switch {
	case n < maxLogLines:
		w.log.Log(ctx, level, "policy module log", "line", string(bytes.ToValidUTF8(bytes.TrimRight(b, "\r\n"), []byte("?"))))
	case n == maxLogLines:
		w.log.Log(ctx, slog.LevelWarn, "policy module log: further lines of this call dropped", "limit", maxLogLines)
	}
}

// stream adapts a moduleLog to the io.Writer that WASI stdout or stderr
// write to, splitting lines and capping their length.
type stream struct {
	w     *moduleLog
	level slog.Level
	mu    sync.Mutex
	buf   []byte
}

// Write implements io.Writer.
func (s *stream) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			room := maxLogLine - len(s.buf)
			s.buf = append(s.buf, p[:min(len(p), max(room, 0))]...)
			break
		}
		s.buf = append(s.buf, p[:min(i, max(maxLogLine-len(s.buf), 0))]...)
		s.w.line(nil, s.level, s.buf)
		s.buf = s.buf[:0]
		p = p[i+1:]
	}
	return n, nil
}

// flush writes a partial last line.
func (s *stream) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.buf) > 0 {
		s.w.line(nil, s.level, s.buf)
		s.buf = s.buf[:0]
	}
}

type logKey struct{}

// withLog makes w the log of host calls made under ctx.
func withLog(ctx context.Context, w *moduleLog) context.Context {
	return context.WithValue(ctx, logKey{}, w)
}

func logOf(ctx context.Context) *moduleLog {
	w, _ := ctx.Value(logKey{}).(*moduleLog)
	return w
}
