package e2e_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/internal/redistest"
	"github.com/registrar-dev/registrar/internal/testkit"
)

// globalKey is a key of the hash tag {_} of the default prefix: the keys
// of no tenant, which readiness needs.
const globalKey = "registrar:{_}:tenants"

// tenantOn returns a tenant name whose keys live on node.
func tenantOn(t *testing.T, c *redistest.Cluster, node *redistest.Server) string {
	t.Helper()
	for i := range 200 {
		name := fmt.Sprintf("shard-%d", i)
		if c.MasterOf(t, "registrar:{"+name+"}:tenant") == node {
			return name
		}
	}
	t.Fatalf("no tenant name found on %s", node.Addr)
	return ""
}

// shardOf returns the entry of addr in the store.shards of an answer of
// GET /admin/policies/status, or nil.
func shardOf(r response, addr string) map[string]any {
	store, _ := r.body["store"].(map[string]any)
	shards, _ := store["shards"].([]any)
	for _, s := range shards {
		if m, _ := s.(map[string]any); m["addr"] == addr {
			return m
		}
	}
	return nil
}

// TestShardDownReadiness runs "registrar serve" on a Redis Cluster of
// three primaries with cluster-require-full-coverage no, and kills a
// primary that holds a tenant's keys but not the keys of no tenant. The
// replica stays ready (GET /readyz 200 throughout), the tenants of the
// other primaries register, the dead primary's tenant gets 503 with
// Retry-After, GET /admin/policies/status shows that primary unreachable
// with its slots and error, and registrar_redis_shard_up says 0 for it
// and 1 for the others. A replica started during the outage is not ready
// until it has read every tenant.
func TestShardDownReadiness(t *testing.T) {
	c := redistest.StartCluster(t)
	c.ConfigSet(t, "cluster-require-full-coverage", "no")
	p := startProcess(t, "--redis-url", "redis+cluster://"+strings.Join(c.Addrs, ","))
	h := client{t, http.DefaultClient}

	global := c.MasterOf(t, globalKey)
	var victim, other *redistest.Server
	for _, n := range c.Nodes {
		if n != global && victim == nil {
			victim = n
		} else if n != global {
			other = n
		}
	}
	lost, kept, home := tenantOn(t, c, victim), tenantOn(t, c, other), tenantOn(t, c, global)
	for _, tenant := range []string{lost, kept, home} {
		must(t, "create "+tenant, h.do("PUT", p.admin+"/admin/tenants/"+tenant, adminToken, "application/json", []byte(`{"initial_access_token":"none"}`)), 201)
	}
	register := func(tenant string) response {
		return h.do("POST", p.public+"/tenants/"+tenant+"/reg", "", "application/json", []byte(body))
	}
	// The replica serves a tenant created on its own admin API at once.
	for _, tenant := range []string{lost, kept, home} {
		must(t, "register at "+tenant, register(tenant), 201)
	}
	status := func() response {
		return must(t, "status", h.do("GET", p.admin+"/admin/policies/status", adminToken, "", nil), 200)
	}
	testkit.Eventually(t, 30*time.Second, "the status route reports three reachable primaries", func() bool {
		r := status()
		for _, n := range c.Nodes {
			if s := shardOf(r, n.Addr); s == nil || s["reachable"] != true {
				return false
			}
		}
		return shardOf(r, global.Addr)["global"] == true
	})

	victim.Kill()
	readyz := func() {
		t.Helper()
		if r := h.do("GET", p.public+"/readyz", "", "", nil); r.status != 200 {
			t.Fatalf("readyz with a primary of tenants only down: %d %s", r.status, r.raw)
		}
	}
	var down map[string]any
	testkit.Eventually(t, 30*time.Second, "the status route reports the dead primary", func() bool {
		readyz()
		down = shardOf(status(), victim.Addr)
		return down != nil && down["reachable"] == false
	})
	if down["last_error"] == nil || down["global"] != false || down["slots"].(float64) < 1 {
		t.Errorf("the dead primary's entry: %v", down)
	}
	r := status()
	for _, n := range []*redistest.Server{global, other} {
		if s := shardOf(r, n.Addr); s == nil || s["reachable"] != true {
			t.Errorf("a live primary's entry: %v", s)
		}
	}
	metrics := func() string {
		return h.do("GET", p.admin+"/metrics", adminToken, "", nil).raw
	}
	testkit.Eventually(t, 30*time.Second, "registrar_redis_shard_up says 0 for the dead primary", func() bool {
		return strings.Contains(metrics(), fmt.Sprintf(`registrar_redis_shard_up{global="false",shard=%q} 0`, victim.Addr))
	})
	m := metrics()
	for _, want := range []string{
		fmt.Sprintf(`registrar_redis_shard_up{global="true",shard=%q} 1`, global.Addr),
		fmt.Sprintf(`registrar_redis_shard_up{global="false",shard=%q} 1`, other.Addr),
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// The tenants of the live primaries register; the dead one's tenant
	// is told to come back later. (Until the client's slot map has the
	// victim failed, its first request may take the store timeout: only
	// the outcome is checked.)
	for _, tenant := range []string{kept, home} {
		must(t, "register at "+tenant+" with a primary down", register(tenant), 201)
	}
	r = register(lost)
	if r.status != 503 || r.header.Get("Retry-After") == "" || r.str("error") != "temporarily_unavailable" {
		t.Errorf("register at the dead primary's tenant: %d %v %s", r.status, r.header, r.raw)
	}
	readyz()

	// A replica started now cannot read every tenant's record: it is not
	// ready (it would serve none of the stored tenants) until it can.
	late := startProcess(t, "--redis-url", "redis+cluster://"+strings.Join(c.Addrs, ","))
	if r := h.do("GET", late.public+"/readyz", "", "", nil); r.status != 503 {
		t.Errorf("readyz of a replica started with a primary down: %d %s", r.status, r.raw)
	}
	victim.Restart() // empty: it had no persistence
	testkit.Eventually(t, 30*time.Second, "the late replica becomes ready", func() bool {
		return h.do("GET", late.public+"/readyz", "", "", nil).status == 200
	})
	must(t, "register at the late replica", h.do("POST", late.public+"/tenants/"+kept+"/reg", "", "application/json", []byte(body)), 201)
	readyz()
}
