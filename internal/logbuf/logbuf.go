// Package logbuf buffers a process's log lines so that a busy server
// writes them in batches: one write system call for many request lines
// instead of one each, which was ~5% of the CPU a request costs
// (RATIONALE.md, "Log lines are written in batches").
//
// A line waits at most the Writer's interval. Lines at level Warn and
// above, written through Handler, are written at once with everything
// before them, so a problem is never held back; and Close writes what is
// left when the process ends.
package logbuf

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Writer is an io.Writer that keeps what is written to it in a buffer and
// writes the buffer to the underlying writer when it holds size bytes,
// when interval has passed since the oldest line it holds was written, on
// Flush and on Close. It is safe for concurrent use. Each Write should be
// whole lines, as slog's handlers write them: a line is never split
// between two writes to the underlying writer.
type Writer struct {
	out      io.Writer
	size     int
	interval time.Duration

	mu     sync.Mutex
	buf    []byte
	timer  *time.Timer // armed while buf holds lines
	err    error       // the first error of the underlying writer
	closed bool
}

// New returns a Writer over out that holds up to size bytes for at most
// interval.
func New(out io.Writer, size int, interval time.Duration) *Writer {
	w := &Writer{out: out, size: size, interval: interval, buf: make([]byte, 0, size)}
	w.timer = time.AfterFunc(time.Hour, func() { _ = w.Flush() })
	w.timer.Stop()
	return w
}

// Write buffers p, writing the buffer first if p would not fit, and p at
// once if it is larger than the buffer or the Writer is closed. It
// reports the underlying writer's first error, if there was one.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return w.out.Write(p)
	}
	if len(w.buf)+len(p) > w.size {
		w.flushLocked()
		if len(p) > w.size {
			if _, err := w.out.Write(p); err != nil && w.err == nil {
				w.err = err
			}
			return len(p), w.err
		}
	}
	if len(w.buf) == 0 {
		w.timer.Reset(w.interval)
	}
	w.buf = append(w.buf, p...)
	return len(p), w.err
}

// Flush writes what the Writer holds.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flushLocked()
	return w.err
}

// Close writes what the Writer holds; later writes go straight to the
// underlying writer.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flushLocked()
	w.closed = true
	return w.err
}

func (w *Writer) flushLocked() {
	w.timer.Stop()
	if len(w.buf) == 0 {
		return
	}
	if _, err := w.out.Write(w.buf); err != nil && w.err == nil {
		w.err = err
	}
	w.buf = w.buf[:0]
}

// Handler is a slog.Handler that writes through a Writer and flushes it
// after each record at level Warn or above.
type Handler struct {
	slog.Handler
	W *Writer
}

// Handle implements slog.Handler.
func (h Handler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		if ferr := h.W.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

// WithAttrs implements slog.Handler.
func (h Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return Handler{Handler: h.Handler.WithAttrs(attrs), W: h.W}
}

// WithGroup implements slog.Handler.
func (h Handler) WithGroup(name string) slog.Handler {
	return Handler{Handler: h.Handler.WithGroup(name), W: h.W}
}
