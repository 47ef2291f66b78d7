// Command statement-roles is a Registrar policy module: it admits a new
// client only when its verified software statement (RFC 7591 §2.3) vouches
// for it with a role or an organisation the tenant approves: a
// software_roles claim holding one of the configured roles, or an org_id
// claim among the configured organisations. Anything else is refused with
// unapproved_software_statement. See README.md.
package main

import (
	"errors"
	"slices"

	registrar "github.com/registrar-dev/registrar/sdk/go"
	"github.com/registrar-dev/registrar/sdk/go/policy"
)

func init() { policy.Handle(check) }

// main never runs: a module is a library (-buildmode=c-shared).
func main() {}

// config is the module's policy_config entry.
type config struct {
	roles   []string // approved software_roles
	orgIDs  []string // approved org_id values
	issuers []string // empty: every issuer the tenant trusts
}

// check admits or refuses a registration by its software statement.
func check(in *registrar.PolicyInput) (*registrar.PolicyOutput, error) {
	cfg, err := readConfig(in.Config)
	if err != nil {
		return nil, err
	}
	if in.Phase == registrar.PhaseUpdate {
		// An update carries no verified statement (it must send the
		// client's unchanged): the client was admitted when it registered.
		return &registrar.PolicyOutput{Metadata: in.Metadata}, nil
	}
	st := in.SoftwareStatement
	if st == nil || !st.Verified {
		return nil, registrar.Reject(registrar.UnapprovedSoftwareStatement, "a verified software statement is required")
	}
	if len(cfg.issuers) > 0 && !slices.Contains(cfg.issuers, st.Issuer) {
		return nil, registrar.Reject(registrar.UnapprovedSoftwareStatement, "the software statement's issuer is not accepted here: "+st.Issuer)
	}
	// The claims' own type errors would be invalid_client_metadata; a
	// statement is refused with the statement's code.
	roles, err := st.Claims.StringSlice("software_roles")
	if err != nil {
		return nil, registrar.Reject(registrar.UnapprovedSoftwareStatement, "the software_roles claim must be an array of strings")
	}
	org, err := st.Claims.String("org_id")
	if err != nil {
		return nil, registrar.Reject(registrar.UnapprovedSoftwareStatement, "the org_id claim must be a string")
	}
	for _, r := range roles {
		if slices.Contains(cfg.roles, r) {
			return &registrar.PolicyOutput{Metadata: in.Metadata}, nil
		}
	}
	if org != "" && slices.Contains(cfg.orgIDs, org) {
		return &registrar.PolicyOutput{Metadata: in.Metadata}, nil
	}
	return nil, registrar.Reject(registrar.UnapprovedSoftwareStatement, "the software statement has no approved software_roles and no approved org_id")
}

// readConfig reads and checks the configuration: a missing or malformed
// one fails the call (server_error), as a misconfigured tenant should.
func readConfig(raw []byte) (*config, error) {
	if raw == nil {
		return nil, errors.New("statement-roles is not configured: set policy_config.statement-roles")
	}
	obj, err := registrar.ParseObject(raw)
	if err != nil {
		return nil, errors.New("statement-roles: the configuration must be an object")
	}
	cfg := &config{}
	for _, m := range []struct {
		name string
		dst  *[]string
	}{{"roles", &cfg.roles}, {"org_ids", &cfg.orgIDs}, {"issuers", &cfg.issuers}} {
		if *m.dst, err = obj.StringSlice(m.name); err != nil {
			return nil, errors.New("statement-roles: " + m.name + " must be an array of strings")
		}
	}
	if len(cfg.roles) == 0 && len(cfg.orgIDs) == 0 {
		return nil, errors.New("statement-roles: set roles or org_ids (or both): with neither, no client is admitted")
	}
	return cfg, nil
}
