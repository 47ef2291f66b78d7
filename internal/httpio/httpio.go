// Package httpio is the HTTP plumbing that the public API (httpapi) and the
// admin API (adminapi) share: the one table from OAuth error codes to HTTP
// statuses, the one error writer, bearer token extraction (RFC 6750 §2.1),
// JSON request bodies, and request logging with request IDs. It exists so
// that both listeners answer errors in exactly one way.
package httpio

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// Error codes for conditions of the HTTP layer itself, beside engine's.
const (
	// CodeMethodNotAllowed: the route exists but not for this method.
	CodeMethodNotAllowed engine.ErrorCode = "method_not_allowed"
	// CodeRequestTooLarge: the body is over the size limit (engine's code,
	// named here too for the handlers that check bodies).
	CodeRequestTooLarge = engine.CodeRequestTooLarge
)

// statuses is the one table from error code to HTTP status.
var statuses = map[engine.ErrorCode]int{
	engine.CodeInvalidRequest:              http.StatusBadRequest,
	engine.CodeInvalidRedirectURI:          http.StatusBadRequest,
	engine.CodeInvalidClientMetadata:       http.StatusBadRequest,
	engine.CodeInvalidSoftwareStatement:    http.StatusBadRequest,
	engine.CodeUnapprovedSoftwareStatement: http.StatusBadRequest,
	engine.CodeInvalidToken:                http.StatusUnauthorized,
	engine.CodeAccessDenied:                http.StatusForbidden,
	engine.CodeNotFound:                    http.StatusNotFound,
	engine.CodeConflict:                    http.StatusConflict,
	engine.CodeServerError:                 http.StatusInternalServerError,
	engine.CodeTemporarilyUnavailable:      http.StatusServiceUnavailable,
	engine.CodeTooManyRequests:             http.StatusTooManyRequests,
	engine.CodePreconditionFailed:          http.StatusPreconditionFailed,
	engine.CodeInvalidClient:               http.StatusUnauthorized,
	engine.CodeInvalidGrant:                http.StatusBadRequest,
	engine.CodeUnauthorizedClient:          http.StatusBadRequest,
	engine.CodeUnsupportedGrantType:        http.StatusBadRequest,
	engine.CodeInvalidScope:                http.StatusBadRequest,
	engine.CodeInvalidTarget:               http.StatusBadRequest,
	engine.CodeUnsupportedTokenType:        http.StatusBadRequest,
	CodeMethodNotAllowed:                   http.StatusMethodNotAllowed,
	CodeRequestTooLarge:                    http.StatusRequestEntityTooLarge,
}

// Status returns the HTTP status of an error code; an unknown code is a 500.
func Status(code engine.ErrorCode) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// RetryAfterSeconds is the Retry-After value sent with 503 responses.
const RetryAfterSeconds = "2"

// errorBody is the error response of RFC 6749 §5.2.
type errorBody struct {
	Error       engine.ErrorCode `json:"error"`
	Description string           `json:"error_description,omitempty"`
}

// WriteError answers a request with err as an OAuth error response. An
// error that is not an *engine.Error is a server_error; its cause goes to
// the log only. A 401 carries WWW-Authenticate (RFC 6750 §3), a 503
// Retry-After.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e := engine.AsError(err)
	status := Status(e.Code)
	NoStore(w)
	h := w.Header()
	if status == http.StatusUnauthorized && h.Get("WWW-Authenticate") == "" {
		// A handler that answers another scheme (the token endpoint's
		// Basic challenge) sets the header itself.
		h.Set("WWW-Authenticate", fmt.Sprintf(`Bearer error=%q, error_description=%q`, e.Code, quoteSafe(e.Description)))
	}
	switch {
	case e.RetryAfter > 0:
		h.Set("Retry-After", strconv.FormatInt(int64((e.RetryAfter+time.Second-1)/time.Second), 10))
	case status == http.StatusServiceUnavailable:
		h.Set("Retry-After", RetryAfterSeconds)
	}
	level := slog.LevelDebug
	switch {
	case status >= 500:
		level = slog.LevelError
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		level = slog.LevelInfo
	}
	attrs := []any{"error", e.Code, "error_description", e.Description}
	if e.Err != nil {
		attrs = append(attrs, "cause", e.Err.Error())
	}
	log.Log(r.Context(), level, "request failed", attrs...)
	SetErrorCode(r, e.Code)
	WriteJSON(w, status, errorBody{Error: e.Code, Description: e.Description})
}

// quoteSafe keeps a description within the quoted-string of an
// auth-param: printable ASCII without quotes or backslashes.
func quoteSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7E || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, s)
}

// WriteJSON writes v as the JSON response body with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	var b []byte
	var err error
	if m, ok := v.(json.Marshaler); ok {
		// Our marshalers write compact, valid JSON: skip encoding/json's
		// second pass over their output (4-7% of a request's CPU).
		b, err = m.MarshalJSON()
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil {
		// Only our own types are written; failing to encode one is a bug.
		status = http.StatusInternalServerError
		b = []byte(`{"error":"server_error","error_description":"internal server error"}`)
	}
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// NoStore marks a response that carries secrets as not cacheable
// (RFC 6749 §5.1, RFC 7591 §3.2.1).
func NoStore(w http.ResponseWriter) {
	h := w.Header()
	h["Cache-Control"] = noStoreCacheControl
	h["Pragma"] = noCachePragma
}

// The values of the headers that every response of a kind carries, each
// shared by all of them rather than allocated per response by Header.Set
// (as gin's render package does for Content-Type). A header's value slice
// is replaced (Set) or appended to (Add: len == cap, so append copies), and
// never written in place, so a shared one is never changed. The keys they
// are set under are in canonical form.
var (
	jsonContentType     = []string{"application/json"}
	noStoreCacheControl = []string{"no-store"}
	noCachePragma       = []string{"no-cache"}
)

// HandlerFunc is a handler that returns its error instead of writing it.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Handle adapts fn to http.Handler, writing any error it returns with
// WriteError. Handlers return errors before writing anything else.
func Handle(log *slog.Logger, fn HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			WriteError(w, r, log, err)
		}
	})
}

// Bearer returns the bearer token of a request, "" if there is none. Only
// the Authorization header is accepted (RFC 6750 §2.1): a token in the
// query string is refused, as is a malformed header.
func Bearer(r *http.Request) (string, error) {
	if r.URL.RawQuery != "" && r.URL.Query().Has("access_token") {
		return "", engine.Errorf(engine.CodeInvalidRequest, "access tokens must be sent in the Authorization header, not in the query string")
	}
	values := r.Header.Values("Authorization")
	switch len(values) {
	case 0:
		return "", nil
	case 1:
	default:
		return "", engine.Errorf(engine.CodeInvalidRequest, "the request has more than one Authorization header")
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", engine.Errorf(engine.CodeInvalidRequest, "the Authorization header scheme must be Bearer")
	}
	token = strings.TrimLeft(token, " ")
	if !ok || token == "" {
		return "", engine.Errorf(engine.CodeInvalidRequest, "the Authorization header has no token")
	}
	if !engine.ValidBearerValue(token) {
		return "", &engine.Error{Code: engine.CodeInvalidToken, Description: "invalid token provided", Err: errors.New("token has characters outside RFC 6750 b64token")}
	}
	return token, nil
}

// ReadJSON reads a request body that must be JSON (Content-Type
// application/json, any parameters) and at most limit bytes. It does not
// parse it.
func ReadJSON(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	mt, err := MediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, engine.Errorf(engine.CodeInvalidRequest, "the request body must be JSON with Content-Type application/json")
	}
	return ReadBody(w, r, limit)
}

// MediaType returns the media type of a Content-Type value as
// mime.ParseMediaType does, ignoring the parameters. The values clients
// send most, a lower-case type of the API with no parameter, are their own
// media type and are returned without the parse (and the map of
// parameters it allocates).
func MediaType(contentType string) (string, error) {
	switch contentType {
	case "application/json", "application/x-www-form-urlencoded", "application/jose", "application/jwt":
		return contentType, nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return mt, err
}

// ReadBody reads a request body of at most limit bytes, whatever its
// Content-Type; the caller judges the type.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, err := readAll(http.MaxBytesReader(w, r.Body, limit), r.ContentLength, limit)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, engine.Errorf(CodeRequestTooLarge, "the request body is larger than %d bytes", limit)
	}
	if err != nil {
		return nil, engine.Errorf(engine.CodeInvalidRequest, "cannot read the request body")
	}
	return body, nil
}

// readAll is io.ReadAll for a body that announced its length (a request's
// Content-Length, -1 when unknown): a body within the limit is read into
// one buffer of that length plus the byte that lets the last read see the
// end, where io.ReadAll starts at 512 bytes whatever the size. A body
// longer than announced is read on as io.ReadAll reads it.
func readAll(r io.Reader, length, limit int64) ([]byte, error) {
	if length < 0 || length >= limit {
		return io.ReadAll(r)
	}
	b := make([]byte, 0, length+1)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			rest, err := io.ReadAll(r)
			return append(b, rest...), err
		}
	}
}
