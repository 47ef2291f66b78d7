// Command scale loads tenants and clients into a Registrar's Redis, fast,
// and measures what bench/scale.sh reports (bench/README.md, "Tenants and clients at scale"): the cost of
// PUT /admin/tenants/{t} at a number of stored tenants, and a process's
// resident memory and CPU use while idle.
//
//	scale tenants -redis URL -from A -to B      put tenants t<A>..t<B-1>
//	scale clients -redis URL -tenant T -from A -to B   store clients c<A>..c<B-1> in T
//	scale put -admin URL -from A -n K           PUT K new tenants, one at a time; latency
//	scale proc -pid P -for 20s                  CPU over the period, RSS at its end
//
// tenants and clients write through redisstore (its Lua scripts, many
// calls in flight), as the admin API and registration would, without the
// HTTP and policy work; tenant i uses the policy module modules[i%10] of
// the policy folder bench/scale.sh serves (see settingsFor). The admin
// token of put is REGISTRAR_ADMIN_TOKEN.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/redisstore"
)

// Modules are the ten policy modules bench/scale.sh copies into the policy
// folder (policies-examples/<name>/<lang>/policy.wasm as <name>.wasm),
// each with the setting that names it for its hook.
var Modules = []struct{ Name, Lang, Setting string }{
	{"trusted-hosts", "c", "default_policies"},
	{"allowed-scopes", "rust", "default_policies"},
	{"max-redirect-uris", "c", "default_policies"},
	{"native-apps", "assemblyscript", "default_policies"},
	{"fapi-client", "go", "default_policies"},
	{"long-secrets", "c", "secret_factory"},
	{"tenant-prefixed-ids", "go", "id_factory"},
	{"no-rat-for-native", "go", "issue_registration_access_token"},
	{"no-rotation-for-open-banking", "rust", "rotate_registration_access_token"},
	{"rat-for-confidential-only", "assemblyscript", "issue_registration_access_token"},
}

// settingsFor returns the settings of tenant i: stored initial access
// tokens (the default), and module i%10 in the setting for its hook, with
// trusted-hosts configured to trust *.example.com.
func settingsFor(i int) engine.Settings {
	m := Modules[i%len(Modules)]
	var s engine.Settings
	switch m.Setting {
	case "default_policies":
		s.DefaultPolicies = []string{m.Name}
		if m.Name == "trusted-hosts" {
			s.PolicyConfig = map[string]json.RawMessage{m.Name: json.RawMessage(`{"hosts":["*.example.com"]}`)}
		}
	case "secret_factory":
		s.SecretFactory = m.Name
	case "id_factory":
		s.IDFactory = m.Name
	case "issue_registration_access_token":
		s.IssueRegistrationAccessToken = engine.Decision{Module: m.Name}
	case "rotate_registration_access_token":
		s.RotateRegistrationAccessToken = engine.Decision{Module: m.Name}
	}
	return s
}

// TenantName is the name of tenant i.
func TenantName(i int) string { return "t" + strconv.Itoa(i) }

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: scale tenants|clients|put|modules|proc [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	redisURL := fs.String("redis", "redis://127.0.0.1:6379", "Redis URL (tenants, clients)")
	from := fs.Int("from", 0, "first index")
	to := fs.Int("to", 0, "index after the last (tenants, clients)")
	n := fs.Int("n", 100, "tenants to PUT (put)")
	conc := fs.Int("c", 64, "calls in flight (tenants, clients)")
	tenant := fs.String("tenant", "default", "tenant of the clients (clients)")
	admin := fs.String("admin", "http://127.0.0.1:8081", "admin API base URL (put)")
	pid := fs.Int("pid", 0, "process (proc)")
	period := fs.Duration("for", 20*time.Second, "idle period over which CPU is measured (proc)")
	_ = fs.Parse(os.Args[2:])
	ctx := context.Background()
	var err error
	switch os.Args[1] {
	case "tenants":
		err = withStore(ctx, *redisURL, func(s *redisstore.Store) error { return loadTenants(ctx, s, *from, *to, *conc) })
	case "clients":
		err = withStore(ctx, *redisURL, func(s *redisstore.Store) error { return loadClients(ctx, s, *tenant, *from, *to, *conc) })
	case "put":
		err = putCost(*admin, os.Getenv("REGISTRAR_ADMIN_TOKEN"), *from, *n)
	case "modules":
		for _, m := range Modules {
			fmt.Printf("%s %s\n", m.Name, m.Lang)
		}
	case "proc":
		err = procStats(*pid, *period)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

// withStore opens the store, runs f and closes it.
func withStore(ctx context.Context, url string, f func(*redisstore.Store) error) error {
	s, err := redisstore.Open(ctx, url, redisstore.OpenOptions{})
	if err != nil {
		return err
	}
	defer s.Close()
	return f(s)
}

// parallel calls f(i) for i in [from, to) with conc calls in flight and
// prints the rate.
func parallel(what string, from, to, conc int, f func(i int) error) error {
	start := time.Now()
	var next atomic.Int64
	next.Store(int64(from))
	var wg sync.WaitGroup
	var first atomic.Pointer[error]
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= to || first.Load() != nil {
					return
				}
				if err := f(i); err != nil {
					first.CompareAndSwap(nil, &err)
				}
			}
		}()
	}
	wg.Wait()
	if e := first.Load(); e != nil {
		return *e
	}
	d := time.Since(start)
	fmt.Fprintf(os.Stderr, "%d %s in %s (%.0f/s)\n", to-from, what, d.Round(time.Millisecond), float64(to-from)/d.Seconds())
	return nil
}

// loadTenants puts tenants from..to-1.
func loadTenants(ctx context.Context, s *redisstore.Store, from, to, conc int) error {
	now := time.Now().UTC()
	return parallel("tenants", from, to, conc, func(i int) error {
		_, err := s.PutTenant(ctx, &engine.TenantRecord{Name: TenantName(i), Settings: settingsFor(i), CreatedAt: now, UpdatedAt: now}, 0)
		return err
	})
}

// loadClients stores clients from..to-1 in tenant, each with a
// registration access token digest as a registration gives.
func loadClients(ctx context.Context, s *redisstore.Store, tenant string, from, to, conc int) error {
	now := time.Now().UTC()
	return parallel("clients", from, to, conc, func(i int) error {
		id := "c" + strconv.Itoa(i)
		c := &engine.Client{
			Tenant: tenant, ID: id, IssuedAt: now, UpdatedAt: now,
			Metadata: engine.Metadata{
				RedirectURIs: []string{"https://app.example.com/cb"}, ClientName: "loaded " + id,
				GrantTypes: []string{"authorization_code"}, ResponseTypes: []string{"code"},
				TokenEndpointAuthMethod: "client_secret_basic", ApplicationType: "web",
			},
			SecretHash: engine.HashToken("secret-" + id), RegistrationTokenHash: engine.HashToken("rat-" + id),
		}
		return s.CreateClient(ctx, c, engine.CreateOptions{})
	})
}

// putCost PUTs n new tenants from index from, one after the other, and
// prints the latency's median, 99th percentile and mean in ms.
func putCost(admin, token string, from, n int) error {
	client := &http.Client{Timeout: time.Minute}
	lat := make([]time.Duration, 0, n)
	for i := from; i < from+n; i++ {
		body, _ := json.Marshal(settingsFor(i))
		req, _ := http.NewRequest(http.MethodPut, admin+"/admin/tenants/"+TenantName(i), bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		d := time.Since(start)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("PUT tenant %s: %s", TenantName(i), resp.Status)
		}
		lat = append(lat, d)
	}
	slices.Sort(lat)
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) }
	fmt.Printf("put n=%d p50_ms=%s p99_ms=%s mean_ms=%s\n", n, ms(lat[n/2]), ms(lat[n*99/100]), ms(sum/time.Duration(n)))
	return nil
}

// procStats prints a process's CPU use over period and its RSS at the end.
func procStats(pid int, period time.Duration) error {
	p := strconv.Itoa(pid)
	c0, err := cpuTicks(p)
	if err != nil {
		return err
	}
	time.Sleep(period)
	c1, err := cpuTicks(p)
	if err != nil {
		return err
	}
	rss, err := rssKiB(p)
	if err != nil {
		return err
	}
	// USER_HZ is 100: a tick is 10 ms.
	fmt.Printf("proc rss_kib=%d cpu_ms=%d over_s=%.0f cpu_pct=%.2f\n", rss, (c1-c0)*10, period.Seconds(), float64((c1-c0)*10)/float64(period.Milliseconds())*100)
	return nil
}

// rssKiB reads VmRSS from /proc/<pid>/status.
func rssKiB(pid string) (int64, error) {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%s/status", pid)
}

// cpuTicks reads utime+stime (fields 14 and 15) of /proc/<pid>/stat.
func cpuTicks(pid string) (int64, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("malformed /proc/%s/stat", pid)
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s, nil
}
