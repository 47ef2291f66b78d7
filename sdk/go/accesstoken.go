package registrar

import (
	"github.com/registrar-dev/registrar/sdk/go/internal/jsontext"
)

// AccessTokenInput is the input of the issue_access_token hook: a token
// request at the token endpoint, as the endpoint has judged it so far.
type AccessTokenInput struct {
	Envelope
	// ClientID is the client asking for a token.
	ClientID string
	// Metadata is the client's validated metadata.
	Metadata *Object
	// GrantType is the grant of the request ("client_credentials").
	GrantType string
	// AuthMethod is how the client authenticated (a
	// token_endpoint_auth_method value).
	AuthMethod string
	// RequestedScope is the request's scope parameter, split; nil when the
	// request named none.
	RequestedScope []string
	// AllowedScope is the scope the client registered.
	AllowedScope []string
	// Scope is what the token gets unless the hook narrows it; a hook may
	// return only values of it.
	Scope []string
	// Resources are the request's resource parameters (RFC 8707).
	Resources []string
	// Audience is the token's audience unless the hook replaces it.
	Audience []string
	// Lifetime is the token's lifetime in seconds unless the hook shortens
	// it; also the most the hook may return.
	Lifetime int64
	// Policies are the client's registration policies.
	Policies []string
	// Claims are the claims earlier modules of the request set, or nil; a
	// hook may not set one of them again.
	Claims *Object
}

// AccessTokenOutput is what the issue_access_token hook returns to allow
// the token. A nil or zero field keeps the input's value.
type AccessTokenOutput struct {
	// Scope, unless nil, is the token's scope: values of the input's Scope
	// only, each once. An empty, non-nil slice grants no scope.
	Scope []string
	// Audience, unless nil, replaces the token's audience: 1 to 16
	// non-empty strings.
	Audience []string
	// Lifetime, when positive, is the token's lifetime in seconds: at most
	// the input's Lifetime.
	Lifetime int64
	// Claims are extra claims of the token: at most 4,096 bytes as JSON,
	// no name of ReservedClaims, none set by an earlier module.
	Claims *Object
}

// ReservedClaims are the claim names a hook may not set: the token
// endpoint decides them (sdk/ABI.md §2).
var ReservedClaims = []string{
	"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "client_id", "scope",
	"cnf", "token_type", "active", "username", "auth_time", "acr", "amr",
}

// MaxClaimsBytes bounds the claims of an issue_access_token hook's output,
// as JSON.
const MaxClaimsBytes = 4096

// UnmarshalJSON decodes the input document of the issue_access_token
// hook.
func (in *AccessTokenInput) UnmarshalJSON(data []byte) error {
	*in = AccessTokenInput{}
	return decode(data, &in.Envelope, func(d *jsontext.Decoder, name []byte) error {
		var err error
		switch string(name) {
		case "client_id":
			in.ClientID, err = readString(d)
		case "metadata":
			in.Metadata, err = readNullableObject(d)
		case "grant_type":
			in.GrantType, err = readString(d)
		case "auth_method":
			in.AuthMethod, err = readString(d)
		case "requested_scope":
			in.RequestedScope, err = readStrings(d)
		case "allowed_scope":
			in.AllowedScope, err = readStrings(d)
		case "scope":
			in.Scope, err = readStrings(d)
		case "resources":
			in.Resources, err = readStrings(d)
		case "audience":
			in.Audience, err = readStrings(d)
		case "lifetime":
			if !null(d) {
				in.Lifetime, err = readInt(d)
			}
		case "policies":
			in.Policies, err = readStrings(d)
		case "claims":
			in.Claims, err = readNullableObject(d)
		}
		return err
	})
}
