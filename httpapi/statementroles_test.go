package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/engine"
)

// rolesConfig is the policy_config of the statement-roles tenants.
const rolesConfig = `{"roles":["AISP","PISP"],"org_ids":["org-approved"]}`

// rolesServer serves two tenants whose registrations run the
// statement-roles example built in lang: "fed" verifies statements
// signed by the directory, "plain" verifies none.
func rolesServer(t *testing.T, e *statementEnv, lang string) *server {
	t.Helper()
	host := hostOf(t, map[string]string{"statement-roles": "../policies-examples/statement-roles/" + lang + "/policy.wasm"})
	fed := e.settings(t, false)
	fed.DefaultPolicies = []string{"statement-roles"}
	fed.PolicyConfig = map[string]json.RawMessage{"statement-roles": json.RawMessage(rolesConfig)}
	plain := engine.Settings{
		InitialAccessToken: engine.TokenNone, DefaultPolicies: fed.DefaultPolicies, PolicyConfig: fed.PolicyConfig,
	}
	return e.serve(t, engine.Config{
		Tenants:    map[string]engine.Settings{"fed": fed, "plain": plain},
		Statements: inlineStatements(t), Modules: host,
	})
}

// TestStatementRolesEndToEnd registers clients over HTTP with statements
// signed by a trusted directory, through the statement-roles example built
// in every language: the module admits by the verified claims it gets in
// its input (sdk/ABI.md §2), and never by what the client says itself.
func TestStatementRolesEndToEnd(t *testing.T) {
	for _, lang := range []string{"go", "rust", "c", "assemblyscript"} {
		t.Run(lang, func(t *testing.T) {
			e := newStatementEnv(t)
			s := rolesServer(t, e, lang)
			sign := func(changes map[string]any) string {
				return e.k2.Sign(t, nil, with(statementClaims(), changes))
			}
			// An approved role, or an approved organisation, is admitted.
			for _, changes := range []map[string]any{
				{"software_roles": []string{"CBPII", "AISP"}},
				{"software_roles": []string{"CBPII"}, "org_id": "org-approved"},
			} {
				statement := sign(changes)
				m := s.register("/tenants/fed", "", regBody(statement))
				if m["software_statement"] != statement || m["client_name"] != "Vouched" {
					t.Errorf("response %v", m)
				}
				r := s.adminDo(http.MethodGet, "/admin/tenants/fed/clients/"+m["client_id"].(string), "")
				h := r.json(t)["history"].([]any)[0].(map[string]any)
				if ran, _ := json.Marshal(h["policies"]); !strings.Contains(string(ran), `"statement-roles"`) {
					t.Errorf("history %v does not name the policy", h)
				}
			}
			refused := func(prefix, body, why string) {
				t.Helper()
				r := s.do(s.public, http.MethodPost, prefix+"/reg", body)
				wantError(t, r, http.StatusBadRequest, engine.CodeUnapprovedSoftwareStatement)
				if d, _ := r.json(t)["error_description"].(string); !strings.Contains(d, why) {
					t.Errorf("error_description %q, want %q", d, why)
				}
			}
			// Neither: refused with the module's code and description.
			refused("/tenants/fed", regBody(sign(map[string]any{"software_roles": []string{"CBPII"}, "org_id": "org-other"})),
				"no approved software_roles and no approved org_id")
			// Roles the client claims in plain metadata are not the
			// statement's: the module reads the verified claims.
			body := `{"redirect_uris":["https://plain.example/cb"],"software_roles":["AISP"],"org_id":"org-approved","software_statement":"` +
				sign(nil) + `"}`
			refused("/tenants/fed", body, "no approved software_roles")
			refused("/tenants/fed", `{"redirect_uris":["https://plain.example/cb"]}`, "a verified software statement is required")
			// A tenant that verifies no statements hands none to policies:
			// an unverified statement admits no one.
			refused("/tenants/plain", regBody(sign(map[string]any{"software_roles": []string{"AISP"}})), "a verified software statement is required")
		})
	}
}
