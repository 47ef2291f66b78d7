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
	"sync/atomic"
	"time"

	"github.com/registrar-dev/registrar/adminapi"
	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/httpapi"
	"github.com/registrar-dev/registrar/idn"
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
	maxBody                 int64
	shutdownTimeout         time.Duration
	tenantRefresh           time.Duration
}

func serveFlags(e env) (*serveConfig, func([]string) error) {
	c := &serveConfig{}
	fs := newFlagSet("registrar serve", e)
	str := func(p *string, name, envName, def, help string) {
		if v := e.getenv(envName); v != "" {
			def = v
		}
		fs.StringVar(p, name, def, help+" (env "+envName+")")
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
	dur := func(p *time.Duration, name, envName string, def time.Duration, help string) {
		if v := e.getenv(envName); v != "" {
			if d, err := time.ParseDuration(v); err == nil {
				def = d
			}
		}
		fs.DurationVar(p, name, def, help+" (env "+envName+")")
	}
	dur(&c.tenantRefresh, "tenant-refresh", "REGISTRAR_TENANT_REFRESH", time.Second, "how often tenants created through the admin API of any replica are loaded from the store")
	fs.Int64Var(&c.maxBody, "max-body-bytes", httpapi.DefaultMaxBodyBytes, "request body limit in bytes")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long SIGTERM waits for requests in flight")
	c.adminToken = e.getenv("REGISTRAR_ADMIN_TOKEN")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: registrar serve [flags]\n\nEvery flag can also be set by its environment variable; the admin token only by REGISTRAR_ADMIN_TOKEN\n(a random one is generated and printed once when it is unset).\n\nFlags:")
		fs.PrintDefaults()
	}
	return c, func(args []string) error { return parseFlags(fs, args) }
}

// newLogger returns the process logger: JSON, or text on a terminal, with
// request IDs taken from the context.
func newLogger(e env, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError{fmt.Sprintf("-log-level %q: want debug, info, warn or error", level)}
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

func serve(ctx context.Context, args []string, e env) error {
	c, parse := serveFlags(e)
	if err := parse(args); err != nil {
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
	if c.tenantRefresh <= 0 {
		return usageError{"--tenant-refresh must be positive"}
	}
	fc, err := loadConfig(c.configFile)
	if err != nil {
		return err
	}
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
	modules, err := openModules(ctx, c, fc, store, plugins.Config{
		Observe: m.ObservePolicy,
		Shadow:  m.ObserveShadow,
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
	m.WatchPolicies(modules.Status)
	reg, err := engine.New(engine.Config{
		Store:    m.Store(store),
		AuditLog: m.AuditLog(store),
		Limiter:  m.Limiter(store),
		Keys:     jose.KeySetChecker{},
		Hosts:    idn.Normalizer{},
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

	// Listen first, so that a taken port fails start-up before anything
	// is printed, and ":0" works.
	pub, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	defer pub.Close()
	adm, err := net.Listen("tcp", c.adminAddr)
	if err != nil {
		return err
	}
	defer adm.Close()
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
	servers := []*http.Server{newServer(m.HTTP("public", public), 30*time.Second, log), newServer(m.HTTP("admin", admin), 2*time.Minute, log)}
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
