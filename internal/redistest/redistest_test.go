package redistest

import (
	"strings"
	"testing"
)

func TestServerKillRestart(t *testing.T) {
	s := Start(t, Options{Persist: true})
	if _, err := Command(s.Addr, "SET", "k", "acknowledged"); err != nil {
		t.Fatalf("SET: %v", err)
	}
	s.Kill()
	if _, err := Command(s.Addr, "PING"); err == nil {
		t.Fatal("PING answered after Kill")
	}
	s.Restart()
	if v, err := Command(s.Addr, "GET", "k"); err != nil || v != "acknowledged" {
		t.Fatalf("GET after a crash and restart with Persist = %q, %v", v, err)
	}
}

func TestServerWithoutPersistence(t *testing.T) {
	s := Start(t, Options{})
	if v, err := Command(s.Addr, "CONFIG", "GET", "appendonly"); err == nil {
		t.Fatalf("CONFIG GET returns an array, Command should refuse it: %q", v)
	}
	if _, err := Command(s.Addr, "SET", "k", "v"); err != nil {
		t.Fatal(err)
	}
	s.Restart()
	if v, err := Command(s.Addr, "EXISTS", "k"); err != nil || v != "0" {
		t.Fatalf("EXISTS after a restart without persistence = %q, %v; want 0", v, err)
	}
}

func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	c := StartCluster(t)
	if len(c.Addrs) != 3 {
		t.Fatalf("%d nodes", len(c.Addrs))
	}
	for _, addr := range c.Addrs {
		info, err := Command(addr, "CLUSTER", "INFO")
		if err != nil || !strings.Contains(info, "cluster_slots_assigned:16384") {
			t.Errorf("CLUSTER INFO on %s: %v\n%s", addr, err, info)
		}
	}
}
