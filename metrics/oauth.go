package metrics

import "github.com/registrar-dev/registrar/engine"

// OAuthRequest is how one request to a tenant's token, introspection or
// revocation endpoint ended. The metrics package defines it rather than
// importing the oauth package's type; cmd/registrar converts.
type OAuthRequest struct {
	Tenant string
	// Endpoint is "token", "introspect" or "revoke".
	Endpoint string
	// Code is the OAuth error code of a failed request, "" for success.
	Code engine.ErrorCode
	// Format is the format of an issued access token ("opaque", "jwt").
	Format string
}

// ObserveOAuth counts one request to the authorization server's
// endpoints. Error codes outside engine.Codes are counted as
// server_error, so that no caller can make up label values.
func (m *Metrics) ObserveOAuth(r OAuthRequest) {
	outcome := "ok"
	if r.Code != "" {
		outcome = string(engine.CodeServerError)
		for _, c := range engine.Codes {
			if c == r.Code {
				outcome = string(c)
			}
		}
	}
	endpoint := r.Endpoint
	switch endpoint {
	case "token", "introspect", "revoke":
	default:
		endpoint = "other"
	}
	format := r.Format
	switch format {
	case "", "opaque", "jwt":
	default:
		format = "other"
	}
	m.oauthReqs.WithLabelValues(m.tenantLabel(r.Tenant), endpoint, outcome, format).Inc()
}
