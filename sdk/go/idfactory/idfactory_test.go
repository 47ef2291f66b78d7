package idfactory

import (
	"testing"

	registrar "github.com/registrar-dev/registrar/sdk/go"
	"github.com/registrar-dev/registrar/sdk/go/internal/guest"
)

func TestServe(t *testing.T) {
	defer func() { handler = nil }()
	in := []byte(`{"abi":1,"hook":"id_factory","tenant":"acme","metadata":{}}`)
	handler = func(in *registrar.FactoryInput) (string, error) { return in.Tenant + "-1", nil }
	if out, err := guest.Run(hookName, serve, in, nil); err != nil || string(out) != `{"client_id":"acme-1"}` {
		t.Errorf("got %s, %v", out, err)
	}
	handler = func(in *registrar.FactoryInput) (string, error) { return "no spaces allowed", nil }
	if out, err := guest.Run(hookName, serve, in, nil); err == nil {
		t.Errorf("an invalid client_id was sent: %s", out)
	}
}
