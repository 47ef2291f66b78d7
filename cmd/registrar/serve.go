package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/registrar-dev/registrar/adminapi"
	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/httpapi"
	"github.com/registrar-dev/registrar/idn"
	"github.com/registrar-dev/registrar/internal/gcfloor"
	"github.com/registrar-dev/registrar/internal/httpio"
	"github.com/registrar-dev/registrar/internal/logbuf"
	"github.com/registrar-dev/registrar/internal/seal"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/metrics"
	"github.com/registrar-dev/registrar/oauth"
	"github.com/registrar-dev/registrar/plugins"
)

// serveConfig is what the serve command reads from flags and environment.
type serveConfig struct {
	addr, adminAddr, issuer string
	redisURL, policyDir     string
	dataDir                 string
	configFile              string
	adminToken              string
	// kekFile and kekText give the key-encryption keys (signingkeys.go).
	kekFile, kekText string
	logLevel         string
	trustedProxies   string
	fetchAllowHosts  string
	tls              tlsFlags
	durability       durabilityFlags
	// The numbers and durations as given, and as parsed by check.
	maxBodyS, shutdownTimeoutS, tenantRefreshS string
	logFlushS                                  string
	gcHeapFloorS                               string
	gcHeapFloor                                uint64
	maxBody                                    int64
	shutdownTimeout                            time.Duration
	tenantRefresh                              time.Duration
	logFlush                                   time.Duration
}

// serveCmd is registrar serve. Every flag can also be set by its
// environment variable; the admin token only by REGISTRAR_ADMIN_TOKEN.
func serveCmd(e env) *cobra.Command {
	c := &serveConfig{adminToken: e.getenv("REGISTRAR_ADMIN_TOKEN"), kekText: e.getenv("REGISTRAR_KEY_ENCRYPTION_KEY")}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the provider",
		Long: `Runs the provider: the public listener (registration, discovery, health,
metrics) and the admin API on its own listener.

Every flag can also be set by its environment variable; the admin token only
by REGISTRAR_ADMIN_TOKEN (a random one is generated and printed once when it
is unset). The key-encryption keys that seal the tenants' signing keys come
from --key-encryption-key-file or REGISTRAR_KEY_ENCRYPTION_KEY.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return serve(cmd.Context(), c, e) },
	}
	fs := cmd.Flags()
	str := func(p *string, name, envName, def, help string) {
		fs.StringVar(p, name, envOr(e, envName, def), help+" (env "+envName+")")
	}
	str(&c.addr, "addr", "REGISTRAR_ADDR", "127.0.0.1:8080", "public listen address")
	str(&c.adminAddr, "admin-addr", "REGISTRAR_ADMIN_ADDR", "127.0.0.1:8081", "admin API listen address")
	str(&c.issuer, "issuer", "REGISTRAR_ISSUER", "", "public base URL (default http://<addr>)")
	str(&c.redisURL, "redis-url", "REGISTRAR_REDIS_URL", "", "Redis URL (redis://, rediss://, unix://, redis+cluster://, redis+sentinel://); empty: embedded in-memory store")
	str(&c.policyDir, "policy-dir", "REGISTRAR_POLICY_DIR", "", "folder of .wasm policy modules")
	str(&c.dataDir, "data-dir", "REGISTRAR_DATA_DIR", "", "folder for state kept across restarts (compiled policy modules)")
	str(&c.configFile, "config", "REGISTRAR_CONFIG", "", "tenant configuration file (YAML or JSON)")
	str(&c.kekFile, "key-encryption-key-file", "REGISTRAR_KEY_ENCRYPTION_KEY_FILE", "", "file of key-encryption keys (kid:base64 lines, the first seals) for the tenants' signing keys; or set REGISTRAR_KEY_ENCRYPTION_KEY")
	str(&c.logLevel, "log-level", "REGISTRAR_LOG_LEVEL", "info", "log level: debug, info, warn or error")
	str(&c.logFlushS, "log-flush-interval", "REGISTRAR_LOG_FLUSH_INTERVAL", "100ms", "how long a log line below warn may wait to be written with others (0: each at once; on a terminal always at once)")
	str(&c.trustedProxies, "trusted-proxies", "REGISTRAR_TRUSTED_PROXIES", "", "comma-separated IP addresses and CIDR prefixes of reverse proxies whose X-Forwarded-For is believed")
	str(&c.fetchAllowHosts, "fetch-allow-hosts", "REGISTRAR_FETCH_ALLOW_HOSTS", "", "comma-separated host[:port] exempt from the outbound fetch guard (plain http and any address allowed), for tests and internal key servers")
	str(&c.tenantRefreshS, "tenant-refresh", "REGISTRAR_TENANT_REFRESH", "1s", "how often tenants created through the admin API of any replica are loaded from the store")
	str(&c.gcHeapFloorS, "gc-heap-floor", "REGISTRAR_GC_HEAP_FLOOR", "64MiB", "the heap the garbage collector lets grow before a cycle, at least (0: Go's default, 4MiB; ignored when GOGC is set)")
	str(&c.maxBodyS, "max-body-bytes", "REGISTRAR_MAX_BODY_BYTES", strconv.Itoa(httpapi.DefaultMaxBodyBytes), "request body limit in bytes")
	str(&c.shutdownTimeoutS, "shutdown-timeout", "REGISTRAR_SHUTDOWN_TIMEOUT", "30s", "how long SIGTERM waits for requests in flight")
	c.tls.register(str)
	c.durability.register(str)
	return cmd
}

// check parses and validates what the flags give, naming the flag at fault.
func (c *serveConfig) check() error {
	var err error
	if c.tenantRefresh, err = time.ParseDuration(c.tenantRefreshS); err != nil || c.tenantRefresh <= 0 {
		return usageError{fmt.Sprintf("--tenant-refresh %q: want a positive duration such as 1s", c.tenantRefreshS)}
	}
	if c.shutdownTimeout, err = time.ParseDuration(c.shutdownTimeoutS); err != nil || c.shutdownTimeout <= 0 {
		return usageError{fmt.Sprintf("--shutdown-timeout %q: want a positive duration such as 30s", c.shutdownTimeoutS)}
	}
	if c.logFlush, err = time.ParseDuration(c.logFlushS); err != nil || c.logFlush < 0 || c.logFlush > time.Minute {
		return usageError{fmt.Sprintf("--log-flush-interval %q: want a duration from 0 to 1m, such as 100ms", c.logFlushS)}
	}
	if c.gcHeapFloor, err = parseBytes(c.gcHeapFloorS); err != nil || c.gcHeapFloor > 1<<40 {
		return usageError{fmt.Sprintf("--gc-heap-floor %q: want a size up to 1TiB such as 64MiB, or 0", c.gcHeapFloorS)}
	}
	if c.maxBody, err = strconv.ParseInt(c.maxBodyS, 10, 64); err != nil || c.maxBody <= 0 {
		return usageError{fmt.Sprintf("--max-body-bytes %q: want a positive number of bytes", c.maxBodyS)}
	}
	if c.addr == "" || c.adminAddr == "" {
		return usageError{"--addr and --admin-addr must not be empty"}
	}
	return c.durability.check(c.redisURL)
}

// newLogger returns the process logger: JSON, or text on a terminal, with
// request IDs taken from the context; and the function that writes what
// it holds. Lines below warn wait up to flush to be written with others
// (logbuf), except on a terminal.
func newLogger(e env, level string, flush time.Duration) (*slog.Logger, func(), error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, nil, usageError{fmt.Sprintf("--log-level %q: want debug, info, warn or error", level)}
	}
	opts := &slog.HandlerOptions{Level: lv}
	if f, ok := e.stderr.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return slog.New(httpio.ContextHandler{Handler: slog.NewTextHandler(e.stderr, opts)}), func() {}, nil
		}
	}
	if flush == 0 {
		return slog.New(httpio.ContextHandler{Handler: slog.NewJSONHandler(e.stderr, opts)}), func() {}, nil
	}
	w := logbuf.New(e.stderr, logBufferBytes, flush)
	h := logbuf.Handler{Handler: slog.NewJSONHandler(w, opts), W: w}
	return slog.New(httpio.ContextHandler{Handler: h}), func() { _ = w.Close() }, nil
}

// logBufferBytes is how many bytes of log lines are held at most.
const logBufferBytes = 64 << 10

// server is a running provider's parts, built by serve in named steps.
type server struct {
	c       *serveConfig
	e       env
	log     *slog.Logger
	trusted []netip.Prefix
	fc      fileConfig
	mtls    *mtlsSetup

	pub, adm net.Listener
	store    backend
	metrics  *metrics.Metrics
	modules  *plugins.Host
	reg      *engine.Registrar
	tokens   *oauth.Server
	servers  []*http.Server
	// stopBackground stops what runBackground started.
	stopBackground context.CancelFunc
	// regp is reg for what runs before the engine exists: the policy
	// host's audit events and the metrics' tenant check.
	regp atomic.Pointer[engine.Registrar]

	// closers release what the steps opened, in reverse order.
	closers []func()

	// assertions verifies client assertions, reading jwks_uri through
	// the guarded fetch client (openFetcher).
	assertions *jose.Assertions
	// keySets caches the key sets fetched from clients' jwks_uri, for
	// assertions and self-signed certificates alike.
	keySets *jose.KeySets
	// statements verifies software statements with issuers' keys, inline
	// or fetched through keySets (openFetcher).
	statements *jose.Statements
	// kek seals the tenants' signing keys and encrypted client secrets;
	// nil when none is configured (openEngine).
	kek *seal.Keys
	// clientURIs checks clients' sector_identifier_uri and jwks_uri
	// through the guarded fetch client and keySets (openFetcher).
	clientURIs *jose.ClientURIs
	// shards checks the Redis servers (watchShards); nil for the
	// embedded store.
	shards *shardWatch
	// tenantsLoaded is set once the tenants have been read from the
	// store (ready).
	tenantsLoaded atomic.Bool
}

// serve runs the provider until ctx ends.
func serve(ctx context.Context, c *serveConfig, e env) error {
	s := &server{c: c, e: e}
	defer func() {
		for i := len(s.closers) - 1; i >= 0; i-- {
			s.closers[i]()
		}
	}()
	steps := []func(context.Context) error{s.configure, s.openFetcher, s.listen, s.listenTLS, s.openStore, s.openModules, s.openEngine, s.openTokens, s.openHandlers}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	s.runBackground(ctx)
	defer s.stopBackground()
	return s.run(ctx)
}

// configure checks the flags and reads the configuration file.
func (s *server) configure(context.Context) error {
	if err := s.c.check(); err != nil {
		return err
	}
	var err error
	var flush func()
	if s.log, flush, err = newLogger(s.e, s.c.logLevel, s.c.logFlush); err != nil {
		return err
	}
	s.closers = append(s.closers, flush)
	s.closers = append(s.closers, gcfloor.Start(s.c.gcHeapFloor).Stop)
	if s.trusted, err = httpio.ParseTrustedProxies(s.c.trustedProxies); err != nil {
		return usageError{"--trusted-proxies: " + err.Error()}
	}
	s.fc, err = loadConfig(s.c.configFile)
	return err
}

// listen binds both listeners before anything is written to the store
// (audit events, replica status), so that a taken port fails start-up
// having changed nothing, and ":0" works.
func (s *server) listen(context.Context) error {
	var err error
	if s.pub, err = net.Listen("tcp", s.c.addr); err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	s.closers = append(s.closers, func() { s.pub.Close() })
	if s.adm, err = net.Listen("tcp", s.c.adminAddr); err != nil {
		return fmt.Errorf("--admin-addr: %w", err)
	}
	s.closers = append(s.closers, func() { s.adm.Close() })
	if s.c.issuer == "" {
		s.c.issuer = s.c.tls.scheme() + "://" + s.pub.Addr().String()
	}
	return nil
}

func (s *server) openStore(ctx context.Context) error {
	store, closeStore, err := openStoreWith(ctx, s.c.redisURL, s.c.durability.openOptions(redisWait, s.log))
	if err != nil {
		return err
	}
	s.store = store
	s.closers = append(s.closers, func() { closeStore() })
	return nil
}

// openModules starts the metrics and the policy host, and checks the
// configuration's tenants against the modules it has. The host reports to
// the engine's audit log, which does not exist yet: its events before the
// engine does are recorded once it does (openEngine).
func (s *server) openModules(ctx context.Context) error {
	s.metrics = metrics.New(metrics.Config{
		KnownTenant: func(name string) bool { r := s.regp.Load(); return r != nil && r.HasTenant(name) },
		Version:     version(),
		Logger:      s.log,
	})
	observe, shadow := observers(s.metrics)
	modules, err := openModules(ctx, s.c, s.fc, s.store, plugins.Config{
		Observe: observe,
		Shadow:  shadow,
		Audit: func(ctx context.Context, e engine.AuditEvent) {
			if r := s.regp.Load(); r != nil {
				r.Audit(ctx, e)
			}
		},
	}, s.log)
	if err != nil {
		return err
	}
	s.modules = modules
	s.closers = append(s.closers, func() { modules.Close(context.WithoutCancel(ctx)) })
	if err := s.fc.check(modules, s.statements, s.clientURIs); err != nil {
		return err
	}
	s.metrics.WatchPolicies(modules.Status)
	observeWait := s.metrics.ReplicationWait()
	s.c.durability.observe.Store(&observeWait)
	return nil
}

// openEngine builds the engine and records the policy host's start-up
// events in its audit log.
func (s *server) openEngine(ctx context.Context) error {
	m, modules := s.metrics, s.modules
	kek, err := keyEncryptionKeys(s.c.kekFile, s.c.kekText, s.c.redisURL == "", s.fc.Tenants, s.log)
	if err != nil {
		return err
	}
	s.kek = kek
	var secrets engine.SecretSealer
	if kek != nil {
		secrets = kek
	}
	reg, err := engine.New(engine.Config{
		Store:    m.Store(s.store),
		AuditLog: m.AuditLog(s.store),
		Limiter:  m.Limiter(s.store),
		Keys:     jose.KeySetChecker{},
		Hosts:    idn.Normalizer{},
		Modules:  modules,
		Tenants:  s.fc.Tenants,
		TenantDeleted: func(ctx context.Context, name string) {
			modules.TenantDeleted(ctx, name)
			m.ForgetTenant(name)
		},
		Statements: s.statements, Replay: s.store, ObserveStatement: m.ObserveStatement,
		Secrets: secrets,
		URIs:    s.clientURIs, ObserveURICheck: m.ObserveURICheck,
		Logger: s.log,
	})
	if err != nil {
		return err
	}
	s.reg = reg
	s.regp.Store(reg)
	for _, mod := range modules.Modules() {
		reg.Audit(ctx, engine.AuditEvent{
			Tenant: mod.Tenant, Type: engine.AuditPolicyLoaded, Actor: "system",
			Policy: &engine.PolicyVersion{Name: mod.Name, Digest: mod.Digest}, Detail: "loaded at start",
		})
	}
	return nil
}

// openTokens builds the tenants' authorization server (docs/tokens.md).
func (s *server) openTokens(context.Context) error {
	m := s.metrics
	tokens, err := oauth.New(oauth.Config{
		Registrar: s.reg, Clients: m.Store(s.store), Store: s.store, KeyEncryption: s.kek,
		AuditLog: m.AuditLog(s.store), Limiter: m.Limiter(s.store), Assertions: s.assertions, Modules: s.modules,
		ClientCAs: s.mtls.clientCAs, CertificateKeys: jose.CertificateKeys{KeySets: s.keySets},
		Observe: func(o oauth.Outcome) {
			m.ObserveOAuth(metrics.OAuthRequest{Tenant: o.Tenant, Endpoint: o.Endpoint, Code: o.Code, Format: string(o.Format)})
		},
		Logger: s.log,
	})
	if err != nil {
		return err
	}
	s.tokens = tokens
	return nil
}

// openHandlers builds both listeners' handlers and servers. Admin answers
// may wait for a policy module to compile and pass its self-tests: they
// get more time than public ones. /metrics is on both listeners, so that a
// deployment can keep it off the public one.
func (s *server) openHandlers(context.Context) error {
	c := s.c
	if c.adminToken == "" {
		var err error
		if c.adminToken, err = randomToken(); err != nil {
			return err
		}
		fmt.Fprintf(s.e.stdout, "admin token (shown once; set REGISTRAR_ADMIN_TOKEN to choose your own): %s\n", c.adminToken)
	}
	public, err := httpapi.New(httpapi.Config{
		Registrar: s.reg, Tokens: s.tokens, Issuer: c.issuer, MaxBodyBytes: c.maxBody, TrustedProxies: s.trusted,
		ClientCertProxies: s.mtls.certProxies, ClientCertHeader: s.mtls.certHeader,
		Middleware: metrics.Route, Metrics: s.metrics.Handler(), PoliciesReady: s.ready, Logger: s.log,
	})
	if err != nil {
		return err
	}
	admin, err := adminapi.New(adminapi.Config{
		Registrar: s.reg, Token: c.adminToken, Issuer: c.issuer, Policies: s.modules, SigningKeys: adminapi.OAuthSigningKeys(s.tokens),
		Shards: s.watchShards(), TrustedProxies: s.trusted, Middleware: metrics.Route, Logger: s.log,
	})
	if err != nil {
		return err
	}
	adminMux := http.NewServeMux()
	adminMux.Handle("GET /metrics", s.metrics.Handler())
	adminMux.Handle("/", admin)
	s.servers = []*http.Server{
		newServer(s.metrics.HTTP("public", public), 30*time.Second, s.log),
		newServer(s.metrics.HTTP("admin", adminMux), 2*time.Minute, s.log),
	}
	return nil
}

// runBackground starts the policy host's hot reload and the tenant
// refresh, until ctx ends or stopBackground is called.
func (s *server) runBackground(ctx context.Context) {
	ctx, s.stopBackground = context.WithCancel(ctx)
	go func() {
		if err := s.modules.Run(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("policy hot reload stopped; policies no longer follow the folder and the store", "err", err)
		}
	}()
	if err := s.reg.Refresh(ctx); err != nil {
		s.log.Warn("tenants of the store not loaded yet; retrying in the background", "err", err)
		go s.loadTenants(ctx)
	} else {
		s.tenantsLoaded.Store(true)
	}
	go s.reg.RefreshEvery(ctx, s.c.tenantRefresh)
	if s.shards != nil {
		go s.shards.run(ctx, shardCheckEvery)
	}
}

// run serves until ctx ends or a listener fails, then drains requests in
// flight for at most the shutdown timeout.
func (s *server) run(ctx context.Context) error {
	errc := make(chan error, len(s.servers))
	for i, l := range []net.Listener{s.pub, s.adm} {
		go func() {
			if err := s.servers[i].Serve(l); !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	s.log.Info("registrar serving", "version", version(), "addr", s.pub.Addr().String(), "admin_addr", s.adm.Addr().String(), "issuer", s.c.issuer, "tenants", s.reg.TenantNames())
	select {
	case <-ctx.Done():
		s.log.Info("shutting down: draining requests in flight", "timeout", s.c.shutdownTimeout.String())
	case err := <-errc:
		s.log.Error("listener failed; shutting down", "err", err)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.c.shutdownTimeout)
	defer cancel()
	var errs []error
	for _, srv := range s.servers {
		errs = append(errs, srv.Shutdown(sctx))
	}
	// Policy calls still running once the drain timeout has passed (a
	// hostile module with a long policy timeout) are stopped now, not left
	// to run to their own deadlines: their requests fail with 500.
	s.stopBackground()
	if err := s.modules.Close(sctx); err != nil {
		s.log.Warn("policy modules not closed cleanly", "err", err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	s.log.Info("stopped")
	return nil
}

// newServer returns an http.Server with timeouts that keep slow or idle
// clients from holding connections.
func newServer(h http.Handler, writeTimeout time.Duration, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// randomToken returns 32 random bytes, base64url-encoded.
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// byteUnits are the suffixes parseBytes takes, binary multiples.
var byteUnits = []struct {
	suffix string
	n      uint64
}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}

// parseBytes reads a size: a whole number of bytes, or of KiB, MiB or GiB
// with that suffix (64MiB; also TiB).
func parseBytes(s string) (uint64, error) {
	mult := uint64(1)
	for _, u := range byteUnits {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = rest, u.n
			break
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, err
	}
	if n > math.MaxUint64/mult {
		return 0, fmt.Errorf("%s: too large", s)
	}
	return n * mult, nil
}
