package plugins_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/plugins"
)

// fixture returns the bytes of a test module.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	path := filepath.Join("testdata", name+".wasm")
	if name == "minimal" {
		path = filepath.Join("..", "sdk", "testdata", "minimal.wasm")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run plugins/testdata/build.sh)", err)
	}
	return b
}

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }

func load(t testing.TB, name string, limits plugins.Limits) *plugins.Module {
	t.Helper()
	m, err := plugins.Load(context.Background(), fixture(t, name), plugins.LoadOptions{Name: name, Limits: limits, Logger: testkit.DiscardLogger()})
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	t.Cleanup(func() { m.Close(context.Background()) })
	return m
}

// policyInput is an input document of the policy hook, as the host writes it.
func policyInput(metadata string) []byte {
	return []byte(`{"abi":1,"hook":"policy","now":1795348800,"phase":"register","tenant":"default","metadata":` + metadata +
		`,"token":{"kind":"none","policies":[]},"request":{"remote_ip":"127.0.0.1"},"policies":["minimal"]}`)
}

// TestMinimalWAT runs the hand-written module of sdk/ABI.md §6: written
// from the ABI document alone, it must work.
//
// Its deadline is far beyond what the module needs, so that a busy machine
// cannot fail it (the default 100ms did, for the 60 KB input under -race).
func TestMinimalWAT(t *testing.T) {
	m := load(t, "minimal", plugins.Limits{Timeout: time.Minute})
	info := m.Info()
	if info.ABIVersion != 1 || len(info.Hooks) != 1 || info.Hooks[0] != engine.HookPolicy || info.Reactor || len(info.Digest) != 64 {
		t.Errorf("info %+v", info)
	}
	out, err := m.Call(context.Background(), engine.HookPolicy, policyInput(`{"redirect_uris":["https://app.example/cb"],"client_name":"A {brace} \"quoted\""}`))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Metadata map[string]any `json:"metadata"`
	}
	if err := json.Unmarshal(out, &got); err != nil || got.Metadata["client_name"] != `A {brace} "quoted"` {
		t.Fatalf("accept: %s (%v)", out, err)
	}
	out, err = m.Call(context.Background(), engine.HookPolicy, policyInput(`{"redirect_uris":["http://app.example/cb"]}`))
	if err != nil || !strings.Contains(string(out), `"invalid_redirect_uri"`) {
		t.Fatalf("reject: %s (%v)", out, err)
	}
	if _, err := m.Call(context.Background(), engine.HookIDFactory, policyInput(`{}`)); err == nil {
		t.Error("called a hook the module does not export")
	}
	// A large input makes the module grow its memory.
	big := `{"redirect_uris":["https://app.example/cb"],"client_name":"` + strings.Repeat("x", 60000) + `"}`
	if out, err := m.Call(context.Background(), engine.HookPolicy, policyInput(big)); err != nil || len(out) < 60000 {
		t.Fatalf("large input: %d bytes, %v", len(out), err)
	}
}

// TestMinimalWATHoldsTheLargestInput: the module of sdk/ABI.md §6 takes an
// input document of exactly the default input limit (64 KiB) and echoes
// its metadata whole.
func TestMinimalWATHoldsTheLargestInput(t *testing.T) {
	m := load(t, "minimal", plugins.Limits{})
	const limit = 64 << 10
	name := strings.Repeat("x", limit-len(policyInput(`{"client_name":""}`)))
	in := policyInput(`{"client_name":"` + name + `"}`)
	if len(in) != limit {
		t.Fatalf("the input is %d bytes, want %d", len(in), limit)
	}
	out, err := m.Call(context.Background(), engine.HookPolicy, in)
	if err != nil {
		t.Fatalf("an input of %d bytes: %v", len(in), err)
	}
	if want := `{"metadata":{"client_name":"` + name + `"}}`; string(out) != want {
		t.Fatalf("output of %d bytes, want the %d-byte metadata echoed", len(out), len(want))
	}
	if _, err := m.Call(context.Background(), engine.HookPolicy, append(in[:len(in):len(in)], ' ')); err == nil || !strings.Contains(err.Error(), "over the 65536-byte limit") {
		t.Errorf("an input one byte over the limit: %v", err)
	}
}

// TestABIDocShowsMinimalWAT: sdk/ABI.md §6 shows sdk/testdata/minimal.wat
// whole, byte for byte, so that the example a reader copies is the module
// the tests run.
func TestABIDocShowsMinimalWAT(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "sdk", "ABI.md"))
	if err != nil {
		t.Fatal(err)
	}
	wat, err := os.ReadFile(filepath.Join("..", "sdk", "testdata", "minimal.wat"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n## 6. ")
	if !ok {
		t.Fatal("sdk/ABI.md has no section 6")
	}
	section, _, _ = strings.Cut(section, "\n## 7. ")
	_, block, ok := strings.Cut(section, "\n```wat\n")
	if !ok {
		t.Fatal("sdk/ABI.md §6 has no wat code block")
	}
	block, _, ok = strings.Cut(block, "```\n")
	if !ok {
		t.Fatal("sdk/ABI.md §6: the wat code block does not end")
	}
	if block != string(wat) {
		t.Errorf("sdk/ABI.md §6 differs from sdk/testdata/minimal.wat (%d and %d bytes): copy the file into the section", len(block), len(wat))
	}
}

// TestLoadRefuses: a module that breaks the ABI is refused when loaded,
// with a reason that says what is wrong.
func TestLoadRefuses(t *testing.T) {
	cases := map[string]string{
		"no-alloc":            "does not export registrar_alloc",
		"no-hook":             "exports no hook",
		"no-memory":           `does not export its memory`,
		"wrong-type":          "registrar_policy with the wrong type",
		"forbidden-import":    `imports from "env"`,
		"unknown-host-import": "registrar.fetch, which does not exist",
		"imported-memory":     "imports a memory",
		"abi-v2":              "ABI version 2",
		"command":             "exports _start",
		"slow-init":           "deadline",
		"big-memory":          "over limit of 512 pages",
	}
	for name, want := range cases {
		t.Run(name, func(t *testing.T) {
			m, err := plugins.Load(context.Background(), fixture(t, name), plugins.LoadOptions{
				Name: name, Logger: testkit.DiscardLogger(), Limits: plugins.Limits{InstantiateTimeout: 200 * time.Millisecond},
			})
			if err == nil {
				m.Close(context.Background())
				t.Fatal("loaded")
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		})
	}
	if _, err := plugins.Load(context.Background(), []byte("not wasm"), plugins.LoadOptions{Name: "x", Logger: testkit.DiscardLogger()}); err == nil || !strings.Contains(err.Error(), "does not compile") {
		t.Errorf("garbage bytes: %v", err)
	}
}

// TestHostileModules: each way a module can misbehave fails only its own
// call, and discards the instance that failed, while calls to a good module
// running at the same time succeed. A module that fails by itself (a trap,
// a bad answer) gets a deadline far beyond what it needs, so that its
// failure, not the machine's speed, ends the call; only the modules that
// never return (a loop, an hour's WASI sleep) run into their 100ms deadline.
func TestHostileModules(t *testing.T) {
	const long = time.Minute
	good := load(t, "minimal", plugins.Limits{Timeout: long, MemoryPages: 64})
	cases := map[string]struct {
		want    string
		timeout time.Duration
	}{
		"loop":          {"ran past its 100ms deadline", 100 * time.Millisecond},
		"sleep":         {"ran past its 100ms deadline", 100 * time.Millisecond},
		"grow":          {"trapped", long},
		"table-grow":    {"trapped", long},
		"trap":          {"trapped", long},
		"oversized":     {"over the 262144-byte limit", long},
		"out-of-bounds": {"outside its", long},
		"bad-alloc":     {"not room for the input", long},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			bad := load(t, name, plugins.Limits{Timeout: c.timeout, MemoryPages: 64, MaxOutput: 256 << 10, MaxInstances: 1, MaxIdle: 1})
			var wg sync.WaitGroup
			errs := make(chan error, 20)
			for range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					out, err := good.Call(context.Background(), engine.HookPolicy, policyInput(`{"redirect_uris":["https://a.example/cb"]}`))
					if err == nil && !strings.HasPrefix(string(out), `{"metadata":`) {
						err = errors.New(string(out))
					}
					errs <- err
				}()
			}
			for range 2 { // the failed instance is replaced: the second call fails the same way
				inst := bad.WaitIdle() // the one instance the call will get
				_, err := bad.Call(context.Background(), engine.HookPolicy, policyInput(`{}`))
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Errorf("call: %v, want an error saying %q", err, c.want)
				}
				if !plugins.Closed(inst) {
					t.Error("the instance that failed was kept")
				}
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("a good call failed beside the bad one: %v", err)
				}
			}
		})
	}
}

// TestImportsAndLogs: registrar.log and WASI stdout reach the host's log,
// tagged with the module; the clock is real and randomness works.
func TestImportsAndLogs(t *testing.T) {
	var buf testkit.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	m, err := plugins.Load(context.Background(), fixture(t, "logger"), plugins.LoadOptions{Name: "logger", Tenant: "acme", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(context.Background())
	out, err := m.Call(context.Background(), engine.HookPolicy, policyInput(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"error":"invalid_client_metadata","error_description":"logged"}` {
		t.Errorf("output %s", out)
	}
	logged := buf.String()
	for _, want := range []string{`"line":"hello from registrar.log"`, `"line":"hello from stdout"`, `"module":"logger"`, `"tenant":"acme"`} {
		if !strings.Contains(logged, want) {
			t.Errorf("log lacks %s:\n%s", want, logged)
		}
	}
}

// TestLogOutsideMemory: a registrar.log call whose bytes are not inside the
// module's memory logs nothing and does not fail the call (sdk/ABI.md §3).
func TestLogOutsideMemory(t *testing.T) {
	var buf testkit.Buffer
	m, err := plugins.Load(context.Background(), fixture(t, "log-bounds"), plugins.LoadOptions{Name: "log-bounds", Logger: slogTo(&buf)})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(context.Background())
	out, err := m.Call(context.Background(), engine.HookPolicy, policyInput(`{}`))
	if err != nil || string(out) != `{"metadata":{}}` {
		t.Fatalf("call: %s, %v", out, err)
	}
	if n := strings.Count(buf.String(), `"msg":"policy module log"`); n != 1 || !strings.Contains(buf.String(), `"line":"the good line"`) {
		t.Errorf("%d lines logged, want only the good one:\n%s", n, buf.String())
	}
}

// TestPoolHammer runs many concurrent calls through a small pool: every
// call succeeds, under -race.
func TestPoolHammer(t *testing.T) {
	m := load(t, "minimal", plugins.Limits{MaxInstances: 2, MaxIdle: 1, Timeout: 5 * time.Second})
	n := 400
	if testing.Short() {
		n = 50
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			uri := "https://app.example/" + strings.Repeat("p", i%50)
			out, err := m.Call(context.Background(), engine.HookPolicy, policyInput(`{"redirect_uris":["`+uri+`"]}`))
			if err == nil && !strings.Contains(string(out), uri) {
				err = errors.New("wrong output: " + string(out))
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestPoolWaitsForItsDeadline: with every instance busy, a call waits for
// one until its deadline, then fails without running. The first call's
// module logs when it runs, so that the test knows the instance is taken
// (it slept 20ms and hoped, before).
func TestPoolWaitsForItsDeadline(t *testing.T) {
	var buf testkit.Buffer
	m, err := plugins.Load(context.Background(), fixture(t, "log-loop"), plugins.LoadOptions{
		Name: "log-loop", Logger: slogTo(&buf), Limits: plugins.Limits{MaxInstances: 1, MaxIdle: 1, Timeout: time.Minute},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(context.Background())
	ctx0, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := m.Call(ctx0, engine.HookPolicy, policyInput(`{}`))
		done <- err
	}()
	waitLog(&buf, "looping") // the first call has the one instance
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = m.Call(ctx, engine.HookPolicy, policyInput(`{}`))
	if err == nil || !strings.Contains(err.Error(), "no free instance") {
		t.Errorf("second call: %v", err)
	}
	stop()
	if err := <-done; err == nil {
		t.Error("the endless loop returned")
	}
}

func TestInputLimit(t *testing.T) {
	m := load(t, "minimal", plugins.Limits{MaxInput: 100})
	if _, err := m.Call(context.Background(), engine.HookPolicy, policyInput(`{"client_name":"`+strings.Repeat("x", 200)+`"}`)); err == nil || !strings.Contains(err.Error(), "over the 100-byte limit") {
		t.Errorf("large input: %v", err)
	}
}
