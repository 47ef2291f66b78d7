package main

import (
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/internal/testkit"
)

func TestPercentile(t *testing.T) {
	var lat []time.Duration
	for i := 1; i <= 100; i++ {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {99, 99 * time.Millisecond}, {99.5, 100 * time.Millisecond}, {100, 100 * time.Millisecond}, {0.1, time.Millisecond}} {
		if got := percentile(lat, tc.p); got != tc.want {
			t.Errorf("percentile(1..100 ms, %v) = %v, want %v", tc.p, got, tc.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("percentile of nothing = %v", got)
	}
}

func TestParseProcs(t *testing.T) {
	procs, err := parseProcs("registrar=12,redis=34")
	if err != nil || len(procs) != 3 || procs[0] != (proc{"registrar", "12"}) || procs[2].pid != "self" {
		t.Errorf("parseProcs = %v, %v", procs, err)
	}
	for _, bad := range []string{"registrar", "registrar=x", "=12"} {
		if _, err := parseProcs(bad); err == nil {
			t.Errorf("parseProcs(%q) accepted", bad)
		}
	}
}

func TestCPUTime(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	before, err := cpuTime("self")
	if err != nil {
		t.Fatal(err)
	}
	for start := time.Now(); time.Since(start) < 100*time.Millisecond; {
	}
	after, err := cpuTime("self")
	if err != nil || after <= before {
		t.Errorf("CPU time %v then %v after 100 ms of spinning (%v)", before, after, err)
	}
}

// TestLoad runs the generator against a server that answers one request
// in four with a 503: those are counted, not timed.
func TestLoad(t *testing.T) {
	var n atomic.Int64
	srv := testkit.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/tenants/t/reg" || r.Header.Get("Authorization") != "Bearer tok" {
			t.Errorf("request %s %s %q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
		}
		if n.Add(1)%4 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	c := config{issuer: srv.URL + "/tenants/t", op: "register", conns: 4, duration: 200 * time.Millisecond,
		warmup: 50 * time.Millisecond, iat: "tok", body: anchorBody, format: "row"}
	client := srv.Client()
	var sent atomic.Int64
	next := func() (*http.Request, int, string) {
		req, _ := http.NewRequest(http.MethodPost, c.issuer+"/reg", strings.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer "+c.iat)
		return req, http.StatusCreated, []string{"a", "b"}[sent.Add(1)%2]
	}
	res := load(client, next, c, []proc{{"loadgen", "self"}})
	// Each kind is counted apart as well; together they are the run.
	if names := res.kindNames(); len(names) != 2 || names[0] != "a" || names[1] != "b" {
		t.Fatalf("kinds %v", names)
	}
	a, b := res.kinds["a"], res.kinds["b"]
	if a.requests+b.requests != res.requests || len(a.latencies)+len(b.latencies) != len(res.latencies) || a.non2xx+b.non2xx != res.non2xx || len(a.latencies) == 0 || len(b.latencies) == 0 {
		t.Errorf("kinds a %d (%d timed), b %d (%d timed); run %d (%d timed)", a.requests, len(a.latencies), b.requests, len(b.latencies), res.requests, len(res.latencies))
	}
	if row := a.row(config{op: "register:a", conns: 4}); !strings.HasPrefix(row, "| register:a | 4 | ") {
		t.Errorf("row of kind a %q", row)
	}
	if res.requests == 0 || res.non2xx == 0 || res.errors != 0 || len(res.latencies) == 0 {
		t.Fatalf("requests %d, non-2xx %d, errors %d, timed %d", res.requests, res.non2xx, res.errors, len(res.latencies))
	}
	if got, want := float64(res.non2xx)/float64(res.requests), 0.25; got < want-0.1 || got > want+0.1 {
		t.Errorf("non-2xx share %.2f, want about %.2f", got, want)
	}
	if res.firstBad != "status 503, want 201" {
		t.Errorf("first failure %q", res.firstBad)
	}
	if row := res.row(c); !strings.HasPrefix(row, "| register | 4 | ") || !strings.Contains(row, "loadgen ") {
		t.Errorf("row %q", row)
	}
}
