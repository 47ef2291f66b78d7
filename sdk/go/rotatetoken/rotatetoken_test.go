package rotatetoken

import (
	"testing"

	registrar "github.com/registrar-dev/registrar/sdk/go"
)

func TestServe(t *testing.T) {
	defer hook.Reset()
	hook.Reset()
	Handle(func(in *registrar.DecisionInput) (bool, error) {
		app, err := in.Metadata.String("application_type")
		return app != "native", err
	})
	for app, want := range map[string]string{"web": `{"decision":true}`, "native": `{"decision":false}`} {
		in := []byte(`{"abi":1,"hook":"rotate_registration_access_token","phase":"register","client_id":"c","metadata":{"application_type":"` + app + `"}}`)
		if out, err := hook.Run(in, nil); err != nil || string(out) != want {
			t.Errorf("%s: got %s, %v; want %s", app, out, err, want)
		}
	}
}
