// Command token-tiers is a Registrar policy module: an issue_access_token
// hook that caps a client's access tokens by the tier its metadata names
// (an extra metadata member, "tier" by default): the scope is narrowed to
// the tier's ceiling, the audience comes from the module's configuration,
// the lifetime is capped, and the token carries the tier as a claim. See
// README.md.
package main

import (
	"errors"
	"slices"
	"strconv"

	registrar "github.com/registrar-dev/registrar/sdk/go"
	"github.com/registrar-dev/registrar/sdk/go/accesstoken"
)

func init() { accesstoken.Handle(issue) }

// main never runs: a module is a library (-buildmode=c-shared).
func main() {}

// config is the module's policy_config entry.
type config struct {
	member      string            // the metadata member naming the tier
	tiers       *registrar.Object // tier name -> array of scope values
	audience    []string          // nil: keep the token endpoint's
	maxLifetime int64             // 0: keep the token endpoint's
}

// issue decides a token request.
func issue(in *registrar.AccessTokenInput) (*registrar.AccessTokenOutput, error) {
	cfg, err := readConfig(in.Config)
	if err != nil {
		return nil, err
	}
	tier, err := in.Metadata.String(cfg.member)
	if err != nil {
		return nil, errors.New("token-tiers: the client's " + cfg.member + " is not a string")
	}
	if tier == "" {
		return nil, registrar.Reject(registrar.UnauthorizedClient, "the client has no "+cfg.member+": register one to get tokens")
	}
	if !cfg.tiers.Has(tier) {
		return nil, registrar.Reject(registrar.AccessDenied, "tier "+strconv.Quote(tier)+" gets no tokens here")
	}
	ceiling, err := cfg.tiers.StringSlice(tier)
	if err != nil {
		return nil, errors.New("token-tiers: config tiers." + tier + " must be an array of strings")
	}
	for _, v := range in.RequestedScope {
		if !slices.Contains(ceiling, v) {
			return nil, registrar.Reject(registrar.InvalidScope, "scope "+strconv.Quote(v)+" is beyond the "+tier+" tier")
		}
	}
	out := &registrar.AccessTokenOutput{Scope: []string{}, Audience: cfg.audience, Claims: &registrar.Object{}}
	for _, v := range in.Scope {
		if slices.Contains(ceiling, v) {
			out.Scope = append(out.Scope, v)
		}
	}
	if cfg.maxLifetime > 0 && cfg.maxLifetime < in.Lifetime {
		out.Lifetime = cfg.maxLifetime
	}
	out.Claims.SetString("tier", tier)
	return out, nil
}

// readConfig reads and checks the configuration: a missing or malformed
// one fails the call (server_error), as a misconfigured tenant should.
func readConfig(raw []byte) (*config, error) {
	if raw == nil {
		return nil, errors.New("token-tiers is not configured: set policy_config.token-tiers")
	}
	obj, err := registrar.ParseObject(raw)
	if err != nil {
		return nil, errors.New("token-tiers: the configuration must be an object")
	}
	cfg := &config{member: "tier"}
	if obj.Has("member") {
		if cfg.member, err = obj.String("member"); err != nil || cfg.member == "" {
			return nil, errors.New("token-tiers: member must be a non-empty string")
		}
	}
	if cfg.tiers, err = obj.Object("tiers"); err != nil || cfg.tiers == nil {
		return nil, errors.New("token-tiers: tiers must be an object of scope arrays")
	}
	if cfg.audience, err = obj.StringSlice("audience"); err != nil || (obj.Has("audience") && len(cfg.audience) == 0) {
		return nil, errors.New("token-tiers: audience must be a non-empty array of strings")
	}
	if cfg.maxLifetime, err = obj.Int64("max_lifetime"); err != nil || cfg.maxLifetime < 0 {
		return nil, errors.New("token-tiers: max_lifetime must be a positive number of seconds")
	}
	return cfg, nil
}
