package e2e_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// quickStartMarker precedes each README block that TestReadmeQuickStart runs.
const quickStartMarker = "<!-- quick start: tested -->"

// TestReadmeQuickStart runs the README's quick start word for word: the
// blocks after each quick-start marker, in one bash with -e, from the
// repository root, as a new user would paste them. It installs the binary
// with go install and listens on the README's ports (8080 and 8081), so it
// runs only when asked: REGISTRAR_QUICKSTART=1 (CI sets it).
func TestReadmeQuickStart(t *testing.T) {
	if os.Getenv("REGISTRAR_QUICKSTART") != "1" {
		t.Skip("set REGISTRAR_QUICKSTART=1 to run the README's quick start (it installs the binary and uses ports 8080 and 8081)")
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	// The two commands of the quick start are there as the issue of
	// record and .ci/run use them.
	for _, line := range []string{"go run ./cmd/registrar serve", "go test -race ./..."} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(line) + `\s*(#.*)?$`).Match(readme) {
			t.Errorf("README.md has no line %q", line)
		}
	}
	script := quickStartBlocks(t, string(readme))
	for _, tool := range []string{"bash", "curl", "jq", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the quick start needs %s: %v", tool, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = ".."
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Whatever happens, nothing the script started outlives the test.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err != nil {
		t.Fatalf("the README's quick start failed: %v\n--- script\n%s\n--- output\n%s", err, script, out.String())
	}
	// The walkthrough ends by deleting the client: 204.
	if !strings.Contains(out.String(), "204") {
		t.Errorf("the walkthrough did not end with the client deleted (204):\n%s", out.String())
	}
}

// quickStartBlocks returns the fenced blocks that follow each marker.
func quickStartBlocks(t *testing.T, readme string) string {
	t.Helper()
	var blocks []string
	rest := readme
	for {
		i := strings.Index(rest, quickStartMarker)
		if i < 0 {
			break
		}
		rest = rest[i+len(quickStartMarker):]
		open := strings.Index(rest, "```sh\n")
		if open < 0 {
			t.Fatal("a quick-start marker without a ```sh block after it")
		}
		rest = rest[open+len("```sh\n"):]
		end := strings.Index(rest, "\n```")
		if end < 0 {
			t.Fatal("an unterminated quick-start block")
		}
		blocks = append(blocks, rest[:end])
		rest = rest[end:]
	}
	if len(blocks) == 0 {
		t.Fatalf("README.md has no block marked %q", quickStartMarker)
	}
	return strings.Join(blocks, "\n")
}
