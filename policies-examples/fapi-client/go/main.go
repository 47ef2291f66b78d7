// Command fapi-client is a Registrar policy module that holds client
// registrations to the FAPI 2.0 Security Profile: strong client
// authentication (private_key_jwt or tls_client_auth), PS256 or ES256
// only, keys by reference (jwks_uri, never jwks by value), sender-
// constrained tokens, the authorization code flow only, and https for
// every URI. It fills in the secure defaults a client leaves out and
// rejects what contradicts them. See README.md.
package main

import (
	"errors"
	"slices"
	"strings"

	registrar "github.com/registrar-dev/registrar/sdk/go"
	"github.com/registrar-dev/registrar/sdk/go/policy"
)

func init() { policy.Handle(check) }

// main never runs: a module is a library (-buildmode=c-shared).
func main() {}

// config is the module's configuration (policy_config.fapi-client); every
// member is optional.
type config struct {
	authMethods []string // allowed token_endpoint_auth_method values; the first is the default
	algs        []string // allowed signing algorithms; the first is the default
	mtlsBound   bool     // require tls_client_certificate_bound_access_tokens
}

func parseConfig(raw []byte) (*config, error) {
	c := &config{
		authMethods: []string{"private_key_jwt", "tls_client_auth"},
		algs:        []string{"PS256", "ES256"},
		mtlsBound:   true,
	}
	if raw == nil {
		return c, nil
	}
	obj, err := registrar.ParseObject(raw)
	if err != nil {
		return nil, configError("must be a JSON object")
	}
	if c.authMethods, err = configList(obj, "auth_methods", c.authMethods, func(m string) string {
		if m != "private_key_jwt" && m != "tls_client_auth" && m != "self_signed_tls_client_auth" {
			return m + " is not a FAPI 2.0 client authentication method"
		}
		return ""
	}); err != nil {
		return nil, err
	}
	if c.algs, err = configList(obj, "algs", c.algs, func(a string) string {
		if a != "PS256" && a != "ES256" && a != "EdDSA" {
			return a + " is not allowed by FAPI 2.0 (PS256, ES256, EdDSA)"
		}
		return ""
	}); err != nil {
		return nil, err
	}
	if obj.Has("require_mtls_bound_tokens") {
		if c.mtlsBound, err = obj.Bool("require_mtls_bound_tokens"); err != nil {
			return nil, configError("require_mtls_bound_tokens must be true or false")
		}
	}
	return c, nil
}

// configList reads the configuration's list name: def if it is absent,
// else a non-empty array of strings each of which check finds no fault
// with (check returns the fault, or "").
func configList(obj *registrar.Object, name string, def []string, check func(string) string) ([]string, error) {
	if !obj.Has(name) {
		return def, nil
	}
	list, err := obj.StringSlice(name)
	if err != nil || len(list) == 0 {
		return nil, configError(name + " must be a non-empty array of strings")
	}
	for _, v := range list {
		if why := check(v); why != "" {
			return nil, configError(name + ": " + why)
		}
	}
	return list, nil
}

// configError is a broken configuration: the operator's mistake, which
// fails the call (server_error) rather than rejecting the client.
func configError(msg string) error { return errors.New("configuration: " + msg) }

// uriMembers are the metadata members that hold one URI (RFC 7591,
// OpenID Connect Registration, RFC 8705, FAPI CIBA).
var uriMembers = []string{
	"client_uri", "logo_uri", "tos_uri", "policy_uri", "jwks_uri", "sector_identifier_uri",
	"initiate_login_uri", "backchannel_client_notification_endpoint",
}

// algMembers are the metadata members that name a signing algorithm.
var algMembers = []string{
	"id_token_signed_response_alg", "userinfo_signed_response_alg", "request_object_signing_alg",
	"authorization_signed_response_alg", "introspection_signed_response_alg",
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
	method, err := checkClientAuth(md, cfg)
	if err != nil {
		return nil, err
	}
	if err := checkAlgs(md, cfg); err != nil {
		return nil, err
	}
	if err := checkKeys(md, method); err != nil {
		return nil, err
	}
	if err := checkSenderConstrained(md, cfg); err != nil {
		return nil, err
	}
	if err := checkCodeFlow(md); err != nil {
		return nil, err
	}
	if err := checkHTTPS(md); err != nil {
		return nil, err
	}
	return &registrar.PolicyOutput{Metadata: md}, nil
}

// bad rejects the metadata with a message filled from format and args.
func bad(format string, args ...string) error {
	return registrar.Reject(registrar.InvalidClientMetadata, fill(format, args...))
}

// checkClientAuth checks the client authentication method and its signing
// algorithm, filling in the configured defaults, and returns the method.
func checkClientAuth(md *registrar.Object, cfg *config) (string, error) {
	method, err := md.String("token_endpoint_auth_method")
	if err != nil {
		return "", err
	}
	if method == "" {
		method = cfg.authMethods[0]
		md.SetString("token_endpoint_auth_method", method)
	}
	if !slices.Contains(cfg.authMethods, method) {
		return "", bad("token_endpoint_auth_method %s is not allowed: use one of %s", method, strings.Join(cfg.authMethods, ", "))
	}
	alg, err := md.String("token_endpoint_auth_signing_alg")
	if err != nil {
		return "", err
	}
	switch {
	case method == "private_key_jwt" && alg == "":
		md.SetString("token_endpoint_auth_signing_alg", cfg.algs[0])
	case alg != "" && !slices.Contains(cfg.algs, alg):
		return "", bad("token_endpoint_auth_signing_alg %s is not allowed: use one of %s", alg, strings.Join(cfg.algs, ", "))
	}
	if method == "tls_client_auth" && !hasAny(md, "tls_client_auth_subject_dn", "tls_client_auth_san_dns", "tls_client_auth_san_uri", "tls_client_auth_san_ip", "tls_client_auth_san_email") {
		return "", bad("tls_client_auth needs the certificate's subject: tls_client_auth_subject_dn or a tls_client_auth_san_* member (RFC 8705 §2.1.2)")
	}
	return method, nil
}

// checkAlgs checks the other members that name a signing algorithm.
func checkAlgs(md *registrar.Object, cfg *config) error {
	for _, name := range algMembers {
		a, err := md.String(name)
		if err != nil {
			return err
		}
		if a != "" && !slices.Contains(cfg.algs, a) {
			return bad("%s %s is not allowed: use one of %s", name, a, strings.Join(cfg.algs, ", "))
		}
	}
	return nil
}

// checkKeys allows keys by reference only.
func checkKeys(md *registrar.Object, method string) error {
	if md.Has("jwks") {
		return bad("jwks by value is not allowed: publish the keys at jwks_uri")
	}
	if !md.Has("jwks_uri") && method != "tls_client_auth" {
		return bad("jwks_uri is required")
	}
	return nil
}

// checkSenderConstrained requires certificate-bound access tokens, if
// configured.
func checkSenderConstrained(md *registrar.Object, cfg *config) error {
	if !cfg.mtlsBound {
		return nil
	}
	bound, err := md.Bool("tls_client_certificate_bound_access_tokens")
	if err != nil {
		return err
	}
	if md.Has("tls_client_certificate_bound_access_tokens") && !bound {
		return bad("tls_client_certificate_bound_access_tokens must be true")
	}
	md.SetBool("tls_client_certificate_bound_access_tokens", true)
	return nil
}

// checkCodeFlow allows the authorization code flow only.
func checkCodeFlow(md *registrar.Object) error {
	types, err := md.StringSlice("response_types")
	if err != nil {
		return err
	}
	for _, t := range types {
		if t != "code" {
			return bad("response_types %s is not allowed: only code", t)
		}
	}
	grants, err := md.StringSlice("grant_types")
	if err != nil {
		return err
	}
	for _, g := range grants {
		if g != "authorization_code" && g != "refresh_token" && g != "client_credentials" && g != "urn:openid:params:grant-type:ciba" {
			return bad("grant_types %s is not allowed", g)
		}
	}
	return nil
}

// checkHTTPS requires https in every URI: redirect URIs, the URI lists and
// the single-URI members, language-tagged forms included.
func checkHTTPS(md *registrar.Object) error {
	uris, err := md.StringSlice("redirect_uris")
	if err != nil {
		return err
	}
	for _, u := range uris {
		if !isHTTPS(u) {
			return registrar.Reject(registrar.InvalidRedirectURI, fill("redirect URI %s must use https", u))
		}
	}
	for _, list := range []string{"post_logout_redirect_uris", "request_uris"} {
		uris, err := md.StringSlice(list)
		if err != nil {
			return err
		}
		for _, u := range uris {
			if !isHTTPS(u) {
				return bad("%s: %s must use https", list, u)
			}
		}
	}
	for name := range md.All() {
		base, _, _ := strings.Cut(name, "#") // language-tagged forms, e.g. logo_uri#fr
		if !slices.Contains(uriMembers, base) {
			continue
		}
		u, err := md.String(name)
		if err != nil {
			return err
		}
		if u != "" && !isHTTPS(u) {
			return bad("%s %s must use https", name, u)
		}
	}
	return nil
}

// isHTTPS reports whether a URI is an https URL with a host.
func isHTTPS(u string) bool {
	rest, ok := strings.CutPrefix(strings.ToLower(u[:min(len(u), 8)]), "https://")
	return ok && rest == "" && len(u) > 8 && u[8] != '/'
}

func hasAny(md *registrar.Object, names ...string) bool {
	return slices.ContainsFunc(names, md.Has)
}

// fill replaces each %s of format with the next argument, quoting URIs and
// values longer than 200 bytes cut.
func fill(format string, args ...string) string {
	var b strings.Builder
	for {
		i := strings.Index(format, "%s")
		if i < 0 || len(args) == 0 {
			b.WriteString(format)
			return b.String()
		}
		b.WriteString(format[:i])
		a := args[0]
		if len(a) > 200 {
			a = a[:200] + "..."
		}
		b.WriteString(a)
		format, args = format[i+2:], args[1:]
	}
}
