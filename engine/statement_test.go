package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/memstore"
)

// fakeStatements verifies the statements it was given, by their exact
// text: the engine's part (times, jti, precedence, policy input,
// provenance) is what these tests check; jose's checks are tested in
// httpapi with real signatures.
type fakeStatements struct {
	known map[string]*engine.Statement
}

func (f *fakeStatements) Trust(engine.StatementSettings) (engine.StatementTrust, error) {
	return f, nil
}

func (f *fakeStatements) Verify(_ context.Context, s string) (*engine.Statement, error) {
	if st, ok := f.known[s]; ok {
		return st, nil
	}
	return nil, engine.Errorf(engine.CodeInvalidSoftwareStatement, "unknown statement")
}

func (f *fakeStatements) RequestPayload(string) ([]byte, error) {
	return nil, engine.Errorf(engine.CodeInvalidClientMetadata, "the fake takes no signed requests")
}

func (f *fakeStatements) VerifyRequest(context.Context, string, engine.RequestKeys) (string, error) {
	return "", engine.Errorf(engine.CodeInvalidClientMetadata, "the fake takes no signed requests")
}

func statementTenant() engine.Settings {
	return engine.Settings{
		InitialAccessToken: engine.TokenNone, DefaultPolicies: []string{"watch"},
		SoftwareStatement: &engine.StatementSettings{
			Issuers: []engine.StatementIssuer{{Issuer: "https://dir.example", JWKS: json.RawMessage(`{"keys":[]}`)}},
			MaxAge:  engine.Duration(time.Hour),
		},
	}
}

func TestStatementNeedsVerifier(t *testing.T) {
	_, err := engine.New(engine.Config{Store: memstore.New(memstore.Config{}), Keys: nopKeys{}, Tenants: map[string]engine.Settings{"t": statementTenant()}})
	if err == nil || !strings.Contains(err.Error(), "verifies no software statements") {
		t.Errorf("New = %v", err)
	}
}

type nopKeys struct{}

func (nopKeys) CheckKeySet(json.RawMessage) error { return nil }

func TestStatementPipeline(t *testing.T) {
	clock := newClock()
	store := memstore.New(memstore.Config{Now: clock.Now})
	claims := func(extra string) map[string]json.RawMessage {
		c := map[string]json.RawMessage{}
		body := `{"iss":"https://dir.example","iat":` + jsonTime(clock.Now()) + `,"jti":"j1","software_id":"sw","client_name":"Vouched","client_id":"forged"` + extra + `}`
		if err := json.Unmarshal([]byte(body), &c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	fs := &fakeStatements{known: map[string]*engine.Statement{
		"a.b.c": {Issuer: "https://dir.example", KeyID: "k1", Claims: claims("")},
		"d.e.f": {Issuer: "https://dir.example", Claims: claims(`,"exp":` + jsonTime(clock.Now().Add(-time.Minute)))},
	}}
	mods := newFakeModules()
	var seen *engine.StatementFacts
	mods.add("t", "watch", &fakeModule{version: "1", policy: func(in *engine.PolicyInput) (*engine.PolicyOutput, error) {
		seen = in.SoftwareStatement
		md := map[string]json.RawMessage{}
		for k, v := range in.Metadata {
			md[k] = v
		}
		if in.Phase == engine.PhaseRegister {
			md["software_statement"] = json.RawMessage(`"x.y.z"`) // ignored: the verified one is kept
		}
		return &engine.PolicyOutput{Metadata: md}, nil
	}})
	r, err := engine.New(engine.Config{
		Store: store, Keys: nopKeys{}, Modules: mods, Statements: fs, Replay: store,
		Tenants: map[string]engine.Settings{"t": statementTenant()}, Now: clock.Now, Logger: testkit.DiscardLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	body := `{"redirect_uris":["https://a.example/cb"],"client_name":"Plain","software_statement":"a.b.c"}`
	info, err := r.Register(ctx, engine.RegisterRequest{Tenant: "t", Body: []byte(body)})
	if err != nil {
		t.Fatal(err)
	}
	md := info.Client.Metadata
	if md.ClientName != "Vouched" || md.SoftwareID != "sw" || md.SoftwareStatement != "a.b.c" || info.Client.ID == "forged" {
		t.Errorf("metadata %+v, id %s", md, info.Client.ID)
	}
	if seen == nil || !seen.Verified || seen.Issuer != "https://dir.example" || string(seen.Claims["software_id"]) != `"sw"` {
		t.Errorf("policy saw %+v", seen)
	}
	want := engine.StatementProvenance{Issuer: "https://dir.example", KeyID: "k1", JTI: "j1", SoftwareID: "sw"}
	if got := info.Client.History[0].SoftwareStatement; got != want {
		t.Errorf("provenance %+v, want %+v", got, want)
	}
	// The jti is spent; an expired statement is refused.
	for _, s := range []string{"a.b.c", "d.e.f"} {
		_, err := r.Register(ctx, engine.RegisterRequest{Tenant: "t", Body: []byte(strings.Replace(body, "a.b.c", s, 1))})
		if e := engine.AsError(err); e.Code != engine.CodeInvalidSoftwareStatement {
			t.Errorf("%s: %v", s, err)
		}
	}
	// An update keeps the statement or is refused.
	upd := func(stmt string) error {
		_, err := r.Update(ctx, engine.ManageRequest{Tenant: "t", ClientID: info.Client.ID, Token: info.RegistrationAccessToken,
			Body: []byte(`{"client_id":"` + info.Client.ID + `","redirect_uris":["https://a.example/cb"],"software_statement":"` + stmt + `"}`)})
		return err
	}
	if err := upd("g.h.i"); engine.AsError(err).Code != engine.CodeInvalidSoftwareStatement {
		t.Errorf("update changing the statement: %v", err)
	}
	if err := upd("a.b.c"); err != nil {
		t.Errorf("update keeping the statement: %v", err)
	}
}

// jsonTime writes a NumericDate.
func jsonTime(t time.Time) string {
	b, _ := json.Marshal(t.Unix())
	return string(b)
}

// unavailableStatements answers every statement as a key server outage.
type unavailableStatements struct{}

func (unavailableStatements) Trust(engine.StatementSettings) (engine.StatementTrust, error) {
	return unavailableStatements{}, nil
}

func (unavailableStatements) Verify(context.Context, string) (*engine.Statement, error) {
	return nil, &engine.Error{Code: engine.CodeTemporarilyUnavailable, Description: "keys unavailable", Err: errors.New("dial: refused")}
}

func (unavailableStatements) RequestPayload(string) ([]byte, error) {
	return nil, engine.Errorf(engine.CodeInvalidClientMetadata, "no signed requests")
}

func (unavailableStatements) VerifyRequest(context.Context, string, engine.RequestKeys) (string, error) {
	return "", engine.Errorf(engine.CodeInvalidClientMetadata, "no signed requests")
}

func TestStatementUnavailableObserved(t *testing.T) {
	var got []engine.StatementOutcome
	s := statementTenant()
	s.DefaultPolicies = nil
	r, err := engine.New(engine.Config{
		Store: memstore.New(memstore.Config{}), Keys: nopKeys{}, Statements: unavailableStatements{},
		ObserveStatement: func(o engine.StatementOutcome) { got = append(got, o) },
		Tenants:          map[string]engine.Settings{"t": s}, Logger: testkit.DiscardLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Register(context.Background(), engine.RegisterRequest{Tenant: "t", Body: []byte(`{"redirect_uris":["https://a.example/cb"],"software_statement":"a.b.c"}`)})
	if e := engine.AsError(err); e.Code != engine.CodeTemporarilyUnavailable {
		t.Errorf("err = %v", err)
	}
	if len(got) != 1 || got[0] != (engine.StatementOutcome{Tenant: "t", Outcome: "unavailable"}) {
		t.Errorf("observed %v", got)
	}
}
