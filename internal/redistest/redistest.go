// Package redistest owns the Redis servers that tests run against: real
// redis-server processes, alone or as a three-master Redis Cluster, each on
// free loopback ports with its own temporary directory, and stopped when the
// test ends. It never uses a server it did not start (nothing on 6379).
//
// When redis-server is not on PATH the tests that need it are skipped with a
// message saying so, unless REGISTRAR_REQUIRE_REDIS=1 (as CI sets): then they
// fail. The package drives the servers through their command line and a few
// RESP commands of its own; it does not depend on a Redis client library.
package redistest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RequireEnv is the environment variable that turns a missing redis-server
// from a skip into a failure.
const RequireEnv = "REGISTRAR_REQUIRE_REDIS"

// startTimeout bounds how long a server may take to answer PING after it is
// started, and the cluster to become ready after it is created.
const startTimeout = 15 * time.Second

// Require skips the test when the named programs (default redis-server) are
// not on PATH, or fails it when RequireEnv is "1".
func Require(t testing.TB, programs ...string) {
	t.Helper()
	if len(programs) == 0 {
		programs = []string{"redis-server"}
	}
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			msg := fmt.Sprintf("%s is not on PATH, so the tests against a real Redis cannot run "+
				"(Debian/Ubuntu: apt-get install redis-server)", p)
			if os.Getenv(RequireEnv) == "1" {
				t.Fatalf("%s; %s=1 makes this a failure", msg, RequireEnv)
			}
			t.Skipf("%s; set %s=1 to make this a failure", msg, RequireEnv)
		}
	}
}

// Options configures a server.
type Options struct {
	// Persist turns on the append-only file with an fsync before every
	// write is acknowledged (appendfsync always), so that acknowledged
	// writes survive Kill and Restart. Default: no persistence at all
	// (--save "" --appendonly no).
	Persist bool
	// Cluster starts the server with cluster mode enabled; used by
	// StartCluster.
	Cluster bool
	// Extra are more command-line options, after the others (so a later
	// one overrides an earlier): "--replicaof", "127.0.0.1 7000", ...
	Extra []string
}

// Server is a redis-server process started for a test.
type Server struct {
	t testing.TB
	// Addr is the server's loopback address, host:port.
	Addr string
	dir  string
	opts Options
	proc *exec.Cmd
	done chan struct{} // closed when proc has exited
	// argv, when set, replaces the command line of args (a sentinel's).
	argv []string
}

// Start starts a redis-server and waits until it answers. It is stopped
// when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	Require(t)
	var lastErr error
	// A port found free may be taken before the server binds it: try again
	// with another.
	for range 3 {
		port, err := freePort(opts.Cluster)
		if err != nil {
			t.Fatalf("redistest: %v", err)
		}
		s := &Server{t: t, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir: t.TempDir(), opts: opts}
		if lastErr = s.start(); lastErr == nil {
			t.Cleanup(s.Kill)
			return s
		}
	}
	t.Fatalf("redistest: %v", lastErr)
	return nil
}

// Port returns the server's port.
func (s *Server) Port() string {
	_, port, _ := net.SplitHostPort(s.Addr)
	return port
}

func (s *Server) args() []string {
	if s.argv != nil {
		return s.argv
	}
	args := []string{
		"--port", s.Port(),
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--daemonize", "no",
		"--logfile", "",
		"--loglevel", "warning",
		"--save", "",
	}
	if s.opts.Persist {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--appendonly", "no")
	}
	if s.opts.Cluster {
		args = append(args, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "5000")
	}
	return append(args, s.opts.Extra...)
}

// start runs the process and waits until it answers PING.
func (s *Server) start() error {
	logf, err := os.OpenFile(filepath.Join(s.dir, "redis.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command("redis-server", s.args()...)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	s.proc, s.done = cmd, done
	deadline := time.Now().Add(startTimeout)
	for {
		reply, err := Command(s.Addr, "PING")
		if err == nil && reply == "PONG" {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("redis-server on %s exited at start:\n%s", s.Addr, s.Log())
		default:
		}
		if time.Now().After(deadline) {
			s.Kill()
			return fmt.Errorf("redis-server on %s did not answer PING within %v (last: %q, %v):\n%s",
				s.Addr, startTimeout, reply, err, s.Log())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Kill stops the server at once with SIGKILL, as a crash would, and waits
// for it to exit. Writes acknowledged before it survive only with Persist.
// Killing a stopped server does nothing.
func (s *Server) Kill() {
	if s.proc == nil {
		return
	}
	_ = s.proc.Process.Kill()
	<-s.done
	s.proc = nil
}

// Restart starts the server again on the same port and directory, after
// Kill, and waits until it answers.
func (s *Server) Restart() {
	s.t.Helper()
	s.Kill()
	if err := s.start(); err != nil {
		s.t.Fatalf("redistest: restart: %v", err)
	}
}

// Log returns the server's log so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	return string(b)
}

// Cluster is a Redis Cluster of three masters without replicas, each
// owning a third of the hash slots.
type Cluster struct {
	// Addrs are the addresses of the nodes.
	Addrs []string
	// Nodes are the servers.
	Nodes []*Server
}

// StartCluster starts three cluster-enabled servers, joins them with
// "redis-cli --cluster create" and waits until every node reports the
// cluster ready. The nodes are stopped when the test ends.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	Require(t, "redis-server", "redis-cli")
	c := &Cluster{}
	for range 3 {
		s := Start(t, Options{Cluster: true})
		c.Nodes = append(c.Nodes, s)
		c.Addrs = append(c.Addrs, s.Addr)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	out, err := exec.Command("redis-cli", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(startTimeout)
	for _, addr := range c.Addrs {
		for {
			info, err := Command(addr, "CLUSTER", "INFO")
			if err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_known_nodes:3") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("redistest: cluster node %s not ready within %v: %v\n%s", addr, startTimeout, err, info)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return c
}

// Command sends one command to the server at addr on a new connection and
// returns its reply: a simple or bulk string, or an integer in decimal. An
// error reply is returned as an error. Arrays and null replies are not
// supported: they are errors too. It is Query for a reply of one value.
func Command(addr string, args ...string) (string, error) {
	reply, err := Query(addr, args...)
	if err != nil {
		return "", err
	}
	switch v := reply.(type) {
	case string:
		return v, nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	default:
		return "", fmt.Errorf("unsupported reply %v", reply)
	}
}

// freePort returns a loopback port that was free a moment ago. A cluster
// node also needs its bus port, 10000 above it, free.
func freePort(cluster bool) (int, error) {
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		if !cluster {
			l.Close()
			return port, nil
		}
		if port+10000 > 65535 {
			l.Close()
			continue
		}
		bus, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+10000)))
		l.Close()
		if err != nil {
			continue
		}
		bus.Close()
		return port, nil
	}
	return 0, errors.New("no free loopback port found")
}
