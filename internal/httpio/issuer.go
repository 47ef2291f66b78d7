package httpio

import (
	"errors"
	"net/url"
	"strings"

	"github.com/registrar-dev/registrar/engine"
)

// CheckIssuer checks and normalises the public base URL: http or https, a
// host, no user information, query or fragment, no trailing slash.
func CheckIssuer(issuer string) (string, error) {
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", errors.New("the issuer must be an http or https URL with a host and no query or fragment")
	}
	return strings.TrimRight(issuer, "/"), nil
}

// TenantIssuer is the canonical issuer of a tenant under the public base
// URL: the base itself for the default tenant, base/tenants/<name> for
// the others (docs/api.md).
func TenantIssuer(base, tenant string) string {
	if tenant == engine.DefaultTenant {
		return base
	}
	return base + "/tenants/" + tenant
}

// ClientURI is the client configuration endpoint (RFC 7592 §3) of a client
// of the tenant with the given issuer.
func ClientURI(issuer, clientID string) string {
	return issuer + "/reg/" + url.PathEscape(clientID)
}
