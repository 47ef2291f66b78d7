package plugins_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/plugins"
)

// exampleCases is a policies-examples/<name>/cases.json file: the format
// of a module's self-test cases (sdk/ABI.md §7, policies-examples/README.md).
type exampleCases = plugins.Cases

type exampleCase = plugins.Case

// exampleLanguages are the languages an example can be written in, each in
// policies-examples/<example>/<language>/, in the order tests run them.
var exampleLanguages = []string{"go", "rust", "c", "assemblyscript", "wat"}

// example is one implementation of an example: its module and the cases
// that every implementation of the example shares.
type example struct {
	name  string // the example, e.g. trusted-hosts: the module's name
	lang  string // one of exampleLanguages
	dir   string
	cases exampleCases
	wasm  []byte
}

// id names the implementation in test and benchmark names.
func (ex *example) id() string { return ex.name + "/" + ex.lang }

// examples reads every policies-examples/*/cases.json with the policy.wasm
// of each language the example is written in.
func examples(tb testing.TB) []example {
	tb.Helper()
	files, err := filepath.Glob("../policies-examples/*/cases.json")
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Fatal("no policies-examples/*/cases.json")
	}
	var exs []example
	for _, f := range files {
		dir := filepath.Dir(f)
		raw, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		cases, err := plugins.ParseCases(raw)
		if err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			tb.Fatal(err)
		}
		found := 0
		for _, e := range entries {
			if !e.IsDir() {
				continue
			}
			if !slices.Contains(exampleLanguages, e.Name()) {
				tb.Fatalf("%s: folder %q is not one of the languages %v", dir, e.Name(), exampleLanguages)
			}
			found++
		}
		for _, lang := range exampleLanguages {
			langDir := filepath.Join(dir, lang)
			if _, err := os.Stat(langDir); err != nil {
				continue
			}
			ex := example{name: filepath.Base(dir), lang: lang, dir: langDir, cases: *cases}
			if ex.wasm, err = os.ReadFile(filepath.Join(langDir, "policy.wasm")); err != nil {
				tb.Fatalf("%s: %v (run policies-examples/build.sh)", ex.id(), err)
			}
			exs = append(exs, ex)
		}
		if found == 0 {
			tb.Fatalf("%s: no implementation in any of %v", dir, exampleLanguages)
		}
	}
	return exs
}

// document builds a case's input document the way the host does: abi,
// hook and now first, then the input members.
func (ex *example) document(c *exampleCase) ([]byte, error) { return ex.cases.Document(c) }

// behaviourLimits are the default limits with a deadline long enough that
// only behaviour is tested: on a loaded CI machine under -race a Go guest's
// garbage collector can stall a call past the default 100 ms. Deadlines
// themselves are tested with testdata/loop.wasm.
var behaviourLimits = plugins.Limits{Timeout: 10 * time.Second}

// load loads an example with behaviourLimits, its log going to log.
func (ex *example) load(tb testing.TB, log *testkit.Buffer) *plugins.Module {
	tb.Helper()
	m, err := plugins.Load(context.Background(), ex.wasm, plugins.LoadOptions{
		Name: ex.name, Tenant: "acme", Logger: slog.New(slog.NewTextHandler(log, nil)), Limits: behaviourLimits,
	})
	if err != nil {
		tb.Fatalf("load %s: %v", ex.id(), err)
	}
	tb.Cleanup(func() { _ = m.Close(context.Background()) })
	return m
}

// TestExamples replays every example's cases through the real host.
func TestExamples(t *testing.T) {
	for _, ex := range examples(t) {
		t.Run(ex.id(), func(t *testing.T) {
			log := &testkit.Buffer{}
			m := ex.load(t, log)
			if got := m.Info().Hooks; !slices.Equal(got, ex.cases.Hooks) {
				t.Errorf("module exports hooks %v, want exactly %v", got, ex.cases.Hooks)
			}
			for i := range ex.cases.Cases {
				c := &ex.cases.Cases[i]
				t.Run(c.Name, func(t *testing.T) {
					doc, err := ex.document(c)
					if err != nil {
						t.Fatal(err)
					}
					before := len(log.String())
					out, err := m.Call(context.Background(), c.Hook, doc)
					checkExampleCase(t, c, out, err)
					// A failure is the module's: the SDK logs its cause.
					if c.WantFailure && !strings.Contains(log.String()[before:], "hook failed") {
						t.Errorf("the failure left no cause in the log:\n%s", log.String()[before:])
					}
				})
			}
		})
	}
}

func checkExampleCase(t testing.TB, c *exampleCase, out []byte, err error) {
	t.Helper()
	if err := c.Check(out, err); err != nil {
		t.Fatal(err)
	}
}

// TestExampleCasesAreWellFormed keeps the cases files honest: examples()
// reads them with plugins.ParseCases, which refuses a case without exactly
// one expectation, a hook not in hooks, two cases of one name or a bench
// that names none; this checks that every example has cases.
func TestExampleCasesAreWellFormed(t *testing.T) {
	for _, ex := range examples(t) {
		if len(ex.cases.Cases) == 0 || len(ex.cases.Hooks) == 0 {
			t.Errorf("%s: no cases or no hooks", ex.id())
		}
	}
}

// TestExamplesSelfTest: the examples, with their cases file as a side file
// in a policy folder, pass the self-tests of activation. One
// implementation of each example written in a language other than Go is
// enough here (a Go module takes seconds to compile under -race;
// TestExamples runs them all).
func TestExamplesSelfTest(t *testing.T) {
	files := map[string][]byte{}
	for _, ex := range examples(t) {
		if _, ok := files[ex.name+".wasm"]; ok || ex.lang == "go" {
			continue
		}
		files[ex.name+".wasm"] = ex.wasm
		raw, err := os.ReadFile(filepath.Join(filepath.Dir(ex.dir), "cases.json"))
		if err != nil {
			t.Fatal(err)
		}
		files[ex.name+".cases.json"] = raw
	}
	dir := t.TempDir()
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h := newHost(t, plugins.Config{Dir: dir, Limits: behaviourLimits})
	if n, want := len(h.Modules()), len(files)/2; n != want {
		t.Errorf("%d modules active, want %d", n, want)
	}
}

// TestTrustedHostsInEveryLanguage keeps the example that shows the ABI is
// language-neutral complete: trusted-hosts in every language, all passing
// the one cases file.
func TestTrustedHostsInEveryLanguage(t *testing.T) {
	var langs []string
	for _, ex := range examples(t) {
		if ex.name == "trusted-hosts" {
			langs = append(langs, ex.lang)
		}
	}
	if !slices.Equal(langs, exampleLanguages) {
		t.Errorf("trusted-hosts is written in %v, want %v", langs, exampleLanguages)
	}
}

// benchCase returns the case an example's benchmarks run, with its input
// document.
func (ex *example) benchCase(tb testing.TB) (*exampleCase, []byte) {
	tb.Helper()
	c := &ex.cases.Cases[0]
	for i := range ex.cases.Cases {
		if ex.cases.Cases[i].Name == ex.cases.Bench {
			c = &ex.cases.Cases[i]
		}
	}
	doc, err := ex.document(c)
	if err != nil {
		tb.Fatal(err)
	}
	return c, doc
}

// TestTrustedHostsAgree runs generated URIs and configurations through
// every language's trusted-hosts and requires the same answer from each,
// byte for byte up to JSON spelling: the cases file pins down the rules,
// this checks that nothing outside it differs.
func TestTrustedHostsAgree(t *testing.T) {
	var impls []example
	for _, ex := range examples(t) {
		if ex.name == "trusted-hosts" {
			impls = append(impls, ex)
		}
	}
	mods := make([]*plugins.Module, len(impls))
	for i := range impls {
		mods[i] = impls[i].load(t, &testkit.Buffer{})
	}
	configs := []string{
		`{"hosts":["example.com","*.example.org","bücher.example","127.0.0.1","[2001:db8::1]"],"default_client_name":"Unnamed \"client\""}`,
		`{"hosts":["*.xn--r8jz45g.example","::ffff:192.0.2.1","EXAMPLE.com."],"allow_private_use_schemes":true}`,
	}
	// URIs from pieces that exercise the rules, joined at random.
	schemes := []string{"https://", "http://", "HTTPS://", "com.example.app:", "myapp://", "https:", "1a://", "://", ""}
	hosts := []string{"example.com", "EXAMPLE.com.", "a.example.org", "example.org", "bücher.example", "BÜCHER.example",
		"xn--bcher-kva.example", "shop.例え.example", "127.0.0.1", "127.0.0.01", "[::1]", "[2001:DB8::0:1]", "[::ffff:c000:201]",
		"[fe80::1%25eth0]", "[1::2::3]", "[127.0.0.1]", "::1", "user@example.com", "example.com@evil.net", "ex%61mple.com",
		"a..b", "", "evil.net", "a_b.example.org", strings.Repeat("a", 64) + ".example.com", "例え.example", "-x.example.org",
		strings.Repeat("abcdefghi.", 25) + "example.com", strings.Repeat("é", 40) + ".example.org", "[::]", "[::ffff:1.2.3.4%25x]"}
	ports := []string{"", ":", ":443", ":65535", ":65536", ":x", ":0"}
	paths := []string{"", "/", "/cb", "/cb?x=1#f", "?q", "#f", "/a b", "/\"q\"", "/\\", "/\u0007", "/é"}
	seed := uint64(1)
	pick := func(n int) int {
		seed = seed*6364136223846793005 + 1442695040888963407 // deterministic: every run checks the same inputs
		return int(seed>>33) % n
	}
	for i := 0; i < 3000; i++ {
		uri := schemes[pick(len(schemes))] + hosts[pick(len(hosts))] + ports[pick(len(ports))] + paths[pick(len(paths))]
		member := []string{"redirect_uris", "post_logout_redirect_uris", "client_uri", "client_uri#fr"}[pick(4)]
		var value any = uri
		if strings.HasSuffix(member, "uris") {
			value = []string{"https://example.com/cb", uri}
		}
		md := map[string]any{member: value}
		if pick(3) == 0 {
			md["client_name"] = nil
		}
		mdJSON, _ := json.Marshal(md)
		doc := fmt.Sprintf(`{"abi":1,"hook":"policy","now":%d,"tenant":"acme","phase":"register","config":%s,"metadata":%s}`,
			plugins.CasesNow, configs[pick(len(configs))], mdJSON)
		var first []any
		for k, m := range mods {
			out, err := m.Call(context.Background(), engine.HookPolicy, []byte(doc))
			if err != nil {
				t.Fatalf("%s failed on %s: %v", impls[k].id(), doc, err)
			}
			toks, err := jsonTokens(out)
			if err != nil {
				t.Fatalf("%s: output %s: %v", impls[k].id(), out, err)
			}
			if k == 0 {
				first = toks
			} else if !slices.Equal(toks, first) {
				want, _ := mods[0].Call(context.Background(), engine.HookPolicy, []byte(doc))
				t.Fatalf("%s and %s differ on\n%s\n%s: %s\n%s: %s", impls[0].id(), impls[k].id(), doc, impls[0].id(), want, impls[k].id(), out)
			}
		}
	}
}
