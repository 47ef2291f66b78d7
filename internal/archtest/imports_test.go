package archtest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	pathpkg "path"
	"path/filepath"
	"slices"
	"strconv"
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
// cmd/registrar reaches Redis only through redisstore.Open. The one
// exception is bench/floor, which measures the bare dependency: what a
// server with go-redis and nothing of ours costs.
func TestDependenciesStayInTheirPackage(t *testing.T) {
	pkgs := listPackages(t)
	rules := []struct{ dep, owner, measure string }{
		{"github.com/redis/go-redis", module + "/redisstore", module + "/bench/floor"},
		{"github.com/tetratelabs/wazero", module + "/plugins", ""},
		{"github.com/lestrrat-go/jwx", module + "/jose", ""},
	}
	for _, p := range pkgs {
		if !within(p.path, module) {
			continue // a dependency's own imports are its business
		}
		for _, imp := range p.imports {
			for _, r := range rules {
				if within(imp, r.dep) && !within(p.path, r.owner) && p.path != r.measure {
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

// TestRouterTypesStayInTheHTTPPackages: gorilla/mux is the router of
// httpapi and adminapi; no other package's exported API (functions,
// methods, types and their exported fields, variables) names one of its
// types, so that the router could change without changing them. metrics
// may still read the matched route from a request.
func TestRouterTypesStayInTheHTTPPackages(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	cmd := exec.Command(goTool, "list", "-f", `{{.ImportPath}} {{.Dir}}{{range .GoFiles}} {{.}}{{end}}`, "./...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) < 3 || within(f[0], module+"/httpapi") || within(f[0], module+"/adminapi") {
			continue
		}
		for _, name := range f[2:] {
			for _, use := range exportedUses(t, filepath.Join(f[1], name), "github.com/gorilla/mux") {
				t.Errorf("%s: %s", f[0], use)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no file checked")
	}
}

// exportedUses returns where the exported API of a Go file names a type of
// the package importPath.
func exportedUses(t *testing.T, path, importPath string) []string {
	t.Helper()
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	local := ""
	for _, imp := range file.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == importPath {
			local = pathpkg.Base(p)
			if imp.Name != nil {
				local = imp.Name.Name
			}
		}
	}
	if local == "" {
		return nil
	}
	var uses []string
	check := func(what string, n ast.Node) {
		if n == nil {
			return
		}
		ast.Inspect(n, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.Field:
				// An unexported struct field is not API.
				if len(n.Names) > 0 && !slices.ContainsFunc(n.Names, func(id *ast.Ident) bool { return id.IsExported() }) {
					return false
				}
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok && x.Name == local {
					uses = append(uses, fmt.Sprintf("%s names %s.%s (%s)", what, local, n.Sel.Name, fset.Position(n.Pos())))
				}
			}
			return true
		})
	}
	for _, d := range file.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Name.IsExported() && (d.Recv == nil || exportedReceiver(d.Recv)) {
				check(d.Name.Name, d.Type)
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					if s.Name.IsExported() {
						check(s.Name.Name, s.Type)
					}
				case *ast.ValueSpec:
					if slices.ContainsFunc(s.Names, func(id *ast.Ident) bool { return id.IsExported() }) {
						check(s.Names[0].Name, s.Type)
					}
				}
			}
		}
	}
	return uses
}

// exportedReceiver reports whether a method's receiver type is exported.
func exportedReceiver(recv *ast.FieldList) bool {
	if len(recv.List) == 0 {
		return false
	}
	typ := recv.List[0].Type
	for {
		switch x := typ.(type) {
		case *ast.StarExpr:
			typ = x.X
		case *ast.IndexExpr:
			typ = x.X
		case *ast.IndexListExpr:
			typ = x.X
		case *ast.Ident:
			return x.IsExported()
		default:
			return false
		}
	}
}

// TestStandardLibraryOnly: the engine (the rules) and fetch (the outbound
// guard) depend on the standard library alone, so that they can be read,
// tested and fuzzed without anything else, and the engine does not depend
// on net/http either: HTTP belongs to httpapi and adminapi.
func TestStandardLibraryOnly(t *testing.T) {
	pkgs := listPackages(t)
	for _, root := range []string{"engine", "fetch"} {
		seen := map[string]bool{}
		stack := []string{module + "/" + root}
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[p] {
				continue
			}
			seen[p] = true
			first, _, _ := strings.Cut(p, "/")
			switch {
			case p != module+"/"+root && strings.Contains(first, "."):
				t.Errorf("%s depends on %s, which is not in the standard library", root, p)
			case root == "engine" && (p == "net/http" || strings.HasPrefix(p, "net/http/")):
				t.Errorf("engine depends on %s", p)
			}
			stack = append(stack, pkgs[p].imports...)
		}
	}
}

// TestTestkitIsForTests: internal/testkit, the harness tests share, is
// imported by no package of the build (tests are not part of it) and
// imports the standard library alone, and internal/redistest; jose/josetest
// (test keys and JWTs) is imported by no package of the build either.
func TestTestkitIsForTests(t *testing.T) {
	pkgs := listPackages(t)
	kit := module + "/internal/testkit"
	if _, ok := pkgs[kit]; !ok {
		t.Fatalf("go list does not list %s", kit)
	}
	for _, p := range pkgs {
		if p.path != kit && slices.Contains(p.imports, kit) {
			t.Errorf("%s imports %s, which is for tests", p.path, kit)
		}
	}
	josetest := module + "/jose/josetest"
	for _, p := range pkgs {
		if slices.Contains(p.imports, josetest) {
			t.Errorf("%s imports %s, which is for tests", p.path, josetest)
		}
	}
	for _, imp := range pkgs[kit].imports {
		first, _, _ := strings.Cut(imp, "/")
		if strings.Contains(first, ".") && imp != module+"/internal/redistest" {
			t.Errorf("%s imports %s: only the standard library and internal/redistest", kit, imp)
		}
	}
}
