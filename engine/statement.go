package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"
)

// StatementSettings are a tenant's software statement settings (RFC 7591
// §2.3; docs/statements.md): whom it trusts to vouch for clients, and how
// strictly their statements are checked.
type StatementSettings struct {
	// Required refuses a registration without a software statement. An
	// initial access token may require one on its own
	// (InitialAccessToken.SoftwareStatementRequired). Default false.
	Required bool `json:"required,omitempty"`
	// Issuers are the trusted issuers: a statement's iss must be one of
	// them, and its signature must verify with that issuer's keys. At
	// least one.
	Issuers []StatementIssuer `json:"issuers"`
	// Algorithms are the signature algorithms accepted. Default RS256,
	// RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA.
	// "none" and HMAC algorithms cannot be listed.
	Algorithms []string `json:"algorithms,omitempty"`
	// MaxAge bounds the age of a statement (now - iat). Default 0: no
	// bound beyond exp.
	MaxAge Duration `json:"max_age,omitempty"`
	// RequireJTI refuses a statement without jti. A jti, when present, is
	// always single use. Default false.
	RequireJTI bool `json:"require_jti,omitempty"`
	// Profile names the bundle of settings and checks applied (Profile):
	// "rfc7591" (the default), "obie" or "open-finance-brasil".
	Profile string `json:"profile,omitempty"`
	// RequireSignedRequests refuses registrations and updates that are not
	// signed requests (Content-Type application/jose). Default false; the
	// obie profile sets it.
	RequireSignedRequests bool `json:"require_signed_requests,omitempty"`
	// RoleScopes map each software role (the statement's software_roles)
	// to the scopes it allows, replacing the profile's map. Default: the
	// profile's (docs/statements.md). The generic profile checks no
	// roles and refuses it.
	RoleScopes map[string][]string `json:"role_scopes,omitempty"`
}

// StatementIssuer is one trusted issuer of software statements and where
// its public keys are: an inline JWK Set or an https URL; exactly one.
type StatementIssuer struct {
	Issuer  string          `json:"issuer"`
	JWKS    json.RawMessage `json:"jwks,omitempty"`
	JWKSURI string          `json:"jwks_uri,omitempty"`
}

// Bounds of software statement checks.
const (
	// MaxStatementBytes bounds a software statement in compact form.
	MaxStatementBytes = 16 << 10
	// StatementClockSkew is the tolerance of iat, nbf and exp.
	StatementClockSkew = 30 * time.Second
	// statementMarkFallback is how long the jti of a statement that
	// neither exp nor max_age bounds is remembered.
	statementMarkFallback = 366 * 24 * time.Hour
)

// StatementVerifier verifies software statements: the jose package
// implements it (engine parses no JOSE). Config.Statements.
type StatementVerifier interface {
	// Trust prepares the verification of a tenant's statements; it runs
	// when the tenant is compiled, and its error (an issuer entry whose
	// jwks is not a key set of public keys, a jwks_uri the outbound
	// guard refuses) refuses the tenant's settings.
	Trust(s StatementSettings) (StatementTrust, error)
}

// StatementTrust verifies the statements of one tenant's trusted issuers.
type StatementTrust interface {
	// Verify checks a statement's size, form (a compact JWS, not nested),
	// header (no jku, x5u, jwk, x5c or crit), algorithm (one allowed,
	// never none or HS*), issuer (one trusted) and signature (one of that
	// issuer's keys), and returns it. The caller checks the times and the
	// jti. An error is an *Error of code invalid_software_statement,
	// unapproved_software_statement (validly formed, but iss is not
	// trusted) or temporarily_unavailable (the issuer's keys cannot be
	// had now; Err says why).
	Verify(ctx context.Context, statement string) (*Statement, error)
	// RequestPayload returns the payload of a signed registration request
	// (a compact JWS) without verifying its signature: its form and
	// header are checked as a statement's, and its alg must be one the
	// tenant allows. An error is an *Error of code
	// invalid_client_metadata.
	RequestPayload(request string) ([]byte, error)
	// VerifyRequest checks the signature of a signed registration request
	// with the keys its software statement names (a jwks_uri is fetched
	// through the outbound guard and its cache, and fetched again once on
	// an unknown kid), and returns the kid of the key that verified it.
	// An error is an *Error of code invalid_client_metadata (the request
	// or the keys are at fault) or temporarily_unavailable (the keys
	// cannot be had now).
	VerifyRequest(ctx context.Context, request string, keys RequestKeys) (kid string, err error)
}

// RequestKeys are the keys a signed registration request is verified
// with, as its software statement names them: a JWK Set by value or the
// URL of one; exactly one is set.
type RequestKeys struct {
	JWKS    json.RawMessage
	JWKSURI string
}

// Statement is a software statement whose signature verified.
type Statement struct {
	// Issuer is its iss, a trusted issuer.
	Issuer string
	// KeyID is the kid of the key that verified it ("" if the header had
	// none).
	KeyID string
	// Claims are its claims, as signed.
	Claims map[string]json.RawMessage
}

// ReplayCache remembers single-use values (statement jti) for every
// replica; oauth.Store's Mark satisfies it.
type ReplayCache interface {
	// Mark records key in the tenant's marks until the time given and
	// reports whether it is new; of concurrent marks of one key exactly
	// one is.
	Mark(ctx context.Context, tenant, key string, until time.Time) (fresh bool, err error)
}

// StatementProvenance records the software statement a client was
// registered with.
type StatementProvenance struct {
	Issuer     string `json:"issuer"`
	KeyID      string `json:"kid,omitempty"`
	JTI        string `json:"jti,omitempty"`
	SoftwareID string `json:"software_id,omitempty"`
}

// StatementFacts is what a policy sees of a verified software statement.
type StatementFacts struct {
	Issuer   string                     `json:"issuer"`
	Claims   map[string]json.RawMessage `json:"claims"`
	Verified bool                       `json:"verified"`
}

// StatementOutcome is the result of one statement check, for metrics:
// "verified", "invalid", "unapproved" or "unavailable".
type StatementOutcome struct {
	Tenant  string
	Outcome string
}

// jwtClaims are the claims of a statement that are about the JWT, not
// client metadata: they never override a request's members.
var jwtClaims = []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti"}

// compileStatements checks the software_statement setting's form; the
// verifier's Trust checks the keys (Registrar.trustStatements).
func (t *tenant) compileStatements() error {
	s := t.settings.SoftwareStatement
	if s == nil {
		return nil
	}
	p, ok := LookupProfile(s.Profile)
	if !ok {
		return errNoProfile(s.Profile)
	}
	if len(s.Issuers) == 0 {
		return errors.New("software_statement: issuers: at least one trusted issuer is needed")
	}
	seen := map[string]bool{}
	for i, is := range s.Issuers {
		if err := checkStatementIssuer(is); err != nil {
			return fmt.Errorf("software_statement: issuers[%d]: %w", i, err)
		}
		if seen[is.Issuer] {
			return fmt.Errorf("software_statement: issuers[%d]: issuer %q is listed twice", i, is.Issuer)
		}
		seen[is.Issuer] = true
	}
	for _, a := range s.Algorithms {
		if !slices.Contains(knownSigningAlgs, a) {
			return fmt.Errorf("software_statement: algorithms: %q is not an asymmetric signature algorithm Registrar supports (known: %v)", a, knownSigningAlgs)
		}
	}
	if time.Duration(s.MaxAge) != 0 && time.Duration(s.MaxAge) < time.Second {
		return errors.New("software_statement: max_age must be at least one second")
	}
	if err := checkProfileSettings(p, s); err != nil {
		return err
	}
	eff := s.WithDefaults()
	t.statements, t.profile = &eff, p
	if eff.RoleScopes == nil {
		t.roleScopes = p.RoleScopes
	} else {
		t.roleScopes = eff.RoleScopes
	}
	return nil
}

// checkStatementIssuer checks the form of one trusted issuer entry.
func checkStatementIssuer(is StatementIssuer) error {
	switch {
	case is.Issuer == "" || len(is.Issuer) > 2048 || !printable(is.Issuer, false):
		return errors.New("issuer must be 1-2048 characters without spaces or control characters")
	case len(is.JWKS) > 0 && is.JWKSURI != "":
		return fmt.Errorf("issuer %q: set jwks or jwks_uri, not both", is.Issuer)
	case len(is.JWKS) == 0 && is.JWKSURI == "":
		return fmt.Errorf("issuer %q: set jwks or jwks_uri", is.Issuer)
	case is.JWKSURI != "":
		u, err := url.Parse(is.JWKSURI)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" || len(is.JWKSURI) > 2048 {
			return fmt.Errorf("issuer %q: jwks_uri must be an https URL without user information or fragment", is.Issuer)
		}
	}
	return nil
}

// WithDefaults returns the settings with the defaults of their profile
// filled in, as a StatementVerifier receives them: the profile's name,
// the algorithms (the profile's, or every supported one), its max_age,
// and what it requires (a statement; signed requests).
func (s StatementSettings) WithDefaults() StatementSettings {
	if s.Profile == "" {
		s.Profile = ProfileRFC7591
	}
	p, _ := LookupProfile(s.Profile)
	switch {
	case len(s.Algorithms) > 0:
		s.Algorithms = slices.Clone(s.Algorithms)
	case len(p.Algorithms) > 0:
		s.Algorithms = p.Algorithms
	default:
		s.Algorithms = slices.Clone(defaultSigningAlgs)
	}
	if s.MaxAge == 0 {
		s.MaxAge = Duration(p.MaxAge)
	}
	s.Required = s.Required || p.RequireStatement
	s.RequireSignedRequests = s.RequireSignedRequests || p.RequireSignedRequests
	return s
}

// trustStatements asks the verifier to prepare the tenant's trusted
// issuers; without a verifier a tenant that configures statements is
// refused.
func (r *Registrar) trustStatements(t *tenant) error {
	s := t.settings.SoftwareStatement
	if s == nil {
		return nil
	}
	if r.statements == nil {
		return errors.New("software_statement is set but this Registrar verifies no software statements")
	}
	trust, err := r.statements.Trust(*t.statements)
	if err != nil {
		return fmt.Errorf("software_statement: %w", err)
	}
	t.trust = trust
	return nil
}

// verifiedStatement is a statement that passed every check, with what
// Register needs of it.
type verifiedStatement struct {
	raw       string
	st        *Statement
	jti       string
	markUntil time.Time
	// request is the signed request that carried the statement, if one
	// did (signedreq.go).
	request *signedRequest
}

// checkStatement verifies the request's software_statement member when
// the tenant trusts issuers, and reports it; nil, nil when there is none
// to verify (no statement, or the tenant configures none: then a
// statement is kept unverified, as before).
func (r *Registrar) checkStatement(ctx context.Context, t *tenant, g grant, obj map[string]json.RawMessage) (*verifiedStatement, error) {
	raw, present := obj["software_statement"]
	present = present && string(raw) != "null" && string(raw) != `""`
	s := t.statements
	required := s != nil && s.Required || g.iat != nil && g.iat.SoftwareStatementRequired
	switch {
	case !present && required:
		return nil, Errorf(CodeInvalidSoftwareStatement, "a software_statement is required")
	case !present || s == nil:
		return nil, nil
	}
	compact, ok := UnquoteString(raw)
	if !ok {
		return nil, Errorf(CodeInvalidSoftwareStatement, "software_statement must be a string: a JWT in JWS compact serialization")
	}
	vs, err := r.verifyStatement(ctx, t, compact)
	if err != nil {
		r.observeStatement(ctx, t, err) // a success is observed by markUsed
	}
	return vs, err
}

// verifyStatement has the tenant's trust check the signature, then checks
// the times and the jti's form.
func (r *Registrar) verifyStatement(ctx context.Context, t *tenant, compact string) (*verifiedStatement, error) {
	if t.trust == nil {
		return nil, serverError("internal server error", fmt.Errorf("tenant %s: software_statement configured without a trust", t.name))
	}
	if len(compact) > MaxStatementBytes {
		return nil, Errorf(CodeInvalidSoftwareStatement, "software_statement is %d bytes, more than the limit of %d", len(compact), MaxStatementBytes)
	}
	st, err := t.trust.Verify(ctx, compact)
	if err != nil {
		return nil, err
	}
	if err := checkClaimValues(st.Claims); err != nil {
		return nil, err
	}
	vs := &verifiedStatement{raw: compact, st: st}
	if err := vs.checkClaims(*t.statements, r.now()); err != nil {
		return nil, err
	}
	return vs, nil
}

// checkClaims checks iat, nbf, exp and jti against the settings at now,
// and decides how long the jti is remembered.
func (vs *verifiedStatement) checkClaims(s StatementSettings, now time.Time) (err error) {
	vs.jti, vs.markUntil, err = statementJWT.check(vs.st.Claims, s, now)
	return err
}

// jwtKind names a kind of JWT in errors, with the code of its refusals.
type jwtKind struct {
	name string
	code ErrorCode
}

// The JWTs whose claims are checked alike.
var (
	statementJWT = jwtKind{"software_statement", CodeInvalidSoftwareStatement}
	requestJWT   = jwtKind{"the signed request", CodeInvalidClientMetadata}
)

func (k jwtKind) errorf(format string, args ...any) error {
	return Errorf(k.code, k.name+" "+format, args...)
}

// check checks iat, nbf, exp and jti against the settings at now, and
// returns the jti and until when it is remembered.
func (k jwtKind) check(c map[string]json.RawMessage, s StatementSettings, now time.Time) (jti string, markUntil time.Time, err error) {
	iat, exp, hasExp, err := k.checkTimes(c, s, now)
	if err != nil {
		return "", time.Time{}, err
	}
	if v, ok := c["jti"]; ok {
		var ok bool
		if jti, ok = UnquoteString(v); !ok || jti == "" || len(jti) > 256 {
			return "", time.Time{}, k.errorf("has a jti claim that is not a string of 1-256 characters")
		}
	} else if s.RequireJTI {
		return "", time.Time{}, k.errorf("has no jti claim, which this tenant requires")
	}
	markUntil = now.Add(statementMarkFallback)
	if s.MaxAge > 0 {
		markUntil = iat.Add(time.Duration(s.MaxAge) + StatementClockSkew)
	}
	if hasExp && (s.MaxAge == 0 || exp.Before(markUntil)) {
		markUntil = exp.Add(StatementClockSkew)
	}
	return jti, markUntil, nil
}

// checkTimes checks iat (required, not in the future, within max_age),
// exp and nbf, with StatementClockSkew, and returns iat and exp.
func (k jwtKind) checkTimes(c map[string]json.RawMessage, s StatementSettings, now time.Time) (iat, exp time.Time, hasExp bool, err error) {
	iat, ok, err := k.claimTime(c, "iat")
	switch {
	case err != nil:
		return iat, exp, false, err
	case !ok:
		return iat, exp, false, k.errorf("has no iat claim")
	case iat.After(now.Add(StatementClockSkew)):
		return iat, exp, false, k.errorf("was issued in the future (iat)")
	case s.MaxAge > 0 && now.Sub(iat) > time.Duration(s.MaxAge)+StatementClockSkew:
		return iat, exp, false, k.errorf("is older than the tenant's max_age of %s", time.Duration(s.MaxAge))
	}
	if exp, hasExp, err = k.claimTime(c, "exp"); err != nil {
		return iat, exp, false, err
	} else if hasExp && !now.Before(exp.Add(StatementClockSkew)) {
		return iat, exp, false, k.errorf("has expired (exp)")
	}
	if nbf, ok, err := k.claimTime(c, "nbf"); err != nil {
		return iat, exp, false, err
	} else if ok && nbf.After(now.Add(StatementClockSkew)) {
		return iat, exp, false, k.errorf("is not valid yet (nbf)")
	}
	return iat, exp, hasExp, nil
}

// claimTime reads a NumericDate claim (RFC 7519 §2).
func (k jwtKind) claimTime(c map[string]json.RawMessage, name string) (time.Time, bool, error) {
	v, ok := c[name]
	if !ok {
		return time.Time{}, false, nil
	}
	var f float64
	if err := json.Unmarshal(v, &f); err != nil || math.IsNaN(f) || f < 0 || f > 253402300799 {
		return time.Time{}, false, k.errorf("has a %s claim that is not a number of seconds since the epoch", name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true, nil
}

// apply lets the statement's claims override the request's members
// (RFC 7591 §2.3), less the claims about the JWT itself and the members
// the server sets, and puts the statement back as sent.
func (vs *verifiedStatement) apply(obj map[string]json.RawMessage) {
	for k, v := range vs.st.Claims {
		if slices.Contains(jwtClaims, k) || IsServerManaged(k) || k == "software_statement" {
			continue
		}
		obj[k] = v
	}
	obj["software_statement"], _ = json.Marshal(vs.raw)
}

// facts is what policies see of the statement.
func (vs *verifiedStatement) facts() *StatementFacts {
	if vs == nil {
		return nil
	}
	return &StatementFacts{Issuer: vs.st.Issuer, Claims: vs.st.Claims, Verified: true}
}

// provenance records the statement on the client's history.
func (vs *verifiedStatement) provenance() StatementProvenance {
	if vs == nil {
		return StatementProvenance{}
	}
	p := StatementProvenance{Issuer: vs.st.Issuer, KeyID: vs.st.KeyID, JTI: vs.jti}
	if v, ok := vs.st.Claims["software_id"]; ok {
		_ = json.Unmarshal(v, &p.SoftwareID)
	}
	return p
}

// markUsed records the statement's jti as used, for every replica; a jti
// seen before is a replay. It reports the statement's outcome.
func (r *Registrar) markUsed(ctx context.Context, t *tenant, vs *verifiedStatement) (err error) {
	if vs == nil {
		return nil
	}
	defer func() { r.observeStatement(ctx, t, err) }()
	if vs.jti == "" {
		return nil
	}
	if r.replay == nil {
		return serverError("internal server error", errors.New("a software statement has a jti but the Registrar has no replay cache"))
	}
	fresh, err := r.replay.Mark(ctx, t.name, vs.markKey(), vs.markUntil)
	if err != nil {
		return storeError("mark software statement jti", err)
	}
	if !fresh {
		return Errorf(CodeInvalidSoftwareStatement, "software_statement has been used before (its jti is single use)")
	}
	return nil
}

// markKey is the replay cache key of the statement's jti.
func (vs *verifiedStatement) markKey() string {
	return statementMarkPrefix + vs.st.Issuer + "\x00" + vs.jti
}

// statementMarkPrefix begins the replay cache keys of statements' jtis.
const statementMarkPrefix = "software_statement:"

// marks are the single-use values a registration with vs spends: the
// statement's jti and that of the signed request that carried it.
func (vs *verifiedStatement) marks() []Mark {
	if vs == nil {
		return nil
	}
	var ms []Mark
	if vs.jti != "" {
		ms = append(ms, Mark{Key: vs.markKey(), Until: vs.markUntil})
	}
	if sr := vs.request; sr != nil && sr.jti != "" {
		ms = append(ms, Mark{Key: sr.markKey(), Until: sr.markUntil})
	}
	return ms
}

// spendJTIs spends the jtis of a registration's statement and signed
// request: at once, through the replay cache, or, when the store is also
// the replay cache, by returning them for the create's atomic write
// (CreateOptions.Marks), so that a jti is spent exactly when a client is
// stored with it.
func (r *Registrar) spendJTIs(ctx context.Context, t *tenant, vs *verifiedStatement) ([]Mark, error) {
	if !r.storeMarks {
		if err := r.markUsed(ctx, t, vs); err != nil {
			return nil, err
		}
		return nil, r.markRequest(ctx, t, vs)
	}
	return vs.marks(), nil
}

// replayError turns a create's ErrReplayed into the error of the jti it
// names.
func replayError(err error) error {
	var re *ReplayedError
	if errors.As(err, &re) && !strings.HasPrefix(re.Key, statementMarkPrefix) {
		return requestJWT.errorf("has been used before (its jti is single use)")
	}
	return Errorf(CodeInvalidSoftwareStatement, "software_statement has been used before (its jti is single use)")
}

// replayed is err if it refuses a statement's jti as spent, else nil: a
// registration's other failures are not the statement's.
func replayed(err error) error {
	if e := AsError(err); err != nil && e.Code == CodeInvalidSoftwareStatement {
		return err
	}
	return nil
}

// observeStatement logs a statement whose issuer's keys could not be had
// and reports every outcome to Config.ObserveStatement.
func (r *Registrar) observeStatement(ctx context.Context, t *tenant, err error) {
	outcome := "verified"
	if err != nil {
		switch e := AsError(err); e.Code {
		case CodeUnapprovedSoftwareStatement:
			outcome = "unapproved"
		case CodeTemporarilyUnavailable:
			outcome = "unavailable"
			r.log.WarnContext(ctx, "software statement cannot be checked now (issuer keys or replay marks unavailable)", "tenant", t.name, "reason", strings.TrimSpace(fmt.Sprint(e.Err)))
		case CodeInvalidSoftwareStatement:
			outcome = "invalid"
		default:
			outcome = "error"
		}
	}
	if r.observe != nil {
		r.observe(StatementOutcome{Tenant: t.name, Outcome: outcome})
	}
}
