package engine

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// KeySetChecker checks the jwks member of client metadata. The jose package
// implements it with a full JOSE library; engine itself parses no keys.
type KeySetChecker interface {
	// CheckKeySet returns nil if raw is a JWK Set (RFC 7517 §5) of one or
	// more public, asymmetric keys, and otherwise an error whose message
	// says what is wrong, fit to show to the client.
	CheckKeySet(raw json.RawMessage) error
}

// ValidateMetadata checks client metadata as a tenant with settings s would,
// and returns it in validated form. keys checks the jwks member; it may be
// nil only if jwks is absent. hosts normalises the hosts of URI members;
// nil refuses hosts that would need IDNA. It is the validation step of the registration
// pipeline, exported for tools and tests.
func ValidateMetadata(s Settings, obj map[string]json.RawMessage, keys KeySetChecker, hosts HostNormalizer) (Metadata, error) {
	t, err := compileTenant("validate", s, keys, hosts)
	if err != nil {
		return Metadata{}, err
	}
	return t.validate(obj, keys, hosts)
}

// validate checks raw metadata against the RFC rules and the tenant's
// settings. Checks run in a fixed order and the first failure is returned,
// as an *Error with code invalid_redirect_uri, invalid_client_metadata or
// invalid_software_statement. Unknown members are dropped unless the tenant
// allows them; server-managed members are ignored. The hosts of URI
// members are first normalised with hosts (in obj itself).
func (t *tenant) validate(obj map[string]json.RawMessage, keys KeySetChecker, hosts HostNormalizer) (Metadata, error) {
	v := validator{t: t, m: member{obj}, hosts: hosts}
	md, err := v.run(keys)
	if err != nil {
		return Metadata{}, err
	}
	return md, nil
}

type validator struct {
	t  *tenant
	m  member
	md Metadata
	// hosts normalises the hosts of URI members before any rule runs.
	hosts HostNormalizer
	// defaults is set while a tenant's client_defaults are checked on their
	// own: rules that only a member the client supplies itself can satisfy
	// (its redirect URIs, its keys, its TLS identity, its choice of
	// authentication method) are skipped; every other rule applies.
	defaults bool
}

// clientMust returns err, unless the validator checks client_defaults, in
// which case the client may still supply what err asks for.
func (v *validator) clientMust(err *Error) error {
	if v.defaults {
		return nil
	}
	return err
}

// checkDefaults validates the tenant's client_defaults as the metadata of
// a request that sends nothing else, so that settings whose defaults would
// make registrations fail are refused when they are saved, not at every
// registration afterwards.
func (t *tenant) checkDefaults(keys KeySetChecker, hosts HostNormalizer) error {
	v := validator{t: t, m: member{cloneRaw(t.defaults)}, hosts: hosts, defaults: true}
	_, err := v.run(keys)
	return err
}

func invalid(format string, args ...any) *Error {
	return Errorf(CodeInvalidClientMetadata, format, args...)
}

// metadataError turns a member-reading error into invalid_client_metadata.
func metadataError(err error) *Error {
	return &Error{Code: CodeInvalidClientMetadata, Description: err.Error()}
}

func (v *validator) run(keys KeySetChecker) (Metadata, error) {
	steps := []func() error{
		func() error { return normalizeHosts(v.m.obj, v.hosts) },
		v.applicationType,
		v.authMethod,
		v.responseAndGrantTypes,
		v.redirectURIs,
		v.postLogoutRedirectURIs,
		v.humanReadable,
		v.scope,
		v.contacts,
		func() error { return v.keys(keys) },
		v.signingAlgs,
		v.tlsClientAuth,
		v.software,
		v.subject,
		v.oidcMisc,
		v.extras,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return Metadata{}, err
		}
	}
	return v.md, nil
}

func (v *validator) oneOf(name, def string, allowed []string) (string, error) {
	s, ok, err := v.m.str(name)
	if err != nil {
		return "", metadataError(err)
	}
	if !ok {
		return def, nil
	}
	if !slices.Contains(allowed, s) {
		return "", invalid("%s %q is not supported; use one of: %s", name, truncate(s, 64), strings.Join(allowed, ", "))
	}
	return s, nil
}

func (v *validator) applicationType() (err error) {
	v.md.ApplicationType, err = v.oneOf("application_type", "web", []string{"web", "native"})
	return err
}

func (v *validator) authMethod() (err error) {
	if err := v.secretJWTRefused(); err != nil {
		return err
	}
	v.md.TokenEndpointAuthMethod, err = v.oneOf("token_endpoint_auth_method", "client_secret_basic", v.t.authMethods)
	if err == nil && !slices.Contains(v.t.authMethods, v.md.TokenEndpointAuthMethod) {
		// The RFC 7591 default is not offered here: the client must choose.
		return v.clientMust(invalid("token_endpoint_auth_method is required: the default client_secret_basic is not supported; use one of: %s", strings.Join(v.t.authMethods, ", ")))
	}
	return err
}

// responseTypeTokens are the tokens a response type may combine (OAuth 2.0
// Multiple Response Type Encoding Practices).
var responseTypeTokens = []string{"code", "id_token", "token", "none"}

// normalizeResponseType sorts and de-duplicates the space-separated tokens
// of a response type, so "id_token code" and "code id_token" are one value.
func normalizeResponseType(rt string) (string, bool) {
	toks := strings.Split(rt, " ")
	for _, tok := range toks {
		if !slices.Contains(responseTypeTokens, tok) {
			return "", false
		}
	}
	slices.Sort(toks)
	toks = slices.Compact(toks)
	if slices.Contains(toks, "none") && len(toks) > 1 {
		return "", false
	}
	return strings.Join(toks, " "), true
}

// responseAndGrantTypes checks response_types and grant_types, derives
// the one from the other when only one is given (RFC 7591 §2.1), and checks
// that the pair is consistent and supported.
func (v *validator) responseAndGrantTypes() error {
	rts, rtSet, err := v.m.strs("response_types")
	if err != nil {
		return metadataError(err)
	}
	gts, gtSet, err := v.m.strs("grant_types")
	if err != nil {
		return metadataError(err)
	}
	if v.defaults && !rtSet && !gtSet {
		// The RFC pair of defaults is the tenant's to offer or not: a tenant
		// without authorization_code expects each client to choose.
		return nil
	}
	norm, err := v.supportedPair(rts, gts)
	if err != nil {
		return err
	}
	if norm, gts, err = derivePair(norm, gts, rtSet, gtSet, v.t.profile.HybridWithoutImplicit); err != nil {
		return err
	}
	if err := v.consistentPair(norm, gts); err != nil {
		return err
	}
	v.md.ResponseTypes, v.md.GrantTypes = norm, gts
	return nil
}

// supportedPair normalises the response types and checks both lists
// against what the tenant supports.
func (v *validator) supportedPair(rts, gts []string) ([]string, error) {
	var norm []string
	for _, rt := range rts {
		n, ok := normalizeResponseType(rt)
		if !ok || !slices.Contains(v.t.responseTypes, n) {
			return nil, invalid("response_types %q is not supported; use any of: %s", truncate(rt, 64), strings.Join(v.t.responseTypes, ", "))
		}
		if !slices.Contains(norm, n) {
			norm = append(norm, n)
		}
	}
	for _, gt := range gts {
		if !slices.Contains(v.t.grantTypes, gt) {
			return nil, invalid("grant_types %q is not supported; use any of: %s", truncate(gt, 64), strings.Join(v.t.grantTypes, ", "))
		}
	}
	return norm, nil
}

// derivePair applies RFC 7591 §2's defaults: neither member gives code and
// authorization_code; one member alone gives the other what it needs.
func derivePair(norm, gts []string, rtSet, gtSet, hybrid bool) ([]string, []string, error) {
	code, implicit := responseTypeNeeds(norm, hybrid)
	switch {
	case !rtSet && !gtSet:
		norm, gts = []string{"code"}, []string{"authorization_code"}
	case !gtSet: // derive the grant types the response types need
		gts = []string{}
		if code {
			gts = append(gts, "authorization_code")
		}
		if implicit {
			gts = append(gts, "implicit")
		}
	case !rtSet: // derive the response types the grant types need
		norm = []string{}
		if slices.Contains(gts, "authorization_code") {
			norm = append(norm, "code")
		}
		if slices.Contains(gts, "implicit") {
			return nil, nil, invalid("grant_types implicit needs response_types saying which tokens the authorization endpoint returns")
		}
	}
	if norm == nil {
		norm = []string{}
	}
	if len(norm) == 0 && len(gts) == 0 {
		// RFC 7591 §2 defaults grant_types only when it is omitted; an empty
		// list says the client uses neither the token nor the authorization
		// endpoint, which no client can work with, so it is refused rather
		// than silently widened to authorization_code.
		return nil, nil, invalid("grant_types and response_types leave the client no grant type and no response type; omit grant_types for the default authorization_code, or name the grant types the client uses")
	}
	return norm, gts, nil
}

// consistentPair checks that response and grant types need each other,
// that the derived values are supported too, and that client_credentials
// goes to a client that authenticates.
func (v *validator) consistentPair(norm, gts []string) error {
	code, implicit := responseTypeNeeds(norm, v.t.profile.HybridWithoutImplicit)
	_, mayImplicit := responseTypeNeeds(norm, false)
	hasGrant := func(g string) bool { return slices.Contains(gts, g) }
	switch {
	case code && !hasGrant("authorization_code"):
		return invalid("response_types with code need grant_types authorization_code")
	case implicit && !hasGrant("implicit"):
		return invalid("response_types with token or id_token need grant_types implicit")
	case hasGrant("authorization_code") && !code:
		return invalid("grant_types authorization_code needs a response type with code")
	case hasGrant("implicit") && !mayImplicit:
		return invalid("grant_types implicit needs a response type with token or id_token")
	}
	for _, g := range gts {
		if !slices.Contains(v.t.grantTypes, g) {
			return invalid("grant_types %q is not supported; use any of: %s", g, strings.Join(v.t.grantTypes, ", "))
		}
	}
	for _, rt := range norm {
		if !slices.Contains(v.t.responseTypes, rt) {
			return invalid("response_types %q is not supported; use any of: %s", rt, strings.Join(v.t.responseTypes, ", "))
		}
	}
	if hasGrant("client_credentials") && v.md.TokenEndpointAuthMethod == "none" {
		// RFC 6749 §4.4: only confidential clients use this grant.
		return invalid("grant_types client_credentials needs a token_endpoint_auth_method that authenticates the client, not none")
	}
	return nil
}

// responseTypeNeeds reports whether any response type returns a code, and
// whether any returns a token or ID token from the authorization endpoint.
// With hybrid (Profile.HybridWithoutImplicit), "code id_token" needs only
// the code's grant.
func responseTypeNeeds(rts []string, hybrid bool) (code, implicit bool) {
	for _, rt := range rts {
		if hybrid && rt == "code id_token" {
			code = true
			continue
		}
		for tok := range strings.SplitSeq(rt, " ") {
			switch tok {
			case "code":
				code = true
			case "token", "id_token":
				implicit = true
			}
		}
	}
	return code, implicit
}

func (v *validator) redirectURIs() error {
	uris, _, err := v.m.strs("redirect_uris")
	if err != nil {
		return Errorf(CodeInvalidRedirectURI, "%s", err.Error())
	}
	if uris == nil {
		uris = []string{}
	}
	if len(v.md.ResponseTypes) > 0 && len(uris) == 0 {
		return v.clientMust(Errorf(CodeInvalidRedirectURI, "redirect_uris is required for clients that use the authorization endpoint"))
	}
	implicit := slices.Contains(v.md.GrantTypes, "implicit")
	for _, u := range uris {
		if msg := v.checkRedirectURI(u, implicit); msg != "" {
			return Errorf(CodeInvalidRedirectURI, "redirect_uris: %q %s", truncate(u, 128), msg)
		}
	}
	v.md.RedirectURIs = uris
	return nil
}

func (v *validator) postLogoutRedirectURIs() error {
	uris, _, err := v.m.strs("post_logout_redirect_uris")
	if err != nil {
		return metadataError(err)
	}
	for _, u := range uris {
		if msg := v.checkRedirectURI(u, false); msg != "" {
			return invalid("post_logout_redirect_uris: %q %s", truncate(u, 128), msg)
		}
	}
	v.md.PostLogoutRedirectURIs = nilIfEmpty(uris)
	return nil
}

// languageTag is the shape of a BCP 47 language tag (RFC 5646 §2.1),
// checked loosely: subtags of 1-8 letters or digits, the first letters only.
var languageTag = regexp.MustCompile(`^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$`)

// isLocalizedName reports whether name is a language-tagged variant of a
// human-readable member, such as "client_name#ja-Jpan-JP".
func isLocalizedName(name string) bool {
	base, tag, ok := strings.Cut(name, "#")
	return ok && localizable[base] && languageTag.MatchString(tag)
}

func (v *validator) humanReadable() error {
	fields := []struct {
		name string
		dst  *string
	}{
		{"client_name", &v.md.ClientName}, {"client_uri", &v.md.ClientURI},
		{"logo_uri", &v.md.LogoURI}, {"policy_uri", &v.md.PolicyURI},
		{"tos_uri", &v.md.TOSURI},
	}
	for _, f := range fields {
		s, ok, err := v.m.str(f.name)
		if err != nil {
			return metadataError(err)
		}
		if !ok {
			continue
		}
		if err := checkHumanReadable(f.name, s); err != nil {
			return err
		}
		*f.dst = s
	}
	return v.localized()
}

// localized checks the language-tagged variants (client_name#ja-Jpan-JP)
// of the human-readable members.
func (v *validator) localized() error {
	var names []string // sorted, so that the first bad one is reported
	for name := range v.m.obj {
		if base, _, ok := strings.Cut(name, "#"); ok && localizable[base] {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		base, _, _ := strings.Cut(name, "#")
		if !isLocalizedName(name) {
			return invalid("%s: %q is not a valid language tag", base, truncate(name[len(base)+1:], 64))
		}
		s, ok, err := v.m.str(name)
		if err != nil {
			return metadataError(err)
		}
		if !ok {
			continue
		}
		if err := checkHumanReadable(name, s); err != nil {
			return err
		}
		if v.md.Localized == nil {
			v.md.Localized = map[string]string{}
		}
		v.md.Localized[name] = s
	}
	return nil
}

// checkHumanReadable checks one human-readable member: a name is printable
// text, the others web URLs.
func checkHumanReadable(name, value string) error {
	if strings.HasPrefix(name, "client_name") {
		if !printable(value, true) {
			return invalid("%s must not contain control characters", name)
		}
		return nil
	}
	if msg := checkWebURL(value, false); msg != "" {
		return invalid("%s %s", name, msg)
	}
	return nil
}

// validScopeToken reports whether s is a scope-token of RFC 6749 §3.3.
func validScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c == 0x22 || c == 0x5C || c > 0x7E {
			return false
		}
	}
	return true
}

func (v *validator) scope() error {
	s, ok, err := v.m.str("scope")
	if err != nil || !ok {
		if err != nil {
			return metadataError(err)
		}
		return nil
	}
	var out []string
	for tok := range strings.SplitSeq(s, " ") {
		if !validScopeToken(tok) {
			return invalid("scope must be scope tokens separated by single spaces (RFC 6749 §3.3)")
		}
		if len(v.t.settings.ScopesSupported) > 0 && !slices.Contains(v.t.settings.ScopesSupported, tok) {
			return invalid("scope %q is not supported", truncate(tok, 64))
		}
		if !slices.Contains(out, tok) {
			out = append(out, tok)
		}
	}
	v.md.Scope = strings.Join(out, " ")
	return nil
}

// validEmail reports whether s is a bare e-mail address (no display name).
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}

func (v *validator) contacts() error {
	cs, _, err := v.m.strs("contacts")
	if err != nil {
		return metadataError(err)
	}
	for _, c := range cs {
		if !validEmail(c) {
			return invalid("contacts: %q is not an e-mail address", truncate(c, 128))
		}
	}
	v.md.Contacts = nilIfEmpty(cs)
	return nil
}

func (v *validator) keys(checker KeySetChecker) error {
	uri, hasURI, err := v.m.str("jwks_uri")
	if err != nil {
		return metadataError(err)
	}
	hasSet := v.m.present("jwks")
	if hasURI && hasSet {
		return invalid("jwks and jwks_uri must not both be present")
	}
	if hasURI {
		if msg := checkWebURL(uri, true); msg != "" {
			return invalid("jwks_uri %s", msg)
		}
		v.md.JWKSURI = uri
	}
	if hasSet {
		raw := v.m.obj["jwks"]
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(raw, &probe); err != nil {
			return invalid("jwks must be a JSON object (a JWK Set)")
		}
		if checker == nil {
			return serverError("cannot check jwks", fmt.Errorf("engine: no KeySetChecker configured"))
		}
		if err := checker.CheckKeySet(raw); err != nil {
			return invalid("jwks is not a valid public JWK Set: %v", err)
		}
		v.md.JWKS = compactJSON(raw)
	}
	method := v.md.TokenEndpointAuthMethod
	if (method == "private_key_jwt" || method == "self_signed_tls_client_auth") && !hasURI && !hasSet {
		return v.clientMust(invalid("jwks or jwks_uri is required for token_endpoint_auth_method %s", method))
	}
	return nil
}

func (v *validator) alg(name string) (string, error) {
	s, ok, err := v.m.str(name)
	if err != nil {
		return "", metadataError(err)
	}
	if !ok {
		return "", nil
	}
	if !slices.Contains(v.t.signingAlgs, s) {
		return "", invalid("%s %q is not supported; use one of: %s", name, truncate(s, 32), strings.Join(v.t.signingAlgs, ", "))
	}
	return s, nil
}

func (v *validator) signingAlgs() error {
	err := v.authSigningAlg()
	if err != nil {
		return err
	}
	if v.md.IDTokenSignedResponseAlg, err = v.alg("id_token_signed_response_alg"); err != nil {
		return err
	}
	if v.md.UserinfoSignedResponseAlg, err = v.alg("userinfo_signed_response_alg"); err != nil {
		return err
	}
	if v.md.RequestObjectSigningAlg, err = v.alg("request_object_signing_alg"); err != nil {
		return err
	}
	if v.md.RequestObjectSigningAlg != "" && v.md.JWKS == nil && v.md.JWKSURI == "" {
		return v.clientMust(invalid("jwks or jwks_uri is required with request_object_signing_alg"))
	}
	return nil
}

func (v *validator) tlsClientAuth() error {
	fields := []struct {
		name  string
		dst   *string
		check func(string) bool
	}{
		{"tls_client_auth_subject_dn", &v.md.TLSClientAuthSubjectDN, func(s string) bool { _, err := ParseDN(s); return err == nil && printable(s, true) }},
		{"tls_client_auth_san_dns", &v.md.TLSClientAuthSANDNS, validDNSName},
		{"tls_client_auth_san_uri", &v.md.TLSClientAuthSANURI, func(s string) bool {
			u, err := url.Parse(s)
			return err == nil && u.Scheme != "" && printable(s, false)
		}},
		{"tls_client_auth_san_ip", &v.md.TLSClientAuthSANIP, validIP},
		{"tls_client_auth_san_email", &v.md.TLSClientAuthSANEmail, validEmail},
	}
	n := 0
	for _, f := range fields {
		s, ok, err := v.m.str(f.name)
		if err != nil {
			return metadataError(err)
		}
		if !ok {
			continue
		}
		if v.md.TokenEndpointAuthMethod != "tls_client_auth" {
			return invalid("%s is only used with token_endpoint_auth_method tls_client_auth", f.name)
		}
		if !f.check(s) {
			return invalid("%s %q is not well-formed", f.name, truncate(s, 128))
		}
		*f.dst = s
		n++
	}
	if v.md.TokenEndpointAuthMethod == "tls_client_auth" && n != 1 && !(n == 0 && v.defaults) {
		return invalid("token_endpoint_auth_method tls_client_auth needs exactly one tls_client_auth_* member (RFC 8705 §2.1.2)")
	}
	bound, _, err := v.m.boolean("tls_client_certificate_bound_access_tokens")
	if err != nil {
		return metadataError(err)
	}
	v.md.TLSClientCertificateBoundAccessTokens = bound
	return nil
}

// isCompactJWS reports whether s has the shape of a JWS in compact
// serialization with a payload: three base64url segments, the first two
// not empty. A loop, not a regular expression: a statement is some
// kilobytes long, and this runs on every registration that carries one.
func isCompactJWS(s string) bool {
	seg, n := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			if n == 0 || seg == 2 {
				return false
			}
			seg, n = seg+1, 0
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
			n++
		default:
			return false
		}
	}
	return seg == 2
}

func (v *validator) software() error {
	for _, f := range []struct {
		name string
		dst  *string
	}{{"software_id", &v.md.SoftwareID}, {"software_version", &v.md.SoftwareVersion}} {
		s, _, err := v.m.str(f.name)
		if err != nil {
			return metadataError(err)
		}
		if !printable(s, true) {
			return invalid("%s must not contain control characters", f.name)
		}
		*f.dst = s
	}
	s, ok, err := v.m.str("software_statement")
	if err != nil {
		return &Error{Code: CodeInvalidSoftwareStatement, Description: err.Error()}
	}
	if ok && !isCompactJWS(s) {
		return Errorf(CodeInvalidSoftwareStatement, "software_statement must be a JWT in JWS compact serialization")
	}
	v.md.SoftwareStatement = s
	return nil
}

func (v *validator) subject() error {
	st, err := v.oneOf("subject_type", "", v.t.subjectTypes)
	if err != nil {
		return err
	}
	v.md.SubjectType = st
	hasSector, err := v.httpsURL("sector_identifier_uri", &v.md.SectorIdentifierURI)
	if err != nil {
		return err
	}
	if st == "pairwise" && !hasSector {
		hosts := map[string]bool{}
		for _, u := range v.md.RedirectURIs {
			// The sector is the host component (OpenID Connect Core §8.1):
			// without the port, and case-insensitive.
			if p, err := url.Parse(u); err == nil {
				hosts[strings.ToLower(p.Hostname())] = true
			}
		}
		if len(hosts) > 1 {
			return invalid("sector_identifier_uri is required for pairwise clients whose redirect_uris use more than one host")
		}
	}
	return nil
}

// httpsURL reads an optional https URL member into dst, reporting whether
// it was present.
func (v *validator) httpsURL(name string, dst *string) (bool, error) {
	s, ok, err := v.m.str(name)
	if err != nil {
		return false, metadataError(err)
	}
	if !ok {
		return false, nil
	}
	if msg := checkWebURL(s, true); msg != "" {
		return false, invalid("%s %s", name, msg)
	}
	*dst = s
	return true, nil
}

func (v *validator) oidcMisc() error {
	if n, ok, err := v.m.integer("default_max_age"); err != nil {
		return metadataError(err)
	} else if ok {
		v.md.DefaultMaxAge = &n
	}
	b, _, err := v.m.boolean("require_auth_time")
	if err != nil {
		return metadataError(err)
	}
	v.md.RequireAuthTime = b
	acrs, _, err := v.m.strs("default_acr_values")
	if err != nil {
		return metadataError(err)
	}
	for _, a := range acrs {
		if len(v.t.settings.ACRValuesSupported) > 0 && !slices.Contains(v.t.settings.ACRValuesSupported, a) {
			return invalid("default_acr_values %q is not supported", truncate(a, 64))
		}
		if !printable(a, false) {
			return invalid("default_acr_values must not contain spaces or control characters")
		}
	}
	v.md.DefaultACRValues = nilIfEmpty(acrs)
	if _, err := v.httpsURL("initiate_login_uri", &v.md.InitiateLoginURI); err != nil {
		return err
	}
	reqs, _, err := v.m.strs("request_uris")
	if err != nil {
		return metadataError(err)
	}
	for _, r := range reqs {
		// OpenID Connect allows a fragment here: it carries the content hash.
		// The whole URI is checked for length and characters, the part
		// before the fragment as a web URL.
		base, _, _ := strings.Cut(r, "#")
		_, msg := parseAbsolute(r)
		if msg == "" {
			msg = checkWebURL(base, true)
		}
		if msg != "" {
			return invalid("request_uris: %q %s", truncate(r, 128), msg)
		}
	}
	v.md.RequestURIs = nilIfEmpty(reqs)
	return nil
}

// nilIfEmpty returns nil for an empty list, so that an optional array member
// sent as [] is stored like an absent one (and its JSON form, which omits
// it, validates to the same Metadata).
func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func (v *validator) extras() error {
	for name := range v.t.extra {
		if raw, ok := v.m.obj[name]; ok && !isNull(raw) {
			if v.md.Extra == nil {
				v.md.Extra = map[string]json.RawMessage{}
			}
			v.md.Extra[name] = compactJSON(raw)
		}
	}
	return nil
}
