package redistest

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// ConfigSet sets a configuration parameter on every node of the cluster
// that is running (CONFIG SET), e.g. cluster-require-full-coverage no.
func (c *Cluster) ConfigSet(t testing.TB, param, value string) {
	t.Helper()
	for _, n := range c.Nodes {
		if n.proc == nil {
			continue
		}
		if _, err := Command(n.Addr, "CONFIG", "SET", param, value); err != nil {
			t.Fatalf("redistest: CONFIG SET %s %s on %s: %v", param, value, n.Addr, err)
		}
	}
}

// MasterOf returns the node that serves key's hash slot as a master, as the
// first running node's CLUSTER NODES reports it.
func (c *Cluster) MasterOf(t testing.TB, key string) *Server {
	t.Helper()
	for _, n := range c.Nodes {
		if n.proc == nil {
			continue
		}
		reply, err := Command(n.Addr, "CLUSTER", "KEYSLOT", key)
		if err != nil {
			t.Fatalf("redistest: CLUSTER KEYSLOT on %s: %v", n.Addr, err)
		}
		slot, err := strconv.Atoi(reply)
		if err != nil {
			t.Fatalf("redistest: CLUSTER KEYSLOT %q: %q", key, reply)
		}
		nodes, err := Command(n.Addr, "CLUSTER", "NODES")
		if err != nil {
			t.Fatalf("redistest: CLUSTER NODES on %s: %v", n.Addr, err)
		}
		addr, err := slotMaster(nodes, slot)
		if err != nil {
			t.Fatalf("redistest: %v in:\n%s", err, nodes)
		}
		for _, m := range c.Nodes {
			if m.Addr == addr {
				return m
			}
		}
		t.Fatalf("redistest: slot %d is served by %s, not a node of this cluster", slot, addr)
	}
	t.Fatal("redistest: no node of the cluster is running")
	return nil
}

// slotMaster finds, in a CLUSTER NODES reply, the address of the master
// that serves slot. Each line is "<id> <ip:port@cport> <flags> <master>
// <ping-sent> <pong-recv> <epoch> <link> <slot or first-last>...".
func slotMaster(nodes string, slot int) (string, error) {
	for _, line := range strings.Split(strings.TrimSpace(nodes), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 || !strings.Contains(f[2], "master") {
			continue
		}
		addr, _, _ := strings.Cut(f[1], "@")
		for _, r := range f[8:] {
			if strings.HasPrefix(r, "[") { // a slot being migrated
				continue
			}
			first, last, found := strings.Cut(r, "-")
			lo, err1 := strconv.Atoi(first)
			hi, err2 := lo, error(nil)
			if found {
				hi, err2 = strconv.Atoi(last)
			}
			if err1 == nil && err2 == nil && lo <= slot && slot <= hi {
				return addr, nil
			}
		}
	}
	return "", fmt.Errorf("no master serves slot %d", slot)
}
