package adminapi

import (
	_ "embed"
	"net/http"
)

// openAPI is the OpenAPI 3 description of the admin API.
//
//go:embed openapi.json
var openAPI []byte

// serveOpenAPI serves the OpenAPI document; it holds nothing secret, so it
// needs no token (API tools fetch it without one).
func serveOpenAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(openAPI)
	return nil
}
