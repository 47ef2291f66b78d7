package metrics_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/engine/storetest"
	"github.com/registrar-dev/registrar/memstore"
	"github.com/registrar-dev/registrar/metrics"
)

// TestStoreConformance: the decorated store passes the store conformance
// suite, so it changes no call and no result.
func TestStoreConformance(t *testing.T) {
	m := metrics.New(metrics.Config{})
	storetest.Run(t, func(t *testing.T) engine.Store { return m.Store(memstore.New(memstore.Config{})) })
}

// TestStoreMetrics: every operation is timed under its method name; only
// failures are counted as errors, by kind, and the contract's answers and
// errors of UpdateClient's fn are not failures.
func TestStoreMetrics(t *testing.T) {
	m := metrics.New(metrics.Config{})
	sw := storetest.NewSwitch(memstore.New(memstore.Config{}))
	s := m.Store(sw)
	ctx := context.Background()
	c := &engine.Client{Tenant: "acme", ID: "c1"}
	if err := s.CreateClient(ctx, c, engine.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateClient(ctx, c, engine.CreateOptions{}); !errors.Is(err, engine.ErrAlreadyExists) {
		t.Fatalf("second create: %v", err)
	}
	if _, err := s.Client(ctx, "acme", "nope"); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("missing client: %v", err)
	}
	if _, err := s.Client(ctx, "acme", "c1"); err != nil {
		t.Fatal(err)
	}
	refused := errors.New("refused by the caller")
	if _, err := s.UpdateClient(ctx, "acme", "c1", func(*engine.Client) error { return refused }); err != refused {
		t.Fatalf("update: %v, want fn's error as is", err)
	}
	sw.SetDown(true)
	if _, err := s.Client(ctx, "acme", "c1"); !errors.Is(err, engine.ErrUnavailable) {
		t.Fatalf("store down: %v", err)
	}
	if _, err := s.UpdateClient(ctx, "acme", "c1", func(*engine.Client) error { return nil }); !errors.Is(err, engine.ErrUnavailable) {
		t.Fatalf("store down: %v", err)
	}
	if err := s.Ping(ctx); !errors.Is(err, engine.ErrUnavailable) {
		t.Fatalf("store down: %v", err)
	}
	sw.SetDown(false)
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}

	text := scrape(t, m)
	checkSamples(t, text, "registrar_store_operation_duration_seconds_count",
		`registrar_store_operation_duration_seconds_count{operation="CreateClient"} 2`,
		`registrar_store_operation_duration_seconds_count{operation="Client"} 3`,
		`registrar_store_operation_duration_seconds_count{operation="UpdateClient"} 2`,
		`registrar_store_operation_duration_seconds_count{operation="Ping"} 2`,
	)
	checkSamples(t, text, "registrar_store_errors_total",
		`registrar_store_errors_total{kind="unavailable",operation="Client"} 1`,
		`registrar_store_errors_total{kind="unavailable",operation="UpdateClient"} 1`,
		`registrar_store_errors_total{kind="unavailable",operation="Ping"} 1`,
	)
}

// failing is a store whose Tenants returns err: a fake for the kinds of
// error that memstore never returns. Its other methods are not called.
type failing struct {
	engine.Store
	err error
}

func (f failing) Tenants(context.Context) ([]*engine.TenantRecord, error) { return nil, f.err }

// TestStoreErrorKinds: errors are counted by kind.
func TestStoreErrorKinds(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name string
		ctx  context.Context
		err  error
		kind string // "" for not counted
	}{
		{"unavailable", context.Background(), errors.Join(errors.New("redis: dial"), engine.ErrUnavailable), "unavailable"},
		{"deadline", context.Background(), context.DeadlineExceeded, "unavailable"},
		{"canceled", context.Background(), context.Canceled, "canceled"},
		{"caller gone", canceled, errors.New("redis: i/o on a closed connection"), "canceled"},
		{"bug", context.Background(), errors.New("redis: WRONGTYPE"), "other"},
		{"not found", context.Background(), engine.ErrNotFound, ""},
		{"already exists", context.Background(), engine.ErrAlreadyExists, ""},
		{"token exhausted", context.Background(), engine.ErrTokenExhausted, ""},
		{"quota", context.Background(), engine.ErrQuotaExceeded, ""},
		{"no tenant", context.Background(), engine.ErrNoTenant, ""},
		{"revision", context.Background(), engine.ErrRevisionMismatch, ""},
		{"deleting", context.Background(), engine.ErrDeleting, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := metrics.New(metrics.Config{})
			if _, err := m.Store(failing{err: c.err}).Tenants(c.ctx); err != c.err {
				t.Fatalf("the decorator changed the error: %v", err)
			}
			var want []string
			if c.kind != "" {
				want = []string{`registrar_store_errors_total{kind="` + c.kind + `",operation="Tenants"} 1`}
			}
			checkSamples(t, scrape(t, m), "registrar_store_errors_total", want...)
		})
	}
}

// TestAuditLogAndLimiter: the audit log and rate limiter decorators time
// their operations; a refusal of the limiter is not an error.
func TestAuditLogAndLimiter(t *testing.T) {
	m := metrics.New(metrics.Config{})
	ms := memstore.New(memstore.Config{})
	log := m.AuditLog(ms)
	lim := m.Limiter(ms)
	ctx := context.Background()
	id, err := log.AppendAudit(ctx, &engine.AuditEvent{Tenant: "acme", Type: engine.AuditTenantCreated, Time: time.Now()})
	if err != nil || id == "" {
		t.Fatalf("append: %q %v", id, err)
	}
	events, _, err := log.AuditEvents(ctx, "acme", "", 10)
	if err != nil || len(events) != 1 || events[0].ID != id {
		t.Fatalf("events: %+v %v", events, err)
	}
	if _, _, err := log.AuditEvents(ctx, "acme", "", 0); err == nil {
		t.Fatal("a limit of 0 was accepted")
	}
	rate := engine.Rate{Events: 1, Per: time.Hour}
	if ok, _, err := lim.Allow(ctx, "acme", "k", rate); !ok || err != nil {
		t.Fatalf("first event: %v %v", ok, err)
	}
	if ok, wait, err := lim.Allow(ctx, "acme", "k", rate); ok || wait <= 0 || err != nil {
		t.Fatalf("second event: %v %v %v", ok, wait, err)
	}
	text := scrape(t, m)
	checkSamples(t, text, "registrar_store_operation_duration_seconds_count",
		`registrar_store_operation_duration_seconds_count{operation="AppendAudit"} 1`,
		`registrar_store_operation_duration_seconds_count{operation="AuditEvents"} 2`,
		`registrar_store_operation_duration_seconds_count{operation="Allow"} 2`,
	)
	checkSamples(t, text, "registrar_store_errors_total",
		`registrar_store_errors_total{kind="other",operation="AuditEvents"} 1`)
}

// TestStoreAuditedReads: the decorator of a store that reads a client with
// its audit event in one step is one too, timed as ClientAudited; that of
// a store that is not is not.
func TestStoreAuditedReads(t *testing.T) {
	m := metrics.New(metrics.Config{})
	s, ok := m.Store(memstore.New(memstore.Config{})).(engine.AuditedClientReader)
	if !ok {
		t.Fatal("the decorator of memstore is not an engine.AuditedClientReader")
	}
	if _, ok := m.Store(storetest.NewSwitch(memstore.New(memstore.Config{}))).(engine.AuditedClientReader); ok {
		t.Error("the decorator of a store without ClientAudited is an engine.AuditedClientReader")
	}
	e := &engine.AuditEvent{Tenant: "acme", Type: engine.AuditClientRead, ClientID: "c1"}
	if _, _, err := s.ClientAudited(context.Background(), "acme", "c1", "digest", e); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("ClientAudited of no client: %v", err)
	}
	checkSamples(t, scrape(t, m), "registrar_store_operation_duration_seconds_count",
		`registrar_store_operation_duration_seconds_count{operation="ClientAudited"} 1`)
}
