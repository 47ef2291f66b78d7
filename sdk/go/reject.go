package registrar

// Code is an error code that a hook may reject a request with: one of
// RFC 7591 §3.2.2 for the registration hooks, one of RFC 6749 §5.2 for
// the issue_access_token hook.
type Code string

// The codes a module may answer with (sdk/ABI.md §2).
const (
	// InvalidRedirectURI: a redirect URI is not acceptable.
	InvalidRedirectURI Code = "invalid_redirect_uri"
	// InvalidClientMetadata: a metadata member is not acceptable.
	InvalidClientMetadata Code = "invalid_client_metadata"
	// InvalidSoftwareStatement: the software statement is invalid.
	InvalidSoftwareStatement Code = "invalid_software_statement"
	// UnapprovedSoftwareStatement: the software statement is not approved.
	UnapprovedSoftwareStatement Code = "unapproved_software_statement"
)

// The codes an issue_access_token hook may deny a token with (sdk/ABI.md
// §2, RFC 6749 §5.2); the client receives them from the token endpoint.
const (
	// InvalidScope: the requested scope is not acceptable (400).
	InvalidScope Code = "invalid_scope"
	// UnauthorizedClient: the client may not have a token this way (400).
	UnauthorizedClient Code = "unauthorized_client"
	// AccessDenied: the token is refused (403).
	AccessDenied Code = "access_denied"
)

// ValidForToken reports whether c is one of the three codes of the
// issue_access_token hook.
func (c Code) ValidForToken() bool {
	switch c {
	case InvalidScope, UnauthorizedClient, AccessDenied:
		return true
	}
	return false
}

// Valid reports whether c is one of the four codes of RFC 7591, those of
// the registration hooks.
func (c Code) Valid() bool {
	switch c {
	case InvalidRedirectURI, InvalidClientMetadata, InvalidSoftwareStatement, UnapprovedSoftwareStatement:
		return true
	}
	return false
}

// Rejection is a hook's refusal of a request: the client receives its
// code and description with status 400. A hook rejects by returning a
// *Rejection as its error; any other error fails the call instead (the
// client receives server_error and the error goes to Registrar's log).
type Rejection struct {
	// Code is the error code the client receives.
	Code Code
	// Description is shown to the client. It is cut to 1,024 bytes and
	// its control characters are replaced by spaces when it is sent.
	Description string
}

// Reject returns a *Rejection with a code and a description for the
// client.
func Reject(code Code, description string) error {
	return &Rejection{Code: code, Description: description}
}

// Error implements error.
func (r *Rejection) Error() string {
	if r.Description == "" {
		return string(r.Code)
	}
	return string(r.Code) + ": " + r.Description
}
