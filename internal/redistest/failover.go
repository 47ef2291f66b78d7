package redistest

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Alive reports whether the server's process is running (it may be
// paused).
func (s *Server) Alive() bool { return s.proc != nil }

// ReplicatedClusterOptions configure StartReplicatedCluster.
type ReplicatedClusterOptions struct {
	// NodeTimeout is the nodes' cluster-node-timeout: how long a primary
	// may not answer before its replica is promoted. Default 5s.
	NodeTimeout time.Duration
}

// StartReplicatedCluster starts a Redis Cluster of three primaries, each
// with one replica, joins them with "redis-cli --cluster create
// --cluster-replicas 1" and waits until every node reports the cluster
// ready and every replica is in sync. Nodes[0:3] are the first primaries.
func StartReplicatedCluster(t testing.TB, o ReplicatedClusterOptions) *Cluster {
	t.Helper()
	Require(t, "redis-server", "redis-cli")
	if o.NodeTimeout == 0 {
		o.NodeTimeout = 5 * time.Second
	}
	c := &Cluster{}
	for range 6 {
		s := Start(t, Options{Cluster: true, Extra: []string{
			"--cluster-node-timeout", strconv.FormatInt(o.NodeTimeout.Milliseconds(), 10),
			// A replica cut off for a while may still be promoted: the
			// tests decide what it lost.
			"--cluster-replica-validity-factor", "0",
			"--repl-diskless-sync-delay", "0",
		}})
		c.Nodes = append(c.Nodes, s)
		c.Addrs = append(c.Addrs, s.Addr)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	out, err := exec.Command("redis-cli", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	if err := c.WaitHealthy(3, startTimeout); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	return c
}

// WaitHealthy waits until every running node reports cluster_state:ok
// and sees three primaries serving slots and replicas live replicas
// (nodes not flagged fail), and every running replica's link to its
// primary is up.
func (c *Cluster) WaitHealthy(replicas int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, s := range c.Nodes {
		if !s.Alive() {
			continue
		}
		for {
			err := healthy(s.Addr, replicas)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("cluster node %s not healthy within %v: %v", s.Addr, timeout, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// healthy says why the cluster node at addr is not yet as WaitHealthy
// wants it, or nil.
func healthy(addr string, replicas int) error {
	info, err := Command(addr, "CLUSTER", "INFO")
	if err != nil {
		return err
	}
	repl, err := Command(addr, "INFO", "replication")
	if err != nil {
		return err
	}
	nodes, err := Topology(addr)
	if err != nil {
		return err
	}
	p, r := 0, 0
	for _, n := range nodes {
		switch {
		case n.Failed:
		case n.Primary && len(n.Slots) > 0:
			p++
		case n.PrimaryID != "":
			r++
		}
	}
	switch {
	case !strings.Contains(info, "cluster_state:ok"):
		return errors.New("cluster_state not ok")
	case p != 3 || r != replicas:
		return fmt.Errorf("%d primaries serving slots and %d replicas", p, r)
	case !strings.Contains(repl, "role:master") && !strings.Contains(repl, "master_link_status:up"):
		return errors.New("replica link down")
	}
	return nil
}

// Node is one line of CLUSTER NODES.
type Node struct {
	ID, Addr string
	// Primary is set for a primary, PrimaryID for a replica.
	Primary   bool
	PrimaryID string
	// Failed is set when the node is flagged fail (not merely pfail).
	Failed bool
	// Slots are the slot ranges a primary serves, as [first, last] pairs.
	Slots [][2]int
}

// Serves reports whether the node is a primary serving slot.
func (n Node) Serves(slot int) bool {
	for _, r := range n.Slots {
		if slot >= r[0] && slot <= r[1] {
			return true
		}
	}
	return false
}

// Topology returns the cluster's nodes as the running node at addr sees
// them.
func Topology(addr string) ([]Node, error) {
	out, err := Command(addr, "CLUSTER", "NODES")
	if err != nil {
		return nil, err
	}
	var nodes []Node
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		n := Node{ID: f[0], Addr: strings.Split(f[1], "@")[0], PrimaryID: f[3]}
		flags := "," + f[2] + ","
		n.Primary = strings.Contains(flags, ",master,")
		n.Failed = strings.Contains(flags, ",fail,")
		if n.PrimaryID == "-" {
			n.PrimaryID = ""
		}
		for _, r := range f[8:] {
			if strings.HasPrefix(r, "[") {
				continue // a slot being migrated
			}
			lo, hi, found := strings.Cut(r, "-")
			if !found {
				hi = lo
			}
			a, err1 := strconv.Atoi(lo)
			b, err2 := strconv.Atoi(hi)
			if err1 == nil && err2 == nil {
				n.Slots = append(n.Slots, [2]int{a, b})
			}
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}

// Server returns the cluster's server at addr, or nil.
func (c *Cluster) Server(addr string) *Server {
	for _, s := range c.Nodes {
		if s.Addr == addr {
			return s
		}
	}
	return nil
}

// live returns the address of a running, unpaused-looking node.
func (c *Cluster) live() (string, error) {
	for _, s := range c.Nodes {
		if s.Alive() {
			if _, err := Command(s.Addr, "PING"); err == nil {
				return s.Addr, nil
			}
		}
	}
	return "", errors.New("no cluster node answers")
}

// PrimaryOf returns the server of the primary that serves the key's slot
// and the server of its replica, as a node that answers sees them.
func (c *Cluster) PrimaryOf(key string) (primary, replica *Server, err error) {
	addr, err := c.live()
	if err != nil {
		return nil, nil, err
	}
	slotS, err := Command(addr, "CLUSTER", "KEYSLOT", key)
	if err != nil {
		return nil, nil, err
	}
	slot, _ := strconv.Atoi(slotS)
	nodes, err := Topology(addr)
	if err != nil {
		return nil, nil, err
	}
	for _, n := range nodes {
		if n.Primary && n.Serves(slot) {
			primary = c.Server(n.Addr)
			for _, r := range nodes {
				if r.PrimaryID == n.ID {
					replica = c.Server(r.Addr)
				}
			}
			return primary, replica, nil
		}
	}
	return nil, nil, fmt.Errorf("no primary serves slot %d", slot)
}

// Sentinels is a Sentinel-managed primary with replicas, watched by a set
// of sentinels, all on loopback.
type Sentinels struct {
	// Name is the primary's name in the sentinels' configuration.
	Name string
	// Servers are the primary (first, at start) and its replicas.
	Servers []*Server
	// Sentinels are the sentinel processes; Addrs their addresses.
	Sentinels []*Server
	Addrs     []string
}

// SentinelOptions configure StartSentinels.
type SentinelOptions struct {
	// Name is the primary's name. Default "registrar".
	Name string
	// Replicas is the number of replicas. Default 1.
	Replicas int
	// Sentinels is the number of sentinels (quorum: a majority). Default 3.
	Sentinels int
	// DownAfter is the sentinels' down-after-milliseconds. Default 5s.
	DownAfter time.Duration
}

// StartSentinels starts a primary, its replicas and the sentinels that
// watch them, and waits until the replicas are in sync and every sentinel
// knows the replicas and the other sentinels.
func StartSentinels(t testing.TB, o SentinelOptions) *Sentinels {
	t.Helper()
	Require(t)
	o = o.withDefaults()
	ss := &Sentinels{Name: o.Name}
	primary := Start(t, Options{Extra: []string{"--repl-diskless-sync-delay", "0"}})
	ss.Servers = append(ss.Servers, primary)
	for range o.Replicas {
		ss.Servers = append(ss.Servers, Start(t, Options{Extra: []string{"--replicaof", "127.0.0.1", primary.Port(), "--repl-diskless-sync-delay", "0"}}))
	}
	for range o.Sentinels {
		s := startSentinel(t, o, primary)
		ss.Sentinels = append(ss.Sentinels, s)
		ss.Addrs = append(ss.Addrs, s.Addr)
	}
	deadline := time.Now().Add(startTimeout)
	for _, s := range ss.Sentinels {
		poll(t, deadline, "sentinel "+s.Addr+" ready", func() bool {
			m, err := sentinelPrimary(s.Addr, o.Name)
			return err == nil && m["num-slaves"] == strconv.Itoa(o.Replicas) && m["num-other-sentinels"] == strconv.Itoa(o.Sentinels-1)
		})
	}
	for _, r := range ss.Servers[1:] {
		poll(t, deadline, "replica "+r.Addr+" in sync", func() bool {
			repl, err := Command(r.Addr, "INFO", "replication")
			return err == nil && strings.Contains(repl, "master_link_status:up")
		})
	}
	return ss
}

// withDefaults returns o with its defaults.
func (o SentinelOptions) withDefaults() SentinelOptions {
	o.Name = cmp.Or(o.Name, "registrar")
	o.Replicas = cmp.Or(o.Replicas, 1)
	o.Sentinels = cmp.Or(o.Sentinels, 3)
	o.DownAfter = cmp.Or(o.DownAfter, 5*time.Second)
	return o
}

// poll checks cond every 20ms until it holds, failing the test at
// deadline.
func poll(t testing.TB, deadline time.Time, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("redistest: %s: not by %v", what, deadline.Format(time.TimeOnly))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startSentinel starts one sentinel watching primary.
func startSentinel(t testing.TB, o SentinelOptions, primary *Server) *Server {
	t.Helper()
	quorum := o.Sentinels/2 + 1
	var lastErr error
	for range 3 {
		port, err := freePort(false)
		if err != nil {
			t.Fatalf("redistest: %v", err)
		}
		dir := t.TempDir()
		conf := fmt.Sprintf("port %d\nbind 127.0.0.1\ndaemonize no\ndir %s\nlogfile \"\"\n"+
			"sentinel monitor %s 127.0.0.1 %s %d\n"+
			"sentinel down-after-milliseconds %s %d\n"+
			"sentinel failover-timeout %s %d\n"+
			"sentinel parallel-syncs %s 1\n",
			port, dir, o.Name, primary.Port(), quorum,
			o.Name, o.DownAfter.Milliseconds(), o.Name, max(3*o.DownAfter.Milliseconds(), 3000), o.Name)
		path := filepath.Join(dir, "sentinel.conf")
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			t.Fatalf("redistest: %v", err)
		}
		s := &Server{t: t, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir: dir,
			argv: []string{path, "--sentinel"}}
		if lastErr = s.start(); lastErr == nil {
			t.Cleanup(s.Kill)
			return s
		}
	}
	t.Fatalf("redistest: sentinel: %v", lastErr)
	return nil
}

// sentinelPrimary returns SENTINEL MASTER name as a map.
func sentinelPrimary(addr, name string) (map[string]string, error) {
	v, err := Query(addr, "SENTINEL", "MASTER", name)
	if err != nil {
		return nil, err
	}
	list, _ := v.([]any)
	m := map[string]string{}
	for i := 0; i+1 < len(list); i += 2 {
		k, _ := list[i].(string)
		val, _ := list[i+1].(string)
		m[k] = val
	}
	return m, nil
}

// PrimaryAddr returns the primary's address as the sentinel at addr
// reports it.
func (ss *Sentinels) PrimaryAddr(addr string) (string, error) {
	v, err := Query(addr, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", ss.Name)
	if err != nil {
		return "", err
	}
	list, _ := v.([]any)
	if len(list) != 2 {
		return "", fmt.Errorf("sentinel %s: no primary named %q", addr, ss.Name)
	}
	host, _ := list[0].(string)
	port, _ := list[1].(string)
	return net.JoinHostPort(host, port), nil
}

// Server returns the data server at addr, or nil.
func (ss *Sentinels) Server(addr string) *Server {
	for _, s := range ss.Servers {
		if s.Addr == addr {
			return s
		}
	}
	return nil
}

// Query sends one command to the server at addr on a new connection and
// returns its reply: a string (simple or bulk), an int64, nil (a null
// reply) or a []any of those. An error reply is returned as an error.
func Query(addr string, args ...string) (any, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	var req bytes.Buffer
	fmt.Fprintf(&req, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&req, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write(req.Bytes()); err != nil {
		return nil, err
	}
	return readReply(bufio.NewReader(conn))
}

// readReply reads one RESP2 reply.
func readReply(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, errors.New("empty reply")
	}
	switch line[0] {
	case '+':
		return line[1:], nil
	case '-':
		return nil, errors.New(line[1:])
	case ':':
		return strconv.ParseInt(line[1:], 10, 64)
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return nil, fmt.Errorf("bad bulk reply %q", line)
		}
		if n < 0 {
			return nil, nil
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		return string(b[:n]), nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return nil, fmt.Errorf("bad array reply %q", line)
		}
		if n < 0 {
			return nil, nil
		}
		list := make([]any, n)
		for i := range list {
			if list[i], err = readReply(r); err != nil {
				return nil, err
			}
		}
		return list, nil
	}
	return nil, fmt.Errorf("unsupported reply %q", line)
}
