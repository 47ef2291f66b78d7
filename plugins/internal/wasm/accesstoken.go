package wasm

import (
	"bytes"
	"encoding/json"
	"slices"

	"github.com/registrar-dev/registrar/engine"
)

// Bounds of an issue_access_token hook's output (sdk/ABI.md §2).
const (
	// MaxClaimsBytes bounds the claims object, compacted.
	MaxClaimsBytes = 4096
	// maxAudiences bounds the audience array.
	maxAudiences = 16
	// maxAudience bounds one audience value, as default_audience is.
	maxAudience = 2048
)

// AccessTokenOutput reads the output of an issue_access_token hook and
// checks it against the input the module was given: scope only narrows,
// lifetime only shortens, audience values are non-empty strings, and
// claims are an object of at most MaxClaimsBytes without a reserved name
// (engine.ReservedClaim). A rejection uses one of the token endpoint's
// codes: invalid_scope, unauthorized_client, access_denied.
func AccessTokenOutput(out []byte, in *engine.AccessTokenInput) (*engine.AccessTokenOutput, error) {
	obj, err := parseOutputCodes(out, tokenRejectionCodes, nil, "scope", "audience", "lifetime", "claims")
	if err != nil {
		return nil, err
	}
	res := &engine.AccessTokenOutput{}
	if raw, ok := obj["scope"]; ok {
		if res.Scope, err = outputScope(raw, in.Scope); err != nil {
			return nil, err
		}
	}
	if raw, ok := obj["audience"]; ok {
		if res.Audience, err = outputAudience(raw); err != nil {
			return nil, err
		}
	}
	if raw, ok := obj["lifetime"]; ok {
		if err := json.Unmarshal(raw, &res.Lifetime); err != nil || res.Lifetime <= 0 || res.Lifetime > in.Lifetime {
			return nil, badOutput("lifetime must be an integer from 1 to the input's lifetime, %d", in.Lifetime)
		}
	}
	if raw, ok := obj["claims"]; ok {
		if res.Claims, err = outputClaims(raw); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// outputScope reads the output's scope: an array of distinct strings, each
// one of the input's scope.
func outputScope(raw json.RawMessage, granted []string) ([]string, error) {
	var scope []string
	if err := json.Unmarshal(raw, &scope); err != nil || scope == nil {
		return nil, badOutput("scope must be an array of strings")
	}
	for i, v := range scope {
		if !slices.Contains(granted, v) {
			return nil, badOutput("scope %q is not in the input's scope: a hook may only narrow it", Truncate(v))
		}
		if slices.Contains(scope[:i], v) {
			return nil, badOutput("scope %q is there twice", Truncate(v))
		}
	}
	return scope, nil
}

// outputAudience reads the output's audience: 1 to 16 non-empty strings.
func outputAudience(raw json.RawMessage) ([]string, error) {
	var aud []string
	if err := json.Unmarshal(raw, &aud); err != nil || len(aud) == 0 || len(aud) > maxAudiences {
		return nil, badOutput("audience must be an array of 1 to %d strings", maxAudiences)
	}
	for _, a := range aud {
		if a == "" || len(a) > maxAudience {
			return nil, badOutput("an audience must be 1 to %d bytes", maxAudience)
		}
	}
	return aud, nil
}

// outputClaims reads the output's claims: an object of at most
// MaxClaimsBytes, compacted, without a reserved or empty name.
func outputClaims(raw json.RawMessage) (map[string]json.RawMessage, error) {
	var compact bytes.Buffer
	if json.Compact(&compact, raw) != nil || compact.Len() > MaxClaimsBytes {
		return nil, badOutput("claims must be a JSON object of at most %d bytes", MaxClaimsBytes)
	}
	claims, err := engine.DecodeObject(compact.Bytes())
	if err != nil {
		return nil, badOutput("claims must be a JSON object")
	}
	for name := range claims {
		if name == "" || engine.ReservedClaim(name) {
			return nil, badOutput("claim %q is reserved: the token endpoint sets it", Truncate(name))
		}
	}
	return claims, nil
}
