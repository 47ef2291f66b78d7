package plugins_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/plugins"
)

// TestTableGrowCapped: table.grow past max_table_elements fails (returns
// -1) even for a table that declares no maximum; the module sees exactly
// the documented default of 10,000 elements.
func TestTableGrowCapped(t *testing.T) {
	m := load(t, "table-cap", plugins.Limits{})
	out, err := m.Call(context.Background(), engine.HookPolicy, policyInput(`{}`))
	if err != nil || string(out) != `{"metadata":{}}` {
		t.Fatalf("the table grew past the cap: %s %v", out, err)
	}
}

// TestTableLimitsAtLoad: a table declaring more than the cap is refused at
// load, and tables are charged to the memory budget.
func TestTableLimitsAtLoad(t *testing.T) {
	for _, c := range []struct {
		name   string
		limits plugins.Limits
		want   string // "" loads
	}{
		{"table-min", plugins.Limits{}, "declares 20000 elements, over the limit of 10000"},
		{"table-min", plugins.Limits{MaxTableElements: 20_000}, ""},
		{"table-many", plugins.Limits{}, ""},
		{"table-many", plugins.Limits{MaxTableElements: 5_000}, "over the limit of 5000"},
		{"table-many", plugins.Limits{MemoryPages: 10}, "its tables may take 640000 bytes"},
		// 640,000 bytes are 10 pages: 2 are left, and the module needs 2.
		{"table-many", plugins.Limits{MemoryPages: 12}, ""},
		{"table-many", plugins.Limits{MemoryPages: 11}, "over limit of 1 pages"},
	} {
		m, err := plugins.Load(context.Background(), fixture(t, c.name), plugins.LoadOptions{Name: c.name, Limits: c.limits, Logger: testkit.DiscardLogger()})
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s %+v: %v", c.name, c.limits, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s %+v: %v, want %q", c.name, c.limits, err, c.want)
		}
		if err == nil {
			m.Close(context.Background())
		}
	}
}

// waitLog waits until buf holds s.
func waitLog(buf *testkit.Buffer, s string) {
	for !strings.Contains(buf.String(), s) {
		time.Sleep(time.Millisecond)
	}
}

// TestSleepEndsAtDeadline: a module sleeping an hour in WASI poll_oneoff is
// stopped at its call's deadline, with a deadline error, and its instance
// is discarded. (Before, the call slept the hour and then succeeded.)
func TestSleepEndsAtDeadline(t *testing.T) {
	m := load(t, "sleep", plugins.Limits{Timeout: 100 * time.Millisecond, MaxInstances: 1, MaxIdle: 1})
	for range 2 {
		inst := m.WaitIdle()
		out, err := m.Call(context.Background(), engine.HookPolicy, policyInput(`{}`))
		if err == nil || !strings.Contains(err.Error(), "stopped: ran past its 100ms deadline") {
			t.Fatalf("call: %s %v, want stopped at its deadline", out, err)
		}
		if !plugins.Closed(inst) {
			t.Error("the instance that slept past its deadline was kept")
		}
	}
	// A request cancelled while the module sleeps ends the sleep too.
	var buf testkit.Buffer
	m2, err := plugins.Load(context.Background(), fixture(t, "sleep"), plugins.LoadOptions{Name: "sleep", Limits: plugins.Limits{Timeout: time.Hour}, Logger: slogTo(&buf)})
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	go func() { waitLog(&buf, "going to sleep"); cancel() }()
	if _, err := m2.Call(ctx, engine.HookPolicy, policyInput(`{}`)); err == nil || !strings.Contains(err.Error(), "stopped: the request was cancelled") {
		t.Errorf("cancelled call: %v", err)
	}
}

// TestHostCloseStopsSleepers: Host.Close returns while a call sleeps with
// an hour's deadline, once its context is done, and the call fails.
func TestHostCloseStopsSleepers(t *testing.T) {
	var buf testkit.Buffer
	dir := policyDir(t, map[string]string{"sleep.wasm": "sleep"})
	h, err := plugins.New(context.Background(), plugins.Config{Dir: dir, Limits: plugins.Limits{Timeout: time.Hour}, Logger: slogTo(&buf)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := h.Policy(context.Background(), "default", "sleep", &engine.PolicyInput{Tenant: "default", Metadata: map[string]json.RawMessage{}})
		done <- err
	}()
	waitLog(&buf, "going to sleep")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // shut down now: stop the calls in flight
	h.Close(ctx)
	if err := <-done; err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Errorf("the sleeping call: %v, want it stopped", err)
	}
}

// buildGoGuest builds the Go (wasip1) policy module in dir, as
// policies-examples/build.sh builds the Go examples.
func buildGoGuest(t *testing.T, dir string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "policy.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-buildvcs=false", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0", "GOFLAGS=-mod=readonly", "GOWASM=", "GOEXPERIMENT=", "GOAMD64=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", dir, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGoGuestSleep: a Go module's time.Sleep of an hour (Go's scheduler
// idling in poll_oneoff) ends at the call's deadline, with a deadline
// error, and the instance is discarded.
func TestGoGuestSleep(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go guest")
	}
	wasm := buildGoGuest(t, filepath.Join("testdata", "go-sleep"))
	var buf testkit.Buffer
	m, err := plugins.Load(context.Background(), wasm, plugins.LoadOptions{
		Name: "go-sleep", Logger: slogTo(&buf),
		Limits: plugins.Limits{Timeout: 2 * time.Second, MaxInstances: 1, MaxIdle: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(context.Background())
	inst := m.WaitIdle()
	out, err := m.Call(context.Background(), engine.HookPolicy, policyInput(`{"redirect_uris":["https://a.example/cb"]}`))
	if err == nil || !strings.Contains(err.Error(), "stopped: ran past its 2s deadline") {
		t.Fatalf("call: %s %v, want stopped at its deadline", out, err)
	}
	if !strings.Contains(buf.String(), "going to sleep") {
		t.Error("the module did not reach its sleep")
	}
	if !plugins.Closed(inst) {
		t.Error("the instance that slept past its deadline was kept")
	}
}
