package httpapi_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/httpapi"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/memstore"
)

// TestReadyzWaitsForPolicies: /readyz is 503 while a policy module has no
// active version, and 200 once every one has.
func TestReadyzWaitsForPolicies(t *testing.T) {
	var logs testkit.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	reg, err := engine.New(engine.Config{Store: memstore.New(memstore.Config{}), Keys: jose.KeySetChecker{}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	var pending atomic.Bool
	pending.Store(true)
	h, err := httpapi.New(httpapi.Config{Registrar: reg, Issuer: "https://id.example", Logger: log, PoliciesReady: func() error {
		if pending.Load() {
			return errors.New(`policy "limits" of tenant "acme" has no active version`)
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := testkit.NewServer(t, h)
	get := func() (int, string) {
		resp, err := http.Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// The public body is generic; the reason is in the log.
	if status, body := get(); status != 503 || !strings.Contains(body, `"temporarily_unavailable"`) || strings.Contains(body, "limits") {
		t.Errorf("readyz with a policy pending: %d %s", status, body)
	}
	if !strings.Contains(logs.String(), `policy \"limits\" of tenant \"acme\"`) {
		t.Errorf("the reason is not in the log:\n%s", logs.String())
	}
	pending.Store(false)
	if status, body := get(); status != 200 {
		t.Errorf("readyz with every policy active: %d %s", status, body)
	}
}
