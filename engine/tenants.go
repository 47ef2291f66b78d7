package engine

import (
	"maps"
	"slices"
	"time"
)

// TenantRecord is a tenant created through the admin API, as the store keeps
// it. Tenants of the configuration file have no record.
type TenantRecord struct {
	Name     string   `json:"name"`
	Settings Settings `json:"settings"`
	// CreatedAt and UpdatedAt are set by the caller; a store keeps the
	// CreatedAt of the record a put replaces.
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Revision is set by the store: 1 when created, one more on each put.
	Revision int64 `json:"revision"`
	// Deleting is set by the store while DeleteTenant runs or after it
	// failed part way.
	Deleting bool `json:"deleting,omitempty"`
}

// Clone returns a deep copy.
func (t *TenantRecord) Clone() *TenantRecord {
	d := *t
	d.Settings = t.Settings.clone()
	return &d
}

// AdminToken is a tenant admin token as the store keeps it: a bearer token
// for the admin API that can manage one tenant only, minted by the global
// admin. The token itself is never kept, only its digest, as the ID.
type AdminToken struct {
	Tenant string `json:"tenant"`
	// ID is HashToken of the token.
	ID string `json:"id"`
	// Description says whom the token was given to.
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	// ExpiresAt is when the token stops working; zero means never.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// Clone returns a copy.
func (t *AdminToken) Clone() *AdminToken {
	d := *t
	return &d
}

// clone returns a deep copy of the settings.
func (s Settings) clone() Settings {
	d := s
	d.DefaultPolicies = slices.Clone(s.DefaultPolicies)
	d.ExtraClientMetadata = slices.Clone(s.ExtraClientMetadata)
	d.GrantTypesSupported = slices.Clone(s.GrantTypesSupported)
	d.ResponseTypesSupported = slices.Clone(s.ResponseTypesSupported)
	d.TokenEndpointAuthMethodsSupported = slices.Clone(s.TokenEndpointAuthMethodsSupported)
	d.SigningAlgValuesSupported = slices.Clone(s.SigningAlgValuesSupported)
	d.SubjectTypesSupported = slices.Clone(s.SubjectTypesSupported)
	d.ScopesSupported = slices.Clone(s.ScopesSupported)
	d.ACRValuesSupported = slices.Clone(s.ACRValuesSupported)
	d.ClientDefaults = maps.Clone(s.ClientDefaults)
	d.PolicyConfig = maps.Clone(s.PolicyConfig)
	if s.Management != nil {
		on := *s.Management
		d.Management = &on
	}
	return d
}
