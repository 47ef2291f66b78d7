package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// URIChecker dereferences the URIs of client metadata that the server
// checks while a registration or update waits: sector_identifier_uri
// (OpenID Connect DCR 1.0 §2, always) and jwks_uri (when the tenant sets
// check_jwks_uri). The jose package implements it over the one guarded
// outbound client (package fetch); the engine fetches nothing itself.
//
// An error should be a *URICheckError, which says what the client is told
// and what the metric counts; any other error is counted as "unavailable"
// and told to the client only as "could not be fetched".
type URIChecker interface {
	// SectorURIs fetches a sector_identifier_uri and returns the JSON
	// array of strings it holds.
	SectorURIs(ctx context.Context, uri string) ([]string, error)
	// CheckJWKSURI fetches a jwks_uri and checks that it holds a JWK Set
	// of public keys with, for every algorithm of algs, a key that
	// verifies it (with algs empty: at least one key).
	CheckJWKSURI(ctx context.Context, uri string, algs []string) error
}

// URICheckError is a URIChecker's failure to fetch or accept a document.
type URICheckError struct {
	// Outcome classifies the failure for metrics: "refused" (the outbound
	// guard refused the URL or an address it led to), "invalid" (the
	// server answered, but not with a usable document), "unavailable"
	// (no answer: DNS, connection, TLS, timeout, 5xx) or "mismatch" (a
	// usable document without what the metadata needs: a key set without
	// a key for an algorithm).
	Outcome string
	// Reason is told to the client; it must say nothing of this server's
	// network (resolvers, internal addresses).
	Reason string
	// Err is the whole cause, for the log.
	Err error
}

// Error implements error.
func (e *URICheckError) Error() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

// Unwrap returns the cause.
func (e *URICheckError) Unwrap() error { return e.Err }

// URICheck is the outcome of one check of a client's URI member, for
// metrics: Member is "sector_identifier_uri" or "jwks_uri"; Outcome is
// "ok", "refused", "invalid", "unavailable" or "mismatch" (the sector's
// array lacks a redirect URI, or the key set lacks a key for an
// algorithm).
type URICheck struct {
	Tenant  string
	Member  string
	Outcome string
}

// checkClientURIs checks the members whose documents the server must see:
// the sector_identifier_uri whenever it is set, and the jwks_uri when the
// tenant sets check_jwks_uri. On an update (cur not nil) a member is
// checked again only when it, or what it is checked against, changed. A
// failure is invalid_client_metadata with the reason, as
// node-oidc-provider answers for sector_identifier_uri: the URI is the
// client's, so a document that cannot be had is the client's to fix, and
// a dead host named by a client does not turn into 503s of ours.
func (r *Registrar) checkClientURIs(ctx context.Context, t *tenant, md *Metadata, cur *Metadata) error {
	if md.SectorIdentifierURI != "" && (cur == nil || cur.SectorIdentifierURI != md.SectorIdentifierURI || !slices.Equal(cur.RedirectURIs, md.RedirectURIs)) {
		if err := r.checkSector(ctx, t, md); err != nil {
			return err
		}
	}
	if !t.checksJWKSURI() || md.JWKSURI == "" {
		return nil
	}
	algs := jwksAlgs(md)
	if cur != nil && cur.JWKSURI == md.JWKSURI && slices.Equal(jwksAlgs(cur), algs) {
		return nil
	}
	if r.uris == nil {
		// Only a profile asks for the check here (checkURIServices
		// refuses check_jwks_uri without a checker); a Registrar built
		// without one (Config.URIs; registrar serve always has one)
		// fetches nothing.
		return nil
	}
	err := r.uris.CheckJWKSURI(ctx, md.JWKSURI, algs)
	return r.uriOutcome(ctx, t, "jwks_uri", err)
}

// jwksAlgs are the algorithms a client signs with, for which its jwks_uri
// must hold a key. id_token_signed_response_alg and
// userinfo_signed_response_alg are not among them: the server signs
// those, with its own keys.
func jwksAlgs(md *Metadata) []string {
	var algs []string
	for _, a := range []string{md.TokenEndpointAuthSigningAlg, md.RequestObjectSigningAlg} {
		if a != "" && !slices.Contains(algs, a) {
			algs = append(algs, a)
		}
	}
	return algs
}

// checkSector fetches the sector_identifier_uri and checks that it lists
// every redirect URI (OpenID Connect DCR 1.0 §2, Core §8.1). Without a
// URIChecker the member is checked for its form only.
func (r *Registrar) checkSector(ctx context.Context, t *tenant, md *Metadata) error {
	if r.uris == nil {
		return nil
	}
	listed, err := r.uris.SectorURIs(ctx, md.SectorIdentifierURI)
	if err != nil {
		return r.uriOutcome(ctx, t, "sector_identifier_uri", err)
	}
	for _, u := range md.RedirectURIs {
		if !slices.Contains(listed, u) {
			r.observeURI(t, "sector_identifier_uri", "mismatch")
			return Errorf(CodeInvalidClientMetadata, "sector_identifier_uri: the JSON array it returns does not list the redirect URI %q; all registered redirect_uris must be in it", truncate(u, 256))
		}
	}
	r.observeURI(t, "sector_identifier_uri", "ok")
	return nil
}

// uriOutcome counts a check's outcome and turns its failure into the
// client's error, logging the cause.
func (r *Registrar) uriOutcome(ctx context.Context, t *tenant, member string, err error) error {
	if err == nil {
		r.observeURI(t, member, "ok")
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		r.observeURI(t, member, "error")
		return e
	}
	ce := &URICheckError{Outcome: "unavailable", Reason: "could not be fetched", Err: err}
	errors.As(err, &ce)
	r.observeURI(t, member, ce.Outcome)
	r.log.InfoContext(ctx, "client URI check failed", "tenant", t.name, "member", member, "outcome", ce.Outcome, "reason", err.Error())
	return &Error{Code: CodeInvalidClientMetadata, Description: fmt.Sprintf("%s: %s", member, ce.Reason), Err: err}
}

// observeURI reports a check's outcome.
func (r *Registrar) observeURI(t *tenant, member, outcome string) {
	if r.observeURIs != nil {
		r.observeURIs(URICheck{Tenant: t.name, Member: member, Outcome: outcome})
	}
}

// checkURIServices refuses check_jwks_uri without a URIChecker.
func (r *Registrar) checkURIServices(t *tenant) error {
	if t.settings.CheckJWKSURI && r.uris == nil {
		return errors.New("check_jwks_uri is set but this Registrar fetches no client URIs")
	}
	return nil
}

// checksJWKSURI reports whether the tenant fetches and checks clients'
// jwks_uri at registration: check_jwks_uri, or a software statement
// profile that demands the check (Profile.RequiresJWKSURICheck: obie,
// open-finance-brasil; made only by a Registrar with a URI checker,
// as registrar serve always is). The profile switches it on here, not by
// rewriting the tenant's settings, so that the settings read back as
// they were written.
func (t *tenant) checksJWKSURI() bool {
	return t.settings.CheckJWKSURI || t.profile.RequiresJWKSURICheck
}
