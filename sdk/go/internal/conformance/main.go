// Command conformance is the Go SDK's conformance module: it exports every
// hook and does what its input's config asks, as sdk/testdata/vectors/README.md
// specifies, so that the shared ABI vectors exercise the whole SDK. It is
// built to conformance.wasm beside this file and replayed by the host's
// tests (go test ./plugins -run Vectors).
package main

import (
	"errors"

	registrar "github.com/registrar-dev/registrar/sdk/go"
	"github.com/registrar-dev/registrar/sdk/go/accesstoken"
	"github.com/registrar-dev/registrar/sdk/go/idfactory"
	"github.com/registrar-dev/registrar/sdk/go/issuetoken"
	"github.com/registrar-dev/registrar/sdk/go/policy"
	"github.com/registrar-dev/registrar/sdk/go/rotatetoken"
	"github.com/registrar-dev/registrar/sdk/go/secretfactory"
)

func init() {
	policy.Handle(checkPolicy)
	idfactory.Handle(makeID)
	secretfactory.Handle(makeSecret)
	issuetoken.Handle(decide)
	rotatetoken.Handle(decide)
	accesstoken.Handle(issueAccessToken)
}

// main never runs: a module is a library (-buildmode=c-shared).
func main() {}

// common applies the instructions every hook follows: log, fail, reject.
func common(env *registrar.Envelope) (*registrar.Object, error) {
	cfg, err := registrar.ParseObject(env.Config)
	if env.Config == nil {
		cfg, err = &registrar.Object{}, nil
	}
	if err != nil {
		return nil, errors.New("conformance: config must be an object")
	}
	if msg, err := cfg.String("log"); err != nil {
		return nil, err
	} else if msg != "" {
		registrar.Log(registrar.LevelInfo, msg)
	}
	if cfg.Has("fail") {
		msg, err := cfg.String("fail")
		if err != nil {
			return nil, err
		}
		return nil, errors.New(msg)
	}
	if r, err := cfg.Object("reject"); err != nil {
		return nil, err
	} else if r != nil {
		code, err := r.String("code")
		if err != nil {
			return nil, err
		}
		desc, err := r.String("description")
		if err != nil {
			return nil, err
		}
		return nil, registrar.Reject(registrar.Code(code), desc)
	}
	return cfg, nil
}

func checkPolicy(in *registrar.PolicyInput) (*registrar.PolicyOutput, error) {
	cfg, err := common(&in.Envelope)
	if err != nil {
		return nil, err
	}
	if ok, err := cfg.Bool("as_is"); err != nil {
		return nil, err
	} else if ok {
		return nil, nil
	}
	md := in.Metadata
	if md == nil {
		md = &registrar.Object{}
	}
	if err := envelope(cfg, in, md); err != nil {
		return nil, err
	}
	if err := readTyped(cfg, md); err != nil {
		return nil, err
	}
	names, err := cfg.StringSlice("delete")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		md.Delete(name)
	}
	set, err := cfg.Object("set")
	if err != nil {
		return nil, err
	}
	for name, value := range set.All() {
		md.Set(name, value)
	}
	out := &registrar.PolicyOutput{Metadata: md}
	if cfg.Has("registration_policies") {
		if out.RegistrationPolicies, err = cfg.StringSlice("registration_policies"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// envelope applies the envelope instruction, then the statement
// instructions.
func envelope(cfg *registrar.Object, in *registrar.PolicyInput, md *registrar.Object) error {
	if ok, err := cfg.Bool("envelope"); err != nil {
		return err
	} else if ok {
		md.SetInt64("x_abi", int64(in.ABI))
		md.SetString("x_hook", in.Hook)
		md.SetString("x_tenant", in.Tenant)
		md.SetInt64("x_now", in.Now.Unix())
		md.SetString("x_token_kind", in.Token.Kind)
		md.SetString("x_token_id", in.Token.ID)
		md.SetStringSlice("x_token_policies", in.Token.Policies)
		md.SetString("x_token_client_id", in.Token.ClientID)
		md.SetString("x_remote_ip", in.Request.RemoteIP)
		md.SetString("x_phase", string(in.Phase))
		md.SetString("x_client_id", in.ClientID)
		md.SetStringSlice("x_policies", in.Policies)
		if in.Current != nil {
			md.Set("x_current", in.Current.AppendJSON(nil))
		}
	}
	return statement(cfg, in.SoftwareStatement, md)
}

// statement applies the statement, statement_strings and
// statement_string_arrays instructions: the software statement's members,
// and its claims read with the typed accessors, copied to the metadata.
func statement(cfg *registrar.Object, st *registrar.SoftwareStatement, md *registrar.Object) error {
	if ok, err := cfg.Bool("statement"); err != nil {
		return err
	} else if ok {
		md.SetBool("x_statement", st != nil)
		if st != nil {
			md.SetString("x_statement_issuer", st.Issuer)
			md.SetBool("x_statement_verified", st.Verified)
			md.Set("x_statement_claims", st.Claims.AppendJSON(nil))
		}
	}
	var claims *registrar.Object
	if st != nil {
		claims = st.Claims
	}
	names, err := cfg.StringSlice("statement_strings")
	if err != nil {
		return err
	}
	for _, name := range names {
		v, err := claims.String(name)
		if err != nil {
			return err
		}
		if claims.Has(name) {
			md.SetString("x_claim_"+name, v)
		}
	}
	if names, err = cfg.StringSlice("statement_string_arrays"); err != nil {
		return err
	}
	for _, name := range names {
		v, err := claims.StringSlice(name)
		if err != nil {
			return err
		}
		if claims.Has(name) {
			md.SetStringSlice("x_claim_"+name, v)
		}
	}
	return nil
}

// readTyped reads the members that config's strings, string_arrays, bools,
// integers and objects name with the typed accessors, and copies each one
// present to x_<name> with the matching setter.
func readTyped(cfg, md *registrar.Object) error {
	kinds := []struct {
		list string
		copy func(name string) error
	}{
		{"strings", func(name string) error {
			v, err := md.String(name)
			if err == nil && md.Has(name) {
				md.SetString("x_"+name, v)
			}
			return err
		}},
		{"string_arrays", func(name string) error {
			v, err := md.StringSlice(name)
			if err == nil && md.Has(name) {
				md.SetStringSlice("x_"+name, v)
			}
			return err
		}},
		{"bools", func(name string) error {
			v, err := md.Bool(name)
			if err == nil && md.Has(name) {
				md.SetBool("x_"+name, v)
			}
			return err
		}},
		{"integers", func(name string) error {
			v, err := md.Int64(name)
			if err == nil && md.Has(name) {
				md.SetInt64("x_"+name, v)
			}
			return err
		}},
		{"objects", func(name string) error {
			v, err := md.Object(name)
			if err == nil && v != nil {
				md.Set("x_"+name, v.AppendJSON(nil))
			}
			return err
		}},
	}
	for _, k := range kinds {
		names, err := cfg.StringSlice(k.list)
		if err != nil {
			return err
		}
		for _, name := range names {
			if err := k.copy(name); err != nil {
				return err
			}
		}
	}
	return nil
}

func makeID(in *registrar.FactoryInput) (string, error) {
	cfg, err := common(&in.Envelope)
	if err != nil {
		return "", err
	}
	if cfg.Has("client_id") {
		return cfg.String("client_id")
	}
	return in.Tenant + "-" + registrar.RandomString(26, registrar.Base32), nil
}

func makeSecret(in *registrar.FactoryInput) (string, error) {
	cfg, err := common(&in.Envelope)
	if err != nil {
		return "", err
	}
	if cfg.Has("client_secret") {
		return cfg.String("client_secret")
	}
	n, err := cfg.Int64("length")
	if err != nil {
		return "", err
	}
	if n == 0 {
		n = 48
	}
	if n < 0 || n > 512 {
		return "", errors.New("conformance: length must be 1 to 512")
	}
	return registrar.RandomString(int(n), registrar.Base62), nil
}

func decide(in *registrar.DecisionInput) (bool, error) {
	cfg, err := common(&in.Envelope)
	if err != nil {
		return false, err
	}
	if cfg.Has("decision") {
		return cfg.Bool("decision")
	}
	method, err := in.Metadata.String("token_endpoint_auth_method")
	if err != nil {
		return false, err
	}
	return method != "none", nil
}

func issueAccessToken(in *registrar.AccessTokenInput) (*registrar.AccessTokenOutput, error) {
	cfg, err := common(&in.Envelope)
	if err != nil {
		return nil, err
	}
	if ok, err := cfg.Bool("as_is"); err != nil || ok {
		return nil, err
	}
	out := &registrar.AccessTokenOutput{Claims: &registrar.Object{}}
	if ok, err := cfg.Bool("envelope"); err != nil {
		return nil, err
	} else if ok {
		if err := envelopeClaims(in, out.Claims); err != nil {
			return nil, err
		}
	}
	if out.Scope, err = list(cfg, "scope"); err != nil {
		return nil, err
	}
	if out.Audience, err = list(cfg, "audience"); err != nil {
		return nil, err
	}
	if out.Lifetime, err = cfg.Int64("lifetime"); err != nil {
		return nil, err
	}
	claims, err := cfg.Object("claims")
	if err != nil {
		return nil, err
	}
	for name, value := range claims.All() {
		out.Claims.Set(name, value)
	}
	return out, nil
}

// envelopeClaims sets the x_ claims of the envelope instruction.
func envelopeClaims(in *registrar.AccessTokenInput, c *registrar.Object) error {
	c.SetString("x_client_id", in.ClientID)
	c.SetString("x_grant_type", in.GrantType)
	c.SetString("x_auth_method", in.AuthMethod)
	c.SetStringSlice("x_requested_scope", in.RequestedScope)
	c.SetStringSlice("x_allowed_scope", in.AllowedScope)
	c.SetStringSlice("x_scope", in.Scope)
	c.SetStringSlice("x_resources", in.Resources)
	c.SetStringSlice("x_audience", in.Audience)
	c.SetInt64("x_lifetime", in.Lifetime)
	c.SetStringSlice("x_policies", in.Policies)
	method, err := in.Metadata.String("token_endpoint_auth_method")
	if err != nil {
		return err
	}
	c.SetString("x_token_endpoint_auth_method", method)
	if in.Claims != nil {
		c.Set("x_claims", in.Claims.AppendJSON(nil))
	}
	return nil
}

// list reads a config array of strings: nil if absent, [] if null.
func list(cfg *registrar.Object, name string) ([]string, error) {
	if !cfg.Has(name) {
		return nil, nil
	}
	v, err := cfg.StringSlice(name)
	if v == nil {
		v = []string{}
	}
	return v, err
}
