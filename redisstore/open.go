package redisstore

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// The client timeouts when the URL does not set them. They keep a dead or
// stuck Redis from holding requests: each store call fails within the
// store timeout (DefaultTimeout unless the URL's "timeout" sets it), and at
// once when Redis refuses connections.
const (
	defaultDialTimeout  = time.Second
	defaultReadTimeout  = time.Second
	defaultWriteTimeout = time.Second
	defaultPoolTimeout  = time.Second
	// defaultDialerRetries is one attempt per dial: go-redis would
	// otherwise try five times, 100 ms apart, inside one request.
	defaultDialerRetries = 1
)

// ErrInvalidURL is wrapped by the errors of Open for a URL it cannot use:
// a mistake of configuration rather than a Redis that does not answer.
var ErrInvalidURL = errors.New("invalid Redis URL")

// OpenOptions qualify Open.
type OpenOptions struct {
	// Prefix and AuditMaxLen are those of Config. (The store timeout is
	// the URL's "timeout" option.)
	Prefix      string
	AuditMaxLen int
	// Wait is how long Open waits for Redis to answer a PING, trying again
	// after a pause of 250ms that doubles up to 2s. Default 0: one PING,
	// bounded by the store timeout.
	Wait time.Duration
	// Logger receives the go-redis client's log lines (failed dials and the
	// like) and a warning while Open waits. Default slog.Default().
	Logger *slog.Logger
	// WaitReplicas, WaitTimeout and ObserveWait are those of Config. With
	// WaitReplicas set, the client's read timeout is at least WaitTimeout
	// plus readTimeoutOverWait, so that a WAIT that runs its course is not
	// cut short by the socket.
	WaitReplicas int
	WaitTimeout  time.Duration
	ObserveWait  func(ReplicationWait)
}

// Open returns a Store over the Redis that rawURL names, once Redis has
// answered a PING. The Store owns its client: Close releases it. The URL
// forms are:
//
//	redis://[[user]:password@]host[:port][/db][?option=value&...]
//	rediss://...                                   the same over TLS
//	unix://[[user]:password@]/path/to/socket[?db=N&...]
//	redis+cluster://[[user]:password@]host:port[,host:port...][?option=value&...]
//	rediss+cluster://...                           the same over TLS
//	redis+sentinel://[[user]:password@]host:port[,host:port...]/primary-name[/db][?option=value&...]
//	rediss+sentinel://...                          the same over TLS
//
// The default port is 6379, 26379 for sentinels. A cluster URL lists seed
// nodes; more may be given as addr=host:port options. A sentinel URL lists
// sentinels; its user information is the primary's credentials, and the
// sentinels' are the sentinel_username and sentinel_password options.
// The options are go-redis's (dial_timeout, read_timeout, write_timeout,
// pool_size, pool_timeout, max_retries, ...: durations as "500ms" or
// seconds), and "timeout", the bound on each store call (Config.Timeout,
// default DefaultTimeout). Unknown options are errors (ErrInvalidURL).
func Open(ctx context.Context, rawURL string, o OpenOptions) (*Store, error) {
	target, err := parseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redisstore: %w: %w", ErrInvalidURL, err)
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	redis.SetLogger(newRedisLogger(log))
	if o.WaitReplicas > 0 {
		target.readTimeoutOver(cmp.Or(o.WaitTimeout, DefaultWaitTimeout) + readTimeoutOverWait)
	}
	rdb := target.client()
	s, err := New(rdb, Config{Prefix: o.Prefix, Timeout: target.timeout, AuditMaxLen: o.AuditMaxLen,
		WaitReplicas: o.WaitReplicas, WaitTimeout: o.WaitTimeout, ObserveWait: o.ObserveWait})
	if err != nil {
		rdb.Close()
		return nil, err
	}
	s.owned, s.target = true, target.String()
	if err := s.waitForRedis(ctx, o.Wait, log, target.diagnose); err != nil {
		rdb.Close()
		return nil, err
	}
	if err := target.checkMode(ctx, s); err != nil {
		rdb.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the Redis client of a Store that Open returned; a Store from
// New does not own its client, and Close does nothing.
func (s *Store) Close() error {
	if !s.owned {
		return nil
	}
	return s.rdb.Close()
}

// String describes the Redis of a Store that Open returned (kind, servers,
// database; never credentials) and its store timeout.
func (s *Store) String() string {
	if s.target == "" {
		return fmt.Sprintf("Redis store, timeout %v", s.timeout)
	}
	return fmt.Sprintf("Redis %s, timeout %v", s.target, s.timeout)
}

// pingBackoff is the pause after the attempt'th failed PING while Open
// waits: 250ms, doubling to 2s.
func pingBackoff(attempt int) time.Duration {
	return min(250*time.Millisecond<<min(attempt, 3), 2*time.Second)
}

// waitForRedis pings Redis until it answers, wait passes or ctx ends,
// backing off between tries. After each failed PING, diagnose may find a
// mistake of configuration that no wait would mend: its error is
// returned at once.
func (s *Store) waitForRedis(ctx context.Context, wait time.Duration, log *slog.Logger, diagnose func(context.Context, error) error) error {
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var lastErr error
	for attempt := 0; ; attempt++ {
		pctx := wctx
		if wait <= 0 {
			pctx = ctx // one PING, bounded by the store timeout only
		}
		err := s.Ping(pctx)
		if err == nil {
			return nil
		}
		if derr := diagnose(pctx, err); derr != nil {
			return derr
		}
		if lastErr == nil || wctx.Err() == nil {
			lastErr = err // the last error before the wait ran out says most
		}
		if attempt == 0 {
			if wait <= 0 {
				return fmt.Errorf("redisstore: Redis at %s does not answer: %w", s.target, err)
			}
			log.Warn("Redis does not answer yet; waiting", "redis", s.target, "wait", wait.String(), "err", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("redisstore: stopped waiting for Redis at %s: %w", s.target, ctx.Err())
		case <-wctx.Done():
			return fmt.Errorf("redisstore: Redis at %s did not answer within %v: %w", s.target, wait, lastErr)
		case <-time.After(pingBackoff(attempt)):
		}
	}
}

// redisTarget is what a URL of Open names: exactly one of single, cluster
// and failover is set.
type redisTarget struct {
	single   *redis.Options
	cluster  *redis.ClusterOptions
	failover *redis.FailoverOptions
	// timeout bounds each store call (Config.Timeout).
	timeout time.Duration
}

// client returns a new client of the target.
func (t *redisTarget) client() redis.UniversalClient {
	switch {
	case t.cluster != nil:
		return redis.NewClusterClient(t.cluster)
	case t.failover != nil:
		return redis.NewFailoverClient(t.failover)
	}
	return redis.NewClient(t.single)
}

// String describes the target for logs and errors, without credentials.
func (t *redisTarget) String() string {
	switch {
	case t.cluster != nil:
		return "cluster " + strings.Join(t.cluster.Addrs, ",")
	case t.failover != nil:
		return fmt.Sprintf("sentinel %s, primary %q, db %d", strings.Join(t.failover.SentinelAddrs, ","), t.failover.MasterName, t.failover.DB)
	}
	return fmt.Sprintf("%s %s, db %d", t.single.Network, t.single.Addr, t.single.DB)
}

// parseURL parses the URL forms of Open.
func parseURL(raw string) (*redisTarget, error) {
	scheme, _, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, errors.New(`want a URL such as redis://host:6379/0, rediss://..., redis+cluster://host1:port1,host2:port2 or redis+sentinel://host:26379/primary-name`)
	}
	base, variant, _ := strings.Cut(scheme, "+")
	if base != "redis" && base != "rediss" && !(base == "unix" && variant == "") {
		return nil, fmt.Errorf("unsupported scheme %q: want redis, rediss, unix, redis+cluster, rediss+cluster, redis+sentinel or rediss+sentinel", scheme)
	}
	var t redisTarget
	var err error
	switch variant {
	case "":
		t.single, t.timeout, err = parseSingle(raw)
		if err == nil {
			defaultTimeouts(&t.single.DialTimeout, &t.single.ReadTimeout, &t.single.WriteTimeout, &t.single.PoolTimeout, &t.single.DialerRetries)
			t.single.ContextTimeoutEnabled = true
		}
	case "cluster":
		t.cluster, t.timeout, err = parseCluster(base, raw)
		if err == nil {
			defaultTimeouts(&t.cluster.DialTimeout, &t.cluster.ReadTimeout, &t.cluster.WriteTimeout, &t.cluster.PoolTimeout, &t.cluster.DialerRetries)
			t.cluster.ContextTimeoutEnabled = true
		}
	case "sentinel":
		t.failover, t.timeout, err = parseSentinel(base, raw)
		if err == nil {
			defaultTimeouts(&t.failover.DialTimeout, &t.failover.ReadTimeout, &t.failover.WriteTimeout, &t.failover.PoolTimeout, &t.failover.DialerRetries)
			t.failover.ContextTimeoutEnabled = true
		}
	default:
		return nil, fmt.Errorf("unsupported scheme %q: want redis, rediss, unix, redis+cluster, rediss+cluster, redis+sentinel or rediss+sentinel", scheme)
	}
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// defaultTimeouts sets the client timeouts the URL left unset.
func defaultTimeouts(dial, read, write, pool *time.Duration, dialerRetries *int) {
	for _, d := range []struct {
		p   *time.Duration
		def time.Duration
	}{{dial, defaultDialTimeout}, {read, defaultReadTimeout}, {write, defaultWriteTimeout}, {pool, defaultPoolTimeout}} {
		if *d.p == 0 {
			*d.p = d.def
		}
	}
	if *dialerRetries == 0 {
		*dialerRetries = defaultDialerRetries
	}
}

// takeOptions removes Registrar's own options from the query of u: the
// store timeout and, for a sentinel URL, the sentinels' credentials. It
// refuses options that Registrar sets itself.
func takeOptions(u *url.URL, sentinel bool) (timeout time.Duration, sentinelUser, sentinelPass string, err error) {
	q := u.Query()
	if q.Has("context_timeout_enabled") {
		return 0, "", "", errors.New("option context_timeout_enabled: Registrar always enables it, so that the store timeout holds")
	}
	timeout = DefaultTimeout
	if q.Has("timeout") {
		s := q.Get("timeout")
		if n, err := strconv.Atoi(s); err == nil {
			timeout = time.Duration(n) * time.Second
		} else if timeout, err = time.ParseDuration(s); err != nil {
			return 0, "", "", fmt.Errorf("option timeout=%q: want a duration such as 2s or 500ms", s)
		}
		if timeout <= 0 {
			return 0, "", "", fmt.Errorf("option timeout=%q: want a positive duration", s)
		}
		q.Del("timeout")
	}
	if sentinel {
		for _, name := range []string{"username", "password"} {
			if q.Has(name) {
				return 0, "", "", fmt.Errorf("option %s: put the primary's credentials in the URL's user information (sentinel_%s is the sentinels')", name, name)
			}
		}
		sentinelUser, sentinelPass = q.Get("sentinel_username"), q.Get("sentinel_password")
		q.Del("sentinel_username")
		q.Del("sentinel_password")
	}
	u.RawQuery = q.Encode()
	return timeout, sentinelUser, sentinelPass, nil
}

// parseSingle parses a redis://, rediss:// or unix:// URL.
func parseSingle(raw string) (*redis.Options, time.Duration, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, 0, err
	}
	timeout, _, _, err := takeOptions(u, false)
	if err != nil {
		return nil, 0, err
	}
	o, err := redis.ParseURL(u.String())
	if err != nil {
		return nil, 0, err
	}
	return o, timeout, nil
}

// parseCluster parses a redis+cluster:// or rediss+cluster:// URL.
func parseCluster(base, raw string) (*redis.ClusterOptions, time.Duration, error) {
	u, err := multiHostURL(base, raw, "6379")
	if err != nil {
		return nil, 0, err
	}
	if strings.Trim(u.Path, "/") != "" {
		return nil, 0, fmt.Errorf("path %q: a cluster has no database numbers", u.Path)
	}
	timeout, _, _, err := takeOptions(u, false)
	if err != nil {
		return nil, 0, err
	}
	o, err := redis.ParseClusterURL(u.String())
	if err != nil {
		return nil, 0, err
	}
	verifyEachHost(o.TLSConfig)
	return o, timeout, nil
}

// parseSentinel parses a redis+sentinel:// or rediss+sentinel:// URL.
func parseSentinel(base, raw string) (*redis.FailoverOptions, time.Duration, error) {
	u, err := multiHostURL(base, raw, "26379")
	if err != nil {
		return nil, 0, err
	}
	primary, db, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	if primary == "" {
		return nil, 0, errors.New("want the primary's name as the path: redis+sentinel://host:26379/primary-name[/db]")
	}
	timeout, sentinelUser, sentinelPass, err := takeOptions(u, true)
	if err != nil {
		return nil, 0, err
	}
	// go-redis takes the primary's name as an option, and reads the URL's
	// user information as the sentinels' credentials.
	user, pass := "", ""
	if u.User != nil {
		user = u.User.Username()
		pass, _ = u.User.Password()
	}
	u.User = nil
	q := u.Query()
	q.Set("master_name", primary)
	u.RawQuery = q.Encode()
	u.Path = "/" + db
	o, err := redis.ParseFailoverURL(u.String())
	if err != nil {
		return nil, 0, err
	}
	o.Username, o.Password = user, pass
	o.SentinelUsername, o.SentinelPassword = sentinelUser, sentinelPass
	verifyEachHost(o.TLSConfig)
	return o, timeout, nil
}

// verifyEachHost makes a TLS configuration for several servers check each
// server's certificate against the name it is dialled by, instead of the
// first host of the URL (as go-redis sets it), and refuses TLS before 1.2.
func verifyEachHost(c *tls.Config) {
	if c != nil {
		c.ServerName = ""
		c.MinVersion = tls.VersionTLS12
	}
}

// multiHostURL turns a URL whose host part lists several comma-separated
// host:port pairs into the form go-redis parses: the first host as the
// URL's host, the others as addr options. Hosts without a port get
// defaultPort.
func multiHostURL(base, raw, defaultPort string) (*url.URL, error) {
	_, rest, _ := strings.Cut(raw, "://")
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	userinfo := ""
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		userinfo, authority = authority[:i+1], authority[i+1:]
	}
	var hosts []string
	for _, h := range strings.Split(authority, ",") {
		if h == "" {
			return nil, fmt.Errorf("empty host in %q", authority)
		}
		host, port, err := net.SplitHostPort(h)
		if err != nil { // no port
			host, port = h, defaultPort
			if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
				host = h[1 : len(h)-1]
			} else if strings.Contains(h, ":") {
				return nil, fmt.Errorf("host %q: want host or host:port", h)
			}
		}
		if host == "" {
			return nil, fmt.Errorf("host %q: want host or host:port", h)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("host %q: bad port", h)
		}
		hosts = append(hosts, net.JoinHostPort(host, port))
	}
	u, err := url.Parse(base + "://" + userinfo + hosts[0] + tail)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	for _, h := range hosts[1:] {
		q.Add("addr", h)
	}
	u.RawQuery = q.Encode()
	return u, nil
}

// redisLogger sends go-redis's log lines (failed dials and the like) to
// the process logger, as warnings. While Redis is down, go-redis logs a
// line for every failed dial of every pooled connection: the logger says
// each kind of line once, then again after a backoff (1s, doubling to a
// minute) with the count of the lines it held back, so an outage is a few
// clear lines rather than a storm.
type redisLogger struct {
	log *slog.Logger
	now func() time.Time

	mu    sync.Mutex
	kinds map[string]*logBackoff
}

// logBackoff is the state of one kind of line (its format string).
type logBackoff struct {
	next       time.Time
	interval   time.Duration
	suppressed int
}

// The bounds of redisLogger's backoff.
const (
	logBackoffMin = time.Second
	logBackoffMax = time.Minute
	// maxLogKinds bounds the kinds remembered; past it, the oldest
	// state is dropped (formats are go-redis's constants, so this is a
	// guard, not a limit that is reached).
	maxLogKinds = 64
)

func newRedisLogger(log *slog.Logger) *redisLogger {
	return &redisLogger{log: log, now: time.Now, kinds: map[string]*logBackoff{}}
}

// Printf implements go-redis's logging interface.
func (l *redisLogger) Printf(ctx context.Context, format string, v ...any) {
	now := l.now()
	l.mu.Lock()
	k := l.kinds[format]
	switch {
	case k == nil:
		if len(l.kinds) >= maxLogKinds {
			clear(l.kinds)
		}
		k = &logBackoff{interval: logBackoffMin}
		l.kinds[format] = k
	case now.Before(k.next):
		k.suppressed++
		l.mu.Unlock()
		return
	case now.Sub(k.next) > logBackoffMax:
		k.interval = logBackoffMin // quiet for long: a new episode
	default:
		k.interval = min(2*k.interval, logBackoffMax)
	}
	suppressed := k.suppressed
	k.suppressed, k.next = 0, now.Add(k.interval)
	l.mu.Unlock()
	attrs := []any{}
	if suppressed > 0 {
		attrs = append(attrs, "repeated", suppressed)
	}
	l.log.WarnContext(ctx, "redis client: "+fmt.Sprintf(format, v...), attrs...)
}
