package registrar

import (
	"errors"

	"github.com/registrar-dev/registrar/sdk/go/internal/jsontext"
)

// SoftwareStatement is the request's software statement (RFC 7591 §2.3)
// as Registrar verified it: PolicyInput.SoftwareStatement (sdk/ABI.md §2,
// "policy"). The host sends one only on registration, when the tenant
// verifies statements and the request's passed every check; its claims
// already override the same members of the metadata.
type SoftwareStatement struct {
	// Issuer is the statement's iss: one of the tenant's trusted issuers.
	Issuer string
	// Claims are every claim of the statement as signed (iss, iat, jti,
	// software_id, and any other such as software_roles or org_id), never
	// nil. The typed accessors read them; their type errors are
	// rejections with invalid_client_metadata, so a policy that wants
	// another code checks them itself.
	Claims *Object
	// Verified reports that the host verified the statement: always true
	// in what the host sends (an unverified statement is not sent). A
	// policy that admits clients by a claim checks it all the same.
	Verified bool
}

// readStatement decodes the software_statement member of a policy input; null is
// nil, and members it does not know are ignored.
func readStatement(d *jsontext.Decoder) (*SoftwareStatement, error) {
	if null(d) {
		return nil, nil
	}
	s := &SoftwareStatement{}
	err := d.ReadObject(func(name []byte) error {
		var err error
		switch string(name) {
		case "issuer":
			s.Issuer, err = readString(d)
		case "claims":
			s.Claims, err = readNullableObject(d)
		case "verified":
			if null(d) {
				return nil
			}
			var raw []byte
			if raw, err = d.ReadRaw(); err == nil {
				switch string(raw) {
				case "true":
					s.Verified = true
				case "false":
				default:
					err = errors.New("not true or false")
				}
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if s.Claims == nil {
		s.Claims = &Object{}
	}
	return s, nil
}
