package jose

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/registrar-dev/registrar/engine"
)

// MaxAssertionBytes bounds a client assertion in its compact form. A
// private_key_jwt assertion signed with a 4096-bit RSA key and a generous
// set of claims is under 2 KiB; anything near the bound is not one.
const MaxAssertionBytes = 8 << 10

// ClientKeys says where a client publishes its public keys (RFC 7591 §2):
// its registered jwks, or its jwks_uri; exactly one is set.
type ClientKeys struct {
	// JWKS is the registered JWK Set, as registered.
	JWKS json.RawMessage
	// JWKSURI is the URL of the client's JWK Set.
	JWKSURI string
}

// Claims are the claims of a client assertion that RFC 7523 §3 and OpenID
// Connect Core §9 have the authorization server check. A time that the
// assertion does not carry is the zero time.
type Claims struct {
	Issuer   string
	Subject  string
	Audience []string
	// ID is the jti.
	ID        string
	ExpiresAt time.Time
	IssuedAt  time.Time
	NotBefore time.Time
	// HasExpiry reports whether exp was present.
	HasExpiry bool
}

// AssertionsConfig configures Assertions.
type AssertionsConfig struct {
	// KeySets fetches the sets of clients that registered a jwks_uri.
	// Default nil: such clients cannot authenticate with an assertion
	// (their keys are never fetched).
	KeySets *KeySets
}

// Assertions verifies the JWTs clients authenticate with at the token
// endpoint (private_key_jwt: RFC 7523 §2.2 and §3, OpenID Connect Core §9;
// client_secret_jwt with VerifySecret):
// the compact JWS's form, its header, the choice of key, and the
// signature. The caller checks the claims it returns (issuer, audience,
// times, single use), since they depend on the endpoint and its clock.
//
// What it refuses, whatever the caller allows: an assertion longer than
// MaxAssertionBytes; alg none and every MAC algorithm (HS*), since a
// private_key_jwt client has no shared secret; an alg outside the ones
// given; the header members jku, x5u, jwk and x5c (keys named by the
// signer are never followed nor trusted: the keys are the client's
// registered ones), crit and b64; a key whose type or curve does not fit
// the alg, whose use is not sig or whose key_ops lack verify; no kid when
// several keys fit; a kid that the set does not have (for a jwks_uri after
// one refetch, rate-limited by KeySets); and every key that KeySetChecker
// refuses (weak RSA keys among them), in a registered or a fetched set.
type Assertions struct {
	sets *KeySets
}

// NewAssertions returns Assertions.
func NewAssertions(cfg AssertionsConfig) (*Assertions, error) {
	return &Assertions{sets: cfg.KeySets}, nil
}

// FetchesKeySets reports whether a jwks_uri can be used: whether a
// KeySets was configured.
func (a *Assertions) FetchesKeySets() bool { return a.sets != nil }

// assertion is a compact JWS taken apart.
type assertion struct {
	alg, kid string
	input    string // the JWS Signing Input
	sig      []byte
	claims   *Claims
	raw      map[string]json.RawMessage // every claim, as signed
}

// forbiddenHeaders are the members of a protected header that are refused:
// keys and key URLs chosen by the signer, and extensions this verifier does
// not implement (RFC 7515 §4.1.11, RFC 7797).
var forbiddenHeaders = []string{"jku", "x5u", "jwk", "x5c", "crit", "b64"}

// UnverifiedClaims returns the claims of a client assertion without
// checking its signature, for finding the client whose keys verify it. It
// checks the form as Verify does, so that a malformed assertion fails
// before any lookup.
func UnverifiedClaims(compact string) (*Claims, error) {
	a, err := parseAssertion(compact)
	if err != nil {
		return nil, err
	}
	return a.claims, nil
}

// Verify checks a client assertion's form, header and signature with the
// client's keys, and returns its claims for the caller to check. algs are
// the algorithms allowed for this client: the tenant's
// token_endpoint_auth_signing_alg_values_supported, or the client's
// registered token_endpoint_auth_signing_alg. A jwks_uri is fetched through
// the configured KeySets. Every error is the assertion's or its client's
// fault, or (for a jwks_uri) a fetch's *fetch.Error: the caller answers
// invalid_client to all of them.
func (a *Assertions) Verify(ctx context.Context, compact string, keys ClientKeys, algs []string) (*Claims, error) {
	as, err := parseAssertion(compact)
	if err != nil {
		return nil, err
	}
	if err := checkAlg(as.alg, algs); err != nil {
		return nil, err
	}
	key, err := a.key(ctx, keys, as.alg, as.kid)
	if err != nil {
		return nil, err
	}
	if err := verifySignature(as, key); err != nil {
		return nil, err
	}
	return as.claims, nil
}

// parseAssertion takes a compact JWS apart and reads its header and claims.
func parseAssertion(compact string) (*assertion, error) {
	if len(compact) > MaxAssertionBytes {
		return nil, fmt.Errorf("the assertion is %d bytes, more than the limit of %d", len(compact), MaxAssertionBytes)
	}
	return parseCompact(compact)
}

// parseCompact takes a compact JWS apart and reads its header and claims;
// the caller has bounded its size.
func parseCompact(compact string) (*assertion, error) {
	parts := strings.Split(compact, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a compact JWS (want three base64url parts separated by dots)")
	}
	var header map[string]json.RawMessage
	if err := decodePart(parts[0], &header); err != nil {
		return nil, fmt.Errorf("the JOSE header: %v", err)
	}
	for _, name := range forbiddenHeaders {
		if _, ok := header[name]; ok {
			return nil, fmt.Errorf("the header has %q, which is refused: keys named by the token are never used, and no JWS extension is supported", name)
		}
	}
	as := &assertion{input: parts[0] + "." + parts[1]}
	if err := headerString(header, "alg", &as.alg); err != nil || as.alg == "" {
		return nil, errors.New(`the header has no "alg" string`)
	}
	if as.alg == "none" {
		return nil, errors.New(`alg "none" is refused: the JWT must be signed`)
	}
	if err := headerString(header, "kid", &as.kid); err != nil {
		return nil, err
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) == 0 {
		return nil, errors.New("the signature is not a non-empty base64url string")
	}
	as.sig = sig
	var raw map[string]json.RawMessage
	if err := decodePart(parts[1], &raw); err != nil {
		return nil, fmt.Errorf("the claims: %v", err)
	}
	if as.claims, err = readClaims(raw); err != nil {
		return nil, err
	}
	as.raw = raw
	return as, nil
}

// decodePart decodes a base64url JSON object.
func decodePart(part string, dst *map[string]json.RawMessage) error {
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return errors.New("not unpadded base64url")
	}
	// One member twice is refused, as RFC 7515 §4 and RFC 7519 §4
	// allow, rather than read as its last value.
	obj, err := engine.DecodeObject(b)
	if err != nil {
		return errors.New("not a JSON object in UTF-8 with each member once")
	}
	*dst = obj
	return nil
}

// headerString reads an optional string member of the header.
func headerString(h map[string]json.RawMessage, name string, dst *string) error {
	raw, ok := h[name]
	if !ok {
		return nil
	}
	s, ok := engine.UnquoteString(raw)
	if !ok {
		return fmt.Errorf("the header member %q must be a string", name)
	}
	*dst = s
	return nil
}

// readClaims reads the registered claims an assertion is checked by; a
// claim of the wrong type fails the assertion.
func readClaims(raw map[string]json.RawMessage) (*Claims, error) {
	c := &Claims{}
	for name, dst := range map[string]*string{"iss": &c.Issuer, "sub": &c.Subject, "jti": &c.ID} {
		if v, ok := raw[name]; ok {
			s, ok := engine.UnquoteString(v)
			if !ok {
				return nil, fmt.Errorf("the claim %q must be a string", name)
			}
			*dst = s
		}
	}
	if v, ok := raw["aud"]; ok {
		if one, ok := engine.UnquoteString(v); ok {
			c.Audience = []string{one}
		} else if err := json.Unmarshal(v, &c.Audience); err != nil {
			return nil, errors.New(`the claim "aud" must be a string or an array of strings`)
		}
	}
	for name, dst := range map[string]*time.Time{"exp": &c.ExpiresAt, "iat": &c.IssuedAt, "nbf": &c.NotBefore} {
		v, ok := raw[name]
		if !ok {
			continue
		}
		t, err := numericDate(v)
		if err != nil {
			return nil, fmt.Errorf("the claim %q %v", name, err)
		}
		*dst = t
	}
	_, c.HasExpiry = raw["exp"]
	return c, nil
}

// maxNumericDate is 9999-12-31T23:59:59Z: later dates are refused rather
// than overflowing time.Time arithmetic.
const maxNumericDate = 253402300799

// numericDate reads a NumericDate (RFC 7519 §2): seconds since the epoch,
// possibly fractional.
func numericDate(v json.RawMessage) (time.Time, error) {
	var f float64
	if err := json.Unmarshal(v, &f); err != nil {
		return time.Time{}, errors.New("must be a number of seconds since the epoch")
	}
	if math.IsNaN(f) || f < 0 || f > maxNumericDate {
		return time.Time{}, errors.New("is out of range")
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

// checkAlg refuses none, the MAC algorithms, and any alg not allowed.
func checkAlg(alg string, allowed []string) error {
	switch {
	case alg == "none":
		return errors.New(`alg "none" is refused: an assertion must be signed`)
	case strings.HasPrefix(alg, "HS"):
		return fmt.Errorf("alg %q is a MAC algorithm, refused for private_key_jwt", truncate(alg))
	case !slices.Contains(allowed, alg):
		return fmt.Errorf("alg %q is not allowed for this client (allowed: %s)", truncate(alg), strings.Join(allowed, ", "))
	case keyFits(alg, nil) == "":
		return fmt.Errorf("alg %q is not supported", truncate(alg))
	}
	return nil
}

// truncate shortens a value from the request for an error message.
func truncate(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}

// key returns the one key of the client's set that the assertion names or,
// without a kid, the one that fits alg.
func (a *Assertions) key(ctx context.Context, keys ClientKeys, alg, kid string) (any, error) {
	set, err := a.set(ctx, keys, false)
	if err != nil {
		return nil, err
	}
	if kid != "" && keys.JWKSURI != "" {
		if _, ok := set.LookupKeyID(kid); !ok {
			// A key the set lacks may be a new one: fetch the set again,
			// at most once per RefetchInterval whatever the kids asked.
			if set, err = a.set(ctx, keys, true); err != nil {
				return nil, err
			}
		}
	}
	return pickKey(set, alg, kid)
}

// set returns the client's key set: its registered jwks, parsed, or its
// jwks_uri's, through KeySets (refetched if refetch).
func (a *Assertions) set(ctx context.Context, keys ClientKeys, refetch bool) (jwk.Set, error) {
	switch {
	case keys.JWKS != nil:
		set, err := jwk.Parse(keys.JWKS)
		if err != nil {
			return nil, fmt.Errorf("the registered jwks cannot be parsed: %v", err)
		}
		return set, nil
	case keys.JWKSURI == "":
		return nil, errors.New("the client has registered neither jwks nor jwks_uri")
	case a.sets == nil:
		return nil, errors.New("this server fetches no jwks_uri (no KeySets configured)")
	case refetch:
		return a.sets.Refetch(ctx, keys.JWKSURI)
	default:
		return a.sets.Get(ctx, keys.JWKSURI)
	}
}

// pickKey chooses the verification key: the key with the kid, which must
// fit alg; or, without a kid, the only key that fits alg. It returns the
// key in its crypto/* form, after KeySetChecker's checks of a public key.
func pickKey(set jwk.Set, alg, kid string) (any, error) {
	var fits []jwk.Key
	why := ""
	for i := range set.Len() {
		k, _ := set.Key(i)
		if kid != "" && k.KeyID() != kid {
			continue
		}
		if reason := usableFor(k, alg); reason != "" {
			why = reason
			continue
		}
		fits = append(fits, k)
	}
	if err := oneKey(len(fits), alg, kid, why); err != nil {
		return nil, err
	}
	f := factsOf(fits[0])
	if f.bad != nil {
		return nil, fmt.Errorf("the key %s", f.bad)
	}
	if f.rawErr != nil {
		return nil, fmt.Errorf("the key cannot be used: %v", f.rawErr)
	}
	return f.raw, nil
}

// oneKey explains why n keys that fit (why: the last reason a key did
// not) are not exactly one.
func oneKey(n int, alg, kid, why string) error {
	switch {
	case n == 1:
		return nil
	case n == 0 && kid != "" && why == "":
		return fmt.Errorf("%w: kid %q", ErrUnknownKeyID, truncate(kid))
	case n == 0 && why != "":
		return fmt.Errorf("no key fits alg %s: %s", alg, why)
	case n == 0:
		return fmt.Errorf("no key of the set fits alg %s", alg)
	case kid == "":
		return fmt.Errorf("the assertion has no kid and %d keys of the set fit alg %s", n, alg)
	}
	return fmt.Errorf("%d keys of the set have kid %q and fit alg %s", n, truncate(kid), alg)
}

// usableFor says why a key cannot verify alg, or "" when it can.
func usableFor(k jwk.Key, alg string) string {
	if use := k.KeyUsage(); use != "" && use != string(jwk.ForSignature) {
		return fmt.Sprintf("a key has use %q", truncate(use))
	}
	if ops := k.KeyOps(); len(ops) > 0 && !slices.Contains(ops, jwk.KeyOpVerify) {
		return "a key's key_ops lack verify"
	}
	if ka := k.Algorithm().String(); ka != "" && ka != alg {
		return fmt.Sprintf("a key is for alg %q", truncate(ka))
	}
	f := factsOf(k)
	if f.rawErr != nil {
		return "a key cannot be used"
	}
	if keyFits(alg, f.raw) != "ok" {
		return fmt.Sprintf("a key of type %s does not fit alg %s", k.KeyType(), alg)
	}
	return ""
}

// keyFits says whether alg is supported ("" if not) and whether key, a
// crypto/* public key, fits it ("ok" if it does, "no" if not; key nil
// tells support only).
func keyFits(alg string, key any) string {
	var fits bool
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		_, fits = key.(*rsa.PublicKey)
	case "ES256", "ES384", "ES512":
		curve := map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}[alg]
		k, ok := key.(*ecdsa.PublicKey)
		fits = ok && k.Curve == curve
	case "EdDSA", "Ed25519":
		_, fits = key.(ed25519.PublicKey)
	default:
		return ""
	}
	if key == nil || !fits {
		return "no"
	}
	return "ok"
}

// verifySignature checks the signature over the JWS Signing Input. Ed25519
// (the fully-specified name, RFC 9864) is EdDSA over Ed25519 keys.
func verifySignature(as *assertion, key any) error {
	alg := jwa.SignatureAlgorithm(as.alg)
	if as.alg == "Ed25519" {
		alg = jwa.EdDSA
	}
	v, err := jws.NewVerifier(alg)
	if err != nil {
		return fmt.Errorf("alg %s: %v", as.alg, err)
	}
	if err := v.Verify([]byte(as.input), as.sig, key); err != nil {
		return errors.New("the signature does not verify")
	}
	return nil
}
