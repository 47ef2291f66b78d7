package engine_test

import (
	"slices"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// TestProfileDefaults: each profile is a bundle of settings that
// WithDefaults fills in, and what it bounds a tenant cannot widen.
func TestProfileDefaults(t *testing.T) {
	for _, c := range []struct {
		profile        string
		algs           []string
		maxAge         time.Duration
		required, sign bool
	}{
		{"", []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}, 0, false, false},
		{engine.ProfileOBIE, []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}, 0, true, true},
		{engine.ProfileOpenFinanceBrasil, []string{"PS256"}, 5 * time.Minute, true, false},
	} {
		s := engine.StatementSettings{Profile: c.profile}.WithDefaults()
		if !slices.Equal(s.Algorithms, c.algs) || time.Duration(s.MaxAge) != c.maxAge || s.Required != c.required || s.RequireSignedRequests != c.sign {
			t.Errorf("%q: %+v", c.profile, s)
		}
		if p, ok := engine.LookupProfile(c.profile); !ok || p.Name != s.Profile {
			t.Errorf("LookupProfile(%q) = %+v, %v", c.profile, p, ok)
		}
	}
	// A tenant's own choice within the bounds stays.
	s := engine.StatementSettings{Profile: engine.ProfileOpenFinanceBrasil, MaxAge: engine.Duration(time.Minute)}.WithDefaults()
	if time.Duration(s.MaxAge) != time.Minute {
		t.Errorf("max_age %v", s.MaxAge)
	}
	if _, ok := engine.LookupProfile("fapi"); ok {
		t.Error("an unknown profile was found")
	}
	// The profile's role map is a copy: changing it changes no profile.
	p, _ := engine.LookupProfile(engine.ProfileOBIE)
	p.RoleScopes["AISP"] = append(p.RoleScopes["AISP"], "payments")
	if q, _ := engine.LookupProfile(engine.ProfileOBIE); slices.Contains(q.RoleScopes["AISP"], "payments") {
		t.Error("LookupProfile shares its map")
	}
}
