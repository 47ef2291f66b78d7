package engine_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
)

// TestDroppedPolicyMembersAreLogged: a member a policy adds that validation
// then drops (not standard, not in extra_client_metadata) is reported in
// the log, naming the policies; members the client sent are not.
func TestDroppedPolicyMembersAreLogged(t *testing.T) {
	clk := newClock()
	mods := newFakeModules()
	mods.add("t", "adds", &fakeModule{policy: func(in *engine.PolicyInput) (*engine.PolicyOutput, error) {
		md := in.Metadata
		md["introspection_signed_response_alg"] = json.RawMessage(`"PS256"`)
		md["tier"] = json.RawMessage(`"gold"`)
		md["client_name"] = json.RawMessage(`"Named"`)
		return &engine.PolicyOutput{Metadata: md}, nil
	}})
	var logged testkit.Buffer
	r, err := engine.New(engine.Config{
		Store: newFakeStore(clk.Now), Keys: jose.KeySetChecker{}, Modules: mods, Now: clk.Now, Rand: testkit.Rand(1),
		Logger:  slog.New(slog.NewJSONHandler(&logged, nil)),
		Tenants: map[string]engine.Settings{"t": {InitialAccessToken: engine.TokenNone, DefaultPolicies: []string{"adds"}, ExtraClientMetadata: []string{"tier"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ci, err := r.Register(context.Background(), engine.RegisterRequest{Tenant: "t", Body: []byte(`{"redirect_uris":["https://a.example/cb"],"x_sent_by_client":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	if ci.Client.Metadata.ClientName != "Named" || string(ci.Client.Metadata.Extra["tier"]) != `"gold"` {
		t.Fatalf("policy output not used: %+v", ci.Client.Metadata)
	}
	out := logged.String()
	if !strings.Contains(out, `"members":["introspection_signed_response_alg"]`) || !strings.Contains(out, `"policies":["adds"]`) {
		t.Errorf("dropped member not reported:\n%s", out)
	}
	if strings.Contains(out, "x_sent_by_client") {
		t.Errorf("a member the client sent was reported as a policy's:\n%s", out)
	}
}
