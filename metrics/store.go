package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// The kinds of store error, the kind label of registrar_store_errors_total.
const (
	// KindUnavailable: the backend could not be reached or did not answer
	// in time (engine.ErrUnavailable, context.DeadlineExceeded); the
	// request was answered 503.
	KindUnavailable = "unavailable"
	// KindCanceled: the caller gave up (context.Canceled), usually because
	// the client went away; not a fault of the store.
	KindCanceled = "canceled"
	// KindOther: any other error, a bug or a misconfiguration (a Redis
	// error reply, a record that does not decode).
	KindOther = "other"
)

// answers are the store errors that answer a question rather than report
// a failure: the engine turns them into ordinary responses (404, 409, a
// quota error), so they are not counted as errors.
var answers = []error{
	engine.ErrNotFound, engine.ErrAlreadyExists, engine.ErrTokenExhausted,
	engine.ErrQuotaExceeded, engine.ErrNoTenant, engine.ErrRevisionMismatch,
	engine.ErrDeleting,
}

// errorKind classifies the error of an operation made under ctx: "" for
// none and for answers, else one of the Kind constants.
func errorKind(ctx context.Context, err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, engine.ErrUnavailable):
		return KindUnavailable
	case errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled):
		return KindCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return KindUnavailable
	}
	for _, a := range answers {
		if errors.Is(err, a) {
			return ""
		}
	}
	return KindOther
}

// observe times one operation that started at start and counts its error.
func (m *Metrics) observe(ctx context.Context, op string, start time.Time, err error) {
	m.storeTime.WithLabelValues(op).Observe(time.Since(start).Seconds())
	if kind := errorKind(ctx, err); kind != "" {
		m.storeErrs.WithLabelValues(op, kind).Inc()
	}
}

// Store returns s with every operation timed in
// registrar_store_operation_duration_seconds and its failures counted in
// registrar_store_errors_total, both labelled with the operation's Go
// method name ("CreateClient"). The contract's answers (engine.ErrNotFound,
// ErrAlreadyExists, ErrTokenExhausted, ErrQuotaExceeded, ErrNoTenant,
// ErrRevisionMismatch, ErrDeleting) are not failures, and neither is an
// error that UpdateClient's fn returned. The returned Store passes every
// call and result through unchanged, and is an engine.AuditedClientReader
// (timed as "ClientAudited") when s is one.
func (m *Metrics) Store(s engine.Store) engine.Store {
	if ar, ok := s.(engine.AuditedClientReader); ok {
		return &auditedStore{store: store{s: s, m: m}, ar: ar}
	}
	return &store{s: s, m: m}
}

// auditedStore is the decorator of a store that reads a client with its
// audit event in one step.
type auditedStore struct {
	store
	ar engine.AuditedClientReader
}

var _ engine.AuditedClientReader = (*auditedStore)(nil)

// ClientAudited implements engine.AuditedClientReader.
func (s *auditedStore) ClientAudited(ctx context.Context, tenant, id, ratDigest string, e *engine.AuditEvent) (*engine.Client, bool, error) {
	start := time.Now()
	c, audited, err := s.ar.ClientAudited(ctx, tenant, id, ratDigest, e)
	s.m.observe(ctx, "ClientAudited", start, err)
	return c, audited, err
}

// store is the decorator of Metrics.Store. It spells out every method
// rather than embedding engine.Store, so that a method added to the
// interface fails to compile here instead of going untimed.
type store struct {
	s engine.Store
	m *Metrics
}

var _ engine.Store = (*store)(nil)

// Underlying implements engine.Decorator: the engine sees through the
// timing to the store, to fold writes into the store's atomic step.
func (s *store) Underlying() any { return s.s }

// CreateClient implements engine.Store.
func (s *store) CreateClient(ctx context.Context, c *engine.Client, opts engine.CreateOptions) error {
	start := time.Now()
	err := s.s.CreateClient(ctx, c, opts)
	s.m.observe(ctx, "CreateClient", start, err)
	return err
}

// Client implements engine.Store.
func (s *store) Client(ctx context.Context, tenant, id string) (*engine.Client, error) {
	start := time.Now()
	c, err := s.s.Client(ctx, tenant, id)
	s.m.observe(ctx, "Client", start, err)
	return c, err
}

// UpdateClient implements engine.Store. An error of fn is passed through
// and not counted: it is the caller's, not the store's.
func (s *store) UpdateClient(ctx context.Context, tenant, id string, fn func(*engine.Client) error) (*engine.Client, error) {
	start := time.Now()
	var fnErr error
	c, err := s.s.UpdateClient(ctx, tenant, id, func(c *engine.Client) error {
		fnErr = fn(c)
		return fnErr
	})
	counted := err
	if fnErr != nil && errors.Is(err, fnErr) {
		counted = nil
	}
	s.m.observe(ctx, "UpdateClient", start, counted)
	return c, err
}

// DeleteClient implements engine.Store.
func (s *store) DeleteClient(ctx context.Context, tenant, id string) error {
	start := time.Now()
	err := s.s.DeleteClient(ctx, tenant, id)
	s.m.observe(ctx, "DeleteClient", start, err)
	return err
}

// Clients implements engine.Store.
func (s *store) Clients(ctx context.Context, tenant string, filter engine.ClientFilter, after string, limit int) ([]*engine.Client, string, error) {
	start := time.Now()
	cs, next, err := s.s.Clients(ctx, tenant, filter, after, limit)
	s.m.observe(ctx, "Clients", start, err)
	return cs, next, err
}

// CreateInitialAccessToken implements engine.Store.
func (s *store) CreateInitialAccessToken(ctx context.Context, t *engine.InitialAccessToken) error {
	start := time.Now()
	err := s.s.CreateInitialAccessToken(ctx, t)
	s.m.observe(ctx, "CreateInitialAccessToken", start, err)
	return err
}

// InitialAccessTokens implements engine.Store.
func (s *store) InitialAccessTokens(ctx context.Context, tenant, after string, limit int) ([]*engine.InitialAccessToken, string, error) {
	start := time.Now()
	ts, next, err := s.s.InitialAccessTokens(ctx, tenant, after, limit)
	s.m.observe(ctx, "InitialAccessTokens", start, err)
	return ts, next, err
}

// InitialAccessToken implements engine.Store.
func (s *store) InitialAccessToken(ctx context.Context, tenant, id string) (*engine.InitialAccessToken, error) {
	start := time.Now()
	t, err := s.s.InitialAccessToken(ctx, tenant, id)
	s.m.observe(ctx, "InitialAccessToken", start, err)
	return t, err
}

// DeleteInitialAccessToken implements engine.Store.
func (s *store) DeleteInitialAccessToken(ctx context.Context, tenant, id string) error {
	start := time.Now()
	err := s.s.DeleteInitialAccessToken(ctx, tenant, id)
	s.m.observe(ctx, "DeleteInitialAccessToken", start, err)
	return err
}

// PutTenant implements engine.Store.
func (s *store) PutTenant(ctx context.Context, t *engine.TenantRecord, ifRevision int64) (*engine.TenantRecord, error) {
	start := time.Now()
	rec, err := s.s.PutTenant(ctx, t, ifRevision)
	s.m.observe(ctx, "PutTenant", start, err)
	return rec, err
}

// Tenant implements engine.Store.
func (s *store) Tenant(ctx context.Context, name string) (*engine.TenantRecord, error) {
	start := time.Now()
	rec, err := s.s.Tenant(ctx, name)
	s.m.observe(ctx, "Tenant", start, err)
	return rec, err
}

// Tenants implements engine.Store.
func (s *store) Tenants(ctx context.Context) ([]*engine.TenantRecord, error) {
	start := time.Now()
	recs, err := s.s.Tenants(ctx)
	s.m.observe(ctx, "Tenants", start, err)
	return recs, err
}

// TenantChanges implements engine.Store.
func (s *store) TenantChanges(ctx context.Context, since int64) (*engine.TenantChanges, error) {
	start := time.Now()
	ch, err := s.s.TenantChanges(ctx, since)
	s.m.observe(ctx, "TenantChanges", start, err)
	return ch, err
}

// DeleteTenant implements engine.Store.
func (s *store) DeleteTenant(ctx context.Context, name string) error {
	start := time.Now()
	err := s.s.DeleteTenant(ctx, name)
	s.m.observe(ctx, "DeleteTenant", start, err)
	return err
}

// CreateAdminToken implements engine.Store.
func (s *store) CreateAdminToken(ctx context.Context, t *engine.AdminToken) error {
	start := time.Now()
	err := s.s.CreateAdminToken(ctx, t)
	s.m.observe(ctx, "CreateAdminToken", start, err)
	return err
}

// AdminToken implements engine.Store.
func (s *store) AdminToken(ctx context.Context, tenant, id string) (*engine.AdminToken, error) {
	start := time.Now()
	t, err := s.s.AdminToken(ctx, tenant, id)
	s.m.observe(ctx, "AdminToken", start, err)
	return t, err
}

// AdminTokens implements engine.Store.
func (s *store) AdminTokens(ctx context.Context, tenant string) ([]*engine.AdminToken, error) {
	start := time.Now()
	ts, err := s.s.AdminTokens(ctx, tenant)
	s.m.observe(ctx, "AdminTokens", start, err)
	return ts, err
}

// DeleteAdminToken implements engine.Store.
func (s *store) DeleteAdminToken(ctx context.Context, tenant, id string) error {
	start := time.Now()
	err := s.s.DeleteAdminToken(ctx, tenant, id)
	s.m.observe(ctx, "DeleteAdminToken", start, err)
	return err
}

// Ping implements engine.Store.
func (s *store) Ping(ctx context.Context) error {
	start := time.Now()
	err := s.s.Ping(ctx)
	s.m.observe(ctx, "Ping", start, err)
	return err
}

// AuditLog returns l with its operations timed and their failures
// counted as Store does, under the operations AppendAudit and
// AuditEvents.
func (m *Metrics) AuditLog(l engine.AuditLog) engine.AuditLog { return &auditLog{l: l, m: m} }

// auditLog is the decorator of Metrics.AuditLog.
type auditLog struct {
	l engine.AuditLog
	m *Metrics
}

var _ engine.AuditLog = (*auditLog)(nil)

// Underlying implements engine.Decorator.
func (a *auditLog) Underlying() any { return a.l }

// AppendAudit implements engine.AuditLog.
func (a *auditLog) AppendAudit(ctx context.Context, e *engine.AuditEvent) (string, error) {
	start := time.Now()
	id, err := a.l.AppendAudit(ctx, e)
	a.m.observe(ctx, "AppendAudit", start, err)
	return id, err
}

// AuditEvents implements engine.AuditLog.
func (a *auditLog) AuditEvents(ctx context.Context, tenant, before string, limit int) ([]*engine.AuditEvent, string, error) {
	start := time.Now()
	es, next, err := a.l.AuditEvents(ctx, tenant, before, limit)
	a.m.observe(ctx, "AuditEvents", start, err)
	return es, next, err
}

// Limiter returns l with Allow timed and its failures counted as Store
// does, under the operation Allow. A refusal (ok false) is an answer, not
// an error; the HTTP metrics count the 429s.
func (m *Metrics) Limiter(l engine.Limiter) engine.Limiter { return &limiter{l: l, m: m} }

// limiter is the decorator of Metrics.Limiter.
type limiter struct {
	l engine.Limiter
	m *Metrics
}

var _ engine.Limiter = (*limiter)(nil)

// Allow implements engine.Limiter.
func (l *limiter) Allow(ctx context.Context, tenant, key string, rate engine.Rate) (bool, time.Duration, error) {
	start := time.Now()
	ok, wait, err := l.l.Allow(ctx, tenant, key, rate)
	l.m.observe(ctx, "Allow", start, err)
	return ok, wait, err
}
