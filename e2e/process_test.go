package e2e_test

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// binary is the registrar binary, built once for the package's tests.
var binary struct {
	once sync.Once
	path string
	err  error
}

// buildRegistrar builds cmd/registrar into a temporary folder.
func buildRegistrar(t *testing.T) string {
	t.Helper()
	binary.once.Do(func() {
		dir, err := os.MkdirTemp("", "registrar-e2e-")
		if err != nil {
			binary.err = err
			return
		}
		binary.path = filepath.Join(dir, "registrar")
		out, err := exec.Command("go", "build", "-o", binary.path, "../cmd/registrar").CombinedOutput()
		if err != nil {
			binary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// process is a "registrar serve" process.
type process struct {
	cmd           *exec.Cmd
	public, admin string // base URLs
	log           *lockedBuffer
	exited        chan struct{}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startProcess runs "registrar serve" with args until the test ends and
// waits until it answers.
func startProcess(t *testing.T, args ...string) *process {
	t.Helper()
	addr, admin := freeAddr(t), freeAddr(t)
	p := &process{public: "http://" + addr, admin: "http://" + admin, log: &lockedBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(buildRegistrar(t), append([]string{"serve", "--addr", addr, "--admin-addr", admin, "--issuer", issuer}, args...)...)
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
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		select {
		case <-p.exited:
			t.Fatalf("registrar exited:\n%s", p.log.String())
		default:
		}
		if resp, err := http.Get(p.public + "/healthz"); err == nil {
			resp.Body.Close()
			return p
		}
		if time.Since(start) > 15*time.Second {
			t.Fatalf("registrar did not come up:\n%s", p.log.String())
		}
	}
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
