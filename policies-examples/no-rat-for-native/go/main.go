// Command no-rat-for-native is a Registrar policy module: an
// issue_registration_access_token decision that gives native clients
// (application_type "native") no registration access token, so that an
// app's installed copies cannot change its registration, and gives every
// other client one. See README.md.
package main

import (
	registrar "github.com/registrar-dev/registrar/sdk/go"
	"github.com/registrar-dev/registrar/sdk/go/issuetoken"
)

func init() { issuetoken.Handle(decide) }

// main never runs: a module is a library (-buildmode=c-shared).
func main() {}

// decide refuses a token to native clients. The metadata is validated by
// then, and application_type defaults to "web" (OpenID Connect Registration
// §2), so an absent member means a web client.
func decide(in *registrar.DecisionInput) (bool, error) {
	app, err := in.Metadata.String("application_type")
	if err != nil {
		return false, err
	}
	return app != "native", nil
}
