package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/registrar-dev/registrar/adminapi"
	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/httpapi"
	"github.com/registrar-dev/registrar/internal/httpio"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/metrics"
	"github.com/registrar-dev/registrar/plugins"
)

// serveConfig is what the serve command reads from flags and environment.
type serveConfig struct {
	addr, adminAddr, issuer string
	redisURL, policyDir     string
	dataDir                 string
	configFile              string
	adminToken              string
	logLevel                string
	trustedProxies          string
	// The numbers and durations as given, and as parsed by check.
	maxBodyS, shutdownTimeoutS, tenantRefreshS string
	maxBody                                    int64
	shutdownTimeout                            time.Duration
	tenantRefresh                              time.Duration
}

// serveCmd is registrar serve. Every flag can also be set by its
// environment variable; the admin token only by REGISTRAR_ADMIN_TOKEN.
func serveCmd(e env) *cobra.Command {
	c := &serveConfig{adminToken: e.getenv("REGISTRAR_ADMIN_TOKEN")}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the provider",
		Long: `Runs the provider: the public listener (registration, discovery, health,
metrics) and the admin API on its own listener.

Every flag can also be set by its environment variable; the admin token only
by REGISTRAR_ADMIN_TOKEN (a random one is generated and printed once when it
is unset).`,
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
	str(&c.logLevel, "log-level", "REGISTRAR_LOG_LEVEL", "info", "log level: debug, info, warn or error")
	str(&c.trustedProxies, "trusted-proxies", "REGISTRAR_TRUSTED_PROXIES", "", "comma-separated IP addresses and CIDR prefixes of reverse proxies whose X-Forwarded-For is believed")
	str(&c.tenantRefreshS, "tenant-refresh", "REGISTRAR_TENANT_REFRESH", "1s", "how often tenants created through the admin API of any replica are loaded from the store")
	str(&c.maxBodyS, "max-body-bytes", "REGISTRAR_MAX_BODY_BYTES", strconv.Itoa(httpapi.DefaultMaxBodyBytes), "request body limit in bytes")
	str(&c.shutdownTimeoutS, "shutdown-timeout", "REGISTRAR_SHUTDOWN_TIMEOUT", "30s", "how long SIGTERM waits for requests in flight")
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
	if c.maxBody, err = strconv.ParseInt(c.maxBodyS, 10, 64); err != nil || c.maxBody <= 0 {
		return usageError{fmt.Sprintf("--max-body-bytes %q: want a positive number of bytes", c.maxBodyS)}
	}
	if c.addr == "" || c.adminAddr == "" {
		return usageError{"--addr and --admin-addr must not be empty"}
	}
	return nil
}

// newLogger returns the process logger: JSON, or text on a terminal, with
// request IDs taken from the context.
func newLogger(e env, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError{fmt.Sprintf("--log-level %q: want debug, info, warn or error", level)}
	}
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler = slog.NewJSONHandler(e.stderr, opts)
	if f, ok := e.stderr.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			h = slog.NewTextHandler(e.stderr, opts)
		}
	}
	return slog.New(httpio.ContextHandler{Handler: h}), nil
}

func serve(ctx context.Context, c *serveConfig, e env) error {
	if err := c.check(); err != nil {
		return err
	}
	log, err := newLogger(e, c.logLevel)
	if err != nil {
		return err
	}
	trusted, err := httpio.ParseTrustedProxies(c.trustedProxies)
	if err != nil {
		return usageError{"--trusted-proxies: " + err.Error()}
	}
	fc, err := loadConfig(c.configFile)
	if err != nil {
		return err
	}
	// Listen before anything is written to the store (audit events,
	// replica status), so that a taken port fails start-up having changed
	// nothing, and ":0" works.
	pub, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	defer pub.Close()
	adm, err := net.Listen("tcp", c.adminAddr)
	if err != nil {
		return fmt.Errorf("--admin-addr: %w", err)
	}
	defer adm.Close()
	store, closeStore, err := openStore(ctx, c.redisURL, redisWait, log)
	if err != nil {
		return err
	}
	defer closeStore()
	// The engine needs the policy host and the host reports to the
	// engine's audit log: the host's events before the engine exists are
	// recorded once it does (below).
	var regp atomic.Pointer[engine.Registrar]
	m := metrics.New(metrics.Config{
		KnownTenant: func(name string) bool { r := regp.Load(); return r != nil && r.HasTenant(name) },
		Version:     version(),
		Logger:      log,
	})
	observe, shadow := observers(m)
	modules, err := openModules(ctx, c, fc, store, plugins.Config{
		Observe: observe,
		Shadow:  shadow,
		Audit: func(ctx context.Context, e engine.AuditEvent) {
			if r := regp.Load(); r != nil {
				r.Audit(ctx, e)
			}
		},
	}, log)
	if err != nil {
		return err
	}
	defer modules.Close(context.WithoutCancel(ctx))
	if err := fc.check(modules); err != nil {
		return err
	}
	m.WatchPolicies(modules.Status)
	reg, err := engine.New(engine.Config{
		Store:    m.Store(store),
		AuditLog: m.AuditLog(store),
		Limiter:  m.Limiter(store),
		Keys:     jose.KeySetChecker{},
		Modules:  modules,
		Tenants:  fc.Tenants,
		TenantDeleted: func(ctx context.Context, name string) {
			modules.TenantDeleted(ctx, name)
			m.ForgetTenant(name)
		},
		Logger: log,
	})
	if err != nil {
		return err
	}
	regp.Store(reg)
	for _, m := range modules.Modules() {
		reg.Audit(ctx, engine.AuditEvent{
			Tenant: m.Tenant, Type: engine.AuditPolicyLoaded, Actor: "system",
			Policy: &engine.PolicyVersion{Name: m.Name, Digest: m.Digest}, Detail: "loaded at start",
		})
	}
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	go func() {
		if err := modules.Run(runCtx); err != nil && runCtx.Err() == nil {
			log.Error("policy hot reload stopped; policies no longer follow the folder and the store", "err", err)
		}
	}()
	if err := reg.Refresh(ctx); err != nil {
		log.Warn("tenants of the store not loaded yet; retrying in the background", "err", err)
	}
	go reg.RefreshEvery(runCtx, c.tenantRefresh)

	if c.issuer == "" {
		c.issuer = "http://" + pub.Addr().String()
	}
	if c.adminToken == "" {
		if c.adminToken, err = randomToken(); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "admin token (shown once; set REGISTRAR_ADMIN_TOKEN to choose your own): %s\n", c.adminToken)
	}
	public, err := httpapi.New(httpapi.Config{
		Registrar: reg, Issuer: c.issuer, MaxBodyBytes: c.maxBody, TrustedProxies: trusted,
		Middleware: metrics.Route, Metrics: m.Handler(), PoliciesReady: modules.Ready, Logger: log,
	})
	if err != nil {
		return err
	}
	admin, err := adminapi.New(adminapi.Config{
		Registrar: reg, Token: c.adminToken, Issuer: c.issuer, Policies: modules, TrustedProxies: trusted,
		Middleware: metrics.Route, Logger: log,
	})
	if err != nil {
		return err
	}
	// Admin answers may wait for a policy module to compile and pass its
	// self-tests: they get more time than public ones.
	// /metrics is also on the admin listener, so that a deployment can
	// keep it off the public one.
	adminMux := http.NewServeMux()
	adminMux.Handle("GET /metrics", m.Handler())
	adminMux.Handle("/", admin)
	servers := []*http.Server{newServer(m.HTTP("public", public), 30*time.Second, log), newServer(m.HTTP("admin", adminMux), 2*time.Minute, log)}
	errc := make(chan error, 2)
	for i, l := range []net.Listener{pub, adm} {
		go func() {
			if err := servers[i].Serve(l); !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	log.Info("registrar serving", "version", version(), "addr", pub.Addr().String(), "admin_addr", adm.Addr().String(), "issuer", c.issuer, "tenants", reg.TenantNames())

	select {
	case <-ctx.Done():
		log.Info("shutting down: draining requests in flight", "timeout", c.shutdownTimeout.String())
	case err := <-errc:
		log.Error("listener failed; shutting down", "err", err)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.shutdownTimeout)
	defer cancel()
	var errs []error
	for _, s := range servers {
		errs = append(errs, s.Shutdown(sctx))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
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
