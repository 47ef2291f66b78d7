package main

import (
	"context"

	"github.com/registrar-dev/registrar/fetch"
	"github.com/registrar-dev/registrar/jose"
)

// openFetcher builds the process's one guarded outbound client
// (--fetch-allow-hosts exempts hosts from its address guard), the cache of
// the key sets fetched through it, and the verifier of client assertions
// that reads clients' jwks_uri through that cache; the token endpoint gets
// s.assertions (oauth.Config.Assertions), and the engine s.statements,
// the verifier of software statements (docs/statements.md), and the checker
// of clients' sector_identifier_uri and jwks_uri. A non-empty allow list is logged:
// it turns the guard off for those hosts.
func (s *server) openFetcher(context.Context) error {
	allow, err := fetch.ParseAllowList(s.c.fetchAllowHosts)
	if err != nil {
		return usageError{"--fetch-allow-hosts: " + err.Error()}
	}
	client, err := fetch.New(fetch.Config{AllowHosts: allow, Observe: func(o fetch.Observation) {
		// The metrics exist before the first fetch: fetches are made while
		// requests are served, after every start-up step.
		if m := s.metrics; m != nil {
			m.ObserveFetch(o)
		}
	}})
	if err != nil {
		return err
	}
	sets, err := jose.NewKeySets(jose.KeySetsConfig{Fetcher: client})
	if err != nil {
		return err
	}
	s.keySets = sets
	if s.assertions, err = jose.NewAssertions(jose.AssertionsConfig{KeySets: sets}); err != nil {
		return err
	}
	if s.statements, err = jose.NewStatements(jose.StatementsConfig{KeySets: sets, CheckURL: client.CheckURL}); err != nil {
		return err
	}
	if s.clientURIs, err = jose.NewClientURIs(jose.ClientURIsConfig{Fetcher: client, KeySets: sets}); err != nil {
		return err
	}
	if allow.Len() > 0 {
		s.log.Warn("outbound fetch guard off for some hosts (--fetch-allow-hosts): plain http and any address allowed to them",
			"hosts", allow.String(), "guard", client.Describe())
	}
	return nil
}
