package jose

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/fetch"
)

// StatementsConfig configures Statements.
type StatementsConfig struct {
	// KeySets fetches the key sets of issuers that publish a jwks_uri.
	// Default nil: an issuer entry with a jwks_uri is refused.
	KeySets *KeySets
	// CheckURL says whether an issuer's jwks_uri may be fetched at all,
	// before any lookup: *fetch.Client's CheckURL, so that the allow list
	// (--fetch-allow-hosts) is honoured. Default: https only, and an
	// address literal must pass fetch.CheckAddr.
	CheckURL func(rawURL string) error
}

// Statements verifies software statements (RFC 7591 §2.3) for the engine:
// it implements engine.StatementVerifier. Each tenant's trusted issuers
// are prepared once, when the tenant is compiled (inline key sets parsed,
// jwks_uri checked against the outbound guard); a jwks_uri set is fetched
// through KeySets when a statement needs it, and fetched again once when
// the statement's kid is not in it.
type Statements struct {
	cfg StatementsConfig
}

var _ engine.StatementVerifier = (*Statements)(nil)

// NewStatements returns Statements.
func NewStatements(cfg StatementsConfig) (*Statements, error) {
	if cfg.CheckURL == nil {
		cfg.CheckURL = checkHTTPSURL
	}
	return &Statements{cfg: cfg}, nil
}

// checkHTTPSURL is the default CheckURL: https, no user information, and
// an address literal that the fetch guard would dial.
func checkHTTPSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" {
		return errors.New("not an https URL")
	}
	if u.User != nil {
		return errors.New("the URL carries user information")
	}
	if a, err := netip.ParseAddr(u.Hostname()); err == nil {
		return fetch.CheckAddr(a)
	}
	return nil
}

// issuerKeys are one trusted issuer's keys: a parsed inline set or a URL.
type issuerKeys struct {
	set jwk.Set
	uri string
}

// statementTrust verifies the statements of one tenant's issuers.
type statementTrust struct {
	sets     *KeySets
	checkURL func(string) error
	algs     []string
	issuers  map[string]issuerKeys
}

// Trust prepares the verification of statements from s.Issuers with the
// algorithms s.Algorithms. An inline jwks must pass KeySetChecker; a
// jwks_uri must pass CheckURL and needs KeySets.
func (s *Statements) Trust(st engine.StatementSettings) (engine.StatementTrust, error) {
	t := &statementTrust{sets: s.cfg.KeySets, checkURL: s.cfg.CheckURL, issuers: map[string]issuerKeys{}}
	for _, a := range st.Algorithms {
		if a == "none" || strings.HasPrefix(a, "HS") || keyFits(a, nil) == "" {
			return nil, fmt.Errorf("algorithms: %q cannot verify statements (asymmetric signature algorithms only)", a)
		}
	}
	t.algs = slices.Clone(st.Algorithms)
	for i, is := range st.Issuers {
		keys, err := s.issuerKeys(is)
		if err != nil {
			return nil, fmt.Errorf("issuers[%d] (%s): %w", i, is.Issuer, err)
		}
		t.issuers[is.Issuer] = keys
	}
	return t, nil
}

// issuerKeys checks and prepares one issuer's keys.
func (s *Statements) issuerKeys(is engine.StatementIssuer) (issuerKeys, error) {
	if is.JWKSURI != "" {
		if err := s.cfg.CheckURL(is.JWKSURI); err != nil {
			return issuerKeys{}, fmt.Errorf("jwks_uri %q is refused by the outbound guard: %v", is.JWKSURI, err)
		}
		if s.cfg.KeySets == nil {
			return issuerKeys{}, errors.New("jwks_uri: this server fetches no key sets")
		}
		return issuerKeys{uri: is.JWKSURI}, nil
	}
	if err := (KeySetChecker{}).CheckKeySet(is.JWKS); err != nil {
		return issuerKeys{}, fmt.Errorf("jwks: %v", err)
	}
	set, err := jwk.Parse(is.JWKS)
	if err != nil {
		return issuerKeys{}, fmt.Errorf("jwks: %v", err)
	}
	return issuerKeys{set: set}, nil
}

// invalidStatement is the error of a statement that is not acceptable.
func invalidStatement(format string, args ...any) error {
	return engine.Errorf(engine.CodeInvalidSoftwareStatement, "software_statement: "+format, args...)
}

// Verify checks a statement (see engine.StatementTrust).
func (t *statementTrust) Verify(ctx context.Context, compact string) (*engine.Statement, error) {
	if len(compact) > engine.MaxStatementBytes {
		return nil, invalidStatement("%d bytes is more than the limit of %d", len(compact), engine.MaxStatementBytes)
	}
	as, err := parseCompact(compact)
	if err != nil {
		return nil, invalidStatement("%v", err)
	}
	if err := t.checkAlg(as.alg); err != nil {
		return nil, err
	}
	iss := as.claims.Issuer
	if iss == "" {
		return nil, invalidStatement("it has no iss claim")
	}
	keys, ok := t.issuers[iss]
	if !ok {
		return nil, engine.Errorf(engine.CodeUnapprovedSoftwareStatement, "software_statement: issuer %q is not trusted by this server", truncate(iss))
	}
	key, err := t.key(ctx, keys, as.alg, as.kid)
	if err != nil {
		return nil, err
	}
	if err := verifySignature(as, key); err != nil {
		return nil, invalidStatement("%v", err)
	}
	return &engine.Statement{Issuer: iss, KeyID: as.kid, Claims: as.raw}, nil
}

// checkAlg refuses none, the MAC algorithms, and any alg not allowed.
func (t *statementTrust) checkAlg(alg string) error {
	switch {
	case alg == "none":
		return invalidStatement(`alg "none" is refused: a statement must be signed`)
	case strings.HasPrefix(alg, "HS"):
		return invalidStatement("alg %q is a MAC algorithm, refused: issuers sign with private keys", truncate(alg))
	case !slices.Contains(t.algs, alg):
		return invalidStatement("alg %q is not allowed (allowed: %s)", truncate(alg), strings.Join(t.algs, ", "))
	}
	return nil
}

// key returns the issuer's key that verifies the statement: for a
// jwks_uri the set is fetched (through KeySets' cache), and fetched again
// once when it lacks the kid. A set that cannot be had is
// temporarily_unavailable; a key that is not there is the statement's
// fault.
func (t *statementTrust) key(ctx context.Context, keys issuerKeys, alg, kid string) (any, error) {
	set := keys.set
	if keys.uri != "" {
		var err error
		if set, err = t.sets.Get(ctx, keys.uri); err != nil {
			return nil, keysUnavailable(keys.uri, err)
		}
		if _, ok := set.LookupKeyID(kid); kid != "" && !ok {
			if set, err = t.sets.Refetch(ctx, keys.uri); err != nil {
				return nil, keysUnavailable(keys.uri, err)
			}
		}
	}
	key, err := pickKey(set, alg, kid)
	if err != nil {
		return nil, invalidStatement("%v", err)
	}
	return key, nil
}

// keysUnavailable is the error of an issuer key set that cannot be had:
// not the client's fault, so a 503 whose cause goes to the log.
func keysUnavailable(uri string, err error) error {
	return &engine.Error{
		Code:        engine.CodeTemporarilyUnavailable,
		Description: "the software statement issuer's keys cannot be had now, retry later",
		Err:         fmt.Errorf("issuer keys %s (%s): %w", uri, fetch.KindOf(err), err),
	}
}
