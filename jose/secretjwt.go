package jose

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/registrar-dev/registrar/engine"
)

// macKeySize is, per HMAC algorithm, the size of its hash output: the
// least key size RFC 7518 §3.2 allows.
var macKeySize = map[string]int{"HS256": 32, "HS384": 48, "HS512": 64}

// VerifySecret checks a client_secret_jwt assertion (RFC 7523 §2.2 and §3,
// OpenID Connect Core §9): its form and header as Verify checks them, an
// alg among algs that is one of engine.SecretJWTAlgs, and its MAC with the
// client secret's octets as the key, compared in constant time (jwx's
// HMAC verifier uses hmac.Equal). A secret shorter than the alg's hash
// output (RFC 7518 §3.2) is refused. It returns the claims for the caller
// to check, as Verify does; every error is the assertion's or its
// client's fault.
func (a *Assertions) VerifySecret(compact string, secret []byte, algs []string) (*Claims, error) {
	as, err := parseAssertion(compact)
	if err != nil {
		return nil, err
	}
	if err := checkMACAlg(as.alg, algs); err != nil {
		return nil, err
	}
	if len(secret) < macKeySize[as.alg] {
		return nil, fmt.Errorf("the client secret is %d bytes, shorter than the %d that %s needs (RFC 7518 §3.2)", len(secret), macKeySize[as.alg], as.alg)
	}
	if err := verifySignature(as, secret); err != nil {
		return nil, err
	}
	return as.claims, nil
}

// checkMACAlg refuses every alg but the HMAC ones allowed.
func checkMACAlg(alg string, allowed []string) error {
	switch {
	case !slices.Contains(engine.SecretJWTAlgs, alg):
		return fmt.Errorf("alg %q is refused for client_secret_jwt, whose assertions are MACed with the client secret (want one of %s)", truncate(alg), strings.Join(engine.SecretJWTAlgs, ", "))
	case !slices.Contains(allowed, alg):
		return fmt.Errorf("alg %q is not allowed for this client (allowed: %s)", truncate(alg), strings.Join(allowed, ", "))
	}
	return nil
}

// SignSecretAssertion MACs the claims with the client secret as a
// compact JWS: a client_secret_jwt assertion. alg is HS256, HS384 or
// HS512.
func SignSecretAssertion(secret []byte, alg string, c AssertionClaims) (string, error) {
	if !slices.Contains(engine.SecretJWTAlgs, alg) {
		return "", fmt.Errorf("alg %q: want one of %s", alg, strings.Join(engine.SecretJWTAlgs, ", "))
	}
	if len(secret) == 0 {
		return "", errors.New("no client secret")
	}
	payload, err := c.payload()
	if err != nil {
		return "", err
	}
	signed, err := jws.Sign(payload, jws.WithKey(jwa.SignatureAlgorithm(alg), secret))
	if err != nil {
		return "", err
	}
	return string(signed), nil
}
