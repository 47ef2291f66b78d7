package e2e_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// hostileModules are the test modules of plugins/testdata that misbehave
// when called: each fails its request (500) or floods the log.
var hostileModules = []string{
	"loop", "log-loop", "sleep", "grow", "table-grow", "trap",
	"oversized", "out-of-bounds", "bad-alloc", "log-flood",
}

// moduleDir lays out a policy folder of plugins/testdata modules, and the
// minimal module of sdk/testdata as "good".
func moduleDir(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	copyModule := func(src, name string) {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".wasm"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range names {
		copyModule(filepath.Join("..", "plugins", "testdata", n+".wasm"), n)
	}
	copyModule(filepath.Join("..", "sdk", "testdata", "minimal.wasm"), "good")
	return dir
}

// procStatus reads a field of /proc/PID/status in bytes (Linux).
func procStatus(t *testing.T, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field+":" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatalf("no %s", field)
	return 0
}

// tokens mints an initial access token naming each policy.
func tokens(t *testing.T, c client, p *process, names ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, n := range names {
		out[n] = must(t, "token for "+n, c.do("POST", p.admin+"/admin/tenants/default/initial-access-tokens", adminToken, "application/json",
			[]byte(`{"policies":["`+n+`"],"expires_in":"PT1H"}`)), 201).str("initial_access_token")
	}
	return out
}

const regBody = `{"redirect_uris":["https://app.example/cb"]}`

// TestHostileModulesRSS runs every hostile test module at once, eight
// requests at a time each, in a real registrar: each hostile request fails
// (500), the good module still registers, and the process's peak
// resident memory (VmHWM) stays under 1 GiB (issue 12, "Done when").
func TestHostileModulesRSS(t *testing.T) {
	p := startProcess(t, "--policy-dir", moduleDir(t, hostileModules...), "--log-level", "warn")
	c := client{t: t, h: &http.Client{Timeout: time.Minute}}
	tok := tokens(t, c, p, append([]string{"good"}, hostileModules...)...)

	var mu sync.Mutex
	statuses := map[string]map[int]int{}
	var wg sync.WaitGroup
	for name := range tok {
		statuses[name] = map[int]int{} // before any goroutine reads the map
	}
	for name, token := range tok {
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 4 {
					r := c.do("POST", p.public+"/reg", token, "application/json", []byte(regBody))
					mu.Lock()
					statuses[name][r.status]++
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	peak := procStatus(t, p.cmd.Process.Pid, "VmHWM")
	t.Logf("peak RSS %d MiB, RSS now %d MiB; answers by module: %v", peak>>20, procStatus(t, p.cmd.Process.Pid, "VmRSS")>>20, statuses)
	if peak >= 1<<30 {
		t.Errorf("peak RSS %d MiB, want under 1 GiB", peak>>20)
	}
	// The good module's calls share one tenant, and so its one turn at a
	// time, with 300 hostile ones under a 100ms deadline: how many get a
	// turn within a second depends on the machine (a loaded CI machine
	// let none through, with or without fuel; isolating tenants from each
	// other is issue 12, item 3). During the storm each either registers
	// or fails with a 500; after it, the module registers: the hostile
	// modules left nothing behind.
	for code := range statuses["good"] {
		if code != http.StatusCreated && code != http.StatusInternalServerError {
			t.Errorf("good module beside the hostile ones: %v, want only 201s and deadline 500s", statuses["good"])
		}
	}
	must(t, "the good module after the storm", c.do("POST", p.public+"/reg", tok["good"], "application/json", []byte(regBody)), 201)
	for _, name := range hostileModules {
		s := statuses[name]
		if name == "log-flood" {
			// Its 10,000 log calls answer or run past the deadline,
			// depending on the load; what matters is its log and memory.
			continue
		}
		if s[500] != 32 {
			t.Errorf("%s: %v, want 32 × 500", name, s)
		}
	}
}

// TestSIGTERMWithHostileCallsInFlight: with a policy timeout of an hour, a
// request asleep in WASI and one in an endless loop do not hold up
// shutdown: SIGTERM stops the process once its drain timeout (2s) has
// passed, and both requests are answered.
func TestSIGTERMWithHostileCallsInFlight(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "registrar.yaml")
	// Both hostile calls are the default tenant's: give it two turns, so
	// that both are in flight when SIGTERM comes.
	if err := os.WriteFile(cfg, []byte("policy_limits:\n  timeout: 1h\n  tenant_calls: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const drain = 2 * time.Second
	p := startProcess(t, "--policy-dir", moduleDir(t, "sleep", "log-loop"), "--config", cfg, "--shutdown-timeout", drain.String())
	c := client{t: t, h: &http.Client{Timeout: 10 * time.Minute}}
	tok := tokens(t, c, p, "sleep", "log-loop")
	answered := make(chan response, 2)
	for _, name := range []string{"sleep", "log-loop"} {
		go func() { answered <- c.do("POST", p.public+"/reg", tok[name], "application/json", []byte(regBody)) }()
	}
	for !strings.Contains(p.log.String(), "going to sleep") || !strings.Contains(p.log.String(), "looping") {
		select {
		case r := <-answered:
			t.Fatalf("a hostile request was answered before SIGTERM: %d %s", r.status, r.raw)
		case <-time.After(10 * time.Millisecond):
		}
	}
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Without the fix the process waited for the hour's deadline; give it
	// far more than the drain timeout before calling it stuck.
	select {
	case <-p.exited:
	case <-time.After(drain + time.Minute):
		t.Fatalf("registrar still running %s after SIGTERM, with a %s drain timeout", time.Since(start), drain)
	}
	took := time.Since(start)
	t.Logf("SIGTERM to exit: %s (drain timeout %s)", took.Round(time.Millisecond), drain)
	for range 2 {
		if r := <-answered; r.status != 500 && r.status != -1 {
			t.Errorf("hostile request: %d %s, want 500 or a closed connection", r.status, r.raw)
		}
	}
	if !strings.Contains(p.log.String(), "shutting down") {
		t.Errorf("no shutdown in the log:\n%s", tail(p.log.String(), 2000))
	}
}
