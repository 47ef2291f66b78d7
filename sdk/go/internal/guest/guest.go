// Package guest is the module side of the ABI calling convention
// (sdk/ABI.md §1) that the hook packages share: the allocator and
// ABI-version exports, the input and output buffers, turning a hook's
// result into an output document, and failing a call.
package guest

import (
	"errors"
	"strings"
	"unicode/utf8"

	registrar "github.com/registrar-dev/registrar/sdk/go"
	"github.com/registrar-dev/registrar/sdk/go/internal/jsontext"
)

// ABIVersion is the ABI version this SDK implements.
const ABIVersion = 1

// maxDescription bounds an error_description (sdk/ABI.md §2).
const maxDescription = 1024

// A Handler turns an input document into an output document appended to
// out, or returns an error: a *registrar.Rejection, which becomes an error
// document, or anything else, which fails the call.
type Handler func(in, out []byte) ([]byte, error)

// hook is a hook package linked into the module.
type hook struct {
	name, pkg string
	handled   func() bool
}

// hooks are the hook packages linked into the module, in init order.
var hooks []hook

// Register records that pkg, the package of the hook name, is linked in,
// so that its export exists; handled reports whether the author registered
// a handler. Hook packages call it from init.
func Register(name, pkg string, handled func() bool) {
	hooks = append(hooks, hook{name, pkg, handled})
}

// checkHandled panics, which makes the host refuse the module when it is
// loaded, if a hook is exported without a handler: the author imported a
// hook package but did not call its Handle during initialisation.
func checkHandled() {
	for _, h := range hooks {
		if !h.handled() {
			panic("registrar: the module exports the " + h.name + " hook but has no handler for it: call " +
				h.pkg + ".Handle from an init function (main never runs in a module)")
		}
	}
}

// Failure is an error that fails the call rather than rejecting the request.
type Failure struct {
	Hook string // the hook's ABI name
	Err  error  // why
}

// Error implements error.
func (f *Failure) Error() string {
	return "registrar: the " + f.Hook + " hook failed: " + f.Err.Error()
}

// Run runs a handler on an input document and returns the output document,
// appended to out, or a *Failure.
func Run(name string, h Handler, in, out []byte) ([]byte, error) {
	doc, err := h(in, out)
	if err == nil {
		return doc, nil
	}
	var r *registrar.Rejection
	if errors.As(err, &r) {
		if name == "issue_access_token" && !r.Code.ValidForToken() {
			return nil, &Failure{name, errors.New("rejected with " + r.Error() + ", but the code is not invalid_scope, unauthorized_client or access_denied")}
		}
		if name != "issue_access_token" && !r.Code.Valid() {
			return nil, &Failure{name, errors.New("rejected with " + r.Error() + ", but the code is not one of the RFC 7591 codes")}
		}
		return AppendRejection(out, r), nil
	}
	return nil, &Failure{name, err}
}

// AppendRejection appends the error document of a rejection to b, with its
// description made safe: at most 1,024 bytes of valid UTF-8 without
// control characters.
func AppendRejection(b []byte, r *registrar.Rejection) []byte {
	b = append(b, `{"error":`...)
	b = jsontext.AppendString(b, string(r.Code))
	if d := description(r.Description); d != "" {
		b = append(b, `,"error_description":`...)
		b = jsontext.AppendString(b, d)
	}
	return append(b, '}')
}

func description(s string) string {
	s = strings.ToValidUTF8(s, "\ufffd")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxDescription {
		cut := maxDescription
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

// ValidClientID reports whether s is 1 to 128 characters of
// A-Z a-z 0-9 . _ ~ - (sdk/ABI.md §2, id_factory).
func ValidClientID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '~' || c == '-') {
			return false
		}
	}
	return true
}

// ValidClientSecret reports whether s is 32 to 512 printable ASCII
// characters without spaces (sdk/ABI.md §2, secret_factory).
func ValidClientSecret(s string) bool {
	if len(s) < 32 || len(s) > 512 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
