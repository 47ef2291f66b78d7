package httpapi

import (
	"net/http"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/httpio"
)

// discoveryDocument is the provider metadata of OpenID Connect Discovery
// 1.0 §3 and RFC 8414 §2, limited to what Registrar serves: the tenant's
// issuer, its registration endpoint, its keys, and what it accepts.
type discoveryDocument struct {
	Issuer               string `json:"issuer"`
	RegistrationEndpoint string `json:"registration_endpoint"`
	JWKSURI              string `json:"jwks_uri"`
	engine.Capabilities
}

func (h *handler) discovery(w http.ResponseWriter, r *http.Request) error {
	name, issuer := h.tenant(r)
	caps, err := h.reg.Capabilities(name)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	httpio.WriteJSON(w, http.StatusOK, discoveryDocument{
		Issuer:               issuer,
		RegistrationEndpoint: issuer + "/reg",
		JWKSURI:              issuer + "/jwks",
		Capabilities:         caps,
	})
	return nil
}

// jwks serves the tenant's public signing keys. Tenants sign nothing yet,
// so the set is empty; the route exists so that jwks_uri resolves.
func (h *handler) jwks(w http.ResponseWriter, r *http.Request) error {
	name, _ := h.tenant(r)
	if _, err := h.reg.Capabilities(name); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	httpio.WriteJSON(w, http.StatusOK, map[string][]any{"keys": {}})
	return nil
}
