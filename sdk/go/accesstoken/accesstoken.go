// Package accesstoken exports the issue_access_token hook (sdk/ABI.md §2):
// importing it and calling Handle from an init function makes a module
// decide at the token endpoint whether a client gets an access token, and
// narrow its scope, set its audience, shorten its lifetime and add claims.
package accesstoken

import (
	"errors"
	"slices"
	"strconv"

	registrar "github.com/registrar-dev/registrar/sdk/go"
	"github.com/registrar-dev/registrar/sdk/go/internal/guest"
	"github.com/registrar-dev/registrar/sdk/go/internal/jsontext"
)

// Func allows the token, returning what it changes (nil: nothing), or
// denies it by returning a *registrar.Rejection with registrar.InvalidScope,
// registrar.UnauthorizedClient or registrar.AccessDenied. Any other error,
// and an output the host would refuse (a scope value beyond the input's,
// a longer lifetime, a reserved claim), fails the request with
// server_error.
type Func func(in *registrar.AccessTokenInput) (*registrar.AccessTokenOutput, error)

var hook = guest.NewHook("issue_access_token", "accesstoken", appendOutput)

// Handle makes fn the module's issue_access_token hook. Call it once,
// during initialisation (from init or a package-level variable): main
// never runs in a module, and the host refuses a module that exports the
// hook without a handler.
func Handle(fn Func) { hook.Handle(fn) }

// appendOutput checks a result against the input and appends its output
// document.
func appendOutput(out []byte, in *registrar.AccessTokenInput, res *registrar.AccessTokenOutput) ([]byte, error) {
	if res == nil {
		return append(out, "{}"...), nil
	}
	if err := check(in, res); err != nil {
		return nil, err
	}
	out = append(out, '{')
	sep := func() {
		if len(out) > 0 && out[len(out)-1] != '{' {
			out = append(out, ',')
		}
	}
	if res.Scope != nil {
		out = append(out, `"scope":`...)
		out = jsontext.AppendStrings(out, res.Scope)
	}
	if res.Audience != nil {
		sep()
		out = append(out, `"audience":`...)
		out = jsontext.AppendStrings(out, res.Audience)
	}
	if res.Lifetime > 0 {
		sep()
		out = append(out, `"lifetime":`...)
		out = strconv.AppendInt(out, res.Lifetime, 10)
	}
	if res.Claims != nil && res.Claims.Len() > 0 {
		sep()
		out = append(out, `"claims":`...)
		out = res.Claims.AppendJSON(out)
	}
	return append(out, '}'), nil
}

// check refuses what the host would: sdk/ABI.md §2, issue_access_token.
func check(in *registrar.AccessTokenInput, res *registrar.AccessTokenOutput) error {
	for i, v := range res.Scope {
		if !slices.Contains(in.Scope, v) {
			return errors.New("returned scope " + strconv.Quote(v) + ", which is not in the input's scope: a hook may only narrow it")
		}
		if slices.Contains(res.Scope[:i], v) {
			return errors.New("returned scope " + strconv.Quote(v) + " twice")
		}
	}
	if res.Audience != nil && (len(res.Audience) == 0 || len(res.Audience) > 16 || slices.Contains(res.Audience, "")) {
		return errors.New("returned an audience that is not 1 to 16 non-empty strings")
	}
	if res.Lifetime < 0 || res.Lifetime > in.Lifetime {
		return errors.New("returned a lifetime of " + strconv.FormatInt(res.Lifetime, 10) + " seconds; the most is the input's " + strconv.FormatInt(in.Lifetime, 10))
	}
	return checkClaims(in.Claims, res.Claims)
}

// checkClaims refuses reserved names, names an earlier module set, and
// claims over registrar.MaxClaimsBytes.
func checkClaims(earlier, claims *registrar.Object) error {
	if claims == nil {
		return nil
	}
	for name := range claims.All() {
		if name == "" || slices.Contains(registrar.ReservedClaims, name) {
			return errors.New("returned claim " + strconv.Quote(name) + ", which is reserved: the token endpoint sets it")
		}
		if earlier.Has(name) {
			return errors.New("returned claim " + strconv.Quote(name) + ", which an earlier module set")
		}
	}
	if n := len(claims.AppendJSON(nil)); n > registrar.MaxClaimsBytes {
		return errors.New("returned claims of " + strconv.Itoa(n) + " bytes; the most is 4096")
	}
	return nil
}
