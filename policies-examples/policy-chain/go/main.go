// Command policy-chain is a Registrar policy module meant to run last in a
// chain of policies. At registration it checks that the members the tenant
// requires are there and sets the policy list that the client's
// registration access token carries, so that updates run a different
// chain than the registration did; at update it keeps the members that
// identify the software from changing. See README.md.
package main

import (
	"encoding/json"
	"errors"
	"reflect"

	registrar "github.com/registrar-dev/registrar/sdk/go"
	"github.com/registrar-dev/registrar/sdk/go/policy"
)

func init() { policy.Handle(check) }

// main never runs: a module is a library (-buildmode=c-shared).
func main() {}

// config is the module's configuration (policy_config.policy-chain).
type config struct {
	// registrationPolicies, unless nil, is the policy list of the client's
	// registration access token: the chain every later update runs.
	registrationPolicies []string
	// required members must be present (and not null) at registration.
	required []string
	// immutable members may not change in an update.
	immutable []string
}

func parseConfig(raw []byte) (*config, error) {
	c := &config{immutable: []string{"software_id", "software_statement"}}
	if raw == nil {
		return c, nil
	}
	obj, err := registrar.ParseObject(raw)
	if err != nil {
		return nil, errors.New("configuration must be a JSON object")
	}
	if obj.Has("registration_policies") {
		if c.registrationPolicies, err = obj.StringSlice("registration_policies"); err != nil {
			return nil, errors.New("configuration: registration_policies must be an array of policy names")
		}
	}
	if c.required, err = obj.StringSlice("required"); err != nil {
		return nil, errors.New("configuration: required must be an array of member names")
	}
	if obj.Has("immutable") {
		if c.immutable, err = obj.StringSlice("immutable"); err != nil {
			return nil, errors.New("configuration: immutable must be an array of member names")
		}
	}
	return c, nil
}

func check(in *registrar.PolicyInput) (*registrar.PolicyOutput, error) {
	cfg, err := parseConfig(in.Config)
	if err != nil {
		return nil, err
	}
	md := in.Metadata
	if md == nil {
		md = &registrar.Object{}
	}
	out := &registrar.PolicyOutput{Metadata: md}
	switch in.Phase {
	case registrar.PhaseRegister:
		for _, name := range cfg.required {
			if !md.Has(name) {
				return nil, registrar.Reject(registrar.InvalidClientMetadata, name+" is required")
			}
		}
		// nil leaves the token's list as it is; [] means no policy.
		out.RegistrationPolicies = cfg.registrationPolicies
		registrar.Log(registrar.LevelDebug, "registration runs "+list(in.Policies)+"; updates will run "+list(cfg.registrationPolicies))
	case registrar.PhaseUpdate:
		for _, name := range cfg.immutable {
			if !sameMember(md, in.Current, name) {
				return nil, registrar.Reject(registrar.InvalidClientMetadata, name+" cannot be changed by an update; register a new client instead")
			}
		}
	}
	return out, nil
}

// sameMember reports whether a member has the same JSON value (or is
// absent, or null) in both objects. Values are compared as JSON, not as
// text: the stored metadata need not be spelled as the request is.
func sameMember(a, b *registrar.Object, name string) bool {
	ra, oka := a.Get(name)
	rb, okb := b.Get(name)
	oka = oka && string(ra) != "null"
	okb = okb && string(rb) != "null"
	if !oka || !okb {
		return oka == okb
	}
	var va, vb any
	if json.Unmarshal(ra, &va) != nil || json.Unmarshal(rb, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

func list(names []string) string {
	if names == nil {
		return "the same policies"
	}
	b, _ := json.Marshal(names)
	return string(b)
}
