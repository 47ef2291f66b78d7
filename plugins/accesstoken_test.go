package plugins_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/plugins"
)

// TestAccessTokenOutputAsABIMdSays: how the host reads an
// issue_access_token hook's output, as sdk/ABI.md §2 states it: scope only
// narrows, lifetime only shortens, no reserved claim, claims at most 4 KiB,
// and rejections use the token endpoint's three codes.
func TestAccessTokenOutputAsABIMdSays(t *testing.T) {
	in := &engine.AccessTokenInput{Scope: []string{"read", "write", "admin"}, Lifetime: 3600}
	t.Run("allow", func(t *testing.T) {
		out, err := plugins.ParseAccessTokenOutput([]byte(`{"scope":["write","read"],"audience":["https://api.example.com"],"lifetime":600,"claims":{"tier":"gold","limits":{ "rps" : 10 }}}`), in)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(out.Scope, " ") != "write read" || strings.Join(out.Audience, " ") != "https://api.example.com" || out.Lifetime != 600 {
			t.Errorf("got %+v", out)
		}
		if string(out.Claims["tier"]) != `"gold"` || string(out.Claims["limits"]) != `{"rps":10}` {
			t.Errorf("claims %s %s; want the values compacted", out.Claims["tier"], out.Claims["limits"])
		}
	})
	t.Run("keep everything", func(t *testing.T) {
		out, err := plugins.ParseAccessTokenOutput([]byte(`{}`), in)
		if err != nil || out.Scope != nil || out.Audience != nil || out.Lifetime != 0 || out.Claims != nil {
			t.Errorf("{} gives %+v, %v; want nothing changed", out, err)
		}
		out, err = plugins.ParseAccessTokenOutput([]byte(`{"scope":[]}`), in)
		if err != nil || out.Scope == nil || len(out.Scope) != 0 {
			t.Errorf(`{"scope":[]} gives %+v, %v; want an empty scope`, out, err)
		}
	})
	for _, code := range []engine.ErrorCode{engine.CodeInvalidScope, engine.CodeUnauthorizedClient, engine.CodeAccessDenied} {
		_, err := plugins.ParseAccessTokenOutput([]byte(`{"error":"`+string(code)+`","error_description":"no"}`), in)
		var e *engine.Error
		if !errors.As(err, &e) || e.Code != code || e.Description != "no" {
			t.Errorf("%s: %v; want a rejection with it", code, err)
		}
	}
	failures := map[string]string{
		"wider scope":              `{"scope":["read","delete"]}`,
		"scope twice":              `{"scope":["read","read"]}`,
		"scope null":               `{"scope":null}`,
		"scope not strings":        `{"scope":[1]}`,
		"lifetime too long":        `{"lifetime":3601}`,
		"lifetime zero":            `{"lifetime":0}`,
		"lifetime negative":        `{"lifetime":-5}`,
		"lifetime a fraction":      `{"lifetime":1.5}`,
		"lifetime a string":        `{"lifetime":"60"}`,
		"reserved claim sub":       `{"claims":{"sub":"x"}}`,
		"reserved claim scope":     `{"claims":{"scope":"admin"}}`,
		"reserved claim aud":       `{"claims":{"tier":"a","aud":"x"}}`,
		"empty claim name":         `{"claims":{"":1}}`,
		"claims not an object":     `{"claims":["tier"]}`,
		"claims null":              `{"claims":null}`,
		"claims too big":           `{"claims":{"x":"` + strings.Repeat("a", 4096) + `"}}`,
		"claim named twice":        `{"claims":{"x":1,"x":2}}`,
		"empty audience":           `{"audience":[]}`,
		"empty audience value":     `{"audience":[""]}`,
		"audience a string":        `{"audience":"https://api.example.com"}`,
		"unknown member":           `{"scopes":["read"]}`,
		"a registration code":      `{"error":"invalid_client_metadata"}`,
		"invalid_request":          `{"error":"invalid_request"}`,
		"server_error":             `{"error":"server_error"}`,
		"error beside members":     `{"error":"access_denied","scope":[]}`,
		"description with newline": `{"error":"access_denied","error_description":"a\nb"}`,
	}
	for name, out := range failures {
		_, err := plugins.ParseAccessTokenOutput([]byte(out), in)
		var e *engine.Error
		if err == nil || errors.As(err, &e) {
			t.Errorf("%s: %.80s gives %v; want a failure", name, out, err)
		}
	}
	// The claims cap counts compacted bytes: white space does not count.
	spaced := `{"claims":{"x":"` + strings.Repeat("a", 4000) + `"` + strings.Repeat(" ", 500) + `}}`
	if _, err := plugins.ParseAccessTokenOutput([]byte(spaced), in); err != nil {
		t.Errorf("claims under 4 KiB compacted: %v", err)
	}
}

// FuzzAccessTokenOutput: whatever a module returns, the host either
// refuses it or reads an output within the input's grant.
func FuzzAccessTokenOutput(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"scope":["read"],"audience":["a"],"lifetime":60,"claims":{"tier":"gold"}}`,
		`{"error":"access_denied","error_description":"no"}`, `{"claims":{"sub":1}}`, `{"lifetime":1e3}`,
	} {
		f.Add([]byte(seed))
	}
	in := &engine.AccessTokenInput{Scope: []string{"read", "write"}, Lifetime: 600}
	f.Fuzz(func(t *testing.T, out []byte) {
		res, err := plugins.ParseAccessTokenOutput(out, in)
		if err != nil {
			return
		}
		for _, v := range res.Scope {
			if v != "read" && v != "write" {
				t.Fatalf("%s: scope %q beyond the grant", out, v)
			}
		}
		if res.Lifetime < 0 || res.Lifetime > in.Lifetime {
			t.Fatalf("%s: lifetime %d", out, res.Lifetime)
		}
		size := 0
		for name, v := range res.Claims {
			if engine.ReservedClaim(name) || name == "" {
				t.Fatalf("%s: claim %q", out, name)
			}
			size += len(name) + len(v)
		}
		if size > 4096 {
			t.Fatalf("%s: claims of %d bytes", out, size)
		}
	})
}
