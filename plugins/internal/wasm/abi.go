package wasm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/registrar-dev/registrar/engine"
)

// ABIVersion is the version of the module ABI this host speaks (sdk/ABI.md).
const ABIVersion = 1

// Export names of ABI v1.
const (
	exportMemory     = "memory"
	exportABIVersion = "registrar_abi_version"
	exportAlloc      = "registrar_alloc"
	exportInitialize = "_initialize"
	exportStart      = "_start"
	hookPrefix       = "registrar_"
)

// Hooks lists the hooks of ABI v1 in the order they are documented.
var Hooks = []engine.Hook{
	engine.HookPolicy, engine.HookIDFactory, engine.HookSecretFactory,
	engine.HookIssueRAT, engine.HookRotateRAT, engine.HookIssueAccessToken,
}

// exportName is the name of the function that implements a hook.
func exportName(h engine.Hook) string { return hookPrefix + string(h) }

// hostModule is the name of the host's import module.
const hostModule = "registrar"

// wasiModule is the name of the WASI preview1 import module.
const wasiModule = "wasi_snapshot_preview1"

// rejectionCodes are the error codes a module may answer with (RFC 7591 §3.2.2).
var rejectionCodes = []engine.ErrorCode{
	engine.CodeInvalidRedirectURI, engine.CodeInvalidClientMetadata,
	engine.CodeInvalidSoftwareStatement, engine.CodeUnapprovedSoftwareStatement,
}

// tokenRejectionCodes are the error codes an issue_access_token hook may
// answer with (RFC 6749 §5.2): the token endpoint's, not registration's.
var tokenRejectionCodes = []engine.ErrorCode{
	engine.CodeInvalidScope, engine.CodeUnauthorizedClient, engine.CodeAccessDenied,
}

// maxDescription bounds a module's error_description.
const maxDescription = 1024

// Envelope returns the input document of a hook: the engine's input object
// with abi, hook and now in front.
func Envelope(hook engine.Hook, now time.Time, in any) ([]byte, error) {
	if pi, ok := in.(*engine.PolicyInput); ok && hook == engine.HookPolicy && pi != nil {
		if b, ok := appendPolicyInput(make([]byte, 0, 1024), now.Unix(), pi); ok {
			return b, nil
		}
	}
	return envelopeJSON(hook, now, in)
}

// envelopeJSON is Envelope with encoding/json, for any input.
func envelopeJSON(hook engine.Hook, now time.Time, in any) ([]byte, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	if len(body) < 2 || body[0] != '{' {
		return nil, errors.New("hook input is not an object")
	}
	var b bytes.Buffer
	b.Grow(len(body) + 64)
	b.WriteString(`{"abi":`)
	b.WriteString(strconv.Itoa(ABIVersion))
	b.WriteString(`,"hook":"`)
	b.WriteString(string(hook))
	b.WriteString(`","now":`)
	b.WriteString(strconv.FormatInt(now.Unix(), 10))
	if len(body) > 2 {
		b.WriteByte(',')
	}
	b.Write(body[1:])
	return b.Bytes(), nil
}

// outputError is a module output that breaks the ABI: a failure of the
// module, never shown to the client.
type outputError struct{ msg string }

func (e *outputError) Error() string { return "invalid output: " + e.msg }

func badOutput(format string, args ...any) error {
	return &outputError{fmt.Sprintf(format, args...)}
}

// parseOutput decodes an output document strictly: an object with exactly
// the members in allowed (each optional unless in required), or a
// rejection. A rejection comes back as an *engine.Error.
func parseOutput(out []byte, required []string, allowed ...string) (map[string]json.RawMessage, error) {
	return parseOutputCodes(out, rejectionCodes, required, allowed...)
}

// parseOutputCodes is parseOutput for a hook whose rejections use codes.
func parseOutputCodes(out []byte, codes []engine.ErrorCode, required []string, allowed ...string) (map[string]json.RawMessage, error) {
	obj, err := engine.DecodeObject(out)
	if err != nil {
		return nil, badOutput("not a JSON object (valid UTF-8, no duplicate members, nothing after it)")
	}
	return obj, checkOutput(obj, codes, required, allowed)
}

// checkOutput is parseOutputCodes for an output already decoded.
func checkOutput(obj map[string]json.RawMessage, codes []engine.ErrorCode, required, allowed []string) error {
	if _, ok := obj["error"]; ok {
		return rejection(obj, codes)
	}
	for name := range obj {
		if !slices.Contains(allowed, name) && !slices.Contains(required, name) {
			return badOutput("unexpected member %q", Truncate(name))
		}
	}
	for _, name := range required {
		if _, ok := obj[name]; !ok {
			return badOutput("member %q is missing", name)
		}
	}
	return nil
}

// rejection turns an error document into the *engine.Error the client
// sees, or an output error if the document breaks the schema.
func rejection(obj map[string]json.RawMessage, codes []engine.ErrorCode) error {
	for name := range obj {
		if name != "error" && name != "error_description" {
			return badOutput("unexpected member %q beside error", Truncate(name))
		}
	}
	var code, desc string
	if json.Unmarshal(obj["error"], &code) != nil || !slices.Contains(codes, engine.ErrorCode(code)) {
		return badOutput("error must be one of %v", codes)
	}
	if raw, ok := obj["error_description"]; ok {
		if json.Unmarshal(raw, &desc) != nil {
			return badOutput("error_description must be a string")
		}
		if len(desc) > maxDescription || !utf8.ValidString(desc) || hasControl(desc) {
			return badOutput("error_description must be at most %d bytes of UTF-8 without control characters", maxDescription)
		}
	}
	if desc == "" {
		desc = "rejected by policy"
	}
	return &engine.Error{Code: engine.ErrorCode(code), Description: desc}
}

// hasControl reports C0 and C1 control characters and DEL.
func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r < 0xa0) {
			return true
		}
	}
	return false
}

// Truncate shortens s for an error message or a log line.
func Truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// PolicyOutput reads the output of a policy hook.
func PolicyOutput(out []byte) (*engine.PolicyOutput, error) {
	required := []string{"metadata"}
	// The output and its metadata in one pass when it can; else one
	// after the other, for the errors.
	obj, md, ok := engine.DecodeObjectMember(out, "metadata")
	if ok {
		if err := checkOutput(obj, rejectionCodes, required, []string{"registration_policies"}); err != nil {
			return nil, err
		}
	} else {
		var err error
		if obj, err = parseOutput(out, required, "registration_policies"); err != nil {
			return nil, err
		}
		if md, err = engine.DecodeObject(obj["metadata"]); err != nil {
			return nil, badOutput("metadata must be a JSON object")
		}
	}
	res := &engine.PolicyOutput{Metadata: md}
	if raw, ok := obj["registration_policies"]; ok {
		var names []string
		if err := json.Unmarshal(raw, &names); err != nil || names == nil {
			return nil, badOutput("registration_policies must be an array of strings")
		}
		for _, n := range names {
			if !engine.ValidModuleName(n) {
				return nil, badOutput("registration_policies: %q is not a module name", Truncate(n))
			}
		}
		res.RegistrationPolicies = names
	}
	return res, nil
}

// StringOutput reads the output of a factory hook: one string member.
func StringOutput(out []byte, member string) (string, error) {
	obj, err := parseOutput(out, []string{member})
	if err != nil {
		return "", err
	}
	var s string
	if err := json.Unmarshal(obj[member], &s); err != nil {
		return "", badOutput("%s must be a string", member)
	}
	return s, nil
}

// DecisionOutput reads the output of a decision hook.
func DecisionOutput(out []byte) (bool, error) {
	obj, err := parseOutput(out, []string{"decision"})
	if err != nil {
		return false, err
	}
	var d bool
	if err := json.Unmarshal(obj["decision"], &d); err != nil {
		return false, badOutput("decision must be true or false")
	}
	return d, nil
}
