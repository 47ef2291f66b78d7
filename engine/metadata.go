package engine

import (
	"bytes"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// Metadata is validated client metadata: the members of RFC 7591 §2, OpenID
// Connect Dynamic Client Registration 1.0 §2 and RFC 8705 §2.1.2 that
// Registrar understands, plus language-tagged variants of the human-readable
// members and the tenant's extra members.
//
// A Metadata value is produced only by validation, so it always satisfies the
// rules of this package; its JSON form is the flat object of the RFCs.
type Metadata struct {
	RedirectURIs                []string `json:"redirect_uris"`
	TokenEndpointAuthMethod     string   `json:"token_endpoint_auth_method"`
	TokenEndpointAuthSigningAlg string   `json:"token_endpoint_auth_signing_alg,omitempty"`
	GrantTypes                  []string `json:"grant_types"`
	ResponseTypes               []string `json:"response_types"`
	ApplicationType             string   `json:"application_type"`
	ClientName                  string   `json:"client_name,omitempty"`
	ClientURI                   string   `json:"client_uri,omitempty"`
	LogoURI                     string   `json:"logo_uri,omitempty"`
	PolicyURI                   string   `json:"policy_uri,omitempty"`
	TOSURI                      string   `json:"tos_uri,omitempty"`
	Scope                       string   `json:"scope,omitempty"`
	Contacts                    []string `json:"contacts,omitempty"`
	JWKSURI                     string   `json:"jwks_uri,omitempty"`
	// JWKS is the client's public JWK Set, kept as sent (compacted).
	JWKS                      json.RawMessage `json:"jwks,omitempty"`
	SoftwareID                string          `json:"software_id,omitempty"`
	SoftwareVersion           string          `json:"software_version,omitempty"`
	SoftwareStatement         string          `json:"software_statement,omitempty"`
	SubjectType               string          `json:"subject_type,omitempty"`
	SectorIdentifierURI       string          `json:"sector_identifier_uri,omitempty"`
	IDTokenSignedResponseAlg  string          `json:"id_token_signed_response_alg,omitempty"`
	UserinfoSignedResponseAlg string          `json:"userinfo_signed_response_alg,omitempty"`
	RequestObjectSigningAlg   string          `json:"request_object_signing_alg,omitempty"`
	// DefaultMaxAge is nil when absent; 0 is a meaningful value.
	DefaultMaxAge          *int64   `json:"default_max_age,omitempty"`
	RequireAuthTime        bool     `json:"require_auth_time,omitempty"`
	DefaultACRValues       []string `json:"default_acr_values,omitempty"`
	InitiateLoginURI       string   `json:"initiate_login_uri,omitempty"`
	RequestURIs            []string `json:"request_uris,omitempty"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty"`
	TLSClientAuthSubjectDN string   `json:"tls_client_auth_subject_dn,omitempty"`
	TLSClientAuthSANDNS    string   `json:"tls_client_auth_san_dns,omitempty"`
	TLSClientAuthSANURI    string   `json:"tls_client_auth_san_uri,omitempty"`
	TLSClientAuthSANIP     string   `json:"tls_client_auth_san_ip,omitempty"`
	TLSClientAuthSANEmail  string   `json:"tls_client_auth_san_email,omitempty"`
	// TLSClientCertificateBoundAccessTokens asks for access tokens bound
	// to the client's TLS certificate (RFC 8705 §3.4).
	TLSClientCertificateBoundAccessTokens bool `json:"tls_client_certificate_bound_access_tokens,omitempty"`

	// Localized holds language-tagged human-readable members (RFC 7591
	// §2.2), keyed by their full member name, e.g. "client_name#ja-Jpan-JP".
	Localized map[string]string `json:"-"`
	// Extra holds the members the tenant allows beyond the standard ones
	// (Settings.ExtraClientMetadata), as the JSON values that were sent.
	Extra map[string]json.RawMessage `json:"-"`
}

// metadataFields is the set of member names that Metadata has a field for.
var metadataFields = func() map[string]bool {
	m := map[string]bool{}
	for _, name := range jsonNames(Metadata{}) {
		m[name] = true
	}
	return m
}()

// localizable lists the members that may carry a language tag (RFC 7591 §2.2).
var localizable = map[string]bool{
	"client_name": true, "client_uri": true, "logo_uri": true,
	"policy_uri": true, "tos_uri": true,
}

// serverManaged lists the members of a client information response that the
// server alone sets (RFC 7591 §3.2.1, RFC 7592 §3).
var serverManaged = []string{
	"client_id", "client_secret", "client_id_issued_at",
	"client_secret_expires_at", "registration_access_token",
	"registration_client_uri",
}

// IsServerManaged reports whether name is a member only the server may set.
func IsServerManaged(name string) bool { return slices.Contains(serverManaged, name) }

// metadataAlias has Metadata's fields without its methods, so that the
// standard encoder can do the bulk of the work.
type metadataAlias Metadata

// MarshalJSON writes the flat metadata object, the known members first and
// then the language-tagged and extra members in name order: without
// reflection (clientcodec.go), byte for byte what marshalFlat writes.
func (m Metadata) MarshalJSON() ([]byte, error) {
	if b, ok := appendMetadataFlat(make([]byte, 0, 512+2*len(m.JWKS)), &m); ok {
		return b, nil
	}
	return marshalFlat(m)
}

// marshalFlat is the flat metadata object by encoding/json: the reference
// that appendMetadataFlat matches, and its fallback.
func marshalFlat(m Metadata) ([]byte, error) {
	a := metadataAlias(m)
	if a.RedirectURIs == nil {
		a.RedirectURIs = []string{}
	}
	if a.GrantTypes == nil {
		a.GrantTypes = []string{}
	}
	if a.ResponseTypes == nil {
		a.ResponseTypes = []string{}
	}
	b, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	if len(m.Localized) == 0 && len(m.Extra) == 0 {
		return b, nil
	}
	var buf bytes.Buffer
	buf.Write(b[:len(b)-1])
	for _, k := range slices.Sorted(maps.Keys(m.Localized)) {
		if err := writeMember(&buf, k, m.Localized[k]); err != nil {
			return nil, err
		}
	}
	for _, k := range slices.Sorted(maps.Keys(m.Extra)) {
		if err := writeMember(&buf, k, m.Extra[k]); err != nil {
			return nil, err
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// writeMember appends `,"name":value` to an object being written.
func writeMember(buf *bytes.Buffer, name string, value any) error {
	k, err := json.Marshal(name)
	if err != nil {
		return err
	}
	v, err := json.Marshal(value)
	if err != nil {
		return err
	}
	buf.WriteByte(',')
	buf.Write(k)
	buf.WriteByte(':')
	buf.Write(v)
	return nil
}

// UnmarshalJSON reads what MarshalJSON wrote. It does not validate: use
// [ValidateMetadata] for input from clients.
func (m *Metadata) UnmarshalJSON(b []byte) error {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	// encoding/json matches field names case-insensitively, so an extra
	// member such as "Scope" would land in Scope: decode only the members
	// whose names match exactly.
	known := make(map[string]json.RawMessage, len(all))
	for k, v := range all {
		if metadataFields[k] {
			known[k] = v
		}
	}
	kb, err := json.Marshal(known)
	if err != nil {
		return err
	}
	var a metadataAlias
	if err := json.Unmarshal(kb, &a); err != nil {
		return err
	}
	*m = Metadata(a)
	for k, v := range all {
		if metadataFields[k] {
			continue
		}
		if base, _, ok := strings.Cut(k, "#"); ok && localizable[base] {
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return err
			}
			if m.Localized == nil {
				m.Localized = map[string]string{}
			}
			m.Localized[k] = s
			continue
		}
		if m.Extra == nil {
			m.Extra = map[string]json.RawMessage{}
		}
		m.Extra[k] = v
	}
	return nil
}

// clone returns a deep copy.
func (m Metadata) clone() Metadata {
	c := m
	c.RedirectURIs = slices.Clone(m.RedirectURIs)
	c.GrantTypes = slices.Clone(m.GrantTypes)
	c.ResponseTypes = slices.Clone(m.ResponseTypes)
	c.Contacts = slices.Clone(m.Contacts)
	c.JWKS = bytes.Clone(m.JWKS)
	c.DefaultACRValues = slices.Clone(m.DefaultACRValues)
	c.RequestURIs = slices.Clone(m.RequestURIs)
	c.PostLogoutRedirectURIs = slices.Clone(m.PostLogoutRedirectURIs)
	if m.DefaultMaxAge != nil {
		v := *m.DefaultMaxAge
		c.DefaultMaxAge = &v
	}
	c.Localized = maps.Clone(m.Localized)
	c.Extra = cloneRaw(m.Extra)
	return c
}

// needsSecret reports whether the client authenticates at the token endpoint
// with a client secret.
func (m Metadata) needsSecret() bool {
	switch m.TokenEndpointAuthMethod {
	case "client_secret_basic", "client_secret_post", "client_secret_jwt":
		return true
	}
	return false
}

// jsonNames returns the JSON member names of a struct's exported fields.
func jsonNames(v any) []string {
	t := reflect.TypeOf(v)
	var names []string
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}
