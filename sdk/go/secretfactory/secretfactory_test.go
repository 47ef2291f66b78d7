package secretfactory

import (
	"strings"
	"testing"

	registrar "github.com/registrar-dev/registrar/sdk/go"
)

func TestServe(t *testing.T) {
	defer hook.Reset()
	in := []byte(`{"abi":1,"hook":"secret_factory","tenant":"acme","metadata":{}}`)
	secret := strings.Repeat("s", 40)
	hook.Reset()
	Handle(func(*registrar.FactoryInput) (string, error) { return secret, nil })
	if out, err := hook.Run(in, nil); err != nil || string(out) != `{"client_secret":"`+secret+`"}` {
		t.Errorf("got %s, %v", out, err)
	}
	hook.Reset()
	Handle(func(*registrar.FactoryInput) (string, error) { return "short", nil })
	if out, err := hook.Run(in, nil); err == nil {
		t.Errorf("a short secret was sent: %s", out)
	}
}
