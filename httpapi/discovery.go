package httpapi

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/httpio"
	"github.com/registrar-dev/registrar/oauth"
)

// discoveryDocument is the provider metadata of OpenID Connect Discovery
// 1.0 §3 and RFC 8414 §2, limited to what Registrar serves: the tenant's
// issuer, its registration endpoint, its keys, and what it accepts.
type discoveryDocument struct {
	Issuer                string `json:"issuer"`
	RegistrationEndpoint  string `json:"registration_endpoint"`
	JWKSURI               string `json:"jwks_uri"`
	TokenEndpoint         string `json:"token_endpoint,omitempty"`
	IntrospectionEndpoint string `json:"introspection_endpoint,omitempty"`
	RevocationEndpoint    string `json:"revocation_endpoint,omitempty"`
	// The introspection and revocation endpoints authenticate clients as
	// the token endpoint does (RFC 8414 §2).
	IntrospectionAuthMethods []string `json:"introspection_endpoint_auth_methods_supported,omitempty"`
	RevocationAuthMethods    []string `json:"revocation_endpoint_auth_methods_supported,omitempty"`
	// CertificateBoundTokens: tokens are bound to the client's TLS
	// certificate when it asks (RFC 8705 §3.3).
	CertificateBoundTokens bool `json:"tls_client_certificate_bound_access_tokens,omitempty"`
	engine.Capabilities
}

func (h *handler) discovery(w http.ResponseWriter, r *http.Request) error {
	name, issuer := h.tenant(r)
	caps, err := h.reg.Capabilities(name)
	if err != nil {
		return err
	}
	doc := discoveryDocument{
		Issuer:               issuer,
		RegistrationEndpoint: issuer + "/reg",
		JWKSURI:              issuer + "/jwks",
		Capabilities:         caps,
	}
	if h.tokens != nil {
		// Advertise only the methods the token endpoint can verify here;
		// registration may accept more, for clients that authenticate to
		// another authorization server.
		methods := h.tokens.AuthMethods(caps.TokenEndpointAuthMethodsSupported)
		if doc.CertificateBoundTokens = h.receivesCertificates(r); !doc.CertificateBoundTokens {
			methods = withoutTLSMethods(methods)
		}
		doc.TokenEndpoint, doc.IntrospectionEndpoint, doc.RevocationEndpoint = issuer+"/token", issuer+"/introspect", issuer+"/revoke"
		doc.TokenEndpointAuthMethodsSupported = methods
		if !slices.Contains(methods, oauth.MethodSecretJWT) {
			// The HMAC algorithms are client_secret_jwt's alone.
			doc.TokenEndpointAuthSigningAlgs = slices.DeleteFunc(doc.TokenEndpointAuthSigningAlgs, func(a string) bool { return slices.Contains(engine.SecretJWTAlgs, a) })
		}
		doc.IntrospectionAuthMethods = slices.DeleteFunc(slices.Clone(methods), func(m string) bool { return m == oauth.MethodNone })
		doc.RevocationAuthMethods = methods
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	httpio.WriteJSON(w, http.StatusOK, doc)
	return nil
}

// jwks serves the tenant's public signing keys: its next, active and
// retired keys (oauth.Server.JWKS); empty for a tenant that has never
// signed. Caches may keep it for less than the time a next key is
// published before it signs.
func (h *handler) jwks(w http.ResponseWriter, r *http.Request) error {
	name, _ := h.tenant(r)
	if _, err := h.reg.Capabilities(name); err != nil {
		return err
	}
	set := []byte(`{"keys":[]}`)
	if h.tokens != nil {
		var err error
		if set, err = h.tokens.JWKS(r.Context(), name); err != nil {
			return err
		}
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(oauth.JWKSMaxAge/time.Second)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(append(set, '\n'))
	return err
}
