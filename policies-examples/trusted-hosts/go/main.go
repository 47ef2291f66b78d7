// Command trusted-hosts is a Registrar policy module: it accepts redirect
// URIs, post-logout redirect URIs and client URIs only on the hosts its
// configuration trusts, and gives clients without a name a default one.
// See README.md.
package main

import (
	"errors"
	"strings"
	"unicode/utf8"

	registrar "github.com/registrar-dev/registrar/sdk/go"
	"github.com/registrar-dev/registrar/sdk/go/policy"
)

func init() { policy.Handle(check) }

// main never runs: a module is a library (-buildmode=c-shared).
func main() {}

// config is the module's configuration (the tenant's
// policy_config.trusted-hosts).
type config struct {
	hosts []pattern
	// defaultName is the client_name of clients that send none; "" for none.
	defaultName string
	// privateUse accepts redirect URIs without a host, such as
	// com.example.app:/callback (RFC 8252 §7.1), leaving them to
	// Registrar's own checks.
	privateUse bool
}

// parseConfig reads the configuration. A bad one is the operator's mistake,
// not the client's: it fails the call (server_error) rather than rejecting.
func parseConfig(raw []byte) (*config, error) {
	if raw == nil {
		return nil, errors.New("no configuration: set policy_config.trusted-hosts.hosts for the tenant")
	}
	obj, err := registrar.ParseObject(raw)
	if err != nil {
		return nil, errors.New("configuration must be a JSON object")
	}
	var c config
	hosts, err := obj.StringSlice("hosts")
	if err != nil || len(hosts) == 0 {
		return nil, errors.New("configuration: hosts must be a non-empty array of host names")
	}
	for _, h := range hosts {
		p, err := parsePattern(h)
		if err != nil {
			return nil, errors.New("configuration: hosts: " + err.Error())
		}
		c.hosts = append(c.hosts, p)
	}
	if c.defaultName, err = obj.String("default_client_name"); err != nil {
		return nil, errors.New("configuration: default_client_name must be a string")
	}
	if c.privateUse, err = obj.Bool("allow_private_use_schemes"); err != nil {
		return nil, errors.New("configuration: allow_private_use_schemes must be true or false")
	}
	return &c, nil
}

// cached is the last configuration parsed, with its JSON: an instance
// usually serves one tenant, so this saves parsing it on every call. (An
// instance may be replaced at any time; the cache is only a cache.)
var cached struct {
	raw string
	cfg *config
}

func check(in *registrar.PolicyInput) (*registrar.PolicyOutput, error) {
	cfg := cached.cfg
	if cfg == nil || cached.raw != string(in.Config) {
		var err error
		if cfg, err = parseConfig(in.Config); err != nil {
			return nil, err
		}
		cached.raw, cached.cfg = string(in.Config), cfg
	}
	md := in.Metadata
	if md == nil {
		md = &registrar.Object{}
	}
	if err := cfg.checkURIs(md, "redirect_uris", registrar.InvalidRedirectURI, true); err != nil {
		return nil, err
	}
	if err := cfg.checkURIs(md, "post_logout_redirect_uris", registrar.InvalidClientMetadata, false); err != nil {
		return nil, err
	}
	// client_uri and its language-tagged forms (client_uri#fr, RFC 7591 §2.2).
	for name := range md.All() {
		if name != "client_uri" && !strings.HasPrefix(name, "client_uri#") {
			continue
		}
		uri, err := md.String(name)
		if err != nil {
			return nil, err
		}
		if uri == "" {
			continue
		}
		if msg := cfg.judge(uri, false); msg != "" {
			return nil, registrar.Reject(registrar.InvalidClientMetadata, name+": "+quote(uri)+" "+msg)
		}
	}
	if cfg.defaultName != "" && !md.Has("client_name") {
		md.SetString("client_name", cfg.defaultName)
	}
	return &registrar.PolicyOutput{Metadata: md}, nil
}

// checkURIs judges every URI of an array member. A member of the wrong type
// is rejected: the policy runs before Registrar's validation, and a value
// it cannot read must not slip past it.
func (c *config) checkURIs(md *registrar.Object, name string, code registrar.Code, redirect bool) error {
	uris, err := md.StringSlice(name)
	if err != nil {
		return err
	}
	for _, uri := range uris {
		if msg := c.judge(uri, redirect); msg != "" {
			return registrar.Reject(code, name+": "+quote(uri)+" "+msg)
		}
	}
	return nil
}

// judge returns why a URI is not acceptable, or "".
func (c *config) judge(uri string, redirect bool) string {
	host, err := uriHost(uri)
	switch {
	case err != nil:
		return err.Error()
	case host == "" && redirect && c.privateUse:
		return "" // a private-use scheme: Registrar's validation decides
	case host == "":
		return "has no host"
	}
	for _, p := range c.hosts {
		if p.matches(host) {
			return ""
		}
	}
	return "is not on a trusted host"
}

// quote quotes a URI for an error description: cut to at most 200 bytes at
// a character boundary (with "..." if cut), in double quotes, with '"' and
// '\\' escaped by a backslash. (The SDK turns any control character into a
// space when it sends the description.)
func quote(s string) string {
	cut := ""
	if len(s) > 200 {
		n := 200
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s, cut = s[:n], "..."
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteString(cut)
	b.WriteByte('"')
	return b.String()
}
