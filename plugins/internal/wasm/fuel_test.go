package wasm

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
)

// repoModules lists the Wasm modules of the repository: the examples, the
// SDKs' conformance modules and the host's test modules.
func repoModules(tb testing.TB) []string {
	tb.Helper()
	var files []string
	for _, pattern := range []string{
		"../../../policies-examples/*/*/policy.wasm",
		"../../../sdk/*/conformance/*.wasm",
		"../../../sdk/go/internal/conformance/*.wasm",
		"../../../sdk/testdata/*.wasm",
		"../../testdata/*.wasm",
	} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			tb.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 40 {
		tb.Fatalf("found %d modules; run from plugins/internal/wasm", len(files))
	}
	return files
}

// TestAddFuelRepoModules: every module of the repository that wazero
// compiles is rewritten, the rewrite compiles too, and it charges every
// loop the module has (counted in wasm2wat's text, when wabt is
// installed). Modules over 1 MiB (Go's) are only rewritten here: the
// plugins tests load and run each of them.
func TestAddFuelRepoModules(t *testing.T) {
	ctx := context.Background()
	_, wabt := exec.LookPath("wasm2wat")
	for _, f := range repoModules(t) {
		t.Run(strings.TrimPrefix(f, "../../../"), func(t *testing.T) {
			wasm, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			r := wazero.NewRuntime(ctx)
			defer r.Close(ctx)
			fuelled, err := addFuel(wasm)
			// Large modules (Go's) take seconds to compile, minutes under
			// the race detector; the plugins tests load each of them, fuelled.
			if err == nil && len(wasm) < 1<<20 {
				_, err = r.CompileModule(ctx, fuelled)
			}
			if err != nil {
				if _, cerr := r.CompileModule(ctx, wasm); cerr == nil {
					t.Fatalf("wazero compiles the module, but not with fuel: %v", err)
				}
				t.Skipf("not a module wazero compiles: %v", err)
			}
			if len(wasm) >= 1<<20 {
				return
			}
			loops := countLoops(t, wasm)
			if charges := bytes.Count(fuelled, chargeTail()); wabt == nil && charges != loops {
				t.Errorf("%d charges, %d loops", charges, loops)
			}
		})
	}
}

// chargeTail is the part of appendCharge's code that does not depend on
// the module: i32.const 0, i32.lt_s, if.
func chargeTail() []byte { return []byte{0x41, 0x00, 0x48, 0x04, 0x40, 0x10} }

// countLoops counts the loop instructions of a module in wasm2wat's text.
func countLoops(t *testing.T, wasm []byte) int {
	if _, err := exec.LookPath("wasm2wat"); err != nil {
		return -1
	}
	f := filepath.Join(t.TempDir(), "m.wasm")
	if err := os.WriteFile(f, wasm, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("wasm2wat", "--enable-all", f).Output()
	if err != nil {
		t.Skipf("wasm2wat: %v", err)
	}
	n := 0
	for _, line := range strings.Split(string(out), "\n") {
		if l := strings.TrimSpace(line); l == "loop" || strings.HasPrefix(l, "loop ") || strings.HasPrefix(l, "loop;") {
			n++
		}
	}
	return n
}

// TestAddFuelRefusesFuelImport: a module that imports the fuel function
// itself is not rewritten.
func TestAddFuelRefusesFuelImport(t *testing.T) {
	// (module (import "registrar:fuel" "yield" (func (result i32))))
	wasm := []byte("\x00asm\x01\x00\x00\x00" +
		"\x01\x05\x01\x60\x00\x01\x7f" +
		"\x02\x18\x01\x0eregistrar:fuel\x05yield\x00\x00")
	if _, err := addFuel(wasm); !errors.Is(err, errFuel) {
		t.Fatalf("addFuel: %v, want errFuel", err)
	}
}

// FuzzAddFuel: untrusted bytes never panic the rewrite, and a module that
// wazero compiles is rewritten into one that it compiles too.
func FuzzAddFuel(f *testing.F) {
	for _, name := range []string{"../../testdata/loop", "../../testdata/recurse", "../../testdata/table-grow",
		"../../testdata/accept", "../../../sdk/testdata/minimal", "../../../policies-examples/trusted-hosts/wat/policy"} {
		b, err := os.ReadFile(name + ".wasm")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	f.Fuzz(func(t *testing.T, wasm []byte) {
		fuelled, ferr := addFuel(wasm)
		if ferr != nil && !errors.Is(ferr, errFuel) {
			t.Fatalf("addFuel: %v, not errFuel", ferr)
		}
		orig, err := compile(ctx, r, wasm)
		if err != nil {
			return
		}
		defer orig.Close(ctx)
		if ferr != nil {
			for _, fn := range orig.ImportedFunctions() {
				if mod, _, _ := fn.Import(); mod == fuelModule {
					return
				}
			}
			t.Fatalf("wazero compiles the module, addFuel refuses it: %v", ferr)
		}
		c, err := r.CompileModule(ctx, fuelled)
		if err != nil {
			t.Fatalf("wazero compiles the module, but not its rewrite: %v", err)
		}
		c.Close(ctx)
	})
}

// TestAddFuelRefusesUnknownIndices: the rewrite adds a local to every
// function and a global to the module, the fuel, at the first index the
// module does not have. An invalid module that names that local or global
// (here to set it at every turn of an endless loop) must not become a
// valid module that refuels itself: the rewrite refuses it, the original
// is compiled, and wazero's validation refuses that.
func TestAddFuelRefusesUnknownIndices(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	for name, set := range map[string]byte{"local.set 0": 0x21, "global.set 0": 0x24} {
		// (module (func (loop (i32.const 1) (<set> 0) (br 0))))
		body := []byte{0x00, 0x03, 0x40, 0x41, 0x01, set, 0x00, 0x0c, 0x00, 0x0b, 0x0b}
		wasm := append([]byte("\x00asm\x01\x00\x00\x00"+
			"\x01\x04\x01\x60\x00\x00"+
			"\x03\x02\x01\x00"+
			"\x0a\x0d\x01\x0b"), body...)
		if _, err := compile(ctx, r, wasm); err == nil {
			t.Fatalf("%s: wazero compiles the module the test means to be invalid", name)
		}
		fuelled, err := addFuel(wasm)
		if !errors.Is(err, errFuel) {
			if _, cerr := compile(ctx, r, fuelled); cerr == nil {
				t.Errorf("%s: addFuel made an invalid module valid (its code sets the fuel)", name)
			}
			t.Errorf("%s: addFuel: %v, want errFuel", name, err)
		}
	}
}
