package httpio

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// requestInfo is what the logging middleware learns about a request while
// it is served.
type requestInfo struct {
	id   string
	code engine.ErrorCode
}

type ctxKey struct{}

func info(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(ctxKey{}).(*requestInfo)
	return ri
}

// RequestID returns the ID of the request being served, or "".
func RequestID(ctx context.Context) string {
	if ri := info(ctx); ri != nil {
		return ri.id
	}
	return ""
}

// SetErrorCode records the error code a request was answered with, for the
// access log line.
func SetErrorCode(r *http.Request, code engine.ErrorCode) {
	if ri := info(r.Context()); ri != nil {
		ri.code = code
	}
}

// requestIDPattern bounds the request IDs accepted from a proxy's
// X-Request-Id header; others are replaced by a fresh one.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

func newRequestID() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "unknown"
	}
	var h [2 * len(b)]byte
	hex.Encode(h[:], b[:])
	return string(h[:])
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Logging gives every request an ID (the proxy's X-Request-Id if it is
// well-formed, else a fresh one), echoes it in the X-Request-Id response
// header, and writes one access log line per request. It never logs
// headers, query strings or bodies, which may carry tokens.
func Logging(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if id == "" || !requestIDPattern.MatchString(id) {
			id = newRequestID()
		}
		// One allocation for what the request needs of its own, the
		// response header's value (set as Header.Set would) included.
		s := &struct {
			sw    statusWriter
			ri    requestInfo
			value [1]string
		}{sw: statusWriter{ResponseWriter: w}, ri: requestInfo{id: id}, value: [1]string{id}}
		sw, ri := &s.sw, &s.ri
		w.Header()["X-Request-Id"] = s.value[:]
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, ri))
		serveRecovering(log, sw, r, next)
		// Typed attributes: the line InfoContext writes for the same pairs,
		// without boxing each value (nothing at all when Info is off).
		attrs := [7]slog.Attr{
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", sw.status),
			slog.Int("bytes", sw.bytes), slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("remote", r.RemoteAddr),
		}
		n := 6
		if ri.code != "" {
			attrs[n] = slog.Any("error", ri.code)
			n++
		}
		log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs[:n]...)
	})
}

// serveRecovering serves r, turning a panic into a logged 500 instead of a
// dropped connection. A panic is a bug; this keeps it to one request.
func serveRecovering(log *slog.Logger, w *statusWriter, r *http.Request, next http.Handler) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v)
		}
		log.ErrorContext(r.Context(), "panic serving request", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		if w.status == 0 {
			WriteError(w, r, log, fmt.Errorf("panic: %v", v))
		}
	}()
	next.ServeHTTP(w, r)
}

// ContextHandler is a slog.Handler that adds the request ID of the
// record's context, so that every log line of a request can be found by it.
type ContextHandler struct {
	slog.Handler
}

// Handle implements slog.Handler.
func (h ContextHandler) Handle(ctx context.Context, rec slog.Record) error {
	if id := RequestID(ctx); id != "" {
		rec.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, rec)
}

// WithAttrs implements slog.Handler.
func (h ContextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return ContextHandler{h.Handler.WithAttrs(attrs)}
}

// WithGroup implements slog.Handler.
func (h ContextHandler) WithGroup(name string) slog.Handler {
	return ContextHandler{h.Handler.WithGroup(name)}
}
