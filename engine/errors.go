package engine

import (
	"errors"
	"fmt"
	"time"
)

// ErrorCode is an OAuth error code, the value of the "error" member of an
// error response (RFC 6749 §5.2, RFC 7591 §3.2.2, RFC 6750 §3.1).
type ErrorCode string

// The error codes Registrar answers with. The HTTP status of each is decided
// in one table, in the httpapi package.
const (
	// CodeInvalidRequest: the request is malformed (RFC 6749 §5.2).
	CodeInvalidRequest ErrorCode = "invalid_request"
	// CodeInvalidToken: the bearer token is missing, unknown, expired or
	// revoked (RFC 6750 §3.1).
	CodeInvalidToken ErrorCode = "invalid_token"
	// CodeInvalidRedirectURI: a redirect URI is invalid (RFC 7591 §3.2.2).
	CodeInvalidRedirectURI ErrorCode = "invalid_redirect_uri"
	// CodeInvalidClientMetadata: a metadata value is invalid (RFC 7591 §3.2.2).
	CodeInvalidClientMetadata ErrorCode = "invalid_client_metadata"
	// CodeInvalidSoftwareStatement: the software statement is invalid
	// (RFC 7591 §3.2.2).
	CodeInvalidSoftwareStatement ErrorCode = "invalid_software_statement"
	// CodeUnapprovedSoftwareStatement: the software statement is not
	// approved for use here (RFC 7591 §3.2.2).
	CodeUnapprovedSoftwareStatement ErrorCode = "unapproved_software_statement"
	// CodeAccessDenied: the caller is authenticated but may not do this.
	CodeAccessDenied ErrorCode = "access_denied"
	// CodeNotFound: the addressed resource does not exist.
	CodeNotFound ErrorCode = "not_found"
	// CodeConflict: the resource exists already or changed under the request.
	CodeConflict ErrorCode = "conflict"
	// CodePreconditionFailed: a conditional request (If-Match) found
	// another revision.
	CodePreconditionFailed ErrorCode = "precondition_failed"
	// CodeServerError: an internal failure (RFC 6749 §4.1.2.1).
	CodeServerError ErrorCode = "server_error"
	// CodeTemporarilyUnavailable: a dependency is down; retry later.
	CodeTemporarilyUnavailable ErrorCode = "temporarily_unavailable"
	// CodeTooManyRequests: the caller went over a rate limit; retry after
	// Error.RetryAfter. No RFC registers a code for this; the name follows
	// HTTP's 429 Too Many Requests.
	CodeTooManyRequests ErrorCode = "too_many_requests"
	// CodeRequestTooLarge: the request, or what it would make the server
	// keep, is over a size limit.
	CodeRequestTooLarge ErrorCode = "request_too_large"

	// CodeInvalidClient: client authentication failed (RFC 6749 §5.2).
	CodeInvalidClient ErrorCode = "invalid_client"
	// CodeInvalidGrant: the grant is invalid, expired or revoked
	// (RFC 6749 §5.2).
	CodeInvalidGrant ErrorCode = "invalid_grant"
	// CodeUnauthorizedClient: the client may not use this grant type, or
	// may not do this to that token (RFC 6749 §5.2, RFC 7009 §2.1).
	CodeUnauthorizedClient ErrorCode = "unauthorized_client"
	// CodeUnsupportedGrantType: the server does not support the grant type
	// (RFC 6749 §5.2).
	CodeUnsupportedGrantType ErrorCode = "unsupported_grant_type"
	// CodeInvalidScope: the requested scope is invalid, unknown, or beyond
	// what the client registered (RFC 6749 §5.2).
	CodeInvalidScope ErrorCode = "invalid_scope"
	// CodeInvalidTarget: a requested resource is invalid or not allowed
	// (RFC 8707 §2).
	CodeInvalidTarget ErrorCode = "invalid_target"
	// CodeUnsupportedTokenType: revocation of that token type is not
	// supported (RFC 7009 §2.2.1).
	CodeUnsupportedTokenType ErrorCode = "unsupported_token_type"
)

// Codes lists every ErrorCode the engine may return, so that a test can check
// that each has an HTTP status.
var Codes = []ErrorCode{
	CodeInvalidRequest, CodeInvalidToken, CodeInvalidRedirectURI,
	CodeInvalidClientMetadata, CodeInvalidSoftwareStatement,
	CodeUnapprovedSoftwareStatement, CodeAccessDenied, CodeNotFound,
	CodeConflict, CodeServerError, CodeTemporarilyUnavailable,
	CodeTooManyRequests, CodePreconditionFailed, CodeRequestTooLarge,
	CodeInvalidClient, CodeInvalidGrant, CodeUnauthorizedClient,
	CodeUnsupportedGrantType, CodeInvalidScope, CodeInvalidTarget,
	CodeUnsupportedTokenType,
}

// Error is an OAuth error response. Code and Description are shown to the
// client; Err is the internal cause, kept for logs and errors.Is/As and never
// rendered.
type Error struct {
	Code        ErrorCode
	Description string
	Err         error
	// RetryAfter, when positive, tells the client when to try again.
	RetryAfter time.Duration
}

// Errorf returns an *Error with a formatted description.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Description: fmt.Sprintf(format, args...)}
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Description, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Description)
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// AsError returns err as an *Error. An error that is not an *Error anywhere
// in its chain becomes a server_error whose description says nothing of the
// cause; the cause stays reachable through Unwrap for the log.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var limit *PolicyLimitError
	if errors.As(err, &limit) {
		return limit.oauth()
	}
	if errors.Is(err, ErrUnavailable) {
		return &Error{Code: CodeTemporarilyUnavailable, Description: "the service is temporarily unavailable, retry later", Err: err}
	}
	return &Error{Code: CodeServerError, Description: "internal server error", Err: err}
}

// serverError wraps an internal failure with a description safe to show.
func serverError(description string, cause error) *Error {
	return &Error{Code: CodeServerError, Description: description, Err: cause}
}

// errInvalidToken is the single answer to every authentication failure, so
// that a caller cannot tell an unknown token from an expired or foreign one.
func errInvalidToken(cause error) *Error {
	return &Error{Code: CodeInvalidToken, Description: "invalid token provided", Err: cause}
}

// errNoToken is the answer to a request that needed a bearer token and had none.
func errNoToken() *Error {
	return &Error{Code: CodeInvalidToken, Description: "no access token provided"}
}
