package memstore_test

import (
	"testing"

	"github.com/registrar-dev/registrar/memstore"
	"github.com/registrar-dev/registrar/oauth"
	"github.com/registrar-dev/registrar/oauth/storetest"
)

// TestOAuthStoreConformance runs the oauth.Store conformance suite.
func TestOAuthStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) oauth.Store {
		return memstore.New(memstore.Config{})
	})
}
