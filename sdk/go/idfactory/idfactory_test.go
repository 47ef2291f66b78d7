package idfactory

import (
	"testing"

	registrar "github.com/registrar-dev/registrar/sdk/go"
)

func TestServe(t *testing.T) {
	defer hook.Reset()
	in := []byte(`{"abi":1,"hook":"id_factory","tenant":"acme","metadata":{}}`)
	hook.Reset()
	Handle(func(in *registrar.FactoryInput) (string, error) { return in.Tenant + "-1", nil })
	if out, err := hook.Run(in, nil); err != nil || string(out) != `{"client_id":"acme-1"}` {
		t.Errorf("got %s, %v", out, err)
	}
	hook.Reset()
	Handle(func(in *registrar.FactoryInput) (string, error) { return "no spaces allowed", nil })
	if out, err := hook.Run(in, nil); err == nil {
		t.Errorf("an invalid client_id was sent: %s", out)
	}
}
