package fetch

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
)

// Kind classifies the outcome of a fetch, so that a caller can map it: a
// Refused or Invalid fetch is the fault of whoever named the URL (a 400 at
// registration), an Unavailable one is nobody's fault yet (a 503 with
// Retry-After).
type Kind int

const (
	// OK is the Kind of a fetch that succeeded; no Error has it.
	OK Kind = iota
	// Refused: the fetch was refused by policy before any connection to the
	// refused address: a scheme other than https, an address the guard
	// refuses, credentials in the URL, or too many redirects.
	Refused
	// Unavailable: the server could not be had: a DNS failure, a refused or
	// reset connection, a TLS failure, a timeout, a 5xx, 408 or 429 status.
	Unavailable
	// Invalid: the server answered, but not with what was asked for: a
	// status other than 200 (and not one of Unavailable's), a body over the
	// cap, or (set by callers) a document that does not parse.
	Invalid
)

// String returns the Kind's name, fit for a metric label: "ok", "refused",
// "unavailable" or "invalid".
func (k Kind) String() string {
	switch k {
	case OK:
		return "ok"
	case Refused:
		return "refused"
	case Unavailable:
		return "unavailable"
	case Invalid:
		return "invalid"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is a failed fetch. Its message is one line that names the URL
// (without credentials) and what happened.
type Error struct {
	// Kind says whose fault it is; never OK.
	Kind Kind
	// URL is the URL that was asked for (not the one a redirect led to),
	// with any user information removed.
	URL string
	// Err is what happened.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("fetch %s: %s: %v", e.URL, e.Kind, e.Err)
}

// Unwrap returns the cause, so that errors.Is(err, context.DeadlineExceeded)
// works on a timeout.
func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of the first *Error in err's chain: OK for nil,
// and Unavailable for an error that is not a fetch error (a caller that
// cannot tell treats it as a transient failure, not as bad input).
func KindOf(err error) Kind {
	if err == nil {
		return OK
	}
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Kind
	}
	return Unavailable
}

// redact returns raw for messages and logs: without user information, at
// most 256 bytes, and quoted if it is not a URL (which may hold control
// characters, a new line among them).
func redact(raw string) string {
	const most = 256
	u, err := url.Parse(raw)
	if err != nil {
		if len(raw) > most {
			raw = raw[:most]
		}
		return strconv.Quote(raw)
	}
	u.User = nil
	s := u.String()
	if len(s) > most {
		s = s[:most] + "..."
	}
	return s
}
