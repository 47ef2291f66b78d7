package wasm

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

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
// now_unix_ms is deprecated (sdk/ABI.md §3: the input's now is the time)
// and kept so that modules that import it still load.
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

// hostLog implements registrar.log(level, ptr, len). A line longer than
// maxLogLine is cut there, on a UTF-8 boundary; a range outside the
// module's memory logs a warning instead of the line (sdk/ABI.md §3).
func hostLog(ctx context.Context, m api.Module, stack []uint64) {
	level, ptr, n := int32(stack[0]), uint32(stack[1]), uint32(stack[2])
	w := logOf(ctx)
	if w == nil || w.spent() {
		return // a line over the call's budget costs nothing more
	}
	// Up to a UTF-8 sequence more than is kept, so that cutUTF8 can tell
	// whether the last one fits.
	b, ok := m.Memory().Read(ptr, min(n, maxLogLine+utf8.UTFMax))
	if !ok {
		w.line(ctx, slog.LevelWarn, nil, fmt.Sprintf("registrar.log(%d, %d, %d): that range is outside the module's memory; nothing logged", level, ptr, n))
		return
	}
	b = cutUTF8(b, maxLogLine)
	lv := slog.LevelInfo
	switch {
	case level <= 0:
		lv = slog.LevelDebug
	case level == 2:
		lv = slog.LevelWarn
	case level >= 3:
		lv = slog.LevelError
	}
	w.line(ctx, lv, b, "")
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

// logLineCost is what each logged line costs on top of its bytes, for
// the record around it (time, level, module, tenant, digest, request).
const logLineCost = 100

// moduleLog writes what one instance logs (through registrar.log, or its
// WASI stdout and stderr) to the host's log, tagged with the module: per
// call at most maxLogLines lines and Limits.MaxLogBytes bytes, and no more
// than the module's budget per second (rate) allows. A line is cleaned
// before it is counted: invalid UTF-8 and control characters become "?",
// so that JSON escaping cannot make it longer than about twice its size.
// When a limit is reached it logs one line that says so.
type moduleLog struct {
	log      *slog.Logger
	rate     *logRate
	maxBytes int // per call
	mu       sync.Mutex
	n        int             // lines written in the current call
	bytes    int             // bytes counted in the current call
	full     bool            // the call's budget is spent; further lines are dropped
	ctx      context.Context // the current call's context, for its request ID
}

// reset starts a new call's budget.
func (w *moduleLog) reset(ctx context.Context) {
	w.mu.Lock()
	w.n, w.bytes, w.full, w.ctx = 0, 0, false, ctx
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

// spent reports whether the current call may log no more.
func (w *moduleLog) spent() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.full
}

// callLine is line in the context of the call in progress (stdout and
// stderr have none of their own).
func (w *moduleLog) callLine(level slog.Level, b []byte) {
	w.mu.Lock()
	ctx := w.ctx
	w.mu.Unlock()
	if ctx == nil {
		ctx = context.Background()
	}
	w.line(ctx, level, b, "")
}

// line logs one line of the module, b, or a message of the host about the
// module when b is nil; a nil ctx means the current call's.
func (w *moduleLog) line(ctx context.Context, level slog.Level, b []byte, hostMsg string) {
	var text string
	if b != nil {
		text = cleanLine(b)
	} else {
		text = hostMsg
	}
	w.mu.Lock()
	if ctx == nil {
		ctx = w.ctx
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if w.full {
		w.mu.Unlock()
		return
	}
	w.n++
	room := w.maxBytes - w.bytes - logLineCost
	var capped string
	switch {
	case w.n > maxLogLines:
		capped = fmt.Sprintf("%d lines", maxLogLines)
	case room < len(text):
		capped = fmt.Sprintf("%d bytes", w.maxBytes)
		text = string(cutUTF8([]byte(text), max(room, 0)))
	}
	if capped != "" {
		w.full = true
	}
	w.bytes += logLineCost + len(text)
	w.mu.Unlock()

	if text != "" || capped == "" {
		if !w.rate.take(logLineCost + len(text)) {
			if w.rate.warn() {
				w.log.Log(ctx, slog.LevelWarn, "policy module log: over the module's budget per second; its lines are dropped until it refills", "limit_bytes_per_second", w.rate.perSecond)
			}
			return
		}
		if b != nil {
			w.log.Log(ctx, level, "policy module log", "line", text)
		} else {
			w.log.Log(ctx, level, "policy module: "+text)
		}
	}
	if capped != "" {
		w.log.Log(ctx, slog.LevelWarn, "policy module log: further lines of this call dropped", "limit", capped)
	}
}

// cleanLine turns a module's line into text safe to log: without the line
// end, invalid UTF-8 and control characters (but tab) as "?".
func cleanLine(b []byte) string {
	b = bytes.TrimRight(b, "\r\n")
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && size <= 1, r < 0x20 && r != '\t', r == 0x7f, r >= 0x80 && r < 0xa0, r == 0x2028, r == 0x2029:
			out = append(out, '?')
		default:
			out = append(out, b[:size]...)
		}
		b = b[size:]
	}
	return string(out)
}

// cutUTF8 returns at most the first n bytes of b, cut before a UTF-8
// sequence that would not fit whole.
func cutUTF8(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	b = b[:n]
	// Step back over at most 3 continuation bytes to the start of the last
	// sequence; drop it if it is incomplete.
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			break
		}
	}
	return b
}

// logRate is a module's log budget per second, shared by its instances: a
// token bucket of perSecond bytes that refills continuously.
type logRate struct {
	perSecond int
	now       func() time.Time
	mu        sync.Mutex
	tokens    float64
	last      time.Time
	warned    bool // the current shortage has been logged
}

func newLogRate(perSecond int, now func() time.Time) *logRate {
	return &logRate{perSecond: perSecond, now: now, tokens: float64(perSecond), last: now()}
}

// take spends n bytes of the budget, if it has them.
func (r *logRate) take(n int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if d := now.Sub(r.last); d > 0 {
		r.tokens = min(float64(r.perSecond), r.tokens+d.Seconds()*float64(r.perSecond))
		r.last = now
	}
	if r.tokens < float64(n) {
		return false
	}
	r.tokens -= float64(n)
	if r.tokens >= float64(r.perSecond)/2 {
		r.warned = false // refilled: a new shortage will be logged
	}
	return true
}

// warn reports whether a shortage should be logged: once until the budget
// has refilled to half.
func (r *logRate) warn() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.warned {
		return false
	}
	r.warned = true
	return true
}

// streamLine is what a stream keeps of a line: maxLogLine and the rest of
// a UTF-8 sequence, so that cutUTF8 can tell whether the last one fits.
const streamLine = maxLogLine + utf8.UTFMax

// stream adapts a moduleLog to the io.Writer that WASI stdout or stderr
// write to, splitting lines and capping their length.
type stream struct {
	w     *moduleLog
	level slog.Level
	mu    sync.Mutex
	buf   []byte
}

// Write implements io.Writer. Once the call may log no more, or its
// context is done, it takes the bytes without looking at them.
func (s *stream) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(p)
	for len(p) > 0 && !s.w.spent() && s.w.context().Err() == nil {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.buf = append(s.buf, p[:min(len(p), max(streamLine-len(s.buf), 0))]...)
			break
		}
		s.buf = append(s.buf, p[:min(i, max(streamLine-len(s.buf), 0))]...)
		s.w.callLine(s.level, cutUTF8(s.buf, maxLogLine))
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
		s.w.callLine(s.level, cutUTF8(s.buf, maxLogLine))
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
