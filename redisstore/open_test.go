package redisstore

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/redistest"
	"github.com/registrar-dev/registrar/internal/testkit"
)

var quiet = testkit.DiscardLogger()

func TestParseURL(t *testing.T) {
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
			w.timeout = DefaultTimeout
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
			target, err := parseURL(tc.url)
			if err != nil {
				t.Fatalf("parseURL: %v", err)
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

func TestParseURLRefuses(t *testing.T) {
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
		if _, err := parseURL(tc.url); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseURL(%q) = %v, want an error about %q", tc.url, err, tc.want)
		}
	}
}

// TestOpen: Open connects to the single server or cluster its URL names,
// in the database the URL says, and Close closes the client it made.
func TestOpen(t *testing.T) {
	ctx := t.Context()
	single := redistest.Start(t, redistest.Options{})
	cluster := redistest.StartCluster(t)
	for name, url := range map[string]string{
		"single":  "redis://" + single.Addr + "/1",
		"cluster": "redis+cluster://" + strings.Join(cluster.Addrs[:2], ","), // seed nodes: two of three
	} {
		t.Run(name, func(t *testing.T) {
			s, err := Open(ctx, url, OpenOptions{Logger: quiet})
			if err != nil {
				t.Fatalf("Open(%s): %v", url, err)
			}
			tok := &engine.InitialAccessToken{Tenant: "acme", ID: engine.HashToken(name), CreatedAt: time.Now()}
			if err := s.CreateInitialAccessToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
			if _, err := s.InitialAccessToken(ctx, "acme", tok.ID); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
			if err := s.Ping(ctx); err == nil {
				t.Error("Ping answered after Close")
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

// TestOpenRefusesURL: a URL Open cannot use is ErrInvalidURL, so that the
// caller can tell a mistake of configuration from a Redis that is down.
func TestOpenRefusesURL(t *testing.T) {
	_, err := Open(t.Context(), "http://127.0.0.1:6379", OpenOptions{Logger: quiet})
	if !errors.Is(err, ErrInvalidURL) || !strings.Contains(err.Error(), "unsupported scheme") {
		t.Errorf("Open(http://...) = %v, want ErrInvalidURL about the scheme", err)
	}
}

// TestOpenWaits: Open waits a bounded time for Redis, and says which
// Redis did not answer.
func TestOpenWaits(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	srv.Kill()
	url := "redis://" + srv.Addr
	start := time.Now()
	_, err := Open(t.Context(), url, OpenOptions{Wait: 500 * time.Millisecond, Logger: quiet})
	if err == nil || !strings.Contains(err.Error(), "did not answer within 500ms") || !strings.Contains(err.Error(), srv.Addr) {
		t.Errorf("Open with Redis down: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Open gave up after %v, want about 500ms", d)
	}

	// A Redis that accepts connections and never answers is given up on
	// as soon: the wait bounds the pings too, not only the pauses.
	silent := testkit.SilentServer(t)
	start = time.Now()
	_, err = Open(t.Context(), "redis://"+silent, OpenOptions{Wait: 500 * time.Millisecond, Logger: quiet})
	if err == nil || !strings.Contains(err.Error(), "did not answer within 500ms") {
		t.Errorf("Open with a silent Redis: %v", err)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("Open gave up on a silent Redis after %v, want about 500ms", d)
	}

	// Redis that comes up while Registrar waits is used.
	done := make(chan error, 1)
	go func() {
		s, err := Open(context.Background(), url, OpenOptions{Wait: 10 * time.Second, Logger: quiet})
		if err == nil {
			s.Close()
		}
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	srv.Restart()
	if err := <-done; err != nil {
		t.Errorf("Open while Redis comes up: %v", err)
	}
}

// TestRedisLoggerBacksOff: while Redis is down, go-redis logs every failed
// dial; the logger says each kind of line once, then once per backoff
// interval with the count it held back.
func TestRedisLoggerBacksOff(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newRedisLogger(slog.New(slog.NewTextHandler(&buf, nil)))
	l.now = func() time.Time { return now }
	lines := func() []string { return strings.Split(strings.TrimSpace(buf.String()), "\n") }
	for range 100 {
		l.Printf(context.Background(), "redis: connection pool: failed to dial after %d attempts: %v", 1, "connection refused")
	}
	if got := lines(); len(got) != 1 || !strings.Contains(got[0], "connection refused") {
		t.Fatalf("100 lines at once logged %d: %q", len(got), got)
	}
	l.Printf(context.Background(), "another kind of line %s", "x") // its own budget
	now = now.Add(1500 * time.Millisecond)
	l.Printf(context.Background(), "redis: connection pool: failed to dial after %d attempts: %v", 1, "connection refused")
	got := lines()
	if len(got) != 3 || !strings.Contains(got[2], "repeated=99") {
		t.Fatalf("after the first interval: %q", got)
	}
	// The interval doubles: 1s after that line is too early...
	now = now.Add(time.Second)
	l.Printf(context.Background(), "redis: connection pool: failed to dial after %d attempts: %v", 1, "connection refused")
	if n := len(lines()); n != 3 {
		t.Fatalf("inside the doubled interval: %d lines", n)
	}
	// ...2s is not, and the held-back line is counted.
	now = now.Add(time.Second)
	l.Printf(context.Background(), "redis: connection pool: failed to dial after %d attempts: %v", 1, "connection refused")
	if got := lines(); len(got) != 4 || !strings.Contains(got[3], "repeated=1") {
		t.Fatalf("after the doubled interval: %q", got)
	}
}

func TestPingBackoff(t *testing.T) {
	want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second}
	for i, w := range want {
		if got := pingBackoff(i); got != w {
			t.Errorf("pingBackoff(%d) = %v, want %v", i, got, w)
		}
	}
}
