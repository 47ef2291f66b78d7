package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Rate is a rate limit: Events per Per, refilled smoothly (a token bucket
// of Events tokens that gains one every Per/Events). In JSON and YAML it is
// written "N/unit" with unit s, m or h ("20/m"). The zero value is no limit.
type Rate struct {
	Events int
	Per    time.Duration
}

// IsZero reports whether the rate is no limit.
func (r Rate) IsZero() bool { return r.Events == 0 }

// String writes the rate as "N/unit".
func (r Rate) String() string {
	if r.IsZero() {
		return ""
	}
	switch r.Per {
	case time.Second:
		return fmt.Sprintf("%d/s", r.Events)
	case time.Minute:
		return fmt.Sprintf("%d/m", r.Events)
	case time.Hour:
		return fmt.Sprintf("%d/h", r.Events)
	}
	return fmt.Sprintf("%d/%s", r.Events, r.Per)
}

// parseRate reads "N/s", "N/m" or "N/h" (also "N/min", "N/sec", "N/hour").
func parseRate(s string) (Rate, error) {
	n, unit, ok := strings.Cut(s, "/")
	if !ok {
		return Rate{}, fmt.Errorf("rate %q: want N/s, N/m or N/h", s)
	}
	events, err := strconv.Atoi(n)
	if err != nil || events < 1 || events > 1_000_000 {
		return Rate{}, fmt.Errorf("rate %q: want 1 to 1000000 events", s)
	}
	var per time.Duration
	switch unit {
	case "s", "sec", "second":
		per = time.Second
	case "m", "min", "minute":
		per = time.Minute
	case "h", "hour":
		per = time.Hour
	default:
		return Rate{}, fmt.Errorf("rate %q: the unit must be s, m or h", s)
	}
	return Rate{Events: events, Per: per}, nil
}

// MarshalJSON writes the rate as "N/unit", or null for no limit.
func (r Rate) MarshalJSON() ([]byte, error) {
	if r.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(r.String())
}

// UnmarshalJSON reads "N/unit" or null.
func (r *Rate) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*r = Rate{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a rate such as \"20/m\"")
	}
	v, err := parseRate(s)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// Limiter keeps rate-limit budgets shared by every replica. It is safe for
// concurrent use.
type Limiter interface {
	// Allow takes one event from the budget that tenant and key name,
	// limited to rate (a token bucket of rate.Events that refills one
	// event every rate.Per/rate.Events, starting full). It reports whether
	// the event fits; when it does not, nothing is taken and retryAfter is
	// how long until one would (at least a millisecond). Budgets of
	// different tenants or keys are independent, and a budget left alone
	// long enough to refill may be forgotten. tenant and key may be any
	// strings; the engine passes tenant names.
	Allow(ctx context.Context, tenant, key string, rate Rate) (ok bool, retryAfter time.Duration, err error)
}

// defaultOpenRegistrationRate is the per-IP limit of registration requests
// for a tenant with open registration that sets no limit of its own.
var defaultOpenRegistrationRate = Rate{Events: 20, Per: time.Minute}

// registrationLimits returns the limits that apply to a tenant's
// registration requests.
func (t *tenant) registrationLimits() RateLimit {
	l := t.settings.RegistrationRateLimit
	if l.Off {
		return RateLimit{}
	}
	if l.PerIP.IsZero() && l.PerTenant.IsZero() && t.settings.InitialAccessToken == TokenNone {
		l.PerIP = defaultOpenRegistrationRate
	}
	return l
}

// limitRegistration takes one registration request from the tenant's
// budgets: the client IP's and the tenant's. The per-IP budget is checked
// first, so that one noisy client cannot drain the tenant's budget with
// requests its own limit refuses.
func (r *Registrar) limitRegistration(ctx context.Context, t *tenant, remoteIP string) error {
	if r.limiter == nil {
		return nil
	}
	l := t.registrationLimits()
	if !l.PerIP.IsZero() && remoteIP != "" {
		if err := r.allow(ctx, t, "reg:ip:"+ipKey(remoteIP), l.PerIP, "your address"); err != nil {
			return err
		}
	}
	if !l.PerTenant.IsZero() {
		if err := r.allow(ctx, t, "reg:tenant", l.PerTenant, "this tenant"); err != nil {
			return err
		}
	}
	return nil
}

func (r *Registrar) allow(ctx context.Context, t *tenant, key string, rate Rate, whose string) error {
	ok, wait, err := r.limiter.Allow(ctx, t.name, key, rate)
	if err != nil {
		return storeError("rate limit", err)
	}
	if !ok {
		return &Error{
			Code:        CodeTooManyRequests,
			Description: fmt.Sprintf("too many registration requests from %s (limit %s); retry later", whose, rate),
			RetryAfter:  wait,
		}
	}
	return nil
}

// DefaultClientLockout is the failed-authentication budget of one
// client_id when the tenant sets none: ten failures, refilled one every
// six seconds.
var DefaultClientLockout = Rate{Events: 10, Per: time.Minute}

// Lockout bounds the failed client authentications of one client_id. In
// JSON and YAML it is a rate ("10/m") or "off"; the zero value is
// DefaultClientLockout.
type Lockout struct {
	Rate Rate
	// Off turns the lockout off.
	Off bool
}

// Failures returns the budget of failures, or the zero Rate when the
// lockout is off.
func (l Lockout) Failures() Rate {
	switch {
	case l.Off:
		return Rate{}
	case l.Rate.IsZero():
		return DefaultClientLockout
	}
	return l.Rate
}

// IsZero reports whether the lockout is the default.
func (l Lockout) IsZero() bool { return !l.Off && l.Rate.IsZero() }

// MarshalJSON writes "off", the rate, or null for the default.
func (l Lockout) MarshalJSON() ([]byte, error) {
	if l.Off {
		return []byte(`"off"`), nil
	}
	return l.Rate.MarshalJSON()
}

// UnmarshalJSON reads "off", a rate, or null.
func (l *Lockout) UnmarshalJSON(b []byte) error {
	if string(b) == `"off"` {
		*l = Lockout{Off: true}
		return nil
	}
	*l = Lockout{}
	if err := l.Rate.UnmarshalJSON(b); err != nil {
		return fmt.Errorf("want a rate such as \"10/m\", or \"off\"")
	}
	return nil
}

// IPKey is the rate-limit key of a client address: the address itself
// for IPv4, its /64 network for IPv6 (one host usually holds a whole /64).
func IPKey(ip string) string { return ipKey(ip) }

// ipKey is the budget key of a client address: the address itself for
// IPv4, its /64 network for IPv6 (one host usually holds a whole /64).
func ipKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "invalid"
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}
