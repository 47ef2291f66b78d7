package engine_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/memstore"
)

// TestStatementClaimsAreWellFormed: a validly signed statement whose
// claims hold invalid UTF-8 or a member named twice is refused before any
// policy runs, as a request body with them is, so that neither the stored
// metadata nor a module's input (sdk/ABI.md §2) gets them.
func TestStatementClaimsAreWellFormed(t *testing.T) {
	clock := newClock()
	store := memstore.New(memstore.Config{Now: clock.Now})
	iat := jsonTime(clock.Now())
	claims := func(extra string) map[string]json.RawMessage {
		c := map[string]json.RawMessage{}
		if err := json.Unmarshal([]byte(`{"iss":"https://dir.example","iat":`+iat+`,"software_id":"sw"`+extra+`}`), &c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	known := map[string]*engine.Statement{
		"ok.ok.ok": {Issuer: "https://dir.example", Claims: claims(`,"x":{"a":[{"b":1},{"b":2}]},"s":"\ud800"`)},
		"u.t.f":    {Issuer: "https://dir.example", Claims: claims(`,"client_name":"caf` + "\xe9" + `"`)},
		"d.u.p":    {Issuer: "https://dir.example", Claims: claims(`,"x":{"a":{"b":1,"b":2}}`)},
	}
	mods := newFakeModules()
	ran := 0
	mods.add("t", "watch", &fakeModule{version: "1", policy: func(in *engine.PolicyInput) (*engine.PolicyOutput, error) {
		ran++
		return &engine.PolicyOutput{Metadata: in.Metadata}, nil
	}})
	r, err := engine.New(engine.Config{
		Store: store, Keys: nopKeys{}, Modules: mods, Statements: &fakeStatements{known: known}, Replay: store,
		Tenants: map[string]engine.Settings{"t": statementTenant()}, Now: clock.Now, Logger: testkit.DiscardLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	register := func(statement string) error {
		_, err := r.Register(context.Background(), engine.RegisterRequest{Tenant: "t",
			Body: []byte(`{"redirect_uris":["https://a.example/cb"],"software_statement":"` + statement + `"}`)})
		return err
	}
	// Repeated names in different objects, and lone surrogate escapes
	// (valid JSON text), are fine.
	if err := register("ok.ok.ok"); err != nil || ran != 1 {
		t.Fatalf("a well-formed statement: %v (policy ran %d times)", err, ran)
	}
	for statement, want := range map[string]string{"u.t.f": "not valid UTF-8", "d.u.p": "appears more than once"} {
		err := register(statement)
		if e := engine.AsError(err); e.Code != engine.CodeInvalidSoftwareStatement || !strings.Contains(e.Description, want) {
			t.Errorf("%s: %v, want invalid_software_statement (%s)", statement, err, want)
		}
	}
	if ran != 1 {
		t.Errorf("the policy ran %d times; a refused statement must not reach it", ran)
	}
}
