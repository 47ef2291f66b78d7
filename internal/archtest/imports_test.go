package archtest

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/registrar-dev/registrar"

// pkg is one package of the module's build (tests excluded) and what it
// imports directly.
type pkg struct {
	path    string
	imports []string
}

// listPackages runs go list over the module and every package it depends
// on.
func listPackages(t *testing.T) map[string]pkg {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	cmd := exec.Command(goTool, "list", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]pkg{}
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		pkgs[f[0]] = pkg{path: f[0], imports: f[1:]}
	}
	if _, ok := pkgs[module+"/engine"]; !ok {
		t.Fatalf("go list does not list the engine: is this the module root?\n%s", out)
	}
	return pkgs
}

// within reports whether path is dir or a package under it.
func within(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, dir+"/")
}

// TestDependenciesStayInTheirPackage: a third-party dependency is imported
// only by the package of ours that adapts it; the rest of the module sees
// our own types (STYLE.md, "Dependency types stay inside their package").
// cmd/registrar reaches Redis only through redisstore.Open.
func TestDependenciesStayInTheirPackage(t *testing.T) {
	pkgs := listPackages(t)
	rules := []struct{ dep, owner string }{
		{"github.com/redis/go-redis", module + "/redisstore"},
		{"github.com/tetratelabs/wazero", module + "/plugins"},
	}
	for _, p := range pkgs {
		if !within(p.path, module) {
			continue // a dependency's own imports are its business
		}
		for _, imp := range p.imports {
			for _, r := range rules {
				if within(imp, r.dep) && !within(p.path, r.owner) {
					t.Errorf("%s imports %s: only %s may", p.path, imp, r.owner)
				}
			}
		}
	}
}

// TestMetricsDoesNotDependOnPlugins: counting a request must not link the
// WebAssembly runtime. cmd/registrar converts the policy host's reports.
func TestMetricsDoesNotDependOnPlugins(t *testing.T) {
	pkgs := listPackages(t)
	seen := map[string]bool{}
	var walk func(path string, chain []string)
	walk = func(path string, chain []string) {
		if seen[path] {
			return
		}
		seen[path] = true
		chain = append(slices.Clone(chain), path)
		if within(path, module+"/plugins") || within(path, "github.com/tetratelabs/wazero") {
			t.Errorf("metrics depends on %s: %s", path, strings.Join(chain, " -> "))
			return
		}
		for _, imp := range pkgs[path].imports {
			walk(imp, chain)
		}
	}
	walk(module+"/metrics", nil)
	if len(seen) < 2 {
		t.Error("metrics depends on nothing: did go list see it?")
	}
}
