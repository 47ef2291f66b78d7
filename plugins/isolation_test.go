package plugins_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/memstore"
	"github.com/registrar-dev/registrar/plugins"
)

// TestTenantCalls: a tenant's calls share Limits.TenantCalls turns across
// its modules. While its looping module holds its one turn, its other
// calls wait for a turn (those whose context ends first fail); another
// tenant's calls do not wait. Once the turn is free, the tenant's calls
// run again.
func TestTenantCalls(t *testing.T) {
	ctx := context.Background()
	h := newHost(t, plugins.Config{Store: memstore.New(memstore.Config{}), Limits: plugins.Limits{Timeout: 2 * time.Second, TenantCalls: 1}})
	for _, u := range []struct{ tenant, name string }{{"a", "loop"}, {"a", "minimal"}, {"b", "minimal"}} {
		if _, err := h.Upload(ctx, u.tenant, u.name, fixture(t, u.name), engine.PolicyChangeOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	in := &engine.PolicyInput{Metadata: map[string]json.RawMessage{"redirect_uris": json.RawMessage(`["https://a.example/cb"]`)}}
	looped := make(chan error, 1)
	go func() {
		_, err := h.Policy(ctx, "a", "loop", in)
		looped <- err
	}()
	for waited := false; !waited; {
		select {
		case err := <-looped:
			t.Fatalf("the loop ended (%v) and no other call of its tenant ever waited for a turn", err)
		default:
		}
		cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		_, err := h.Policy(cctx, "a", "minimal", in)
		cancel()
		waited = err != nil && strings.Contains(err.Error(), "no turn")
		if err != nil && !waited {
			t.Fatalf("tenant a's call: %v, want it to run or to wait for a turn", err)
		}
	}
	if _, err := h.Policy(ctx, "b", "minimal", in); err != nil {
		t.Errorf("tenant b's call while tenant a's loop runs: %v", err)
	}
	if err := <-looped; err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Errorf("the loop: %v, want it stopped at its deadline", err)
	}
	if _, err := h.Policy(ctx, "a", "minimal", in); err != nil {
		t.Errorf("tenant a's call once its turn is free: %v", err)
	}
}

// TestMemoryBombsReturnMemory: memory bombs that fail leave nothing
// behind: 4 rounds of 8 concurrent bombs (each fills the 32 MiB cap before
// it traps) leave the process's resident memory within 64 MiB of where it
// was, without a collection or a scavenge being asked for.
func TestMemoryBombsReturnMemory(t *testing.T) {
	rss := residentBytes(t)
	ctx := context.Background()
	m := load(t, "grow", plugins.Limits{Timeout: 5 * time.Second, MaxInstances: 8, MaxIdle: 8})
	before := rss()
	var peak int64
	for range 4 {
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if _, err := m.Call(ctx, engine.HookPolicy, policyInput(`{}`)); err == nil || !strings.Contains(err.Error(), "trapped") {
					t.Errorf("bomb: %v, want a trap", err)
				}
			})
		}
		wg.Wait()
		peak = max(peak, rss())
	}
	after := rss()
	t.Logf("resident memory: %d MiB before, %d MiB after the bombs (%d MiB at most between rounds)", before>>20, after>>20, peak>>20)
	if after-before > 64<<20 {
		t.Errorf("resident memory grew by %d MiB after the bombs failed, want at most 64 MiB", (after-before)>>20)
	}
}

// residentBytes returns a function that reads the process's resident set
// size, or skips the test where /proc is missing.
func residentBytes(t *testing.T) func() int64 {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/self/statm")
	}
	return func() int64 {
		n, err := readRSS()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
}

// readRSS reads the process's resident set size from /proc (Linux).
func readRSS() (int64, error) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, fmt.Errorf("/proc/self/statm: %q", b)
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize()), err
}

// TestStackOverflowReturnsMemory: calls that overflow their stack (wazero
// grows it on the Go heap, to 50 MB) leave no memory behind: the memory
// the Go runtime holds from the system comes back within 64 MiB of where
// it was. (The Go runtime's own count, not the resident set size: the race
// detector's shadow of the heap is not returned with it.)
func TestStackOverflowReturnsMemory(t *testing.T) {
	ctx := context.Background()
	h := newHost(t, plugins.Config{Store: memstore.New(memstore.Config{}), Limits: plugins.Limits{Timeout: 10 * time.Second}})
	if _, err := h.Upload(ctx, "acme", "recurse", fixture(t, "recurse"), engine.PolicyChangeOptions{}); err != nil {
		t.Fatal(err)
	}
	debug.FreeOSMemory() // what the test itself left so far
	before := goHeld()
	var peak uint64
	for range 3 {
		if _, err := h.Policy(ctx, "acme", "recurse", &engine.PolicyInput{}); err == nil || !strings.Contains(err.Error(), "stack overflow") {
			t.Fatalf("call: %v, want a stack overflow", err)
		}
		peak = max(peak, goHeld())
	}
	testkit.Eventually(t, 10*time.Second, "memory back within 64 MiB", func() bool { return goHeld() < before+64<<20 })
	t.Logf("Go runtime memory: %d MiB before, %d MiB at most between calls, %d MiB after", before>>20, peak>>20, goHeld()>>20)
}

// goHeld returns the memory the Go runtime holds from the system: all it
// mapped, less what it has returned.
func goHeld() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() - s[1].Value.Uint64()
}
