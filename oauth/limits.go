package oauth

import (
	"context"
	"fmt"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// admit takes one request from the tenant's token_rate_limit budgets:
// the client IP's, then the tenant's, before any authentication, so that
// a flood costs no credential checks.
func (s *Server) admit(ctx context.Context, tenant string, settings engine.Settings, remoteIP string) error {
	if s.limiter == nil {
		return nil
	}
	l := settings.TokenRateLimit
	if !l.PerIP.IsZero() && remoteIP != "" {
		if err := s.allow(ctx, tenant, "token:ip:"+engine.IPKey(remoteIP), l.PerIP, "too many requests from your address"); err != nil {
			return err
		}
	}
	if !l.PerTenant.IsZero() {
		return s.allow(ctx, tenant, "token:tenant", l.PerTenant, "too many requests to this tenant")
	}
	return nil
}

func (s *Server) allow(ctx context.Context, tenant, key string, rate engine.Rate, why string) error {
	ok, wait, err := s.limiter.Allow(ctx, tenant, key, rate)
	if err != nil {
		return storeError("rate limit", err)
	}
	if !ok {
		return &engine.Error{Code: engine.CodeTooManyRequests, Description: fmt.Sprintf("%s (limit %s); retry later", why, rate), RetryAfter: wait}
	}
	return nil
}

// lockoutKey is the mark of a locked-out client_id.
func lockoutKey(clientID string) string { return "lockout:" + clientID }

// lockKey is the client's lockout mark, or "" when the tenant locks no
// client out.
func (s *Server) lockKey(settings engine.Settings, clientID string) string {
	if s.limiter == nil || settings.ClientLockout.Failures().IsZero() {
		return ""
	}
	return lockoutKey(clientID)
}

// lockedOut refuses a client_id that is locked out, whatever its
// credentials: the lockout would slow no guessing if a right guess got
// through. Where the store reads a client with a mark in one step
// (ClientMarkReader) it reads the client too, and returns it for
// authenticate; a ClientTokenWriter also gives the client's record (for
// the token endpoint's memory, clientcache.go), and is asked for the
// client even when the tenant locks no client out.
func (s *Server) lockedOut(ctx context.Context, tenant string, settings engine.Settings, clientID string) (*prefetched, error) {
	if clientID == "" {
		return nil, nil
	}
	key := s.lockKey(settings, clientID)
	var (
		pre    *prefetched
		locked bool
		err    error
	)
	switch {
	case s.clientTokens != nil:
		// The client's record too, so that the token endpoint can
		// remember the client (clientcache.go).
		pre = &prefetched{id: clientID}
		pre.client, pre.record, locked, err = s.clientTokens.ClientRecord(ctx, tenant, clientID, key)
	case key == "":
		return nil, nil
	case s.clientMarks != nil:
		pre = &prefetched{id: clientID}
		pre.client, locked, err = s.clientMarks.ClientMarked(ctx, tenant, clientID, key)
	default:
		locked, err = s.store.Marked(ctx, tenant, key)
	}
	if err != nil {
		return nil, storeError("lockout", err)
	}
	if locked {
		return nil, &engine.Error{
			Code:        engine.CodeTooManyRequests,
			Description: "too many failed authentications of this client; retry later",
			RetryAfter:  settings.ClientLockout.Failures().Per / time.Duration(settings.ClientLockout.Failures().Events),
		}
	}
	return pre, nil
}

// prefetched is the client that lockedOut read with the lockout mark:
// client is nil when there is none with that ID; record is its stored
// record, when the store gives it (ClientTokenWriter).
type prefetched struct {
	id     string
	client *engine.Client
	record string
}

// failed counts a failed authentication of a client_id against its
// budget, and locks the client_id out once the budget is spent, until it
// would refill by one failure. It reports the lockout as the request's
// error, so the failure that spends the budget already answers 429.
func (s *Server) failed(ctx context.Context, tenant string, settings engine.Settings, clientID string, authErr error) error {
	key := s.lockKey(settings, clientID)
	if key == "" || clientID == "" {
		return authErr
	}
	ok, wait, err := s.limiter.Allow(ctx, tenant, "authfail:"+clientID, settings.ClientLockout.Failures())
	if err != nil || ok {
		return authErr // the failure is the answer; a limiter outage must not hide it
	}
	if _, err := s.store.Mark(ctx, tenant, key, s.now().Add(wait)); err != nil {
		s.log.WarnContext(ctx, "cannot lock a client out", "tenant", tenant, "client_id", truncate(clientID), "err", err)
	}
	s.log.WarnContext(ctx, "client locked out after repeated failed authentications", "tenant", tenant, "client_id", truncate(clientID), "for", wait)
	return &engine.Error{Code: engine.CodeTooManyRequests, Description: "too many failed authentications of this client; retry later", RetryAfter: wait, Err: authErr}
}

// authorize admits a request under the tenant's rate limits and
// authenticates its client (authenticateClient).
func (s *Server) authorize(ctx context.Context, tenant string, settings engine.Settings, cr *Credentials, ep Endpoints, rf RequestFacts) (*authenticated, error) {
	if err := s.admit(ctx, tenant, settings, rf.RemoteIP); err != nil {
		return nil, err
	}
	return s.authenticateClient(ctx, tenant, settings, cr, ep, rf)
}

// authenticateClient authenticates a request's client, read from the
// store, counting a failure against the client_id's lockout budget and
// recording it in the audit log.
func (s *Server) authenticateClient(ctx context.Context, tenant string, settings engine.Settings, cr *Credentials, ep Endpoints, rf RequestFacts) (*authenticated, error) {
	_, id, err := cr.method()
	if err != nil {
		return nil, err
	}
	// The client the request names, an assertion's unverified sub
	// included: a private_key_jwt client is locked out, and its failures
	// audited, like any other.
	if id == "" {
		id = unverifiedSubject(cr.Assertion)
	}
	pre, err := s.lockedOut(ctx, tenant, settings, id)
	if err != nil {
		return nil, err
	}
	who, err := s.authenticate(ctx, tenant, cr, []string{ep.Issuer, ep.Endpoint}, pre)
	if err == nil {
		return who, nil
	}
	if engine.AsError(err).Code != engine.CodeInvalidClient {
		return nil, err // a malformed request or a store failure: nobody failed to authenticate
	}
	s.authFailed(ctx, tenant, id, rf, err)
	return nil, s.failed(ctx, tenant, settings, id, err)
}
