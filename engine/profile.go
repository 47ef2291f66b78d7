package engine

import (
	"encoding/asn1"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// The software statement profiles (StatementSettings.Profile).
const (
	// ProfileRFC7591 is the generic profile: RFC 7591 §2.3 and nothing
	// more. The default.
	ProfileRFC7591 = "rfc7591"
	// ProfileOBIE is Open Banking UK Dynamic Client Registration v3.3.
	ProfileOBIE = "obie"
	// ProfileOpenFinanceBrasil is the Open Finance Brasil DCR profile.
	ProfileOpenFinanceBrasil = "open-finance-brasil"
)

// Profile is a named bundle of software statement settings and
// registration checks (docs/statements.md, "Profiles"). The zero fields
// of a profile add nothing to the generic rules.
type Profile struct {
	// Name is the profile's name in StatementSettings.Profile.
	Name string
	// RequireStatement: every registration carries a software statement.
	RequireStatement bool
	// RequireSignedRequests: registrations and updates are signed
	// requests (Content-Type application/jose); plain JSON is refused.
	RequireSignedRequests bool
	// Algorithms, when set, are the only algorithms a statement or a
	// signed request may use: the tenant's algorithms must be among them,
	// and default to them.
	Algorithms []string
	// MaxAge, when set, bounds the tenant's max_age and is its default.
	MaxAge time.Duration
	// Claims are the statement claims the profile requires.
	Claims []string
	// KeysClaim is the statement claim holding the URL of the software's
	// JWK Set: the keys of its signed requests, and its jwks_uri.
	KeysClaim string
	// JWKSURIFromStatement: the KeysClaim URL becomes the client's
	// jwks_uri, whatever the request says.
	JWKSURIFromStatement bool
	// JWKSURIMustMatch: the client's jwks_uri must equal the KeysClaim
	// URL (it is filled in when the request has none), and a jwks by
	// value is refused.
	JWKSURIMustMatch bool
	// RedirectSubset: redirect_uris must be among the statement's
	// software_redirect_uris.
	RedirectSubset bool
	// RoleScopes map each of the statement's software_roles to the scopes
	// it allows; scope must be within the union of the client's roles.
	// Nil: no scope check. A tenant's role_scopes replaces it.
	RoleScopes map[string][]string
	// SubjectDN: a tls_client_auth client registers
	// tls_client_auth_subject_dn, whose CN is the statement's software_id
	// and whose OU is its org_id (the subject of the directory's
	// transport certificates).
	SubjectDN bool
	// HybridWithoutImplicit: response_types "code id_token" needs the
	// authorization_code grant only, not implicit (the hybrid flow's ID
	// token is a detached signature of the code, not a token grant).
	HybridWithoutImplicit bool
	// RequiresJWKSURICheck: the client's jwks_uri is fetched and checked
	// at registration and update (check_jwks_uri), whatever the tenant's
	// own setting says.
	RequiresJWKSURICheck bool
}

// profiles are the known profiles by name.
var profiles = map[string]Profile{
	ProfileRFC7591: {Name: ProfileRFC7591},
	ProfileOBIE: {
		Name: ProfileOBIE, RequireStatement: true, RequireSignedRequests: true,
		Claims:    []string{"software_id", "software_roles", "software_redirect_uris", "software_jwks_endpoint", "org_id"},
		KeysClaim: "software_jwks_endpoint", JWKSURIFromStatement: true,
		RedirectSubset: true, SubjectDN: true, HybridWithoutImplicit: true, RequiresJWKSURICheck: true,
		RoleScopes: map[string][]string{
			"AISP":  {"openid", "accounts"},
			"PISP":  {"openid", "payments"},
			"CBPII": {"openid", "fundsconfirmations"},
		},
	},
	ProfileOpenFinanceBrasil: {
		Name: ProfileOpenFinanceBrasil, RequireStatement: true,
		Algorithms: []string{"PS256"}, MaxAge: 5 * time.Minute,
		Claims:    []string{"software_id", "software_roles", "software_redirect_uris", "software_jwks_uri", "org_id"},
		KeysClaim: "software_jwks_uri", JWKSURIMustMatch: true,
		RedirectSubset: true, HybridWithoutImplicit: true, RequiresJWKSURICheck: true,
		RoleScopes: map[string][]string{
			"DADOS": {"openid", "accounts", "credit-cards-accounts", "consents", "customers", "invoice-financings", "financings", "loans", "unarranged-accounts-overdraft", "resources"},
			"PAGTO": {"openid", "payments", "consents", "resources"},
			"CONTA": {"openid"},
			"CCORR": {"openid"},
		},
	},
}

// LookupProfile returns the profile of that name ("" is ProfileRFC7591).
func LookupProfile(name string) (Profile, bool) {
	if name == "" {
		name = ProfileRFC7591
	}
	p, ok := profiles[name]
	if ok {
		p.Algorithms = slices.Clone(p.Algorithms)
		p.Claims = slices.Clone(p.Claims)
		if p.RoleScopes != nil {
			roles := make(map[string][]string, len(p.RoleScopes))
			for role, scopes := range p.RoleScopes {
				roles[role] = slices.Clone(scopes)
			}
			p.RoleScopes = roles
		}
	}
	return p, ok
}

// profileNames lists the known profiles, for errors.
func profileNames() string {
	names := slices.Sorted(maps.Keys(profiles))
	return strings.Join(names, ", ")
}

// checkProfileSettings checks the settings a profile bounds: the
// algorithms, max_age and role_scopes.
func checkProfileSettings(p Profile, s *StatementSettings) error {
	if len(p.Algorithms) > 0 {
		for _, a := range s.Algorithms {
			if !slices.Contains(p.Algorithms, a) {
				return fmt.Errorf("software_statement: algorithms: profile %s allows only %s, not %q", p.Name, strings.Join(p.Algorithms, ", "), a)
			}
		}
	}
	if p.MaxAge > 0 && time.Duration(s.MaxAge) > p.MaxAge {
		return fmt.Errorf("software_statement: max_age: profile %s allows at most %s", p.Name, p.MaxAge)
	}
	if s.RoleScopes != nil && p.RoleScopes == nil {
		return fmt.Errorf("software_statement: role_scopes: profile %s checks no roles; use obie or open-finance-brasil, or a policy", p.Name)
	}
	for role, scopes := range s.RoleScopes {
		if role == "" || !printable(role, false) || len(role) > 64 {
			return fmt.Errorf("software_statement: role_scopes: role %q must be 1-64 characters without spaces", truncate(role, 64))
		}
		for _, sc := range scopes {
			if !validScopeToken(sc) {
				return fmt.Errorf("software_statement: role_scopes: %s: %q is not a scope token", role, truncate(sc, 64))
			}
		}
	}
	return nil
}

// statementClaims reads the profile's claims from a verified statement.
type statementClaims struct {
	softwareID   string
	orgID        string
	roles        []string
	redirectURIs []string
	keysURI      string
}

// readStatementClaims reads and checks the claims a profile needs; a
// missing or ill-typed one is the statement's fault.
func readStatementClaims(p Profile, c map[string]json.RawMessage) (statementClaims, error) {
	for _, name := range p.Claims {
		if v, ok := c[name]; !ok || isNull(v) {
			return statementClaims{}, Errorf(CodeInvalidSoftwareStatement, "software_statement: profile %s needs the %s claim", p.Name, name)
		}
	}
	m := member{c}
	var sc statementClaims
	var err error
	read := func(name string, dst *string) {
		if err == nil {
			*dst, _, err = m.str(name)
		}
	}
	read("software_id", &sc.softwareID)
	read("org_id", &sc.orgID)
	if p.KeysClaim != "" {
		read(p.KeysClaim, &sc.keysURI)
	}
	if err == nil {
		sc.roles, _, err = m.strs("software_roles")
	}
	if err == nil {
		sc.redirectURIs, _, err = m.strs("software_redirect_uris")
	}
	if err != nil {
		return statementClaims{}, Errorf(CodeInvalidSoftwareStatement, "software_statement: %v", err)
	}
	return sc, nil
}

// requestKeys are the keys the statement names for its software's signed
// requests: the profile's KeysClaim; for the generic profile
// software_jwks_uri, software_jwks_endpoint or a jwks by value.
func requestKeys(p Profile, c map[string]json.RawMessage) (RequestKeys, error) {
	names := []string{p.KeysClaim}
	if p.KeysClaim == "" {
		names = []string{"software_jwks_uri", "software_jwks_endpoint"}
	}
	m := member{c}
	for _, name := range names {
		s, ok, err := m.str(name)
		if err != nil {
			return RequestKeys{}, Errorf(CodeInvalidSoftwareStatement, "software_statement: %v", err)
		}
		if ok {
			return RequestKeys{JWKSURI: s}, nil
		}
	}
	if v, ok := c["jwks"]; ok && p.KeysClaim == "" && !isNull(v) {
		return RequestKeys{JWKS: v}, nil
	}
	want := strings.Join(names, " or ")
	if p.KeysClaim == "" {
		want += " or jwks"
	}
	return RequestKeys{}, Errorf(CodeInvalidSoftwareStatement, "software_statement names no keys for the signed request (want the %s claim)", want)
}

// prepare changes a registration's members as the profile says, before
// the defaults, the policies and validation: the statement's key set URL
// becomes the jwks_uri (OBIE), or fills one in (Open Finance Brasil). A
// jwks by value is left for check to refuse.
func (p Profile) prepare(obj map[string]json.RawMessage, sc statementClaims) {
	if sc.keysURI == "" {
		return
	}
	m := member{obj}
	if m.present("jwks") {
		return // refused by check, with the profile's reason
	}
	uri, _ := json.Marshal(sc.keysURI)
	if p.JWKSURIFromStatement || p.JWKSURIMustMatch && !m.present("jwks_uri") {
		obj["jwks_uri"] = uri
	}
}

// check applies the profile's checks to validated metadata, with the
// statement's claims; roleScopes are the tenant's (or the profile's).
func (p Profile) check(md Metadata, sc statementClaims, roleScopes map[string][]string) error {
	if p.RedirectSubset {
		for _, u := range md.RedirectURIs {
			if !slices.Contains(sc.redirectURIs, u) {
				return Errorf(CodeInvalidRedirectURI, "redirect_uri %q is not among the software statement's software_redirect_uris (profile %s)", truncate(u, 128), p.Name)
			}
		}
	}
	if err := p.checkKeys(md, sc); err != nil {
		return err
	}
	if roleScopes != nil && md.Scope != "" {
		if err := checkRoleScopes(p.Name, md.Scope, sc.roles, roleScopes); err != nil {
			return err
		}
	}
	if p.SubjectDN && md.TokenEndpointAuthMethod == "tls_client_auth" {
		return checkSubjectDN(p.Name, md.TLSClientAuthSubjectDN, sc)
	}
	return nil
}

// checkKeys checks the client's keys against the statement's.
func (p Profile) checkKeys(md Metadata, sc statementClaims) error {
	if !p.JWKSURIMustMatch && !p.JWKSURIFromStatement {
		return nil
	}
	if len(md.JWKS) > 0 {
		return invalid("jwks by value is refused: profile %s takes the client's keys from the software statement's %s", p.Name, p.KeysClaim)
	}
	if md.JWKSURI != sc.keysURI {
		return invalid("jwks_uri must be the software statement's %s, %q (profile %s)", p.KeysClaim, truncate(sc.keysURI, 128), p.Name)
	}
	return nil
}

// checkRoleScopes checks that every scope token is allowed by one of the
// roles.
func checkRoleScopes(profile, scope string, roles []string, roleScopes map[string][]string) error {
	for tok := range strings.SplitSeq(scope, " ") {
		allowed := false
		for _, role := range roles {
			if slices.Contains(roleScopes[role], tok) {
				allowed = true
				break
			}
		}
		if !allowed {
			return invalid("scope %q is not allowed by the software statement's software_roles %v (profile %s)", truncate(tok, 64), roles, profile)
		}
	}
	return nil
}

// Attribute types of a directory's transport certificate subject.
var (
	oidCN = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidOU = asn1.ObjectIdentifier{2, 5, 4, 11}
)

// checkSubjectDN checks that a tls_client_auth client's subject DN names
// its software (CN = software_id) and organisation (OU = org_id).
func checkSubjectDN(profile, dn string, sc statementClaims) error {
	if dn == "" {
		return invalid("token_endpoint_auth_method tls_client_auth needs tls_client_auth_subject_dn under profile %s", profile)
	}
	d, err := ParseDN(dn)
	if err != nil {
		return invalid("tls_client_auth_subject_dn: %v", err)
	}
	if !slices.Contains(d.values(oidCN), sc.softwareID) || !slices.Contains(d.values(oidOU), sc.orgID) {
		return invalid("tls_client_auth_subject_dn must have CN=%s (the software_id) and OU=%s (the org_id) of the software statement (profile %s)", truncate(sc.softwareID, 64), truncate(sc.orgID, 64), profile)
	}
	return nil
}

// checkCertificate checks, under a profile that checks subject DNs, that
// a tls_client_auth client registering over mutual TLS registers the
// subject of the certificate it came with (subject: its DER; nil
// without a certificate, when there is nothing to compare).
func (p Profile) checkCertificate(md Metadata, subject []byte) error {
	if !p.SubjectDN || md.TokenEndpointAuthMethod != "tls_client_auth" || subject == nil {
		return nil
	}
	got, err := DecodeDN(subject)
	if err != nil {
		return Errorf(CodeInvalidRequest, "the client certificate's subject cannot be read")
	}
	want, err := ParseDN(md.TLSClientAuthSubjectDN)
	if err != nil || !want.Equal(got) {
		return invalid("tls_client_auth_subject_dn is not the subject of the client certificate this request came with (profile %s)", p.Name)
	}
	return nil
}

// values returns the string values of a DN's attributes of type oid.
func (d DN) values(oid asn1.ObjectIdentifier) []string {
	var out []string
	for _, rdn := range d.rdns {
		for _, a := range rdn {
			if a.oid.Equal(oid) && a.isStr {
				out = append(out, a.str)
			}
		}
	}
	return out
}

// errNoProfile is the error of an unknown profile name.
func errNoProfile(name string) error {
	return fmt.Errorf("software_statement: profile %q: want one of %s", name, profileNames())
}
