package chaos_test

import (
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/internal/redistest"
	"github.com/registrar-dev/registrar/internal/testkit"
)

var chaosFlag = flag.Bool("chaos", false, "run every failover scenario (also REGISTRAR_CHAOS=1; REGISTRAR_CHAOS=short runs the CI form)")

// TestMain runs the tests and removes the registrar binary they built.
func TestMain(m *testing.M) { testkit.Main(m) }

// The timing of the failovers the tests cause: short, so that a scenario
// takes seconds, but not so short that a loaded machine fails over by
// itself.
const (
	nodeTimeout = 1500 * time.Millisecond // cluster-node-timeout
	downAfter   = 1000 * time.Millisecond // sentinel down-after-milliseconds
	// lagFor is how long the replica is paused before its primary is
	// killed in the lag scenario: the writes of that time are what it
	// lacks.
	lagFor = 2 * time.Second
	// recoveryMargin is how soon after the promotion registrations must
	// succeed again.
	recoveryMargin = 2 * time.Second
	// lagPad is the size of the client_name of the lag scenario's
	// registrations.
	lagPad     = 16 << 10
	workers    = 8
	adminToken = "chaos-admin-token-0123456789abcdef"
	tenant     = "chaos"
)

// mode is "full", "short" or "" (skip).
func mode() string {
	switch {
	case *chaosFlag || os.Getenv("REGISTRAR_CHAOS") == "1":
		return "full"
	case os.Getenv("REGISTRAR_CHAOS") == "short":
		return "short"
	}
	return ""
}

// topology is a Redis deployment with the tenant's primary and the
// replica that is to take over from it.
type topology struct {
	url              string
	primary, replica *redistest.Server
	// promoted reports whether the replica is the tenant's primary now,
	// as clients can learn it.
	promoted func() bool
}

func startCluster(t *testing.T) *topology {
	c := redistest.StartReplicatedCluster(t, redistest.ReplicatedClusterOptions{NodeTimeout: nodeTimeout})
	p, r, err := c.PrimaryOf("registrar:{" + tenant + "}:x")
	if err != nil || p == nil || r == nil {
		t.Fatalf("the tenant's primary and replica: %v %v %v", p, r, err)
	}
	return &topology{
		url: "redis+cluster://" + strings.Join(c.Addrs, ","), primary: p, replica: r,
		promoted: func() bool {
			nodes, err := redistest.Topology(r.Addr)
			for _, n := range nodes {
				if err == nil && n.Addr == r.Addr {
					return n.Primary && len(n.Slots) > 0
				}
			}
			return false
		},
	}
}

func startSentinels(t *testing.T) *topology {
	ss := redistest.StartSentinels(t, redistest.SentinelOptions{DownAfter: downAfter})
	r := ss.Servers[1]
	return &topology{
		url: "redis+sentinel://" + strings.Join(ss.Addrs, ",") + "/" + ss.Name, primary: ss.Servers[0], replica: r,
		promoted: func() bool {
			for _, s := range ss.Addrs {
				if addr, err := ss.PrimaryAddr(s); err == nil && addr == r.Addr {
					return true
				}
			}
			return false
		},
	}
}

// registrar is a "registrar serve" process.
type registrar struct {
	public, admin string
	log           *testkit.Buffer
}

func startRegistrar(t *testing.T, redisURL string, args ...string) *registrar {
	t.Helper()
	addr, admin := testkit.FreeAddr(t), testkit.FreeAddr(t)
	r := &registrar{public: "http://" + addr, admin: "http://" + admin, log: &testkit.Buffer{}}
	cmd := exec.Command(testkit.Build(t, "../../cmd/registrar"), append([]string{"serve", "--addr", addr, "--admin-addr", admin,
		"--issuer", r.public, "--redis-url", redisURL, "--log-level", "warn"}, args...)...)
	cmd.Env = append(os.Environ(), "REGISTRAR_ADMIN_TOKEN="+adminToken)
	cmd.Stdout, cmd.Stderr = r.log, r.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("registrar log (tail):\n%s", tail(r.log.String(), 3000))
		}
	})
	testkit.WaitReady(t, r.public+"/healthz", exited, 30*time.Second, r.log.String)
	return r
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

var httpClient = &http.Client{
	Timeout:   15 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 2 * workers},
}

// createTenant creates the tenant with open registration and no rate
// limit, and waits until the registrar serves it.
func (r *registrar) createTenant(t *testing.T) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, r.admin+"/admin/tenants/"+tenant,
		strings.NewReader(`{"initial_access_token":"none","registration_rate_limit":{"off":true}}`))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		t.Fatalf("create tenant: %d %s", resp.StatusCode, body)
	}
	for range 600 {
		resp, err := httpClient.Get(r.public + "/tenants/" + tenant + "/.well-known/openid-configuration")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the tenant is never served")
}

// result is one registration request's.
type result struct {
	start, end time.Time
	status     int
	retryAfter bool
	uri, token string // registration_client_uri and its access token, on 201
	err        string // a transport error, or the body of an unexpected status
}

// load registers clients from several workers until stopped.
type load struct {
	mu      sync.Mutex
	results []result
	stop    chan struct{}
	wg      sync.WaitGroup
}

func startLoad(url string, pad int) *load {
	l := &load{stop: make(chan struct{})}
	body := `{"redirect_uris":["https://app.example/cb"],"client_name":"chaos-` + strings.Repeat("x", pad) + `"}`
	for range workers {
		l.wg.Go(func() {
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				l.add(register(url, body))
			}
		})
	}
	return l
}

func (l *load) add(r result) {
	l.mu.Lock()
	l.results = append(l.results, r)
	l.mu.Unlock()
}

// snapshot returns the results so far.
func (l *load) snapshot() []result {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]result(nil), l.results...)
}

func (l *load) finish() []result {
	close(l.stop)
	l.wg.Wait()
	return l.snapshot()
}

func register(url, request string) result {
	r := result{start: time.Now()}
	resp, err := httpClient.Post(url, "application/json", strings.NewReader(request))
	r.end = time.Now()
	if err != nil {
		r.err = err.Error()
		return r
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r.status = resp.StatusCode
	r.retryAfter = resp.Header.Get("Retry-After") != ""
	switch r.status {
	case http.StatusCreated:
		var c struct {
			URI   string `json:"registration_client_uri"`
			Token string `json:"registration_access_token"`
		}
		if err := json.Unmarshal(body, &c); err != nil || c.URI == "" || c.Token == "" {
			r.err = "201 without a registration_client_uri and token: " + string(body)
		}
		r.uri, r.token = c.URI, c.Token
	case http.StatusServiceUnavailable:
	default:
		r.err = string(body)
	}
	return r
}

// scenario is one fault under load.
type scenario struct {
	topology string // "cluster" or "sentinel"
	fault    string // "kill", "hang" or "lag"
	wait     bool   // --redis-wait-replicas 1
}

func (s scenario) String() string {
	w := "off"
	if s.wait {
		w = "on"
	}
	return s.topology + "/" + s.fault + "/wait-" + w
}

// TestFailover runs the scenarios (see the package documentation).
func TestFailover(t *testing.T) {
	m := mode()
	if m == "" {
		t.Skip("chaos tests run only when asked: go test ./redisstore/chaos -chaos, or REGISTRAR_CHAOS=1 (or short)")
	}
	redistest.Require(t, "redis-server", "redis-cli")
	var scenarios []scenario
	if m == "short" {
		scenarios = []scenario{{"cluster", "lag", true}, {"sentinel", "kill", false}}
	} else {
		for _, topo := range []string{"cluster", "sentinel"} {
			for _, fault := range []string{"kill", "hang", "lag"} {
				scenarios = append(scenarios, scenario{topo, fault, false})
			}
			scenarios = append(scenarios, scenario{topo, "kill", true}, scenario{topo, "lag", true})
		}
	}
	for _, sc := range scenarios {
		t.Run(sc.String(), func(t *testing.T) { runScenario(t, sc) })
	}
}

// runScenario starts the topology and a registrar, registers under load,
// causes the fault and checks what clients saw.
func runScenario(t *testing.T, sc scenario) {
	begin := time.Now()
	phase := func(what string) { t.Logf("%v: %s", time.Since(begin).Round(10*time.Millisecond), what) }
	var topo *topology
	if sc.topology == "cluster" {
		topo = startCluster(t)
	} else {
		topo = startSentinels(t)
	}
	var args []string
	if sc.wait {
		args = []string{"--redis-wait-replicas", "1", "--redis-wait-timeout", "500ms"}
	}
	phase("redis started")
	reg := startRegistrar(t, topo.url, args...)
	phase("registrar started")
	reg.createTenant(t)
	phase("tenant served")
	pad := 0
	if sc.fault == "lag" {
		// Large records, so that what the paused replica lacks is more
		// than the kernel's socket buffers hold for it (which it would
		// still read once it runs again).
		pad = lagPad
	}
	l := startLoad(reg.public+"/tenants/"+tenant+"/reg", pad)
	defer func() {
		select {
		case <-l.stop:
		default:
			l.finish()
		}
	}()
	waitFor(t, "registrations before the fault", 30*time.Second, func() bool {
		rs := l.snapshot()
		if len(rs) > 0 && rs[0].status != http.StatusCreated && time.Since(rs[0].end) > 25*time.Second {
			t.Logf("first answer: %d %s", rs[0].status, rs[0].err)
		}
		return count(rs, http.StatusCreated) >= 50
	})

	phase("load running")
	var fault time.Time
	switch sc.fault {
	case "kill":
		fault = time.Now()
		topo.primary.Kill()
	case "hang":
		fault = time.Now()
		topo.primary.Pause()
	case "lag":
		topo.replica.Pause()
		time.Sleep(lagFor)
		fault = time.Now()
		topo.primary.Kill()
		topo.replica.Resume()
	}
	waitFor(t, "the promotion", time.Minute, topo.promoted)
	promoted := time.Now()
	ready := promoted
	if sc.wait {
		// The new primary has no replica until the old one is back: with
		// --redis-wait-replicas 1 nothing is acknowledged until then.
		topo.primary.Restart()
		waitFor(t, "the old primary back as a replica", time.Minute, func() bool {
			repl, err := redistest.Command(topo.replica.Addr, "INFO", "replication")
			return err == nil && strings.Contains(repl, "state=online")
		})
		ready = time.Now()
	}
	var recovered time.Time
	waitFor(t, "registrations after the fault", time.Minute, func() bool {
		for _, r := range l.snapshot() {
			if r.status == http.StatusCreated && r.start.After(fault) {
				recovered = r.end
				return true
			}
		}
		return false
	})
	time.Sleep(time.Second)
	results := l.finish()

	acked, unavailable, bad := 0, 0, 0
	for _, r := range results {
		switch {
		case r.status == http.StatusCreated && r.err == "":
			acked++
		case r.status == http.StatusServiceUnavailable && r.retryAfter:
			unavailable++
		default:
			if bad++; bad <= 5 {
				t.Errorf("a registration answered %d (Retry-After %t): %s", r.status, r.retryAfter, r.err)
			}
		}
	}
	phase("load stopped")
	lost := readBack(t, results)
	phase("read back")
	t.Logf("%s: %d registrations: %d acknowledged, %d 503, %d other; promotion %v after the fault, first registration %v after it (%v after the promotion%s); acknowledged but lost: %d",
		sc, len(results), acked, unavailable, bad, promoted.Sub(fault).Round(10*time.Millisecond), recovered.Sub(fault).Round(10*time.Millisecond),
		recovered.Sub(ready).Round(10*time.Millisecond), map[bool]string{true: " with its replica back", false: ""}[sc.wait], lost)
	if bad > 0 {
		t.Errorf("%d registrations answered other than 201 or 503 with Retry-After", bad)
	}
	if late := recovered.Sub(ready); late > recoveryMargin {
		t.Errorf("registrations recovered %v after the promotion, want within %v", late, recoveryMargin)
	}
	if sc.wait && lost > 0 {
		t.Errorf("%d acknowledged clients lost with --redis-wait-replicas 1", lost)
	}
}

// readBack reads every acknowledged client with its registration access
// token and returns how many are gone.
func readBack(t *testing.T, results []result) int {
	var (
		mu   sync.Mutex
		lost int
		wg   sync.WaitGroup
		work = make(chan result)
	)
	for range workers {
		wg.Go(func() {
			for r := range work {
				status := 0
				for range 50 { // a 503 is asked again
					req, _ := http.NewRequest(http.MethodGet, r.uri, nil)
					req.Header.Set("Authorization", "Bearer "+r.token)
					resp, err := httpClient.Do(req)
					if err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if status = resp.StatusCode; status != http.StatusServiceUnavailable {
							break
						}
					}
					time.Sleep(100 * time.Millisecond)
				}
				switch status {
				case http.StatusOK:
				case http.StatusUnauthorized, http.StatusNotFound:
					mu.Lock()
					lost++
					mu.Unlock()
				default:
					t.Errorf("reading %s back: %d", r.uri, status)
				}
			}
		})
	}
	for _, r := range results {
		if r.status == http.StatusCreated && r.err == "" {
			work <- r
		}
	}
	close(work)
	wg.Wait()
	return lost
}

func count(rs []result, status int) int {
	n := 0
	for _, r := range rs {
		if r.status == status {
			n++
		}
	}
	return n
}

// waitFor polls cond every 20ms until it holds, failing the test after
// limit.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
