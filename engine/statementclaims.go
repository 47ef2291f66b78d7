package engine

import (
	"encoding/json"
	"unicode/utf8"
)

// checkClaimValues refuses a statement whose claims could not be handed on
// as a request's members are: a value that is not valid UTF-8, or that
// names a member twice at any depth. A verifier keeps claim values as
// signed; this is where they meet the rules DecodeObject applies to a
// request body, which the claims join (they override its members) and
// which policy modules are promised (sdk/ABI.md §2: input documents are
// valid UTF-8 with no member named twice).
func checkClaimValues(claims map[string]json.RawMessage) error {
	for name, v := range claims {
		if !utf8.Valid(v) || !utf8.ValidString(name) {
			return Errorf(CodeInvalidSoftwareStatement, "software_statement: claim %q is not valid UTF-8", truncate(name, 64))
		}
		if inner, dup := repeatedMember(v); dup {
			return Errorf(CodeInvalidSoftwareStatement, "software_statement: member %q of claim %q appears more than once", truncate(inner, 64), truncate(name, 64))
		}
	}
	return nil
}
