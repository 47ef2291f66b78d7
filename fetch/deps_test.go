package fetch_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestStandardLibraryOnly: fetch depends on the standard library alone, so
// that any package (jose today, others later) can use the guard without
// pulling in a dependency, and no library's HTTP client slips in under it.
func TestStandardLibraryOnly(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const self = "github.com/registrar-dev/registrar/fetch"
	sawSelf := false
	for line := range strings.Lines(string(out)) {
		path, standard, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch {
		case path == self:
			sawSelf = true
		case standard != "true":
			t.Errorf("fetch depends on %s, which is not in the standard library", path)
		}
	}
	if !sawSelf {
		t.Errorf("go list output does not list %s:\n%s", self, out)
	}
}
