package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/redistest"
	"github.com/registrar-dev/registrar/memstore"
	"github.com/registrar-dev/registrar/redisstore"
)

func TestParseRedisURL(t *testing.T) {
	type want struct {
		kind    string // "single", "cluster" or "sentinel"
		addrs   []string
		network string
		db      int
		user    string
		pass    string
		tls     bool
		dial    time.Duration
		read    time.Duration
		timeout time.Duration
		primary string
		sUser   string
		sPass   string
	}
	defaults := func(w want) want {
		if w.dial == 0 {
			w.dial = defaultDialTimeout
		}
		if w.read == 0 {
			w.read = defaultReadTimeout
		}
		if w.timeout == 0 {
			w.timeout = redisstore.DefaultTimeout
		}
		if w.network == "" && w.kind == "single" {
			w.network = "tcp"
		}
		return w
	}
	for _, tc := range []struct {
		url  string
		want want
	}{
		{"redis://127.0.0.1:6390/2", want{kind: "single", addrs: []string{"127.0.0.1:6390"}, db: 2}},
		{"redis://localhost", want{kind: "single", addrs: []string{"localhost:6379"}}},
		{"redis://:s3cret@cache.internal/0?dial_timeout=3s&timeout=500ms&read_timeout=2",
			want{kind: "single", addrs: []string{"cache.internal:6379"}, pass: "s3cret", dial: 3 * time.Second, read: 2 * time.Second, timeout: 500 * time.Millisecond}},
		{"rediss://app:pw@cache.example:6380", want{kind: "single", addrs: []string{"cache.example:6380"}, user: "app", pass: "pw", tls: true}},
		{"redis://[::1]:7000?timeout=3", want{kind: "single", addrs: []string{"[::1]:7000"}, timeout: 3 * time.Second}},
		{"unix:///run/redis/redis.sock?db=3", want{kind: "single", network: "unix", addrs: []string{"/run/redis/redis.sock"}, db: 3}},
		{"redis+cluster://h1:7000,h2:7001,[::1]:7002?read_timeout=2s",
			want{kind: "cluster", addrs: []string{"h1:7000", "h2:7001", "[::1]:7002"}, read: 2 * time.Second}},
		{"redis+cluster://h1:7000?addr=h2:7001&addr=h3:7002", want{kind: "cluster", addrs: []string{"h1:7000", "h2:7001", "h3:7002"}}},
		{"rediss+cluster://u:p%40ss@h1,h2/", want{kind: "cluster", addrs: []string{"h1:6379", "h2:6379"}, user: "u", pass: "p@ss", tls: true}},
		{"redis+sentinel://:pw@s1,s2:26380/mymaster/1?sentinel_password=spw&timeout=1s",
			want{kind: "sentinel", addrs: []string{"s1:26379", "s2:26380"}, primary: "mymaster", db: 1, pass: "pw", sPass: "spw", timeout: time.Second}},
		{"rediss+sentinel://s1:26379/main?sentinel_username=su", want{kind: "sentinel", addrs: []string{"s1:26379"}, primary: "main", sUser: "su", tls: true}},
	} {
		t.Run(tc.url, func(t *testing.T) {
			w := defaults(tc.want)
			target, err := parseRedisURL(tc.url)
			if err != nil {
				t.Fatalf("parseRedisURL: %v", err)
			}
			var g want
			var ctxTimeouts bool
			var dialerRetries int
			switch {
			case target.single != nil:
				o := target.single
				g = want{kind: "single", addrs: []string{o.Addr}, network: o.Network, db: o.DB, user: o.Username, pass: o.Password,
					tls: o.TLSConfig != nil, dial: o.DialTimeout, read: o.ReadTimeout}
				ctxTimeouts, dialerRetries = o.ContextTimeoutEnabled, o.DialerRetries
				if o.TLSConfig != nil && o.TLSConfig.ServerName != "cache.example" {
					t.Errorf("TLS server name %q", o.TLSConfig.ServerName)
				}
				if o.WriteTimeout != defaultWriteTimeout || o.PoolTimeout != defaultPoolTimeout {
					t.Errorf("write timeout %v, pool timeout %v", o.WriteTimeout, o.PoolTimeout)
				}
			case target.cluster != nil:
				o := target.cluster
				g = want{kind: "cluster", addrs: o.Addrs, user: o.Username, pass: o.Password,
					tls: o.TLSConfig != nil, dial: o.DialTimeout, read: o.ReadTimeout}
				ctxTimeouts, dialerRetries = o.ContextTimeoutEnabled, o.DialerRetries
				if o.TLSConfig != nil && o.TLSConfig.ServerName != "" {
					t.Errorf("TLS server name %q: each node must be checked against its own name", o.TLSConfig.ServerName)
				}
			case target.failover != nil:
				o := target.failover
				g = want{kind: "sentinel", addrs: o.SentinelAddrs, db: o.DB, user: o.Username, pass: o.Password,
					tls: o.TLSConfig != nil, dial: o.DialTimeout, read: o.ReadTimeout, primary: o.MasterName,
					sUser: o.SentinelUsername, sPass: o.SentinelPassword}
				ctxTimeouts, dialerRetries = o.ContextTimeoutEnabled, o.DialerRetries
				if o.TLSConfig != nil && o.TLSConfig.ServerName != "" {
					t.Errorf("TLS server name %q: each server must be checked against its own name", o.TLSConfig.ServerName)
				}
			}
			g.timeout = target.timeout
			if g.kind != w.kind || !slices.Equal(g.addrs, w.addrs) || g.network != w.network || g.db != w.db ||
				g.user != w.user || g.pass != w.pass || g.tls != w.tls || g.dial != w.dial || g.read != w.read ||
				g.timeout != w.timeout || g.primary != w.primary || g.sUser != w.sUser || g.sPass != w.sPass {
				t.Errorf("parsed\n got %+v\nwant %+v", g, w)
			}
			if !ctxTimeouts || dialerRetries != defaultDialerRetries {
				t.Errorf("ContextTimeoutEnabled %t, DialerRetries %d", ctxTimeouts, dialerRetries)
			}
			if s := target.String(); w.pass != "" && strings.Contains(s, w.pass) {
				t.Errorf("String() shows the password: %s", s)
			}
		})
	}
}

func TestParseRedisURLRefuses(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"localhost:6379", "want a URL"},
		{"http://127.0.0.1:6379", "unsupported scheme"},
		{"redis+ring://h1,h2", "unsupported scheme"},
		{"unix+cluster:///x", "unsupported scheme"},
		{"redis://h/notanumber", "database"},
		{"redis://h?bogus=1", "bogus"},
		{"redis://h?addr=h2:6379", "addr"},
		{"redis://h?timeout=-1s", "timeout"},
		{"redis://h?timeout=soon", "timeout"},
		{"redis://h?context_timeout_enabled=false", "context_timeout_enabled"},
		{"redis+cluster://h1:7000/3", "database"},
		{"redis+cluster://h1,,h2", "empty host"},
		{"redis+cluster://h1:99999", "port"},
		{"redis+cluster://h1:x", "port"},
		{"redis+cluster://fe80::1", "host"},
		{"redis+sentinel://s1:26379", "primary"},
		{"redis+sentinel://s1/main?password=x", "user information"},
	} {
		if _, err := parseRedisURL(tc.url); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseRedisURL(%q) = %v, want an error about %q", tc.url, err, tc.want)
		}
	}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestOpenStore(t *testing.T) {
	ctx := t.Context()
	s, closeStore, err := openStore(ctx, "", time.Second, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*memstore.Store); !ok {
		t.Errorf("empty URL: %T, want the in-memory store", s)
	}
	closeStore()

	single := redistest.Start(t, redistest.Options{})
	cluster := redistest.StartCluster(t)
	for name, url := range map[string]string{
		"single":  "redis://" + single.Addr + "/1",
		"cluster": "redis+cluster://" + strings.Join(cluster.Addrs[:2], ","), // seed nodes: two of three
	} {
		t.Run(name, func(t *testing.T) {
			s, closeStore, err := openStore(ctx, url, time.Second, quiet)
			if err != nil {
				t.Fatalf("openStore(%s): %v", url, err)
			}
			if _, ok := s.(*redisstore.Store); !ok {
				t.Fatalf("%T, want the Redis store", s)
			}
			tok := &engine.InitialAccessToken{Tenant: "acme", ID: engine.HashToken(name), CreatedAt: time.Now()}
			if err := s.CreateInitialAccessToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
			if _, err := s.InitialAccessToken(ctx, "acme", tok.ID); err != nil {
				t.Fatal(err)
			}
			if err := closeStore(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
	}
	// The single-server store used database 1, as the URL said.
	rdb := redis.NewClient(&redis.Options{Addr: single.Addr, DB: 1, DisableIdentity: true})
	defer rdb.Close()
	if n := rdb.DBSize(ctx).Val(); n == 0 {
		t.Error("database 1 holds no keys")
	}
	rdb0 := redis.NewClient(&redis.Options{Addr: single.Addr, DB: 0, DisableIdentity: true})
	defer rdb0.Close()
	if n := rdb0.DBSize(ctx).Val(); n != 0 {
		t.Errorf("database 0 holds %d keys, want none", n)
	}
}

// TestOpenStoreWaits: at start-up Registrar waits a bounded time for
// Redis, and says which Redis did not answer.
func TestOpenStoreWaits(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	srv.Kill()
	url := "redis://" + srv.Addr
	start := time.Now()
	_, _, err := openStore(t.Context(), url, 500*time.Millisecond, quiet)
	if err == nil || !strings.Contains(err.Error(), "did not answer within 500ms") || !strings.Contains(err.Error(), srv.Addr) {
		t.Errorf("openStore with Redis down: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("openStore gave up after %v, want about 500ms", d)
	}

	// A Redis that accepts connections and never answers is given up on
	// as soon: the wait bounds the pings too, not only the pauses.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start = time.Now()
	_, _, err = openStore(t.Context(), "redis://"+silent.Addr().String(), 500*time.Millisecond, quiet)
	if err == nil || !strings.Contains(err.Error(), "did not answer within 500ms") {
		t.Errorf("openStore with a silent Redis: %v", err)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("openStore gave up on a silent Redis after %v, want about 500ms", d)
	}

	// Redis that comes up while Registrar waits is used.
	done := make(chan error, 1)
	go func() {
		_, closeStore, err := openStore(context.Background(), url, 10*time.Second, quiet)
		if err == nil {
			closeStore()
		}
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	srv.Restart()
	if err := <-done; err != nil {
		t.Errorf("openStore while Redis comes up: %v", err)
	}
}

// startServeStoppable is startServe with a function that stops the
// server, as SIGTERM does, and waits for it.
func startServeStoppable(t *testing.T, vars map[string]string, args ...string) (addr, adminAddr string, logs *syncBuffer, stop func()) {
	t.Helper()
	addr, adminAddr = freeAddr(t), freeAddr(t)
	e, _, errb := testEnv(vars)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", addr, "--admin-addr", adminAddr}, args...), e)
	}()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v after shutdown", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("serve did not stop on cancel")
		}
	}
	t.Cleanup(stop)
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-done:
			stopped = true
			t.Fatalf("serve exited: %v\n%s", err, errb.String())
		default:
		}
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Since(start) > 20*time.Second {
			t.Fatalf("serve did not come up\n%s", errb.String())
		}
	}
	return addr, adminAddr, errb, stop
}

// TestServeRedisEndToEnd runs "registrar serve --redis-url" against a real
// redis-server: a client registered through one process is read back, with
// its registration access token, through a new process after the first
// has stopped.
func TestServeRedisEndToEnd(t *testing.T) {
	const adminToken = "cli-admin-token-0123456789"
	srv := redistest.Start(t, redistest.Options{})
	url := "redis://" + srv.Addr + "/0?timeout=1s"
	vars := map[string]string{"REGISTRAR_ADMIN_TOKEN": adminToken}
	addr, adminAddr, logs, stop := startServeStoppable(t, vars, "--redis-url", url)
	if l := logs.String(); !strings.Contains(l, "using the Redis store") || strings.Contains(l, "in-memory") {
		t.Errorf("start-up log does not say that the Redis store is used:\n%s", l)
	}
	ctx := context.Background()

	e, out, errb := testEnv(vars)
	if err := run(ctx, []string{"iat", "create", "--tenant", "default", "--admin-url", "http://" + adminAddr, "--expires-in", "PT1H", "--max-uses", "2"}, e); err != nil {
		t.Fatalf("iat create: %v\n%s", err, errb.String())
	}
	var iat struct {
		Token string `json:"initial_access_token"`
	}
	if err := json.Unmarshal([]byte(out.String()), &iat); err != nil {
		t.Fatalf("iat create printed %q: %v", out.String(), err)
	}
	e, out, errb = testEnv(nil)
	e.stdin = strings.NewReader(`{"redirect_uris":["https://app.example/cb"],"client_name":"Durable"}`)
	if err := run(ctx, []string{"register", "--issuer", "http://" + addr, "--iat", iat.Token, "--metadata", "-"}, e); err != nil {
		t.Fatalf("register: %v\n%s", err, errb.String())
	}
	var client struct {
		ID  string `json:"client_id"`
		RAT string `json:"registration_access_token"`
		URI string `json:"registration_client_uri"`
	}
	if err := json.Unmarshal([]byte(out.String()), &client); err != nil || client.RAT == "" {
		t.Fatalf("register printed %q: %v", out.String(), err)
	}
	stop()

	// A new process, configured through the environment this time.
	vars["REGISTRAR_REDIS_URL"] = url
	addr, adminAddr, _, _ = startServeStoppable(t, vars)
	req, _ := http.NewRequest("GET", "http://"+addr+"/reg/"+client.ID, nil)
	req.Header.Set("Authorization", "Bearer "+client.RAT)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if resp.StatusCode != 200 || got["client_name"] != "Durable" {
		t.Fatalf("read through the second process: %d %v", resp.StatusCode, got)
	}
	// The token's use count survived: one use is left.
	e, _, errb = testEnv(nil)
	e.stdin = strings.NewReader(`{"redirect_uris":["https://app.example/cb2"]}`)
	if err := run(ctx, []string{"register", "--issuer", "http://" + addr, "--iat", iat.Token, "--metadata", "-"}, e); err != nil {
		t.Fatalf("second registration: %v\n%s", err, errb.String())
	}
	e, _, _ = testEnv(nil)
	e.stdin = strings.NewReader(`{"redirect_uris":["https://app.example/cb3"]}`)
	if err := run(ctx, []string{"register", "--issuer", "http://" + addr, "--iat", iat.Token, "--metadata", "-"}, e); err == nil {
		t.Error("a third registration with a two-use token succeeded")
	}
	req, _ = http.NewRequest("GET", "http://"+adminAddr+"/admin/tenants/default/clients", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Clients []struct {
			ID string `json:"client_id"`
		} `json:"clients"`
	}
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list.Clients) != 2 || !slices.ContainsFunc(list.Clients, func(c struct {
		ID string `json:"client_id"`
	}) bool {
		return c.ID == client.ID
	}) {
		t.Errorf("the second process lists %+v, want two clients, %s among them", list.Clients, client.ID)
	}
}
