package httpapi_test

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/httpapi"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
)

// statementStore is a store that is also the replay cache of statement
// jtis, as memstore and redisstore are.
type statementStore interface {
	engine.Store
	engine.ReplayCache
}

// statementHandler returns the public handler of a Registrar over store
// that verifies statements with statements and serves tenants, for the
// statement benchmarks.
func statementHandler(b *testing.B, store statementStore, statements *jose.Statements, tenants map[string]engine.Settings) http.Handler {
	b.Helper()
	reg, err := engine.New(engine.Config{Store: store, Keys: jose.KeySetChecker{}, Statements: statements, Replay: store,
		Tenants: tenants, Rand: rand.Reader, Logger: testkit.DiscardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	pub, err := httpapi.New(httpapi.Config{Registrar: reg, Issuer: "https://registrar.example", Logger: testkit.DiscardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	return pub
}

// benchBodyWith returns benchBody's members with those given added.
func benchBodyWith(members map[string]any) map[string]any {
	var m map[string]any
	_ = json.Unmarshal([]byte(benchBody), &m)
	for k, v := range members {
		m[k] = v
	}
	return m
}

// withStatement returns benchBody with the software statement st.
func withStatement(st string) string {
	raw, _ := json.Marshal(benchBodyWith(map[string]any{"software_statement": st}))
	return string(raw)
}
