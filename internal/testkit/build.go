package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// builds holds the binaries Build made, by package, and the folder they
// are in.
var builds struct {
	mu    sync.Mutex
	owned bool // Main runs the tests and removes dir afterwards
	dir   string
	done  map[string]*build
}

// build is one package's binary, built once per test binary.
type build struct {
	once sync.Once
	path string
	err  error
}

// Build builds the main package pkg (a path as the go command takes it,
// such as "../cmd/registrar") once per test binary and returns the path of
// the executable. It is built in a folder under os.TempDir that Main
// removes: Build fails the test unless the package's TestMain calls Main.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	b, err := buildOf(pkg)
	if err != nil {
		t.Fatal(err)
	}
	b.once.Do(func() {
		out, err := exec.Command("go", "build", "-o", b.path, pkg).CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// buildOf returns pkg's entry, making the folder on first use.
func buildOf(pkg string) (*build, error) {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if !builds.owned {
		return nil, fmt.Errorf("testkit.Build(%q): the package's TestMain must call testkit.Main, which removes the build", pkg)
	}
	if builds.dir == "" {
		dir, err := os.MkdirTemp("", "registrar-testkit-")
		if err != nil {
			return nil, err
		}
		builds.dir, builds.done = dir, map[string]*build{}
	}
	b := builds.done[pkg]
	if b == nil {
		b = &build{path: filepath.Join(builds.dir, fmt.Sprintf("%d-%s", len(builds.done), filepath.Base(pkg)))}
		builds.done[pkg] = b
	}
	return b, nil
}

// Main runs the tests of m, removes what Build built, and exits with the
// tests' status. Call it from TestMain.
func Main(m *testing.M) {
	builds.mu.Lock()
	builds.owned = true
	builds.mu.Unlock()
	code := m.Run()
	builds.mu.Lock()
	dir := builds.dir
	builds.mu.Unlock()
	if dir != "" {
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintf(os.Stderr, "testkit: %v\n", err)
		}
	}
	os.Exit(code)
}
