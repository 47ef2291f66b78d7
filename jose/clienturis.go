package jose

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/fetch"
)

// ClientURIsConfig configures ClientURIs.
type ClientURIsConfig struct {
	// Fetcher fetches sector_identifier_uri documents: the process's
	// *fetch.Client. Required.
	Fetcher Fetcher
	// KeySets fetches and caches jwks_uri sets, the cache that client
	// authentication (private_key_jwt) reads too. Required.
	KeySets *KeySets
}

// ClientURIs fetches and checks the URIs of client metadata at
// registration for the engine: it implements engine.URIChecker, through
// the outbound guard of package fetch. A sector_identifier_uri is fetched
// each time (it is checked at registration and at an update that changes
// it, never after); a jwks_uri goes through KeySets, so that the set
// checked at registration is the cached one the token endpoint uses.
type ClientURIs struct {
	cfg ClientURIsConfig
}

var _ engine.URIChecker = (*ClientURIs)(nil)

// NewClientURIs returns ClientURIs, or an error for a missing Fetcher or
// KeySets.
func NewClientURIs(cfg ClientURIsConfig) (*ClientURIs, error) {
	if cfg.Fetcher == nil || cfg.KeySets == nil {
		return nil, errors.New("jose: ClientURIsConfig: Fetcher and KeySets are required")
	}
	return &ClientURIs{cfg: cfg}, nil
}

// SectorURIs fetches a sector_identifier_uri: the body must be a JSON
// array of strings (OpenID Connect DCR 1.0 §2). The Content-Type is not
// checked: the parse decides, as for key sets.
func (c *ClientURIs) SectorURIs(ctx context.Context, uri string) ([]string, error) {
	res, err := c.cfg.Fetcher.Get(ctx, uri, "application/json")
	if err != nil {
		return nil, uriCheckError(err)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(res.Body, &items); err != nil {
		return nil, &engine.URICheckError{Outcome: "invalid", Reason: "its document is not a JSON array", Err: err}
	}
	uris := make([]string, 0, len(items))
	for i, raw := range items {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, &engine.URICheckError{Outcome: "invalid", Reason: fmt.Sprintf("its JSON array holds a value that is not a string (at index %d)", i), Err: err}
		}
		uris = append(uris, s)
	}
	return uris, nil
}

// CheckJWKSURI fetches a jwks_uri through KeySets (which accepts only
// sets of public asymmetric keys) and checks that, for each algorithm in
// algs, some key of the set verifies it; with algs empty, that the set
// has a key.
func (c *ClientURIs) CheckJWKSURI(ctx context.Context, uri string, algs []string) error {
	set, err := c.cfg.KeySets.Get(ctx, uri)
	if err != nil {
		return uriCheckError(err)
	}
	if set.Len() == 0 {
		return &engine.URICheckError{Outcome: "mismatch", Reason: "its JWK Set has no keys"}
	}
	for _, alg := range algs {
		fits, why := false, ""
		for i := range set.Len() {
			k, _ := set.Key(i)
			if why = usableFor(k, alg); why == "" {
				fits = true
				break
			}
		}
		if !fits {
			return &engine.URICheckError{Outcome: "mismatch", Reason: fmt.Sprintf("its JWK Set has no key that verifies %s (%s)", alg, why)}
		}
	}
	return nil
}

// uriCheckError turns a failed fetch into what the client is told. The
// guard's reasons stay in the log: they may name the addresses a host
// resolves to here, which says something of this server's network.
func uriCheckError(err error) error {
	var fe *fetch.Error
	errors.As(err, &fe)
	switch k := fetch.KindOf(err); {
	case k == fetch.Refused:
		return &engine.URICheckError{Outcome: "refused", Err: err,
			Reason: "is refused by the server's outbound fetch policy (https only; no loopback, private, link-local or cloud metadata addresses, by name, address or redirect; at most 3 redirects)"}
	case k == fetch.Invalid && fe != nil:
		return &engine.URICheckError{Outcome: "invalid", Err: err, Reason: "could not be used: " + fe.Err.Error()}
	case errors.Is(err, context.DeadlineExceeded):
		return &engine.URICheckError{Outcome: "unavailable", Err: err, Reason: "could not be fetched: no complete answer in time"}
	case fe != nil && strings.HasPrefix(fe.Err.Error(), "the server answered"):
		return &engine.URICheckError{Outcome: "unavailable", Err: err, Reason: "could not be fetched: " + fe.Err.Error()}
	}
	return &engine.URICheckError{Outcome: "unavailable", Err: err, Reason: "could not be fetched: its server could not be reached"}
}
