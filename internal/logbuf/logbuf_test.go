package logbuf_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/internal/logbuf"
	"github.com/registrar-dev/registrar/internal/testkit"
)

// sink records each write it is given.
type sink struct {
	mu     sync.Mutex
	writes []string
	err    error
}

func (s *sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes = append(s.writes, string(p))
	return len(p), s.err
}

func (s *sink) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.writes...)
}

func TestHoldsUntilFlush(t *testing.T) {
	out := &sink{}
	w := logbuf.New(out, 1024, time.Hour)
	fmt.Fprintln(w, "one")
	fmt.Fprintln(w, "two")
	if got := out.got(); len(got) != 0 {
		t.Fatalf("before Flush: %q written", got)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := out.got(); len(got) != 1 || got[0] != "one\ntwo\n" {
		t.Fatalf("after Flush: %q, want one write of both lines", got)
	}
	if err := w.Flush(); err != nil || len(out.got()) != 1 {
		t.Fatalf("an empty Flush wrote: %q, %v", out.got(), err)
	}
}

func TestFullBufferWritesWholeLines(t *testing.T) {
	out := &sink{}
	w := logbuf.New(out, 10, time.Hour)
	for _, line := range []string{"aaaa\n", "bbbb\n", "cccc\n", "a line longer than the buffer\n", "dd\n"} {
		if _, err := w.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"aaaa\nbbbb\n", "cccc\n", "a line longer than the buffer\n"}
	if got := out.got(); !equal(got, want) {
		t.Fatalf("writes %q, want %q", got, want)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := out.got(); len(got) != 4 || got[3] != "dd\n" {
		t.Fatalf("Close did not write the rest: %q", got)
	}
	fmt.Fprintln(w, "after")
	if got := out.got(); len(got) != 5 || got[4] != "after\n" {
		t.Fatalf("a write after Close was held: %q", got)
	}
}

func TestIntervalFlushes(t *testing.T) {
	out := &sink{}
	w := logbuf.New(out, 1024, time.Millisecond)
	fmt.Fprintln(w, "soon")
	testkit.Eventually(t, 10*time.Second, "the held line written", func() bool {
		got := out.got()
		return len(got) == 1 && got[0] == "soon\n"
	})
	fmt.Fprintln(w, "again")
	testkit.Eventually(t, 10*time.Second, "the next held line written", func() bool {
		got := out.got()
		return len(got) == 2 && got[1] == "again\n"
	})
}

func TestWarnFlushesAtOnce(t *testing.T) {
	out := &sink{}
	w := logbuf.New(out, 1<<16, time.Hour)
	log := slog.New(logbuf.Handler{Handler: slog.NewTextHandler(w, nil), W: w}).With("replica", "r1").WithGroup("g")
	log.Info("request")
	if got := out.got(); len(got) != 0 {
		t.Fatalf("an info line was written at once: %q", got)
	}
	log.Warn("store unavailable")
	got := strings.Join(out.got(), "")
	if !strings.Contains(got, "msg=request") || !strings.Contains(got, "store unavailable") || strings.Index(got, "msg=request") > strings.Index(got, "store unavailable") {
		t.Fatalf("after a warning: %q, want both lines in order", got)
	}
	if !strings.Contains(got, "replica=r1") {
		t.Fatalf("attributes lost: %q", got)
	}
}

func TestReportsWriteErrors(t *testing.T) {
	out := &sink{err: errors.New("disk full")}
	w := logbuf.New(out, 1024, time.Hour)
	fmt.Fprintln(w, "x")
	if err := w.Flush(); err == nil || err.Error() != "disk full" {
		t.Fatalf("Flush: %v, want the writer's error", err)
	}
	if _, err := w.Write([]byte("y\n")); err == nil {
		t.Fatal("Write after a failed flush: no error")
	}
	log := slog.New(logbuf.Handler{Handler: slog.NewTextHandler(w, nil), W: w})
	if err := log.Handler().Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelError, "x", 0)); err == nil {
		t.Fatal("Handle of an error record: no error from the failing writer")
	}
}

// TestConcurrentLinesStayWhole writes from many goroutines: every line
// arrives once and whole.
func TestConcurrentLinesStayWhole(t *testing.T) {
	var out bytes.Buffer
	var mu sync.Mutex
	w := logbuf.New(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return out.Write(p)
	}), 256, time.Microsecond)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				fmt.Fprintf(w, "goroutine %d line %d\n", g, i)
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	seen := map[string]bool{}
	for _, l := range lines {
		seen[l] = true
	}
	for g := range 8 {
		for i := range 200 {
			if l := fmt.Sprintf("goroutine %d line %d", g, i); !seen[l] {
				t.Fatalf("line %q missing or broken", l)
			}
		}
	}
	if len(lines) != 8*200 {
		t.Fatalf("%d lines, want %d", len(lines), 8*200)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
