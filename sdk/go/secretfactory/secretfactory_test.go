package secretfactory

import (
	"strings"
	"testing"

	registrar "github.com/registrar-dev/registrar/sdk/go"
	"github.com/registrar-dev/registrar/sdk/go/internal/guest"
)

func TestServe(t *testing.T) {
	defer func() { handler = nil }()
	in := []byte(`{"abi":1,"hook":"secret_factory","tenant":"acme","metadata":{}}`)
	secret := strings.Repeat("s", 40)
	handler = func(*registrar.FactoryInput) (string, error) { return secret, nil }
	if out, err := guest.Run(hookName, serve, in, nil); err != nil || string(out) != `{"client_secret":"`+secret+`"}` {
		t.Errorf("got %s, %v", out, err)
	}
	handler = func(*registrar.FactoryInput) (string, error) { return "short", nil }
	if out, err := guest.Run(hookName, serve, in, nil); err == nil {
		t.Errorf("a short secret was sent: %s", out)
	}
}
