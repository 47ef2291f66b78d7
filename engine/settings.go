package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// TokenMode says how a tenant authenticates registration requests
// (RFC 7591 §3 "initial access token"; docs/configuration.md).
type TokenMode string

// The initial access token modes.
const (
	// TokenStored: a token minted through the admin API and kept in the
	// store, with expiry, optional use limit and policies. The default.
	TokenStored TokenMode = "stored"
	// TokenStatic: one configured value. Requests run the default policies.
	TokenStatic TokenMode = "static"
	// TokenNone: open registration. Requests without a token run the default
	// policies; a request that presents a token must present a valid stored one.
	TokenNone TokenMode = "none"
)

// Decision configures a yes/no choice of the registration pipeline: always
// yes (the zero value), always no, or the answer of a policy module's hook.
// In JSON it is true, false, or the module's name.
type Decision struct {
	// Module names the policy module whose hook decides. When set, Off is ignored.
	Module string
	// Off makes the answer always no.
	Off bool
}

// MarshalJSON writes true, false or the module name.
func (d Decision) MarshalJSON() ([]byte, error) {
	if d.Module != "" {
		return json.Marshal(d.Module)
	}
	return json.Marshal(!d.Off)
}

// UnmarshalJSON reads true, false or a module name.
func (d *Decision) UnmarshalJSON(b []byte) error {
	var on bool
	if err := json.Unmarshal(b, &on); err == nil {
		*d = Decision{Off: !on}
		return nil
	}
	var name string
	if err := json.Unmarshal(b, &name); err != nil || name == "" {
		return fmt.Errorf("want true, false or a policy module name")
	}
	*d = Decision{Module: name}
	return nil
}

// Settings are one tenant's registration settings (docs/configuration.md).
// The zero value is a valid, locked-down configuration: stored initial access tokens,
// management on with rotation, built-in factories, no policies.
//
// The *Supported lists bound what clients may ask for and are advertised in
// discovery; an empty list means the default given in its comment.
type Settings struct {
	// InitialAccessToken is the token mode. Default TokenStored.
	InitialAccessToken TokenMode `json:"initial_access_token,omitempty"`
	// StaticInitialAccessToken is the token that TokenStatic requires.
	StaticInitialAccessToken string `json:"static_initial_access_token,omitempty"`
	// StaticInitialAccessTokenSHA256 is the hex SHA-256 of the static
	// token, the form in which tenants created through the admin API keep
	// it; set either this or StaticInitialAccessToken.
	StaticInitialAccessTokenSHA256 string `json:"static_initial_access_token_sha256,omitempty"`
	// DefaultPolicies run, in order, for registrations made without a
	// stored initial access token (open or static). Default none.
	DefaultPolicies []string `json:"default_policies,omitempty"`
	// IDFactory names the module whose id_factory hook makes client IDs.
	// Default: the built-in factory (21 URL-safe random characters).
	IDFactory string `json:"id_factory,omitempty"`
	// SecretFactory names the module whose secret_factory hook makes client
	// secrets. Default: the built-in factory (64 random bytes, base64url).
	SecretFactory string `json:"secret_factory,omitempty"`
	// IssueRegistrationAccessToken decides whether a registration gets a
	// registration access token (RFC 7592). Default true.
	IssueRegistrationAccessToken Decision `json:"issue_registration_access_token,omitzero"`
	// Management turns the RFC 7592 read, update and delete routes on or
	// off. Default on.
	Management *bool `json:"management,omitempty"`
	// AuditReads records each RFC 7592 read of a client (client.read) in
	// the audit log. Default true; false spares the read its audit write
	// (one store round trip), for tenants whose clients read their
	// registration often. Every other event is recorded whatever this
	// says.
	AuditReads *bool `json:"audit_reads,omitempty"`
	// RotateRegistrationAccessToken decides whether an update replaces the
	// registration access token. Default true.
	RotateRegistrationAccessToken Decision `json:"rotate_registration_access_token,omitzero"`
	// ClientDefaults are metadata members applied when a request omits them,
	// before policies and validation. Default none (the RFC defaults apply).
	ClientDefaults map[string]json.RawMessage `json:"client_defaults,omitempty"`
	// ExtraClientMetadata names members accepted beyond the standard ones;
	// they are stored and returned as sent. Other unknown members are
	// dropped. Default none.
	ExtraClientMetadata []string `json:"extra_client_metadata,omitempty"`
	// PolicyConfig holds each policy module's configuration for this
	// tenant, keyed by module name; a module receives its entry as the
	// "config" member of every hook input (sdk/ABI.md). Default none.
	PolicyConfig map[string]json.RawMessage `json:"policy_config,omitempty"`
	// RegistrationValidity is how long a registration lives before it is
	// removed; it is also the client secret's expiry. Default: forever.
	RegistrationValidity Duration `json:"registration_validity,omitempty"`
	// WebLoopbackRedirectURIs lets web clients register http redirect URIs on
	// loopback hosts (localhost, 127.0.0.1, [::1]), for development.
	// Default false: web clients must use https.
	WebLoopbackRedirectURIs bool `json:"web_loopback_redirect_uris,omitempty"`
	// MaxClients bounds the tenant's live clients; a registration beyond it
	// is refused with 403 access_denied. Default 0: no bound.
	MaxClients int `json:"max_clients,omitempty"`
	// RegistrationRateLimit bounds registration requests (POST /reg),
	// counted before authentication and shared by every replica; a request
	// over a limit is answered 429 with Retry-After. Default: for open
	// registration (TokenNone) 20/m per client IP, else no limit.
	RegistrationRateLimit RateLimit `json:"registration_rate_limit,omitzero"`

	// AccessTokenFormat is the form of the access tokens the token
	// endpoint issues: AccessTokenOpaque (the default) or AccessTokenJWT
	// (RFC 9068).
	AccessTokenFormat AccessTokenFormat `json:"access_token_format,omitempty"`
	// AccessTokenSigningAlg is the JWS algorithm of the tenant's new
	// signing keys: RS256 (the default, RFC 9068 §4) or ES256. A change
	// reaches the tokens over rotations: the next key made after it has
	// the new algorithm.
	AccessTokenSigningAlg string `json:"access_token_signing_alg,omitempty"`
	// IssueAccessToken decides whether the token endpoint issues a token:
	// true, false (the endpoint refuses every request), or a module whose
	// issue_access_token hook decides and may narrow scope, set audience,
	// lifetime and claims (sdk/ABI.md). Default true.
	IssueAccessToken Decision `json:"issue_access_token,omitzero"`
	// AccessTokenLifetime is how long an access token lives, and the most
	// a hook may grant. Default DefaultAccessTokenLifetime (one hour);
	// at most MaxAccessTokenLifetime.
	AccessTokenLifetime Duration `json:"access_token_lifetime,omitempty"`
	// RegistrationManagementAuth says what authorises RFC 7592 management
	// of a client: its registration access token (the default), an access
	// token the client got with client_credentials, or either.
	RegistrationManagementAuth ManagementAuth `json:"registration_management_auth,omitempty"`
	// ResourceServers are the client IDs that may introspect every access
	// token of the tenant (RFC 7662 §4); other clients introspect only
	// their own tokens. Default none.
	ResourceServers []string `json:"resource_servers,omitempty"`
	// Resources are the RFC 8707 resource indicators a client may ask for
	// at the token endpoint; a token requested for one has it as its
	// audience. Default none: a resource parameter is refused.
	Resources []string `json:"resources,omitempty"`
	// DefaultAudience is the audience of a token requested without a
	// resource. Default: the tenant's issuer.
	DefaultAudience string `json:"default_audience,omitempty"`
	// TokenRateLimit bounds requests to the token, introspection and
	// revocation endpoints together, counted before authentication and
	// shared by every replica; over it the answer is 429 with Retry-After.
	// Default: no limit.
	TokenRateLimit RateLimit `json:"token_rate_limit,omitzero"`
	// ClientLockout bounds the failed client authentications of one
	// client_id; beyond it the client_id is refused with 429 and
	// Retry-After until its budget refills, even with the right
	// credentials. Default DefaultClientLockout; "off" turns it off.
	ClientLockout Lockout `json:"client_lockout,omitzero"`
	// ClientSecretStorage is how client secrets are kept: SecretHashed
	// (the default: a SHA-256 digest only) or SecretEncrypted (the
	// secrets of client_secret_jwt clients also sealed under the server's
	// key-encryption key, which the server must have), the one storage
	// that can offer client_secret_jwt.
	ClientSecretStorage SecretStorage `json:"client_secret_storage,omitempty"`
	// ClientAssertionMaxLifetime bounds how far in the future a client
	// assertion's exp may be (RFC 7523 §3). Default
	// DefaultClientAssertionMaxLifetime (ten minutes).
	ClientAssertionMaxLifetime Duration `json:"client_assertion_max_lifetime,omitempty"`
	// SoftwareStatement, when set, makes the tenant verify software
	// statements (RFC 7591 §2.3) against its trusted issuers
	// (docs/statements.md). Default nil: a statement is kept as sent,
	// unverified.
	SoftwareStatement *StatementSettings `json:"software_statement,omitempty"`
	// CheckJWKSURI makes a registration (and an update that changes it)
	// fetch the client's jwks_uri and check that it is a set of public
	// keys with a key for every algorithm the client signs with
	// (token_endpoint_auth_signing_alg, request_object_signing_alg);
	// otherwise invalid_client_metadata. Default false, as in
	// node-oidc-provider: the set is first fetched when it is used.
	CheckJWKSURI bool `json:"check_jwks_uri,omitempty"`
	// SoftwareIDPolicy says what a registration whose software_id a live
	// client has already gets: SoftwareIDAllow (the default: registered),
	// SoftwareIDUnique (refused) or SoftwareIDReplace (replaces that
	// client when the statement's issuer and software_id match).
	SoftwareIDPolicy SoftwareIDPolicy `json:"software_id_policy,omitempty"`

	// GrantTypesSupported. Default authorization_code, implicit,
	// refresh_token, client_credentials.
	GrantTypesSupported []string `json:"grant_types_supported,omitempty"`
	// ResponseTypesSupported. Default code, id_token, "code id_token", none.
	ResponseTypesSupported []string `json:"response_types_supported,omitempty"`
	// TokenEndpointAuthMethodsSupported. Default client_secret_basic,
	// client_secret_post, private_key_jwt, tls_client_auth,
	// self_signed_tls_client_auth, none, and client_secret_jwt where
	// ClientSecretStorage is SecretEncrypted (elsewhere it cannot be
	// listed: a hashed secret cannot key an HMAC).
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	// SigningAlgValuesSupported bounds every *_signing_alg and
	// *_signed_response_alg member. Default RS256, RS384, RS512, PS256,
	// PS384, PS512, ES256, ES384, ES512, EdDSA. "none" and HMAC algorithms
	// cannot be offered.
	SigningAlgValuesSupported []string `json:"signing_alg_values_supported,omitempty"`
	// SubjectTypesSupported. Default public.
	SubjectTypesSupported []string `json:"subject_types_supported,omitempty"`
	// ScopesSupported, when set, bounds the scope member. Default: any
	// syntactically valid scope.
	ScopesSupported []string `json:"scopes_supported,omitempty"`
	// ACRValuesSupported, when set, bounds default_acr_values. Default: any.
	ACRValuesSupported []string `json:"acr_values_supported,omitempty"`
}

// RateLimit bounds a kind of request per client IP address and per tenant.
type RateLimit struct {
	// PerIP bounds the requests of one client IP address (an IPv6 client
	// counts by its /64).
	PerIP Rate `json:"per_ip,omitzero"`
	// PerTenant bounds the requests of all clients together.
	PerTenant Rate `json:"per_tenant,omitzero"`
	// Off turns the default limit of open registration off.
	Off bool `json:"off,omitempty"`
}

// Defaults of the *Supported lists.
var (
	defaultGrantTypes   = []string{"authorization_code", "implicit", "refresh_token", "client_credentials"}
	defaultResponseType = []string{"code", "id_token", "code id_token", "none"}
	defaultAuthMethods  = []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth", "none"}
	defaultSigningAlgs  = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
	defaultSubjectTypes = []string{"public"}
)

// Values Registrar knows how to validate; a *Supported list may only name these.
var (
	knownGrantTypes = []string{
		"authorization_code", "implicit", "refresh_token", "client_credentials", "password",
		"urn:ietf:params:oauth:grant-type:device_code",
		"urn:ietf:params:oauth:grant-type:jwt-bearer",
		"urn:ietf:params:oauth:grant-type:saml2-bearer",
		"urn:ietf:params:oauth:grant-type:token-exchange",
		"urn:openid:params:grant-type:ciba",
	}
	knownAuthMethods = []string{
		"client_secret_basic", "client_secret_post", "private_key_jwt",
		"tls_client_auth", "self_signed_tls_client_auth", "none", MethodSecretJWT,
	}
	knownSigningAlgs = []string{
		"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
		"ES256", "ES384", "ES512", "ES256K", "EdDSA", "Ed25519",
	}
	knownSubjectTypes = []string{"public", "pairwise"}
)

// extraNamePattern is the character set of extra metadata member names. It
// leaves out "#", which marks language tags, and anything that would need
// escaping in JSON.
var extraNamePattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)

// tenant is a tenant's settings, checked and with defaults filled in.
type tenant struct {
	name          string
	settings      Settings
	grantTypes    []string
	responseTypes []string // each normalised (tokens sorted)
	authMethods   []string
	signingAlgs   []string
	subjectTypes  []string
	extra         map[string]bool
	defaults      map[string]json.RawMessage // ClientDefaults, each value compacted
	staticDigest  string                     // HashToken(StaticInitialAccessToken)
	trust         StatementTrust             // verifies software statements; nil unless SoftwareStatement is set
	statements    *StatementSettings         // SoftwareStatement with its profile's defaults; nil unless set
	profile       Profile                    // the statements' profile (zero without statements)
	roleScopes    map[string][]string        // the role → scope map in force; nil: no scope check

	// Where the tenant comes from: SourceConfig, SourceBuiltin or
	// SourceAdmin; for SourceAdmin, the record's revision and times.
	source               string
	revision             int64
	createdAt, updatedAt time.Time

	// authSigningAlgs are signingAlgs and, where client_secret_jwt is
	// offered, SecretJWTAlgs: token_endpoint_auth_signing_alg_values_supported.
	authSigningAlgs []string

	// iats remembers the records of the tenant's initial access tokens
	// in use (iatcache.go); a tenant replaced or deleted takes its
	// records with it.
	iats iatCache
}

// compileTenant checks s and fills in its defaults, client_defaults
// included (see checkDefaults). keys and hosts check the client defaults'
// jwks and URI hosts (keys may be nil only if there is no jwks; nil hosts
// means asciiHosts).
func compileTenant(name string, s Settings, keys KeySetChecker, hosts HostNormalizer) (*tenant, error) {
	t, err := compileSettings(name, s)
	if err != nil {
		return nil, err
	}
	if err := t.checkClientDefaults(keys, hosts); err != nil {
		return nil, err
	}
	return t, nil
}

// checkClientDefaults is checkDefaults with the error naming the tenant
// and client_defaults.
func (t *tenant) checkClientDefaults(keys KeySetChecker, hosts HostNormalizer) error {
	err := t.checkDefaults(keys, hosts)
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) && e.Code != CodeServerError {
		return fmt.Errorf("tenant %q: client_defaults: %s", t.name, e.Description)
	}
	return fmt.Errorf("tenant %q: client_defaults: %v", t.name, err)
}

// compileSettings is compileTenant without the validation of
// client_defaults against the metadata rules.
func compileSettings(name string, s Settings) (*tenant, error) {
	if !ValidTenantName(name) {
		return nil, fmt.Errorf("tenant name %q: use 1-63 lower-case letters, digits and inner hyphens", name)
	}
	t := &tenant{name: name, settings: s}
	steps := []func() error{t.compileStaticToken, t.compileTokenMode, t.checkModuleNames, t.compileSupported, t.compileSecretStorage, t.compileResponseTypes, t.compileMetadataSettings, t.compileAccessTokens, t.compileStatements, t.compileSoftwareIDPolicy}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, fmt.Errorf("tenant %q: %w", name, err)
		}
	}
	return t, nil
}

// compileStaticToken takes the static initial access token's digest.
func (t *tenant) compileStaticToken() error {
	s := t.settings
	switch {
	case s.StaticInitialAccessToken != "" && s.StaticInitialAccessTokenSHA256 != "":
		return errors.New("set static_initial_access_token or static_initial_access_token_sha256, not both")
	case s.StaticInitialAccessToken != "":
		t.staticDigest = HashToken(s.StaticInitialAccessToken)
	case s.StaticInitialAccessTokenSHA256 != "":
		if !validDigest(s.StaticInitialAccessTokenSHA256) {
			return errors.New("static_initial_access_token_sha256 must be 64 lower-case hex digits")
		}
		t.staticDigest = s.StaticInitialAccessTokenSHA256
	}
	return nil
}

// compileTokenMode checks initial_access_token against the static token.
func (t *tenant) compileTokenMode() error {
	s := t.settings
	switch s.InitialAccessToken {
	case "":
		t.settings.InitialAccessToken = TokenStored
	case TokenStored, TokenNone:
	case TokenStatic:
		if err := t.checkStaticToken(); err != nil {
			return err
		}
	default:
		return fmt.Errorf("initial_access_token %q: want stored, static or none", s.InitialAccessToken)
	}
	if t.staticDigest != "" && s.InitialAccessToken != TokenStatic {
		return errors.New("static_initial_access_token is set but initial_access_token is not static")
	}
	if s.MaxClients < 0 {
		return errors.New("max_clients must not be negative")
	}
	return nil
}

// checkStaticToken checks the token of the static mode.
func (t *tenant) checkStaticToken() error {
	tok := t.settings.StaticInitialAccessToken
	switch {
	case t.staticDigest == "":
		return errors.New("initial_access_token is static but no static_initial_access_token is set")
	case tok != "" && len(tok) < 16:
		return errors.New("initial_access_token is static but static_initial_access_token is shorter than 16 characters")
	case tok != "" && !ValidBearerValue(tok):
		return errors.New("static_initial_access_token must use only the characters of an RFC 6750 bearer token")
	}
	return nil
}

// checkModuleNames checks the names of the modules the settings name.
func (t *tenant) checkModuleNames() error {
	s := t.settings
	for _, p := range s.DefaultPolicies {
		if !ValidModuleName(p) {
			return fmt.Errorf("default_policies: %q is not a valid policy module name", p)
		}
	}
	for field, m := range map[string]string{
		"id_factory": s.IDFactory, "secret_factory": s.SecretFactory,
		"issue_registration_access_token":  s.IssueRegistrationAccessToken.Module,
		"rotate_registration_access_token": s.RotateRegistrationAccessToken.Module,
		"issue_access_token":               s.IssueAccessToken.Module,
	} {
		if m != "" && !ValidModuleName(m) {
			return fmt.Errorf("%s: %q is not a valid policy module name", field, m)
		}
	}
	for name, v := range s.PolicyConfig {
		if !ValidModuleName(name) {
			return fmt.Errorf("policy_config: %q is not a valid policy module name", name)
		}
		if !json.Valid(v) {
			return fmt.Errorf("policy_config: the configuration of %q is not valid JSON", name)
		}
	}
	return nil
}

// compileSupported takes the *_supported lists, or their defaults.
func (t *tenant) compileSupported() error {
	s := t.settings
	var err error
	if t.grantTypes, err = supported("grant_types_supported", s.GrantTypesSupported, defaultGrantTypes, knownGrantTypes); err != nil {
		return err
	}
	if t.authMethods, err = supported("token_endpoint_auth_methods_supported", s.TokenEndpointAuthMethodsSupported, defaultAuthMethods, knownAuthMethods); err != nil {
		return err
	}
	if t.signingAlgs, err = supported("signing_alg_values_supported", s.SigningAlgValuesSupported, defaultSigningAlgs, knownSigningAlgs); err != nil {
		return err
	}
	if t.subjectTypes, err = supported("subject_types_supported", s.SubjectTypesSupported, defaultSubjectTypes, knownSubjectTypes); err != nil {
		return err
	}
	for _, sc := range s.ScopesSupported {
		if !validScopeToken(sc) {
			return fmt.Errorf("scopes_supported: %q is not a valid scope token", sc)
		}
	}
	for _, a := range s.ACRValuesSupported {
		if a == "" || !printable(a, false) {
			return fmt.Errorf("acr_values_supported: %q must be non-empty, without spaces or control characters", a)
		}
	}
	return nil
}

// compileResponseTypes normalises response_types_supported.
func (t *tenant) compileResponseTypes() error {
	rts := t.settings.ResponseTypesSupported
	if len(rts) == 0 {
		rts = defaultResponseType
	}
	for _, rt := range rts {
		norm, ok := normalizeResponseType(rt)
		if !ok {
			return fmt.Errorf("response_types_supported: %q is not a response type Registrar knows", rt)
		}
		if !slices.Contains(t.responseTypes, norm) {
			t.responseTypes = append(t.responseTypes, norm)
		}
	}
	return nil
}

// compileMetadataSettings takes extra_client_metadata and client_defaults.
func (t *tenant) compileMetadataSettings() error {
	s := t.settings
	t.extra = map[string]bool{}
	for _, name := range s.ExtraClientMetadata {
		if !extraNamePattern.MatchString(name) {
			return fmt.Errorf("extra_client_metadata: %q: use 1-64 characters among a-z A-Z 0-9 and _ - . : (colon)", name)
		}
		lower := strings.ToLower(name)
		if metadataFields[lower] || IsServerManaged(lower) || localizable[lower] {
			return fmt.Errorf("extra_client_metadata: %q is (or differs only in case from) a standard member", name)
		}
		t.extra[name] = true
	}
	t.defaults = map[string]json.RawMessage{}
	for k, v := range s.ClientDefaults {
		if IsServerManaged(k) {
			return fmt.Errorf("client_defaults: %q is set by the server, not a default", k)
		}
		if !json.Valid(v) {
			return fmt.Errorf("client_defaults: %q is not valid JSON", k)
		}
		t.defaults[k] = compactJSON(v)
	}
	return nil
}

// supported checks a *Supported list against what Registrar knows, or
// returns the default list when it is empty.
func supported(field string, list, def, known []string) ([]string, error) {
	if len(list) == 0 {
		return def, nil
	}
	var out []string
	for _, v := range list {
		if !slices.Contains(known, v) {
			return nil, fmt.Errorf("%s: %q is not a value Registrar supports (known: %v)", field, v, known)
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out, nil
}

func (t *tenant) managementOn() bool {
	return t.settings.Management == nil || *t.settings.Management
}
