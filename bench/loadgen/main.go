// Command loadgen is Registrar's load generator: it keeps a fixed number of
// connections busy with one operation - RFC 7591 registration (POST /reg
// with an initial access token) or RFC 7592 read (GET /reg/{client_id}
// with the client's registration access token) - for a warm-up and then a
// measured period, and reports requests per second, latency percentiles,
// the number of non-2xx answers and transport errors, and the CPU use of
// the processes it is told about (Linux /proc). Each connection sends its
// next request when the previous answer has arrived (a closed loop, as wrk
// does). With -statement-key, every registration carries a software
// statement of its own (RFC 7591 §2.3), signed by the load generator as a
// directory would (bench/statement.sh). See bench/README.md.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// anchorBody is the registration body of the node-oidc-provider
// measurements this benchmark is compared with
// (shared/research/oidc-provider.md §2).
const anchorBody = `{"redirect_uris":["https://app.example.com/cb"],"grant_types":["authorization_code","refresh_token"],"contacts":["dev@example.com"]}`

type config struct {
	issuer   string
	op       string
	conns    int
	duration time.Duration
	warmup   time.Duration
	iat      string
	body     string
	cpu      string
	format   string

	// Software statements (register only): a fresh one signed with the
	// private JWK in statementKey in every body.
	statementKey    string
	statementIssuer string
	statements      int  // signed before the warm-up
	statementMix    bool // every other request with a statement
}

func main() {
	var c config
	flag.StringVar(&c.issuer, "issuer", "http://127.0.0.1:8080", "the tenant's issuer: POST <issuer>/reg, GET <issuer>/reg/{id}")
	flag.StringVar(&c.op, "op", "register", "register or read")
	flag.IntVar(&c.conns, "c", 16, "connections, each with one request in flight")
	flag.DurationVar(&c.duration, "d", 20*time.Second, "measured duration")
	flag.DurationVar(&c.warmup, "warmup", 5*time.Second, "unmeasured warm-up before it")
	flag.StringVar(&c.iat, "iat", os.Getenv("REGISTRAR_IAT"), "initial access token (env REGISTRAR_IAT); register uses it for every request, read to register the client it reads. Mint it with the policies to measure (registrar iat create --policies ...)")
	flag.StringVar(&c.body, "body", anchorBody, "registration request body")
	flag.StringVar(&c.cpu, "cpu", "", "processes whose CPU use to report over the measured period: name=pid,name=pid (Linux /proc); the load generator itself is always reported")
	flag.StringVar(&c.format, "format", "text", "text, or row: one Markdown table row (op | conns | req/s | p50 ms | p99 ms | max ms | non-2xx | errors | CPU%)")
	flag.StringVar(&c.statementKey, "statement-key", "", "register: add to every body a fresh software statement (iss, iat, jti, software_id) signed with this private JWK, made by -new-statement-key; signed before each request's clock starts")
	flag.StringVar(&c.statementIssuer, "statement-issuer", "https://directory.example", "the iss of the statements -statement-key signs")
	flag.IntVar(&c.statements, "statements", 40000, "with -statement-key: how many bodies to sign before the warm-up (on every core), so that no signing runs beside the measured requests; more are signed as needed, and reported")
	flag.BoolVar(&c.statementMix, "statement-mix", false, "with -statement-key: every other registration on each connection carries a statement and the others none, and the latencies of each kind are reported apart too (rows op:plain and op:statement, which share the run's CPU figures): a ratio of the two that drift on a noisy machine does not move")
	newKey := flag.String("new-statement-key", "", "write a new private JWK for -statement-key to this file, print the JWK Set of its public key (a tenant's trusted issuer's jwks) and exit")
	alg := flag.String("statement-alg", "ES256", "the algorithm of -new-statement-key: ES256 or PS256")
	flag.Parse()
	if *newKey != "" {
		set, err := newStatementKey(*newKey, *alg)
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(1)
		}
		fmt.Printf("%s\n", set)
		return
	}
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// result is what one run measured.
type result struct {
	requests  int
	non2xx    int
	errors    int
	elapsed   time.Duration
	latencies []time.Duration // sorted
	cpu       []cpuUse
	firstBad  string
	kinds     map[string]*result // the requests of each kind, when next names kinds
}

// sum makes a result of the workers' tallies.
func sum(ts []tally, elapsed time.Duration, cpu []cpuUse) *result {
	res := &result{elapsed: elapsed, cpu: cpu}
	for _, t := range ts {
		res.latencies = append(res.latencies, t.lat...)
		res.non2xx += t.non2xx
		res.errors += t.errors
	}
	slices.Sort(res.latencies)
	res.requests = len(res.latencies) + res.non2xx + res.errors
	return res
}

// kindNames returns the kinds of r's requests, in order.
func (r result) kindNames() []string {
	return slices.Sorted(maps.Keys(r.kinds))
}

// check refuses a config that cannot run.
func (c config) check() error {
	switch {
	case c.conns < 1 || c.duration <= 0 || c.warmup < 0:
		return errors.New("want -c >= 1, -d > 0 and -warmup >= 0")
	case c.iat == "":
		return errors.New("-iat is required")
	case c.statementKey != "" && c.op != "register":
		return errors.New("-statement-key is for -op register")
	case c.statementMix && c.statementKey == "":
		return errors.New("-statement-mix needs -statement-key")
	}
	return nil
}

func run(c config) error {
	if err := c.check(); err != nil {
		return err
	}
	procs, err := parseProcs(c.cpu)
	if err != nil {
		return err
	}
	client := &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConns:        c.conns,
			MaxIdleConnsPerHost: c.conns,
			MaxConnsPerHost:     c.conns,
			DisableCompression:  true,
		},
	}
	issuer := strings.TrimSuffix(c.issuer, "/")
	var next func() (*http.Request, int, string)
	switch c.op {
	case "register":
		var signer *statementSigner
		if next, signer, err = registrations(c, issuer); err != nil {
			return err
		}
		if signer != nil {
			defer func() {
				if n := signer.late.Load(); n > 0 {
					fmt.Fprintf(os.Stderr, "loadgen: %d of the statements were signed during the run (more -statements would have spared the load that)\n", n)
				}
			}()
		}
	case "read":
		id, rat, err := registerOne(client, issuer, c)
		if err != nil {
			return err
		}
		next = func() (*http.Request, int, string) {
			req, _ := http.NewRequest(http.MethodGet, issuer+"/reg/"+id, nil)
			req.Header.Set("Authorization", "Bearer "+rat)
			return req, http.StatusOK, ""
		}
	default:
		return fmt.Errorf("-op %q: want register or read", c.op)
	}

	res := load(client, next, c, procs)
	switch c.format {
	case "row":
		fmt.Println(res.row(c))
		for _, k := range res.kindNames() {
			fmt.Println(res.kinds[k].row(config{op: c.op + ":" + k, conns: c.conns}))
		}
	default:
		fmt.Print(res.text(c))
	}
	if res.firstBad != "" {
		fmt.Fprintln(os.Stderr, "first failure:", res.firstBad)
	}
	return nil
}

// registrations returns the request maker of a register run and, with
// -statement-key, the signer of its statements, its pool already signed.
func registrations(c config, issuer string) (func() (*http.Request, int, string), *statementSigner, error) {
	plain := func() (io.Reader, error) { return strings.NewReader(c.body), nil }
	body := plain
	var signer *statementSigner
	if c.statementKey != "" {
		var err error
		if signer, err = newStatementSigner(c.statementKey, c.statementIssuer, c.body); err != nil {
			return nil, nil, err
		}
		if err := signer.fill(c.statements); err != nil {
			return nil, nil, fmt.Errorf("signing statements: %w", err)
		}
		body = func() (io.Reader, error) {
			b, err := signer.next()
			return bytes.NewReader(b), err
		}
	}
	var sent atomic.Int64
	next := func() (*http.Request, int, string) {
		mk, kind := body, ""
		if c.statementMix {
			// Alternating over all connections: each kind gets every
			// other request whatever the connections' pace.
			if mk, kind = plain, "plain"; sent.Add(1)%2 == 0 {
				mk, kind = body, "statement"
			}
		}
		b, err := mk()
		if err != nil { // it worked once: not worth a tally of its own
			fmt.Fprintln(os.Stderr, "loadgen: signing a statement:", err)
			os.Exit(1)
		}
		req, _ := http.NewRequest(http.MethodPost, issuer+"/reg", b)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+c.iat)
		return req, http.StatusCreated, kind
	}
	return next, signer, nil
}

// registerOne registers the client that a read run reads.
func registerOne(client *http.Client, issuer string, c config) (id, rat string, err error) {
	req, _ := http.NewRequest(http.MethodPost, issuer+"/reg", strings.NewReader(c.body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.iat)
	resp, err := client.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return "", "", fmt.Errorf("registering the client to read: %d %s", resp.StatusCode, b)
	}
	var out struct {
		ID  string `json:"client_id"`
		RAT string `json:"registration_access_token"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.ID == "" || out.RAT == "" {
		return "", "", fmt.Errorf("registration response without client_id and registration_access_token: %s", b)
	}
	return out.ID, out.RAT, nil
}

// tally is what one worker saw of one kind of request, or of all.
type tally struct {
	lat            []time.Duration
	non2xx, errors int
}

// add counts one answer: its latency d if it has the status wanted, else a
// non-2xx or an error, described in bad.
func (t *tally) add(err error, status, want int, d time.Duration) (bad string) {
	switch {
	case err != nil:
		t.errors++
		return err.Error()
	case status != want:
		if status < 200 || status > 299 {
			t.non2xx++
		} else {
			t.errors++ // a 2xx that is not the expected one
		}
		return fmt.Sprintf("status %d, want %d", status, want)
	}
	t.lat = append(t.lat, d)
	return ""
}

// load runs c.conns workers through the warm-up and the measured period.
// next makes each request, with the status it wants and its kind: the
// requests of a kind other than "" are also counted apart (result.kind).
func load(client *http.Client, next func() (*http.Request, int, string), c config, procs []proc) result {
	var measuring atomic.Bool
	var firstBad atomic.Pointer[string]
	type worker struct {
		tally
		kinds map[string]*tally
	}
	tallies := make([]worker, c.conns)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range tallies {
		wg.Go(func() {
			w := &tallies[i]
			w.kinds = map[string]*tally{}
			for ctx.Err() == nil {
				req, want, kind := next()
				start := time.Now()
				resp, err := client.Do(req)
				var status int
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status = resp.StatusCode
				}
				d := time.Since(start)
				if !measuring.Load() {
					continue
				}
				ts := []*tally{&w.tally}
				if kind != "" {
					if w.kinds[kind] == nil {
						w.kinds[kind] = &tally{}
					}
					ts = append(ts, w.kinds[kind])
				}
				for _, t := range ts {
					if bad := t.add(err, status, want, d); bad != "" {
						firstBad.CompareAndSwap(nil, &bad)
					}
				}
			}
		})
	}
	time.Sleep(c.warmup)
	before := sampleCPU(procs)
	start := time.Now()
	measuring.Store(true)
	time.Sleep(c.duration)
	measuring.Store(false)
	elapsed := time.Since(start)
	after := sampleCPU(procs)
	cancel()
	wg.Wait()

	cpu := cpuUses(procs, before, after, elapsed)
	all := make([]tally, len(tallies))
	byKind := map[string][]tally{}
	for i, w := range tallies {
		all[i] = w.tally
		for k, t := range w.kinds {
			byKind[k] = append(byKind[k], *t)
		}
	}
	res := *sum(all, elapsed, cpu)
	for k, ts := range byKind {
		if res.kinds == nil {
			res.kinds = map[string]*result{}
		}
		res.kinds[k] = sum(ts, elapsed, cpu)
	}
	if p := firstBad.Load(); p != nil {
		res.firstBad = *p
	}
	return res
}

// percentile returns the p-th percentile (0 < p <= 100) of sorted
// latencies: the smallest value that p percent of them do not exceed.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64)
}

func (r result) rate() float64 { return float64(r.requests) / r.elapsed.Seconds() }

func (r result) text(c config) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s, %d connections, %v measured after %v warm-up\n", c.op, c.conns, c.duration, c.warmup)
	fmt.Fprintf(&b, "  requests  %d (%.0f/s)\n", r.requests, r.rate())
	fmt.Fprintf(&b, "  latency   p50 %s ms, p90 %s ms, p99 %s ms, max %s ms (2xx answers)\n",
		ms(percentile(r.latencies, 50)), ms(percentile(r.latencies, 90)), ms(percentile(r.latencies, 99)), ms(percentile(r.latencies, 100)))
	for _, k := range r.kindNames() {
		l := r.kinds[k].latencies
		fmt.Fprintf(&b, "  %-9s %d requests, p50 %s ms, p99 %s ms\n", k, r.kinds[k].requests, ms(percentile(l, 50)), ms(percentile(l, 99)))
	}
	fmt.Fprintf(&b, "  non-2xx   %d\n  errors    %d\n", r.non2xx, r.errors)
	for _, u := range r.cpu {
		fmt.Fprintf(&b, "  cpu       %s %s%%\n", u.name, u.percent())
	}
	return b.String()
}

func (r result) row(c config) string {
	var cpu []string
	for _, u := range r.cpu {
		cpu = append(cpu, u.name+" "+u.percent())
	}
	return fmt.Sprintf("| %s | %d | %.0f | %s | %s | %s | %d | %d | %s |", c.op, c.conns, r.rate(),
		ms(percentile(r.latencies, 50)), ms(percentile(r.latencies, 99)), ms(percentile(r.latencies, 100)),
		r.non2xx, r.errors, strings.Join(cpu, ", "))
}
