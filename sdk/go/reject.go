package registrar

// Code is an error code of RFC 7591 §3.2.2 that a hook may reject a
// request with.
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

// Valid reports whether c is one of the four codes.
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
