package engine_test

import (
	"slices"
	"testing"

	"github.com/registrar-dev/registrar/engine"
)

// TestPolicyInputAsABIMdSays: what sdk/ABI.md §2 promises about the policy
// hook's input. Member names arrive decoded and values as the client wrote
// them; members only the server sets are gone on registration; on update
// client_id and client_secret are checked and removed from the metadata, the
// client is named by the input's client_id, and the registration access
// token has no id.
func TestPolicyInputAsABIMdSays(t *testing.T) {
	s := open
	s.DefaultPolicies = []string{"p"}
	h := newHarness(t, map[string]engine.Settings{"t": s})
	h.mods.add("t", "p", &fakeModule{})

	ci := h.mustRegister("t", "", `{"redirect_uris":["https://rp.example/cb"],"client\u005fname":"caf\u00e9 \/ <b>",`+
		`"client_id":"mine","client_secret":"0123456789abcdef0123456789abcdef","registration_access_token":"x","client_id_issued_at":1}`)
	calls := h.mods.Calls()
	if len(calls) != 1 {
		t.Fatalf("%d module calls on registration, want 1", len(calls))
	}
	reg := calls[0]
	if got := string(reg.Metadata["client_name"]); got != `"caf\u00e9 \/ <b>"` {
		t.Errorf("client_name arrives as %s, want the value as written under the decoded name", got)
	}
	for _, name := range []string{"client\\u005fname", "client_id", "client_secret", "registration_access_token", "client_id_issued_at"} {
		if _, ok := reg.Metadata[name]; ok {
			t.Errorf("registration: metadata has %q", name)
		}
	}
	if reg.Token.Kind != "none" || reg.Token.ID != "" || reg.Token.ClientID != "" || !slices.Equal(reg.Token.Policies, []string{"p"}) {
		t.Errorf("registration: token %+v, want kind none with no id and the default policies", reg.Token)
	}

	id := ci.Client.ID
	h.mustUpdate("t", id, ci.RegistrationAccessToken, `{"client_id":`+q(id)+`,"client_secret":`+q(ci.Secret)+`,"redirect_uris":["https://rp.example/cb"]}`)
	calls = h.mods.Calls()
	if len(calls) != 1 || calls[0].Hook != engine.HookPolicy {
		t.Fatalf("update: module calls %+v, want one policy call", calls)
	}
	up := calls[0]
	for _, name := range []string{"client_id", "client_secret"} {
		if _, ok := up.Metadata[name]; ok {
			t.Errorf("update: metadata has %q", name)
		}
	}
	if up.Phase != engine.PhaseUpdate || up.ClientID != id || up.Current == nil {
		t.Errorf("update: phase %q, client_id %q, current %v", up.Phase, up.ClientID, up.Current)
	}
	if up.Token.Kind != "registration_access_token" || up.Token.ID != "" || up.Token.ClientID != id || !slices.Equal(up.Token.Policies, []string{"p"}) {
		t.Errorf("update: token %+v, want a registration access token with no id, naming the client and its policies", up.Token)
	}
}
