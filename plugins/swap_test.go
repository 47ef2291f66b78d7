package plugins_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/memstore"
	"github.com/registrar-dev/registrar/plugins"
)

// TestSwapHammer: goroutines call a policy without pause while its version
// is swapped 200 times, by uploads and shadow changes: no call fails, and
// each is answered by one of the versions.
func TestSwapHammer(t *testing.T) {
	ctx := context.Background()
	swaps := 200
	if testing.Short() {
		swaps = 40
	}
	var shadows atomic.Int64
	h := newHost(t, plugins.Config{
		Store: memstore.New(memstore.Config{}), Limits: plugins.Limits{Timeout: 5 * time.Second},
		Shadow: func(plugins.ShadowResult) { shadows.Add(1) },
	})
	versions := [][]byte{fixture(t, "accept"), fixture(t, "accept-v2"), fixture(t, "accept-tested")}
	digests := map[string]bool{}
	for _, v := range versions {
		digests[digest(v)] = true
	}
	if _, err := h.Upload(ctx, "acme", "p", versions[0], engine.PolicyChangeOptions{}); err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	var calls, failed atomic.Int64
	var wg sync.WaitGroup
	for range 4 * runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			in := &engine.PolicyInput{Tenant: "acme", Metadata: map[string]json.RawMessage{}}
			for {
				select {
				case <-stop:
					return
				default:
				}
				out, err := h.Policy(ctx, "acme", "p", in)
				calls.Add(1)
				if err != nil || !digests[out.Version] {
					if failed.Add(1) < 5 {
						t.Errorf("call failed during a swap: %+v %v", out, err)
					}
				}
			}
		})
	}
	var took []time.Duration
	for i := range swaps {
		opts := engine.PolicyChangeOptions{Shadow: i%5 == 4} // now and then, a shadow beside the active one
		start := time.Now()
		if _, err := h.Upload(ctx, "acme", "p", versions[i%len(versions)], opts); err != nil {
			t.Fatalf("swap %d: %v", i, err)
		}
		took = append(took, time.Since(start))
	}
	close(stop)
	wg.Wait()
	if failed.Load() > 0 {
		t.Errorf("%d of %d calls failed", failed.Load(), calls.Load())
	}
	slices.Sort(took)
	t.Logf("%d calls during %d swaps, %d shadow runs; upload (verify, store, activate) p50 %s, p99 %s, max %s",
		calls.Load(), swaps, shadows.Load(), took[len(took)/2], took[len(took)*99/100], took[len(took)-1])
}

// TestSwapMemory: 200 swaps free the versions they replace: uploads that
// go round three versions, and rewrites of a folder file with a version
// never seen before each time (the compiled code of each must be freed,
// not kept by the shared compilation cache). The live modules, the heap
// and the process's memory mappings (compiled code is mapped apart) stay
// bounded.
func TestSwapMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("200 swaps")
	}
	ctx := context.Background()
	dir := policyDir(t, map[string]string{"f.wasm": "accept"})
	h := newHost(t, plugins.Config{Dir: dir, Store: memstore.New(memstore.Config{})})
	versions := [][]byte{fixture(t, "accept"), fixture(t, "accept-v2"), fixture(t, "accept-tested")}
	in := &engine.PolicyInput{Tenant: "acme", Metadata: map[string]json.RawMessage{}}
	swap := func(i int) {
		v := versions[i%len(versions)]
		if i%2 == 0 {
			if _, err := h.Upload(ctx, "acme", "p", v, engine.PolicyChangeOptions{}); err != nil {
				t.Fatal(err)
			}
		} else {
			v = withSection(v, "swap", []byte{byte(i), byte(i >> 8)}) // a new version
			if err := os.WriteFile(filepath.Join(dir, "f.wasm"), v, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := h.SyncFolder(ctx); err != nil {
				t.Fatal(err)
			}
		}
		for _, name := range []string{"p", "f"} { // each version serves
			if _, err := h.Policy(ctx, "acme", name, in); err != nil {
				t.Fatal(err)
			}
		}
	}
	// measure returns the heap and the compiled code mapped once the
	// replaced versions are closed. wazero unmaps compiled code in a
	// finalizer, so the collector runs until the mapping stops shrinking.
	measure := func() (heap uint64, code int64) {
		testkit.Eventually(t, 5*time.Second, "replaced versions closed", func() bool { return h.LiveModules() == 2 })
		code = -1
		for range 100 {
			runtime.GC()
			time.Sleep(5 * time.Millisecond) // the finalizers run
			c := anonymousCode(t)
			if c == code {
				break
			}
			code = c
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc, code
	}
	const warm, swaps = 20, 200
	for i := range warm {
		swap(i)
	}
	heap0, code0 := measure()
	most := int64(0)
	for i := warm; i < swaps; i++ {
		swap(i)
		most = max(most, h.LiveModules())
		if i%10 == 0 { // replaced versions are closed in the background, soon
			testkit.Eventually(t, 2*time.Second, "replaced versions closed", func() bool { return h.LiveModules() == 2 })
		}
	}
	t.Logf("at most %d live modules (2 serving, the others draining)", most)
	heap1, code1 := measure()
	t.Logf("after %d swaps: heap %d KiB → %d KiB, compiled code mapped %d KiB → %d KiB", swaps, heap0>>10, heap1>>10, code0>>10, code1>>10)
	if heap1 > heap0+1<<20 {
		t.Errorf("the heap grew by %d KiB over %d swaps", (heap1-heap0)>>10, swaps-warm)
	}
	if code1 > code0+64<<10 { // versions in flight; one leaked per swap would be 700 KiB

		t.Errorf("%d KiB more of compiled code mapped after %d swaps: replaced versions are not freed", (code1-code0)>>10, swaps-warm)
	}
}

// anonymousCode sums the process's anonymous executable memory mappings,
// where wazero puts compiled code (Linux only; 0 elsewhere).
func anonymousCode(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return 0
	}
	var total int64
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) != 5 || !strings.Contains(f[1], "x") || f[4] != "0" {
			continue // not executable, or a file's
		}
		lo, hi, _ := strings.Cut(f[0], "-")
		l, err1 := strconv.ParseInt(lo, 16, 64)
		h, err2 := strconv.ParseInt(hi, 16, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("/proc/self/maps: %q", line)
		}
		total += h - l
	}
	return total
}

// TestCallsFinishOnTheirVersion: a call that started before a swap finishes
// on the version it started with, and the replaced version is closed only
// after it.
func TestCallsFinishOnTheirVersion(t *testing.T) {
	ctx := context.Background()
	// Two turns for the tenant: the check of the new version runs beside
	// the call in flight rather than waiting for it.
	h := newHost(t, plugins.Config{Store: memstore.New(memstore.Config{}), Limits: plugins.Limits{Timeout: 300 * time.Millisecond, TenantCalls: 2}})
	slow := fixture(t, "loop") // runs until its deadline: a call in flight for 300 ms
	if _, err := h.Upload(ctx, "acme", "p", slow, engine.PolicyChangeOptions{}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		_, err := h.Policy(ctx, "acme", "p", &engine.PolicyInput{Tenant: "acme"})
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if _, err := h.Upload(ctx, "acme", "p", fixture(t, "accept"), engine.PolicyChangeOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := serving(t, h, "acme", "p"); got != digest(fixture(t, "accept")) {
		t.Errorf("serving %s after the swap", got)
	}
	if h.LiveModules() != 2 {
		t.Errorf("%d live modules while the old version has a call in flight, want 2", h.LiveModules())
	}
	err := <-done
	if err == nil || errors.Is(err, errors.New("the module has been closed")) || !bytes.Contains([]byte(err.Error()), []byte("deadline")) {
		t.Errorf("the call in flight ended with %v, want its own deadline", err)
	}
	testkit.Eventually(t, time.Second, "the old version closed", func() bool { return h.LiveModules() == 1 })
}
