// Package metrics owns Registrar's Prometheus instrumentation: the HTTP
// request, policy call, store, audit log and rate limiter metrics, the
// registry they live in and the handler that serves them in the Prometheus
// text format. It is the only package that imports the Prometheus client;
// the rest of the code sees http.Handler, engine interfaces and
// plugins.Call.
//
// Label values never come straight from a request: a tenant name becomes a
// label only when Config.KnownTenant says the tenant exists, a route is the
// router's path template, and a method outside the standard set is
// "other". So a client cannot grow the number of series by sending made-up
// paths, tenants or methods.
package metrics

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/registrar-dev/registrar/engine"
)

// Label values used when the real value may not become a label.
const (
	// Unmatched is the route label of a request that matched no route
	// (404, 405, the router's path-cleaning redirect).
	Unmatched = "unmatched"
	// UnknownTenant is the tenant label of a tenant name that
	// Config.KnownTenant does not vouch for.
	UnknownTenant = "unknown"
	// NoTenant is the tenant label of a route that addresses no tenant, on
	// a listener other than Config.PublicListener.
	NoTenant = "none"
	// OtherMethod is the method label of a non-standard HTTP method.
	OtherMethod = "other"
)

// DefaultPublicListener is the default of Config.PublicListener.
const DefaultPublicListener = "public"

// Config configures the metrics. The zero value of each field means the
// default in its comment.
type Config struct {
	// KnownTenant reports whether a tenant exists; only then does its name
	// become a tenant label value, others are labelled UnknownTenant. It is
	// called on every request and policy call, so it must be quick and safe
	// for concurrent use (engine.Registrar.HasTenant is). Names that are not
	// valid tenant names never reach it, and engine.DefaultTenant, which
	// always exists, needs no vouching. Default: no other tenant is known,
	// so every other tenant is labelled UnknownTenant.
	KnownTenant func(name string) bool
	// PublicListener names the listener whose routes without a {tenant}
	// variable serve engine.DefaultTenant, and are labelled with it.
	// Default DefaultPublicListener.
	PublicListener string
	// Version is the build version, the version label of
	// registrar_build_info. Default "unknown".
	Version string
	// Logger receives the errors of gathering the metrics for a scrape.
	// Default slog.Default().
	Logger *slog.Logger
}

// Metrics holds Registrar's metrics in a registry of their own (never the
// global one). It is safe for concurrent use.
type Metrics struct {
	reg        *prometheus.Registry
	known      func(string) bool
	public     string
	log        *slog.Logger
	httpTotal  *prometheus.CounterVec
	httpTime   *prometheus.HistogramVec
	policyCall *prometheus.CounterVec
	policyTime *prometheus.HistogramVec
	storeTime  *prometheus.HistogramVec
	storeErrs  *prometheus.CounterVec
	shadow     *prometheus.CounterVec
	oauthReqs  *prometheus.CounterVec
	statements *prometheus.CounterVec
	clientURIMetrics
}

// Histogram buckets, in seconds. A policy call or store operation takes
// from microseconds (memstore, a small module) to milliseconds (Redis, a
// Go module); an HTTP request adds the network and every call it makes.
var (
	httpBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	fastBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}
)

// New returns the metrics, registered with the Go runtime and process
// collectors in a new registry.
func New(cfg Config) *Metrics {
	m := &Metrics{
		reg:    prometheus.NewRegistry(),
		known:  cfg.KnownTenant,
		public: cfg.PublicListener,
		log:    cfg.Logger,
		httpTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "registrar_http_requests_total",
			Help: "HTTP requests served, by listener, route template, tenant, method and status code.",
		}, []string{"listener", "route", "tenant", "method", "status"}),
		httpTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "registrar_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by listener, route template, tenant and method.",
			Buckets: httpBuckets,
		}, []string{"listener", "route", "tenant", "method"}),
		policyCall: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "registrar_policy_calls_total",
			Help: "Policy module hook calls, by tenant, module, module version (first 12 hex digits of its digest), hook and outcome (ok, rejected, failed).",
		}, []string{"tenant", "policy", "version", "hook", "outcome"}),
		policyTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "registrar_policy_call_duration_seconds",
			Help:    "Time of a policy module hook call, waiting for a free instance included, by tenant, module and hook.",
			Buckets: fastBuckets,
		}, []string{"tenant", "policy", "hook"}),
		storeTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "registrar_store_operation_duration_seconds",
			Help:    "Time of a store, audit log or rate limiter operation, by operation (the Go method name).",
			Buckets: fastBuckets,
		}, []string{"operation"}),
		storeErrs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "registrar_store_errors_total",
			Help: "Store, audit log and rate limiter operations that failed, by operation and kind (unavailable, canceled, other); answers such as not found or already exists are not errors.",
		}, []string{"operation", "kind"}),
		shadow: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "registrar_policy_shadow_total",
			Help: "Live requests a policy version in shadow also answered, by tenant, module, active and shadow version (first 12 hex digits) and result: agree, differ, or failed (the shadow failed; it is never enforced).",
		}, []string{"tenant", "policy", "active", "shadow", "result"}),
		oauthReqs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "registrar_oauth_requests_total",
			Help: "Requests to the token, introspection and revocation endpoints, by tenant, endpoint, outcome (ok, or the OAuth error code: invalid_client counts failed client authentications) and, for issued tokens, format.",
		}, []string{"tenant", "endpoint", "outcome", "format"}),
		statements: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "registrar_software_statements_total",
			Help: "Software statements checked at registration, by tenant and outcome (verified, invalid, unapproved, unavailable: the issuer's keys could not be had, error).",
		}, []string{"tenant", "outcome"}),
		clientURIMetrics: newClientURIMetrics(),
	}
	if m.public == "" {
		m.public = DefaultPublicListener
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	version := cfg.Version
	if version == "" {
		version = "unknown"
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "registrar_build_info",
		Help: "Always 1; the version label is the running build's version.",
	}, []string{"version"})
	build.WithLabelValues(version).Set(1)
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		build,
		m.httpTotal, m.httpTime,
		m.policyCall, m.policyTime,
		m.storeTime, m.storeErrs,
		m.shadow,
		m.oauthReqs,
		m.statements,
		m.uriChecks, m.fetches,
	)
	return m
}

// Handler serves the metrics in the Prometheus text format (or in the
// protocol buffer format to a scraper that asks for it). A metric that
// fails to gather is logged and left out; the others are served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      errorLog{m.log},
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// errorLog adapts a slog.Logger to promhttp.Logger.
type errorLog struct{ log *slog.Logger }

func (l errorLog) Println(v ...any) { l.log.Error("metrics: " + fmt.Sprint(v...)) }

// ForgetTenant removes the HTTP and policy series of a tenant, for when it
// is deleted, so that its counters do not linger until the next restart.
// A scraper sees them end, as after a restart.
func (m *Metrics) ForgetTenant(name string) {
	l := prometheus.Labels{"tenant": name}
	m.httpTotal.DeletePartialMatch(l)
	m.httpTime.DeletePartialMatch(l)
	m.policyCall.DeletePartialMatch(l)
	m.policyTime.DeletePartialMatch(l)
	m.statements.DeletePartialMatch(l)
	m.uriChecks.DeletePartialMatch(l)
}

// tenantLabel is the label value of a tenant name: the name itself for
// the default tenant and for those KnownTenant vouches for, else
// UnknownTenant.
func (m *Metrics) tenantLabel(name string) string {
	switch {
	case name == engine.DefaultTenant:
		return name
	case !engine.ValidTenantName(name) || m.known == nil || !m.known(name):
		return UnknownTenant
	default:
		return name
	}
}
