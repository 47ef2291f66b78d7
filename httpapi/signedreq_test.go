package httpapi_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/httpapi"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/jose/josetest"
)

// The signed request tests: a directory (dir, PS256) vouches for a
// software whose keys (sw, PS256) it names at swKeys, served over TLS by
// an issuerKeyServer; the software signs its registration requests.
const (
	swKeys      = "https://example.com/software/sw-1.jwks"
	registrarAt = "https://registrar.example/tenants/"
)

type signedEnv struct {
	*statementEnv
	dir, sw *josetest.Key
	ks      *issuerKeyServer
	s       *server
}

// newSignedEnv serves the tenants "obie", "ofb" (open-finance-brasil),
// "gen" (the generic profile), "iat" (obie behind stored initial access
// tokens), "roles" (obie with its own role_scopes) and "plain" (no
// statements).
func newSignedEnv(t *testing.T) *signedEnv {
	e := &signedEnv{statementEnv: newStatementEnv(t), dir: josetest.NewKey(t, "PS256", "d1"), sw: josetest.NewKey(t, "PS256", "s1")}
	e.ks = newIssuerKeyServer(t)
	e.ks.serve(string(josetest.JWKS(t, e.sw)), 0)
	trust := func(profile string) engine.Settings {
		return engine.Settings{InitialAccessToken: engine.TokenNone, SoftwareStatement: &engine.StatementSettings{
			Profile: profile, RequireJTI: true, MaxAge: engine.Duration(5 * time.Minute),
			Issuers: []engine.StatementIssuer{{Issuer: directory, JWKS: josetest.JWKS(t, e.dir)}},
		}}
	}
	iat := trust(engine.ProfileOBIE)
	iat.InitialAccessToken = engine.TokenStored
	roles := trust(engine.ProfileOBIE)
	roles.SoftwareStatement.RoleScopes = map[string][]string{"AISP": {"openid", "payments"}}
	e.s = e.statementEnv.server(t, map[string]engine.Settings{
		"obie": trust(engine.ProfileOBIE), "ofb": trust(engine.ProfileOpenFinanceBrasil),
		"gen": trust(engine.ProfileRFC7591), "iat": iat, "roles": roles, "plain": {InitialAccessToken: engine.TokenNone},
	}, e.ks.statements(t))
	return e
}

// ssa returns the claims of a directory statement for sw-1 (OBIE names
// its keys software_jwks_endpoint, Open Finance Brasil software_jwks_uri).
func ssa() map[string]any {
	return map[string]any{
		"iss": directory, "iat": epoch.Unix(), "jti": "ssa-" + time.Duration(jtiSeq.Add(1)).String(),
		"software_id": "sw-1", "org_id": "org-1", "software_roles": []string{"AISP", "DADOS"},
		"software_client_name": "TPP", "software_redirect_uris": []string{"https://tpp.example/cb", "https://tpp.example/cb2"},
		"software_jwks_endpoint": swKeys, "software_jwks_uri": swKeys,
	}
}

// request returns the claims of a signed registration request to tenant,
// carrying statement.
func request(tenant, statement string) map[string]any {
	return map[string]any{
		"iss": "sw-1", "aud": registrarAt + tenant, "iat": epoch.Unix(), "exp": epoch.Add(time.Minute).Unix(),
		"jti":           "req-" + time.Duration(jtiSeq.Add(1)).String(),
		"redirect_uris": []string{"https://tpp.example/cb"}, "token_endpoint_auth_method": "private_key_jwt",
		"grant_types": []string{"authorization_code", "client_credentials", "refresh_token"}, "response_types": []string{"code id_token"},
		"scope": "openid accounts", "software_statement": statement,
	}
}

// statement signs the directory's statement with changes.
func (e *signedEnv) statement(t *testing.T, changes map[string]any) string {
	return e.dir.Sign(t, nil, with(ssa(), changes))
}

// signed is a signed request to tenant with changes, by the software.
func (e *signedEnv) signed(t *testing.T, tenant string, changes map[string]any) string {
	return e.sw.Sign(t, nil, with(request(tenant, e.statement(t, nil)), changes))
}

// post sends a body with a Content-Type (and more headers).
func (e *signedEnv) post(path, contentType, body string, headers ...string) response {
	return e.s.do(e.s.public, http.MethodPost, path, body, append([]string{"Content-Type:", "Content-Type: " + contentType}, headers...)...)
}

func TestSignedRequestOBIE(t *testing.T) {
	e := newSignedEnv(t)
	req := e.signed(t, "obie", nil)
	r := e.post("/tenants/obie/reg", "application/jose", req)
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("register: %d %s", r.StatusCode, r.body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q: responses stay JSON", ct)
	}
	m := r.json(t)
	// software_jwks_endpoint is the client's jwks_uri; the hybrid response
	// type needs no implicit grant; the statement's claims apply.
	if m["jwks_uri"] != swKeys || m["software_id"] != "sw-1" || m["scope"] != "openid accounts" {
		t.Errorf("client %v", m)
	}
	if rt, _ := m["response_types"].([]any); len(rt) != 1 || rt[0] != "code id_token" {
		t.Errorf("response_types %v", m["response_types"])
	}
	if gt, _ := m["grant_types"].([]any); len(gt) != 3 {
		t.Errorf("grant_types %v, want the three sent (no implicit)", m["grant_types"])
	}
	id, rat := m["client_id"].(string), m["registration_access_token"].(string)

	// application/jwt, as OBIE clients send it, is the same form.
	if r := e.post("/tenants/obie/reg", "application/jwt", e.signed(t, "obie", nil)); r.StatusCode != http.StatusCreated {
		t.Errorf("application/jwt: %d %s", r.StatusCode, r.body)
	}

	// A signed update without client_id: the path names the client.
	upd := e.sw.Sign(t, nil, with(request("obie", m["software_statement"].(string)), map[string]any{"scope": "openid"}))
	r = e.s.do(e.s.public, http.MethodPut, "/tenants/obie/reg/"+id, upd, bearer(rat), "Content-Type:", "Content-Type: application/jose")
	if r.StatusCode != http.StatusOK || r.json(t)["scope"] != "openid" {
		t.Fatalf("signed update: %d %s", r.StatusCode, r.body)
	}
	rat = r.json(t)["registration_access_token"].(string)
	// Its jti is spent like a registration's.
	r = e.s.do(e.s.public, http.MethodPut, "/tenants/obie/reg/"+id, upd, bearer(rat), "Content-Type:", "Content-Type: application/jose")
	wantError(t, r, http.StatusBadRequest, engine.CodeInvalidClientMetadata)
	// A client_id in the signed body must be the path's.
	other := e.sw.Sign(t, nil, with(request("obie", m["software_statement"].(string)), map[string]any{"client_id": "someone-else"}))
	r = e.s.do(e.s.public, http.MethodPut, "/tenants/obie/reg/"+id, other, bearer(rat), "Content-Type:", "Content-Type: application/jose")
	wantError(t, r, http.StatusBadRequest, engine.CodeInvalidRequest)
	// A signed update must carry the client's statement.
	fresh := e.sw.Sign(t, nil, request("obie", e.statement(t, nil)))
	r = e.s.do(e.s.public, http.MethodPut, "/tenants/obie/reg/"+id, fresh, bearer(rat), "Content-Type:", "Content-Type: application/jose")
	wantError(t, r, http.StatusBadRequest, engine.CodeInvalidSoftwareStatement)
	// Plain JSON updates are refused under obie, after the token is checked.
	r = e.s.do(e.s.public, http.MethodPut, "/tenants/obie/reg/"+id, `{"client_id":"`+id+`"}`, bearer(rat))
	wantError(t, r, http.StatusBadRequest, engine.CodeInvalidRequest)
	r = e.s.do(e.s.public, http.MethodPut, "/tenants/obie/reg/"+id, `{"client_id":"`+id+`"}`, bearer("dead-token"))
	wantError(t, r, http.StatusUnauthorized, engine.CodeInvalidToken)

	// Discovery names the algorithms of signed requests.
	d := e.s.get("/tenants/obie/.well-known/openid-configuration").json(t)
	if algs, _ := d["registration_request_signing_alg_values_supported"].([]any); len(algs) == 0 {
		t.Errorf("discovery %v", d)
	}
	if _, ok := e.s.get("/.well-known/openid-configuration").json(t)["registration_request_signing_alg_values_supported"]; ok {
		t.Error("a tenant without statements advertises signed requests")
	}
}

func TestSignedRequestRefusals(t *testing.T) {
	e := newSignedEnv(t)
	tamper := func(jws string) string {
		i := strings.LastIndexByte(jws, '.')
		sig, _ := base64.RawURLEncoding.DecodeString(jws[i+1:])
		sig[0] ^= 1
		return jws[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
	}
	// The replay carries a fresh statement: only the request's jti repeats.
	first := e.signed(t, "obie", map[string]any{"jti": "once"})
	replayed := e.signed(t, "obie", map[string]any{"jti": "once"})
	if r := e.post("/tenants/obie/reg", "application/jose", first); r.StatusCode != http.StatusCreated {
		t.Fatalf("register: %d %s", r.StatusCode, r.body)
	}
	stranger := josetest.NewKey(t, "PS256", "s1")
	md, redirect, badStatement := engine.CodeInvalidClientMetadata, engine.CodeInvalidRedirectURI, engine.CodeInvalidSoftwareStatement
	for _, c := range []struct {
		name, tenant, contentType, body string
		code                            engine.ErrorCode
		want                            string
	}{
		{"bad signature", "obie", "", tamper(e.signed(t, "obie", nil)), md, "signature does not verify"},
		{"signed by a key the statement does not name", "obie", "", stranger.Sign(t, nil, request("obie", e.statement(t, nil))), md, "signature does not verify"},
		{"wrong aud", "obie", "", e.signed(t, "obie", map[string]any{"aud": registrarAt + "ofb"}), md, "aud must be"},
		{"no aud", "obie", "", e.signed(t, "obie", map[string]any{"aud": nil}), md, "aud must be"},
		{"iss is not the software_id", "obie", "", e.signed(t, "obie", map[string]any{"iss": "sw-2"}), md, "as its iss"},
		{"replayed jti", "obie", "", replayed, md, "used before"},
		{"no jti under require_jti", "obie", "", e.signed(t, "obie", map[string]any{"jti": nil}), md, "no jti"},
		{"expired", "obie", "", e.signed(t, "obie", map[string]any{"exp": epoch.Add(-time.Minute).Unix()}), md, "expired"},
		{"no iat", "obie", "", e.signed(t, "obie", map[string]any{"iat": nil}), md, "no iat"},
		{"missing statement", "obie", "", e.signed(t, "obie", map[string]any{"software_statement": nil}), badStatement, "must carry a software_statement"},
		{"statement without the keys claim", "obie", "", e.sw.Sign(t, nil, request("obie", e.statement(t, map[string]any{"software_jwks_endpoint": nil}))), badStatement, "names no keys"},
		{"statement without org_id", "obie", "", e.sw.Sign(t, nil, request("obie", e.statement(t, map[string]any{"org_id": nil}))), badStatement, "needs the org_id claim"},
		{"alg none", "obie", "", josetest.Unsigned(t, map[string]any{"alg": "none"}, request("obie", e.statement(t, nil)), nil), md, "alg \"none\""},
		{"not a JWS", "obie", "", "not-a-jws", md, "not a compact JWS"},
		{"JSON under obie", "obie", "application/json", `{"redirect_uris":["https://tpp.example/cb"],"software_statement":"` + e.statement(t, nil) + `"}`, engine.CodeInvalidRequest, "signed requests only"},
		{"wrong content type", "obie", "text/plain", e.signed(t, "obie", nil), engine.CodeInvalidRequest, "Content-Type"},
		{"redirect outside software_redirect_uris", "obie", "", e.signed(t, "obie", map[string]any{"redirect_uris": []string{"https://evil.example/cb"}}), redirect, "software_redirect_uris"},
		{"scope outside the roles", "obie", "", e.signed(t, "obie", map[string]any{"scope": "openid payments"}), md, "software_roles"},
		{"jwks by value under obie", "obie", "", e.signed(t, "obie", map[string]any{"jwks": json.RawMessage(josetest.JWKS(t, e.sw))}), md, "jwks by value is refused"},
		{"tls_client_auth without subject DN", "obie", "", e.signed(t, "obie", map[string]any{"token_endpoint_auth_method": "tls_client_auth", "tls_client_auth_san_dns": "tpp.example"}), md, "needs tls_client_auth_subject_dn"},
		{"tls_client_auth DN of another software", "obie", "", e.signed(t, "obie", map[string]any{"token_endpoint_auth_method": "tls_client_auth", "tls_client_auth_subject_dn": "CN=sw-2,OU=org-1,O=OpenBanking,C=GB"}), md, "CN=sw-1"},
		{"alg outside open-finance-brasil", "ofb", "", e.sw.With("RS256", "s1").Sign(t, nil, request("ofb", e.statement(t, nil))), md, "alg \"RS256\" is not allowed"},
		{"statement alg outside open-finance-brasil", "ofb", "", e.sw.Sign(t, nil, request("ofb", e.dir.With("RS256", "d1").Sign(t, nil, ssa()))), badStatement, "alg \"RS256\" is not allowed"},
		{"statement older than 5 minutes under open-finance-brasil", "ofb", "", e.sw.Sign(t, nil, request("ofb", e.statement(t, map[string]any{"iat": epoch.Add(-6 * time.Minute).Unix()}))), badStatement, "max_age of 5m0s"},
		{"jwks by value under open-finance-brasil", "ofb", "", e.sw.Sign(t, nil, with(request("ofb", e.statement(t, nil)), map[string]any{"jwks": json.RawMessage(josetest.JWKS(t, e.sw))})), md, "jwks by value is refused"},
		{"jwks_uri other than software_jwks_uri", "ofb", "", e.sw.Sign(t, nil, with(request("ofb", e.statement(t, nil)), map[string]any{"jwks_uri": "https://example.com/other.jwks"})), md, "jwks_uri must be the software statement's software_jwks_uri"},
		{"redirect outside software_redirect_uris under open-finance-brasil", "ofb", "application/json", `{"redirect_uris":["https://evil.example/cb"],"software_statement":"` + e.statement(t, nil) + `"}`, redirect, "software_redirect_uris"},
		{"scope outside the roles under open-finance-brasil", "ofb", "application/json", `{"redirect_uris":["https://tpp.example/cb"],"scope":"openid payments","software_statement":"` + e.statement(t, nil) + `"}`, md, "software_roles"},
		{"no statement under open-finance-brasil", "ofb", "application/json", `{"redirect_uris":["https://tpp.example/cb"]}`, badStatement, "software_statement is required"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ct := c.contentType
			if ct == "" {
				ct = "application/jose"
			}
			r := e.post("/tenants/"+c.tenant+"/reg", ct, c.body)
			wantError(t, r, http.StatusBadRequest, c.code)
			if d, _ := r.json(t)["error_description"].(string); !strings.Contains(d, c.want) {
				t.Errorf("description %q, want it to say %q", d, c.want)
			}
		})
	}
}

func TestSignedRequestDeadToken(t *testing.T) {
	e := newSignedEnv(t)
	// The token is judged before the body, whatever its Content-Type.
	for _, ct := range []string{"application/jose", "application/json", "text/plain"} {
		wantError(t, e.post("/tenants/iat/reg", ct, e.signed(t, "iat", nil), bearer("dead-token")), http.StatusUnauthorized, engine.CodeInvalidToken)
		wantError(t, e.post("/tenants/iat/reg", ct, "{not even json"), http.StatusUnauthorized, engine.CodeInvalidToken)
	}
	// A live token with the same signed request registers.
	r := e.post("/tenants/iat/reg", "application/jose", e.signed(t, "iat", nil), bearer(e.s.mintIAT("iat", `{}`)))
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("register: %d %s", r.StatusCode, r.body)
	}
}

func TestSignedRequestOpenFinanceBrasil(t *testing.T) {
	e := newSignedEnv(t)
	// jwks_uri is filled in from software_jwks_uri; a plain JSON request
	// with the statement is taken too.
	m := e.s.register("/tenants/ofb", "", `{"redirect_uris":["https://tpp.example/cb2"],"token_endpoint_auth_method":"private_key_jwt","scope":"openid consents","software_statement":"`+e.statement(t, nil)+`"}`)
	if m["jwks_uri"] != swKeys || m["scope"] != "openid consents" {
		t.Errorf("client %v", m)
	}
	r := e.post("/tenants/ofb/reg", "application/jose", e.sw.Sign(t, nil, with(request("ofb", e.statement(t, nil)), map[string]any{"jwks_uri": swKeys, "response_types": []string{"code"}, "grant_types": []string{"authorization_code"}})))
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("signed: %d %s", r.StatusCode, r.body)
	}
	// An update is checked with the stored statement.
	id, rat := m["client_id"].(string), m["registration_access_token"].(string)
	upd := `{"client_id":"` + id + `","redirect_uris":["https://evil.example/cb"],"token_endpoint_auth_method":"private_key_jwt","software_statement":"` + m["software_statement"].(string) + `"}`
	wantError(t, e.s.do(e.s.public, http.MethodPut, "/tenants/ofb/reg/"+id, upd, bearer(rat)), http.StatusBadRequest, engine.CodeInvalidRedirectURI)
}

func TestSignedRequestGeneric(t *testing.T) {
	e := newSignedEnv(t)
	// The generic profile takes the keys a statement carries by value.
	stmt := e.statement(t, map[string]any{"software_jwks_endpoint": nil, "software_jwks_uri": nil, "jwks": json.RawMessage(josetest.JWKS(t, e.sw))})
	r := e.post("/tenants/gen/reg", "application/jose", e.sw.Sign(t, nil, with(request("gen", stmt), map[string]any{"response_types": []string{"code"}, "grant_types": []string{"authorization_code"}, "scope": "anything"})))
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("register: %d %s", r.StatusCode, r.body)
	}
	// Without the profile, "code id_token" needs the implicit grant.
	r = e.post("/tenants/gen/reg", "application/jose", e.sw.Sign(t, nil, request("gen", e.statement(t, nil))))
	wantError(t, r, http.StatusBadRequest, engine.CodeInvalidClientMetadata)
	// A tenant without statements takes no signed request.
	wantError(t, e.post("/tenants/plain/reg", "application/jose", e.signed(t, "plain", nil)), http.StatusBadRequest, engine.CodeInvalidRequest)
}

func TestSignedRequestKeysUnavailable(t *testing.T) {
	e := newSignedEnv(t)
	e.ks.serve("down", http.StatusServiceUnavailable)
	r := e.post("/tenants/obie/reg", "application/jose", e.signed(t, "obie", nil))
	wantError(t, r, http.StatusServiceUnavailable, engine.CodeTemporarilyUnavailable)
	// A key set URL the outbound guard refuses is the statement's fault.
	stmt := e.statement(t, map[string]any{"software_jwks_endpoint": "https://127.0.0.1/sw.jwks"})
	wantError(t, e.post("/tenants/obie/reg", "application/jose", e.sw.Sign(t, nil, request("obie", stmt))), http.StatusBadRequest, engine.CodeInvalidSoftwareStatement)
}

func TestSignedRequestSubjectDN(t *testing.T) {
	e := newSignedEnv(t)
	r := e.post("/tenants/obie/reg", "application/jose", e.signed(t, "obie", map[string]any{"token_endpoint_auth_method": "tls_client_auth", "tls_client_auth_subject_dn": "CN=sw-1,OU=org-1,O=OpenBanking,C=GB"}))
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("register: %d %s", r.StatusCode, r.body)
	}
}

func TestSignedRequestRoleScopes(t *testing.T) {
	e := newSignedEnv(t)
	// The tenant's role_scopes replace the profile's map.
	if r := e.post("/tenants/roles/reg", "application/jose", e.signed(t, "roles", map[string]any{"scope": "openid payments"})); r.StatusCode != http.StatusCreated {
		t.Fatalf("register: %d %s", r.StatusCode, r.body)
	}
	r := e.post("/tenants/roles/reg", "application/jose", e.signed(t, "roles", map[string]any{"scope": "openid accounts"}))
	wantError(t, r, http.StatusBadRequest, engine.CodeInvalidClientMetadata)
}

// TestSignedRequestClientCertificate: under obie, a tls_client_auth client
// that registers over mutual TLS (here through a trusted proxy's
// Client-Cert header) registers its certificate's subject.
func TestSignedRequestClientCertificate(t *testing.T) {
	e := newSignedEnv(t)
	reg, err := engine.New(engine.Config{
		Store: e.store, Keys: jose.KeySetChecker{}, Statements: e.ks.statements(t), Replay: e.store,
		Tenants: map[string]engine.Settings{"obie": {InitialAccessToken: engine.TokenNone, SoftwareStatement: &engine.StatementSettings{
			Profile: engine.ProfileOBIE, Issuers: []engine.StatementIssuer{{Issuer: directory, JWKS: josetest.JWKS(t, e.dir)}},
		}}},
		Now: func() time.Time { return epoch }, Logger: testkit.DiscardLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	h, err := httpapi.New(httpapi.Config{Registrar: reg, Issuer: "https://registrar.example", Logger: testkit.DiscardLogger(),
		ClientCertProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}})
	if err != nil {
		t.Fatal(err)
	}
	srv := testkit.NewServer(t, h)
	cert := testkit.NewCA(t, "OB CA").Issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "sw-1", OrganizationalUnit: []string{"org-1"}, Organization: []string{"OpenBanking"}, Country: []string{"GB"}}})
	header := "Client-Cert: :" + base64.StdEncoding.EncodeToString(cert.Cert.Raw) + ":"
	post := func(dn string) testkit.Response {
		body := e.signed(t, "obie", map[string]any{"token_endpoint_auth_method": "tls_client_auth", "tls_client_auth_subject_dn": dn})
		return testkit.Do(t, srv, http.MethodPost, "/tenants/obie/reg", body, "Content-Type:", "Content-Type: application/jose", header)
	}
	// Names the software, but not as the certificate does (another O).
	r := post("CN=sw-1,OU=org-1,O=Other,C=GB")
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(string(r.Bytes), "client certificate") {
		t.Errorf("another subject: %d %s", r.StatusCode, r.Bytes)
	}
	if r := post("CN=sw-1,OU=org-1,O=OpenBanking,C=GB"); r.StatusCode != http.StatusCreated {
		t.Errorf("the certificate's subject: %d %s", r.StatusCode, r.Bytes)
	}
}
