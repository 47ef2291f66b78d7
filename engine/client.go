package engine

import (
	"bytes"
	"encoding/json"
	"slices"
	"time"
)

// Client is a registered client as the store keeps it. It holds no usable
// secret in the clear: the client secret and the registration access token
// are kept as SHA-256 digests, and a client_secret_jwt client's secret
// also sealed (SecretSealed).
type Client struct {
	Tenant   string    `json:"tenant"`
	ID       string    `json:"client_id"`
	IssuedAt time.Time `json:"issued_at"`
	// UpdatedAt is when the metadata or a token last changed.
	UpdatedAt time.Time `json:"updated_at"`
	// ExpiresAt is when the registration lapses (Settings.RegistrationValidity);
	// zero means never.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	Metadata  Metadata  `json:"metadata"`
	// SecretHash is the digest of the client secret (see HashSecret); empty
	// for clients without a secret.
	SecretHash string `json:"secret_hash,omitempty"`
	// SecretSealed is the client secret sealed under the server's
	// key-encryption key (SecretSealer, bound to SecretContext), kept
	// beside SecretHash for a client_secret_jwt client of a tenant whose
	// client_secret_storage is encrypted; empty otherwise. It is never
	// shown: not in responses, the admin API or policy input.
	SecretSealed string `json:"secret_sealed,omitempty"`
	// RegistrationTokenHash is the digest of the client's one registration
	// access token; empty when none was issued.
	RegistrationTokenHash string `json:"registration_token_hash,omitempty"`
	// RegistrationPolicies are the policies that run when the client updates
	// itself with its registration access token.
	RegistrationPolicies []string `json:"registration_policies,omitempty"`
	// IssuedBy is the ID of the initial access token that admitted the
	// client; empty for open or static-token registrations.
	IssuedBy string `json:"issued_by,omitempty"`
	// History records the registration and each update, oldest first,
	// within MaxHistory entries (provenance).
	History []Provenance `json:"history,omitempty"`
}

// storedClient is the JSON form of a Client for stores: the metadata's
// standard members as an object of their own and its language-tagged and
// extra members beside it, so that decoding is one pass with no member
// sorting (the flat form of Metadata needs three).
type storedClient struct {
	clientFields
	Metadata  metadataAlias              `json:"metadata"`
	Localized map[string]string          `json:"metadata_localized,omitempty"`
	Extra     map[string]json.RawMessage `json:"metadata_extra,omitempty"`
}

// clientFields is Client without its methods; its Metadata field is
// shadowed by storedClient's.
type clientFields Client

// MarshalJSON writes the storage form of the client: without reflection
// (clientcodec.go), byte for byte what marshalStored writes.
func (c Client) MarshalJSON() ([]byte, error) {
	if b, ok := appendClient(make([]byte, 0, encodedSizeHint(&c)), &c); ok {
		return b, nil
	}
	return marshalStored(c)
}

// UnmarshalJSON reads what MarshalJSON wrote: in one pass without
// reflection when it can (clientcodec.go), else with unmarshalStored; the
// result is the same.
func (c *Client) UnmarshalJSON(b []byte) error {
	// Decoded in place; on failure *c is restored, as encoding/json
	// leaves it when it fails.
	old := *c
	if *c = (Client{}); decodeClientFast(b, c) {
		return nil
	}
	*c = old
	return unmarshalStored(b, c)
}

// marshalStored is the storage form by encoding/json: the reference that
// the codec of clientcodec.go matches, and its fallback.
func marshalStored(c Client) ([]byte, error) {
	return json.Marshal(storedClient{
		clientFields: clientFields(c),
		Metadata:     metadataAlias(c.Metadata),
		Localized:    c.Metadata.Localized,
		Extra:        c.Metadata.Extra,
	})
}

// unmarshalStored reads the storage form by encoding/json: the reference
// and the fallback of the codec of clientcodec.go.
func unmarshalStored(b []byte, c *Client) error {
	var s storedClient
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*c = Client(s.clientFields)
	c.Metadata = Metadata(s.Metadata)
	c.Metadata.Localized, c.Metadata.Extra = s.Localized, s.Extra
	return nil
}

// Clone returns a deep copy, so that a store can hand out values that the
// caller may change.
func (c *Client) Clone() *Client {
	d := *c
	d.Metadata = c.Metadata.clone()
	d.RegistrationPolicies = slices.Clone(c.RegistrationPolicies)
	d.History = slices.Clone(c.History)
	for i := range d.History {
		d.History[i].Policies = slices.Clone(c.History[i].Policies)
		d.History[i].Hooks = slices.Clone(c.History[i].Hooks)
	}
	return &d
}

// secretExpiresAt is the client_secret_expires_at value: the registration's
// expiry in seconds since the epoch, or 0 for never (RFC 7591 §3.2.1).
func (c *Client) secretExpiresAt() int64 {
	if c.ExpiresAt.IsZero() {
		return 0
	}
	return c.ExpiresAt.Unix()
}

// ClientInformation is the client information response of RFC 7591 §3.2.1
// and RFC 7592 §3: the client's metadata plus what the server assigned.
type ClientInformation struct {
	Client *Client
	// Secret is the client secret in the clear. It is known only when it was
	// issued by this request; otherwise the response omits it.
	Secret string
	// RegistrationAccessToken is the token in the clear: newly issued, or
	// the one the request presented. Empty when the client has none.
	RegistrationAccessToken string
	// RegistrationClientURI is the client configuration endpoint; the HTTP
	// layer sets it, as only it knows the public base URL.
	RegistrationClientURI string
}

// MarshalJSON writes the flat response object: client_id and the other
// server-assigned members, then the metadata. It is written without
// reflection (clientcodec.go), byte for byte what marshalInformation writes.
func (ci ClientInformation) MarshalJSON() ([]byte, error) {
	if b, ok := appendInformation(make([]byte, 0, 768+2*len(ci.Client.Metadata.JWKS)), &ci); ok {
		return b, nil
	}
	return marshalInformation(ci)
}

// marshalInformation is the response object by encoding/json: the
// reference that appendInformation matches, and its fallback.
func marshalInformation(ci ClientInformation) ([]byte, error) {
	type head struct {
		ClientID                string `json:"client_id"`
		ClientIDIssuedAt        int64  `json:"client_id_issued_at"`
		ClientSecret            string `json:"client_secret,omitempty"`
		ClientSecretExpiresAt   *int64 `json:"client_secret_expires_at,omitempty"`
		RegistrationAccessToken string `json:"registration_access_token,omitempty"`
		RegistrationClientURI   string `json:"registration_client_uri,omitempty"`
	}
	c := ci.Client
	h := head{
		ClientID:                c.ID,
		ClientIDIssuedAt:        c.IssuedAt.Unix(),
		ClientSecret:            ci.Secret,
		RegistrationAccessToken: ci.RegistrationAccessToken,
	}
	if c.SecretHash != "" {
		exp := c.secretExpiresAt()
		h.ClientSecretExpiresAt = &exp
	}
	if ci.RegistrationAccessToken != "" {
		h.RegistrationClientURI = ci.RegistrationClientURI
	}
	hb, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	mb, err := marshalFlat(c.Metadata)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(len(hb) + len(mb))
	buf.Write(hb[:len(hb)-1])
	buf.WriteByte(',')
	buf.Write(mb[1:])
	return buf.Bytes(), nil
}
