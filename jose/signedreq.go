package jose

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/fetch"
)

// invalidRequest is the error of a signed registration request that is not
// acceptable.
func invalidRequest(format string, args ...any) error {
	return engine.Errorf(engine.CodeInvalidClientMetadata, "the signed request: "+format, args...)
}

// RequestPayload returns the payload of a signed registration request
// without verifying it (see engine.StatementTrust): the form and header
// are checked as a statement's, and the alg must be allowed.
func (t *statementTrust) RequestPayload(compact string) ([]byte, error) {
	if _, err := t.parseRequest(compact); err != nil {
		return nil, err
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(compact, ".")[1])
	if err != nil {
		return nil, invalidRequest("the payload is not unpadded base64url")
	}
	return payload, nil
}

// parseRequest takes a signed request apart and checks its alg.
func (t *statementTrust) parseRequest(compact string) (*assertion, error) {
	if len(compact) > engine.MaxSignedRequestBytes {
		return nil, invalidRequest("%d bytes is more than the limit of %d", len(compact), engine.MaxSignedRequestBytes)
	}
	as, err := parseCompact(compact)
	if err != nil {
		return nil, invalidRequest("%v", err)
	}
	if !slices.Contains(t.algs, as.alg) {
		return nil, invalidRequest("alg %q is not allowed (allowed: %s)", truncate(as.alg), strings.Join(t.algs, ", "))
	}
	return as, nil
}

// VerifyRequest checks a signed registration request's signature with the
// keys its statement names (see engine.StatementTrust).
func (t *statementTrust) VerifyRequest(ctx context.Context, compact string, keys engine.RequestKeys) (string, error) {
	as, err := t.parseRequest(compact)
	if err != nil {
		return "", err
	}
	set, err := t.requestKeySet(ctx, keys, as.kid)
	if err != nil {
		return "", err
	}
	key, err := pickKey(set, as.alg, as.kid)
	if err != nil {
		return "", invalidRequest("the software's keys: %v", err)
	}
	if err := verifySignature(as, key); err != nil {
		return "", invalidRequest("%v", err)
	}
	return as.kid, nil
}

// requestKeySet returns the software's key set: the statement's jwks, or
// its URL's set through KeySets, fetched again once when it lacks kid. A
// URL the outbound guard refuses is the statement's fault; a set that
// cannot be had now is temporarily_unavailable.
func (t *statementTrust) requestKeySet(ctx context.Context, keys engine.RequestKeys, kid string) (jwk.Set, error) {
	if keys.JWKSURI == "" {
		if err := (KeySetChecker{}).CheckKeySet(keys.JWKS); err != nil {
			return nil, engine.Errorf(engine.CodeInvalidSoftwareStatement, "software_statement: jwks: %v", err)
		}
		set, err := jwk.Parse(keys.JWKS)
		if err != nil {
			return nil, engine.Errorf(engine.CodeInvalidSoftwareStatement, "software_statement: jwks: %v", err)
		}
		return set, nil
	}
	if err := t.checkURL(keys.JWKSURI); err != nil {
		return nil, engine.Errorf(engine.CodeInvalidSoftwareStatement, "software_statement: the software's key set URL %q is refused by the outbound guard: %v", truncate(keys.JWKSURI), err)
	}
	if t.sets == nil {
		return nil, &engine.Error{Code: engine.CodeTemporarilyUnavailable, Description: "the software's keys cannot be had: this server fetches no key sets", Err: errors.New("signed request: no KeySets configured")}
	}
	set, err := t.sets.Get(ctx, keys.JWKSURI)
	if err == nil && kid != "" {
		if _, ok := set.LookupKeyID(kid); !ok {
			set, err = t.sets.Refetch(ctx, keys.JWKSURI)
		}
	}
	if err != nil {
		return nil, &engine.Error{
			Code:        engine.CodeTemporarilyUnavailable,
			Description: "the software's keys, which sign the request, cannot be had now, retry later",
			Err:         fmt.Errorf("software keys %s (%s): %w", keys.JWKSURI, fetch.KindOf(err), err),
		}
	}
	return set, nil
}
