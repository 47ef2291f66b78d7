package registrar

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/registrar-dev/registrar/sdk/go/internal/jsontext"
)

// Phase says which request a hook runs for.
type Phase string

// The phases.
const (
	// PhaseRegister: a new registration (RFC 7591).
	PhaseRegister Phase = "register"
	// PhaseUpdate: an update through RFC 7592.
	PhaseUpdate Phase = "update"
)

// Token describes the token that authorised the request.
type Token struct {
	// Kind is "initial_access_token", "static", "registration_access_token"
	// or "none" (open registration).
	Kind string
	// ID is the SHA-256 of a stored token, else "".
	ID string
	// Policies are the policies the token names.
	Policies []string
	// ClientID is the client ID the token reserves, or the client being
	// updated; "" if none.
	ClientID string
}

// Request holds facts about the HTTP request.
type Request struct {
	// RemoteIP is the client's IP address as Registrar saw it.
	RemoteIP string
}

// Envelope holds the members that every hook's input has.
type Envelope struct {
	// ABI is the ABI version of the input document: 1.
	ABI int
	// Hook is the hook being called, e.g. "policy".
	Hook string
	// Tenant is the tenant the request is for.
	Tenant string
	// Now is the host's time, to the second.
	Now time.Time
	// Token is the token that authorised the request.
	Token Token
	// Request holds facts about the HTTP request.
	Request Request
	// Config is this module's configuration for the tenant (the tenant's
	// policy_config.<module name>), or nil. ParseObject reads an object.
	Config json.RawMessage
}

// PolicyInput is the input of the policy hook.
type PolicyInput struct {
	Envelope
	// Phase is PhaseRegister or PhaseUpdate.
	Phase Phase
	// Metadata is the client metadata about to be validated. It is not yet
	// validated: any member may have the wrong type.
	Metadata *Object
	// ClientID is the client being updated (PhaseUpdate), else "".
	ClientID string
	// Current is the client's stored metadata (PhaseUpdate), else nil.
	Current *Object
	// Policies is the policy list of the request.
	Policies []string
	// SoftwareStatement is the request's verified software statement, or
	// nil: on registration only, when the tenant verifies statements and
	// the request carried one.
	SoftwareStatement *SoftwareStatement
}

// PolicyOutput is what the policy hook returns to accept a request.
type PolicyOutput struct {
	// Metadata is the metadata to continue with. It must not contain
	// server-assigned members (client_id, client_secret,
	// client_id_issued_at, client_secret_expires_at,
	// registration_access_token, registration_client_uri).
	Metadata *Object
	// RegistrationPolicies, unless nil, replaces the policy list that the
	// client's registration access token carries. Each must name a module
	// the tenant has.
	RegistrationPolicies []string
}

// FactoryInput is the input of the id_factory and secret_factory hooks.
type FactoryInput struct {
	Envelope
	// Metadata is the validated client metadata.
	Metadata *Object
}

// DecisionInput is the input of the issue_registration_access_token and
// rotate_registration_access_token hooks.
type DecisionInput struct {
	Envelope
	// Phase is PhaseRegister or PhaseUpdate.
	Phase Phase
	// ClientID is the client's ID.
	ClientID string
	// Metadata is the validated client metadata.
	Metadata *Object
}

// UnmarshalJSON decodes a policy input document (sdk/ABI.md §2). Members
// it does not know are ignored.
func (in *PolicyInput) UnmarshalJSON(data []byte) error {
	*in = PolicyInput{}
	return decode(data, &in.Envelope, func(d *jsontext.Decoder, name []byte) error {
		var err error
		switch string(name) {
		case "phase":
			var s string
			s, err = readString(d)
			in.Phase = Phase(s)
		case "metadata":
			in.Metadata, err = readNullableObject(d)
		case "client_id":
			in.ClientID, err = readString(d)
		case "current":
			in.Current, err = readNullableObject(d)
		case "policies":
			in.Policies, err = readStrings(d)
		case "software_statement":
			in.SoftwareStatement, err = readStatement(d)
		}
		return err
	})
}

// UnmarshalJSON decodes an id_factory or secret_factory input document.
func (in *FactoryInput) UnmarshalJSON(data []byte) error {
	*in = FactoryInput{}
	return decode(data, &in.Envelope, func(d *jsontext.Decoder, name []byte) error {
		var err error
		if string(name) == "metadata" {
			in.Metadata, err = readNullableObject(d)
		}
		return err
	})
}

// UnmarshalJSON decodes the input document of a decision hook.
func (in *DecisionInput) UnmarshalJSON(data []byte) error {
	*in = DecisionInput{}
	return decode(data, &in.Envelope, func(d *jsontext.Decoder, name []byte) error {
		var err error
		switch string(name) {
		case "phase":
			var s string
			s, err = readString(d)
			in.Phase = Phase(s)
		case "client_id":
			in.ClientID, err = readString(d)
		case "metadata":
			in.Metadata, err = readNullableObject(d)
		}
		return err
	})
}

// decode reads an input document in one pass: the envelope's members go to
// env, the others to member, which leaves alone those it does not know (a
// later host version may add members). The result does not alias data.
func decode(data []byte, env *Envelope, member func(d *jsontext.Decoder, name []byte) error) error {
	d := jsontext.NewDecoder(append([]byte(nil), data...))
	d.Alias = true // on a copy of data that nothing writes to
	err := d.ReadObject(func(name []byte) error {
		var err error
		switch string(name) {
		case "abi":
			var n int64
			n, err = readInt(d)
			env.ABI = int(n)
		case "hook":
			env.Hook, err = readString(d)
		case "tenant":
			env.Tenant, err = readString(d)
		case "now":
			var sec int64
			sec, err = readInt(d)
			env.Now = time.Unix(sec, 0).UTC()
		case "token":
			err = env.Token.read(d)
		case "request":
			err = env.Request.read(d)
		case "config":
			var raw []byte
			if raw, err = d.ReadRaw(); err == nil && !jsontext.IsNull(raw) {
				env.Config = raw
			}
		default:
			err = member(d, name)
		}
		if err != nil {
			return errors.New("input member " + strconv.Quote(string(name)) + ": " + err.Error())
		}
		return nil
	})
	if err == nil {
		err = d.End()
	}
	return err
}

func (t *Token) read(d *jsontext.Decoder) error {
	if null(d) {
		return nil
	}
	return d.ReadObject(func(name []byte) error {
		var err error
		switch string(name) {
		case "kind":
			t.Kind, err = readString(d)
		case "id":
			t.ID, err = readString(d)
		case "policies":
			t.Policies, err = readStrings(d)
		case "client_id":
			t.ClientID, err = readString(d)
		}
		return err
	})
}

func (r *Request) read(d *jsontext.Decoder) error {
	if null(d) {
		return nil
	}
	return d.ReadObject(func(name []byte) error {
		var err error
		if string(name) == "remote_ip" {
			r.RemoteIP, err = readString(d)
		}
		return err
	})
}

// null reads a null if one comes next.
func null(d *jsontext.Decoder) bool {
	if d.Peek() != 'n' {
		return false
	}
	_, err := d.ReadRaw()
	return err == nil
}

// readString reads a string; null is "".
func readString(d *jsontext.Decoder) (string, error) {
	if null(d) {
		return "", nil
	}
	return d.ReadString()
}

// readStrings reads an array of strings; null is nil.
func readStrings(d *jsontext.Decoder) ([]string, error) {
	if null(d) {
		return nil, nil
	}
	return d.ReadStrings()
}

// readNullableObject reads an object whose values are kept raw; null is
// nil.
func readNullableObject(d *jsontext.Decoder) (*Object, error) {
	if null(d) {
		return nil, nil
	}
	return readObject(d)
}

// readInt reads an integer without fraction or exponent.
func readInt(d *jsontext.Decoder) (int64, error) {
	raw, err := d.ReadRaw()
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(string(raw), 10, 64)
}
