package e2e_test

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/internal/testkit"
)

// TestMain runs the tests and then removes the registrar binary they
// built.
func TestMain(m *testing.M) { testkit.Main(m) }

// process is a "registrar serve" process.
type process struct {
	cmd           *exec.Cmd
	public, admin string // base URLs
	log           *testkit.Buffer
	exited        chan struct{}
}

// startProcess runs "registrar serve" with args until the test ends and
// waits until it answers.
func startProcess(t *testing.T, args ...string) *process {
	t.Helper()
	return startProcessWith(t, "http", http.DefaultClient, args...)
}

// startProcessWith is startProcess for a public listener that speaks
// scheme ("https" with --tls-cert), polled with client until it answers.
func startProcessWith(t *testing.T, scheme string, client *http.Client, args ...string) *process {
	t.Helper()
	addr, admin := testkit.FreeAddr(t), testkit.FreeAddr(t)
	p := &process{public: scheme + "://" + addr, admin: "http://" + admin, log: &testkit.Buffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(testkit.Build(t, "../cmd/registrar"), append([]string{"serve", "--addr", addr, "--admin-addr", admin, "--issuer", issuer}, args...)...)
	p.cmd.Env = append(os.Environ(), "REGISTRAR_ADMIN_TOKEN="+adminToken)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
			t.Error("registrar did not stop on SIGINT")
		}
		if t.Failed() {
			t.Logf("log of %s:\n%s", addr, tail(p.log.String(), 4000))
		}
	})
	testkit.WaitReadyWith(t, client, p.public+"/healthz", p.exited, 15*time.Second, p.log.String)
	return p
}

// rss returns the process's resident memory in bytes (Linux).
func (p *process) rss(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
