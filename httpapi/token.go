package httpapi

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/httpio"
	"github.com/registrar-dev/registrar/oauth"
)

// repeatable are the parameters that may appear more than once: RFC 8707
// §2 lets a token request name several resources. Every other repeated
// parameter makes the request invalid (RFC 6749 §3.2).
var repeatable = map[string]bool{"resource": true}

// form reads an application/x-www-form-urlencoded body of at most limit
// bytes. Parameters in the query string are refused: credentials in URLs
// end up in logs (RFC 6749 §2.3.1 allows them only in the body).
func form(w http.ResponseWriter, r *http.Request, limit int64) (url.Values, error) {
	if r.URL.RawQuery != "" {
		return nil, engine.Errorf(engine.CodeInvalidRequest, "parameters must be sent in the request body, not in the query string")
	}
	mt, err := httpio.MediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, engine.Errorf(engine.CodeInvalidRequest, "the request body must have Content-Type application/x-www-form-urlencoded")
	}
	body, err := httpio.ReadBody(w, r, limit)
	if err != nil {
		return nil, err
	}
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, engine.Errorf(engine.CodeInvalidRequest, "the request body is not valid form encoding")
	}
	for name, v := range values {
		if len(v) > 1 && !repeatable[name] {
			return nil, engine.Errorf(engine.CodeInvalidRequest, "parameter %q is repeated", truncatePath(name))
		}
	}
	return values, nil
}

// credentials reads the client authentication of a request: HTTP Basic
// (RFC 6749 §2.3.1: client ID and secret form-encoded, then base64), the
// client_id, client_secret and client_assertion parameters (the client
// certificate is the handler's: see certificates).
func credentials(r *http.Request, f url.Values) (oauth.Credentials, error) {
	c := oauth.Credentials{
		ClientID: f.Get("client_id"), ClientSecret: f.Get("client_secret"),
		AssertionType: f.Get("client_assertion_type"), Assertion: f.Get("client_assertion"),
	}
	values := r.Header.Values("Authorization")
	switch len(values) {
	case 0:
		return c, nil
	case 1:
	default:
		return c, engine.Errorf(engine.CodeInvalidRequest, "the request has more than one Authorization header")
	}
	id, secret, err := basic(values[0])
	if err != nil {
		return c, err
	}
	c.Basic, c.BasicID, c.BasicSecret = true, id, secret
	return c, nil
}

// basic decodes the credentials of an Authorization header with the Basic
// scheme, whose user and password are form-encoded (RFC 6749 §2.3.1).
func basic(header string) (id, secret string, err error) {
	malformed := func() error {
		return engine.Errorf(engine.CodeInvalidRequest, "the Authorization header is not valid Basic credentials with form-encoded client ID and secret (RFC 6749 §2.3.1)")
	}
	scheme, b64, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return "", "", engine.Errorf(engine.CodeInvalidRequest, "the token endpoint takes client credentials with the Basic scheme")
	}
	b64 = strings.TrimSpace(b64)
	// Decoded on the stack when it fits, as it does for the client IDs
	// and secrets Registrar issues: only the string is allocated.
	var buf [256]byte
	raw := buf[:]
	if n := base64.RawStdEncoding.DecodedLen(len(b64)); n > len(raw) {
		raw = make([]byte, n)
	}
	n, err := base64.StdEncoding.Decode(raw, []byte(b64))
	if err != nil {
		if n, err = base64.RawStdEncoding.Decode(raw, []byte(b64)); err != nil {
			return "", "", malformed()
		}
	}
	user, pass, ok := strings.Cut(string(raw[:n]), ":")
	if !ok {
		return "", "", malformed()
	}
	if id, err = url.QueryUnescape(user); err != nil || id == "" {
		return "", "", malformed()
	}
	if secret, err = url.QueryUnescape(pass); err != nil {
		return "", "", malformed()
	}
	return id, secret, nil
}

// endpoints names the tenant's issuer and the URL of the endpoint at path.
func (h *handler) endpoints(r *http.Request, path string) (string, oauth.Endpoints) {
	name, issuer := h.tenant(r)
	return name, oauth.Endpoints{Issuer: issuer, Endpoint: issuer + path}
}

// challenge makes an invalid_client answer a Basic challenge: a 401 must
// name a scheme the client can use (RFC 6749 §5.2, RFC 9110 §11.6.1).
func challenge(w http.ResponseWriter, issuer string, err error) error {
	if e := engine.AsError(err); e.Code == engine.CodeInvalidClient {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+issuer+`", charset="UTF-8"`)
	}
	return err
}

// formRequest reads what the token, introspection and revocation
// endpoints share: the form, the client's credentials, the tenant.
type formRequest struct {
	tenant string
	ep     oauth.Endpoints
	form   url.Values
	creds  oauth.Credentials
	facts  oauth.RequestFacts
}

func (h *handler) formRequest(w http.ResponseWriter, r *http.Request, path string) (formRequest, error) {
	f, err := form(w, r, h.maxBody)
	if err != nil {
		return formRequest{}, err
	}
	c, err := credentials(r, f)
	if err != nil {
		return formRequest{}, err
	}
	if c.Certificates, err = h.certificates(r); err != nil {
		return formRequest{}, err
	}
	tenant, ep := h.endpoints(r, path)
	return formRequest{tenant: tenant, ep: ep, form: f, creds: c, facts: oauth.RequestFacts{RemoteIP: h.clientIP(r)}}, nil
}

// token serves POST /token (RFC 6749 §3.2, §4.4).
func (h *handler) token(w http.ResponseWriter, r *http.Request) error {
	fr, err := h.formRequest(w, r, "/token")
	if err != nil {
		return err
	}
	_, hasScope := fr.form["scope"]
	resp, err := h.tokens.Token(httpio.AuditContext(r, fr.facts.RemoteIP), oauth.TokenRequest{
		Tenant: fr.tenant, Endpoints: fr.ep, Credentials: fr.creds,
		GrantType: fr.form.Get("grant_type"), Scope: fr.form.Get("scope"), HasScope: hasScope,
		Resources: fr.form["resource"], Request: fr.facts,
	})
	if err != nil {
		return challenge(w, fr.ep.Issuer, err)
	}
	httpio.NoStore(w)
	httpio.WriteJSON(w, http.StatusOK, resp)
	return nil
}

// introspect serves POST /introspect (RFC 7662 §2).
func (h *handler) introspect(w http.ResponseWriter, r *http.Request) error {
	fr, err := h.formRequest(w, r, "/introspect")
	if err != nil {
		return err
	}
	resp, err := h.tokens.Introspect(httpio.AuditContext(r, fr.facts.RemoteIP), oauth.IntrospectRequest{
		Tenant: fr.tenant, Endpoints: fr.ep, Credentials: fr.creds,
		Token: fr.form.Get("token"), TokenTypeHint: fr.form.Get("token_type_hint"), Request: fr.facts,
	})
	if err != nil {
		return challenge(w, fr.ep.Issuer, err)
	}
	httpio.NoStore(w)
	httpio.WriteJSON(w, http.StatusOK, resp)
	return nil
}

// revoke serves POST /revoke (RFC 7009 §2).
func (h *handler) revoke(w http.ResponseWriter, r *http.Request) error {
	fr, err := h.formRequest(w, r, "/revoke")
	if err != nil {
		return err
	}
	err = h.tokens.Revoke(httpio.AuditContext(r, fr.facts.RemoteIP), oauth.RevokeRequest{
		Tenant: fr.tenant, Endpoints: fr.ep, Credentials: fr.creds,
		Token: fr.form.Get("token"), TokenTypeHint: fr.form.Get("token_type_hint"), Request: fr.facts,
	})
	if err != nil {
		return challenge(w, fr.ep.Issuer, err)
	}
	httpio.NoStore(w)
	w.WriteHeader(http.StatusOK)
	return nil
}
