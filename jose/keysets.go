package jose

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/registrar-dev/registrar/fetch"
)

// Fetcher fetches a document; *fetch.Client is the one KeySets is meant
// to use, so that every key set comes through the outbound guard. Get must
// bound its own time (fetch.Client does): a fetch is shared by many
// callers, so it does not end when the first of them gives up.
type Fetcher interface {
	Get(ctx context.Context, url, accept string) (*fetch.Response, error)
}

// Defaults of KeySetsConfig.
const (
	DefaultKeySetMinTTL          = 5 * time.Minute
	DefaultKeySetMaxTTL          = 24 * time.Hour
	DefaultKeySetRefetchInterval = 10 * time.Second
	DefaultKeySetStaleFor        = time.Hour
	DefaultKeySetMaxEntries      = 1024
)

// KeySetsConfig configures KeySets. Only Fetcher is required.
type KeySetsConfig struct {
	// Fetcher fetches the sets; a *fetch.Client. Required.
	Fetcher Fetcher
	// MinTTL and MaxTTL bound how long a fetched set is used before it is
	// fetched again: the response's Cache-Control max-age (less its Age),
	// raised to MinTTL and lowered to MaxTTL. Without max-age (or with
	// no-cache or no-store) a set is kept MinTTL. Defaults: 5 minutes and
	// 24 hours.
	MinTTL, MaxTTL time.Duration
	// RefetchInterval is the least time between two fetches of one URL
	// that Refetch (an unknown kid) or a failed fetch can cause: an
	// attacker's made-up key IDs cost the key server at most one request
	// per interval, and a failing server is not asked again sooner; its
	// error is returned meanwhile. Default: 10 seconds.
	RefetchInterval time.Duration
	// StaleFor is how long after its TTL the last good set of a URL is
	// still used when fetching it again fails, so that a key server's
	// outage is not at once an outage of ours. Default: 1 hour.
	StaleFor time.Duration
	// MaxEntries bounds the URLs remembered; the least recently used is
	// forgotten first. Default: 1024.
	MaxEntries int
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// KeySets fetches and caches JWK Sets by URL (a client's jwks_uri, a
// software statement issuer's keys): one fetch in flight per URL, shared by
// every caller that needs it; Cache-Control honoured within bounds; a
// rate-limited refetch for an unknown kid. A fetched set must pass
// KeySetChecker (public, asymmetric keys only); one that does not, or that
// is not JSON, is a *fetch.Error of kind fetch.Invalid. The response's
// Content-Type is not checked: key servers label sets application/json,
// application/jwk-set+json or worse, and the parse decides.
//
// jwx's jwk.Cache is not used: it polls every URL ever registered from a
// background goroutine on the wall clock, forever, without bounds on the
// number of URLs or on max-age, and calls its HTTP client without the
// caller's context.
type KeySets struct {
	cfg     KeySetsConfig
	mu      sync.Mutex
	entries map[string]*keySetEntry
}

// keySetEntry is what KeySets knows of one URL.
type keySetEntry struct {
	set     jwk.Set     // the last good set, or nil
	expires time.Time   // set is fresh until then
	attempt time.Time   // the start of the last fetch
	err     error       // the last fetch's error, nil if it succeeded
	call    *keySetCall // the fetch in flight, or nil
	used    time.Time   // last asked for, for eviction
}

// keySetCall is one fetch, awaited by every caller that needs it.
type keySetCall struct {
	done    chan struct{}
	set     jwk.Set
	err     error
	waiters int // callers waiting, for tests
}

// ErrUnknownKeyID is returned by LookupKeyID when the set has no key of
// that ID, even after a refetch.
var ErrUnknownKeyID = errors.New("no key with that kid in the key set")

// NewKeySets returns KeySets, or an error for a missing Fetcher, a negative
// setting, or MinTTL above MaxTTL.
func NewKeySets(cfg KeySetsConfig) (*KeySets, error) {
	if cfg.Fetcher == nil {
		return nil, errors.New("jose: KeySetsConfig.Fetcher is required")
	}
	if cfg.MinTTL < 0 || cfg.MaxTTL < 0 || cfg.RefetchInterval < 0 || cfg.StaleFor < 0 || cfg.MaxEntries < 0 {
		return nil, errors.New("jose: KeySetsConfig: durations and MaxEntries must not be negative")
	}
	if cfg.MinTTL == 0 {
		cfg.MinTTL = DefaultKeySetMinTTL
	}
	if cfg.MaxTTL == 0 {
		cfg.MaxTTL = max(DefaultKeySetMaxTTL, cfg.MinTTL)
	}
	if cfg.MinTTL > cfg.MaxTTL {
		return nil, fmt.Errorf("jose: KeySetsConfig: MinTTL %s is above MaxTTL %s", cfg.MinTTL, cfg.MaxTTL)
	}
	if cfg.RefetchInterval == 0 {
		cfg.RefetchInterval = DefaultKeySetRefetchInterval
	}
	if cfg.StaleFor == 0 {
		cfg.StaleFor = DefaultKeySetStaleFor
	}
	if cfg.MaxEntries == 0 {
		cfg.MaxEntries = DefaultKeySetMaxEntries
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &KeySets{cfg: cfg, entries: map[string]*keySetEntry{}}, nil
}

// Get returns the set at url: the cached one while it is fresh, else a
// fetched one (joining a fetch in flight). When fetching fails it returns
// the last good set while that is within StaleFor of its TTL, and the
// fetch's error otherwise; the error is a *fetch.Error (fetch.KindOf tells
// refused, unavailable and invalid apart) or the context's. The set is
// shared with every other caller: read it, never modify it.
func (k *KeySets) Get(ctx context.Context, url string) (jwk.Set, error) {
	return k.get(ctx, url, false)
}

// Refetch is Get for a token whose kid the set does not have: it fetches
// url again unless a fetch of it started less than RefetchInterval ago, in
// which case it returns what Get would. A key server's rotation is thus
// seen at once, and made-up kids cost it at most one request per interval.
func (k *KeySets) Refetch(ctx context.Context, url string) (jwk.Set, error) {
	return k.get(ctx, url, true)
}

// LookupKeyID returns the key of the set at url whose kid is kid,
// refetching the set once (see Refetch) when it has none. A kid the set
// still lacks is ErrUnknownKeyID: the token's fault, not the server's.
func (k *KeySets) LookupKeyID(ctx context.Context, url, kid string) (jwk.Key, error) {
	set, err := k.Get(ctx, url)
	if err != nil {
		return nil, err
	}
	if key, ok := set.LookupKeyID(kid); ok {
		return key, nil
	}
	if set, err = k.Refetch(ctx, url); err != nil {
		return nil, err
	}
	if key, ok := set.LookupKeyID(kid); ok {
		return key, nil
	}
	return nil, fmt.Errorf("%w: kid %q at %s", ErrUnknownKeyID, kid, url)
}

func (k *KeySets) get(ctx context.Context, url string, refetch bool) (jwk.Set, error) {
	k.mu.Lock()
	now := k.cfg.Now()
	e := k.entry(url, now)
	e.used = now
	call := e.call
	if call == nil {
		recent := !e.attempt.IsZero() && now.Before(e.attempt.Add(k.cfg.RefetchInterval))
		switch {
		case e.set != nil && now.Before(e.expires) && !refetch:
			set := e.set
			k.mu.Unlock()
			return set, nil
		case recent && (refetch || e.err != nil):
			// Too soon to ask the server again: answer with what we have.
			set, err := k.usable(e, now)
			k.mu.Unlock()
			return set, err
		}
		call = &keySetCall{done: make(chan struct{})}
		e.call, e.attempt = call, now
		go k.fetch(context.WithoutCancel(ctx), url, e, call)
	}
	call.waiters++
	k.mu.Unlock()
	select {
	case <-call.done:
		return call.set, call.err
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the key set at %s: %w", url, ctx.Err())
	}
}

// usable returns the set to answer with after the last fetch: the fresh
// or not-too-stale set, else the last error. k.mu is held.
func (k *KeySets) usable(e *keySetEntry, now time.Time) (jwk.Set, error) {
	if e.set != nil && (e.err == nil || now.Before(e.expires.Add(k.cfg.StaleFor))) {
		return e.set, nil
	}
	return nil, e.err
}

// entry returns url's entry, making room for a new one by forgetting the
// least recently used entry without a fetch in flight. k.mu is held.
func (k *KeySets) entry(url string, now time.Time) *keySetEntry {
	if e, ok := k.entries[url]; ok {
		return e
	}
	if len(k.entries) >= k.cfg.MaxEntries {
		var oldest string
		for u, e := range k.entries {
			if e.call == nil && (oldest == "" || e.used.Before(k.entries[oldest].used)) {
				oldest = u
			}
		}
		delete(k.entries, oldest)
	}
	e := &keySetEntry{used: now}
	k.entries[url] = e
	return e
}

// fetch runs one fetch of url and hands its result to every waiter.
func (k *KeySets) fetch(ctx context.Context, url string, e *keySetEntry, call *keySetCall) {
	set, ttl, err := k.fetchSet(ctx, url)
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.cfg.Now()
	e.call, e.err = nil, err
	if err == nil {
		e.set, e.expires = set, now.Add(ttl)
	}
	call.set, call.err = k.usable(e, now)
	close(call.done)
}

// fetchSet fetches, checks and parses the set at url, and says how long to
// keep it.
func (k *KeySets) fetchSet(ctx context.Context, url string) (jwk.Set, time.Duration, error) {
	res, err := k.cfg.Fetcher.Get(ctx, url, "application/jwk-set+json, application/json")
	if err != nil {
		return nil, 0, err
	}
	invalid := func(err error) (jwk.Set, time.Duration, error) {
		return nil, 0, &fetch.Error{Kind: fetch.Invalid, URL: url, Err: fmt.Errorf("not a usable JWK Set: %v", err)}
	}
	if err := (KeySetChecker{}).CheckKeySet(res.Body); err != nil {
		return invalid(err)
	}
	set, err := jwk.Parse(res.Body)
	if err != nil {
		return invalid(err)
	}
	return set, k.ttl(res.Header), nil
}

// ttl reads Cache-Control max-age, less Age, within MinTTL and MaxTTL.
func (k *KeySets) ttl(h http.Header) time.Duration {
	ttl := time.Duration(0)
	if maxAge, ok := cacheMaxAge(h.Values("Cache-Control")); ok {
		ttl = time.Duration(maxAge) * time.Second
		if age, err := strconv.ParseInt(strings.TrimSpace(h.Get("Age")), 10, 64); err == nil && age > 0 {
			ttl -= time.Duration(min(age, maxAge)) * time.Second
		}
	}
	return min(max(ttl, k.cfg.MinTTL), k.cfg.MaxTTL)
}

// cacheMaxAge returns the max-age of Cache-Control header values in
// seconds; no-cache and no-store count as 0.
func cacheMaxAge(values []string) (int64, bool) {
	var (
		maxAge int64
		found  bool
	)
	for _, v := range values {
		for d := range strings.SplitSeq(v, ",") {
			name, arg, _ := strings.Cut(strings.TrimSpace(d), "=")
			switch strings.ToLower(name) {
			case "no-cache", "no-store":
				return 0, true
			case "max-age":
				n, err := strconv.ParseInt(strings.Trim(arg, `"`), 10, 64)
				if err == nil && n >= 0 && !found {
					maxAge, found = min(n, 1<<32), true
				}
			}
		}
	}
	return maxAge, found
}
