package httpapi_test

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/httpapi"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/memstore"
	"github.com/registrar-dev/registrar/oauth"
)

// mtlsHandler is the public API with the mutual TLS methods configured:
// client CAs, self-signed certificates by inline jwks, and cfg's
// certificate proxy settings.
func mtlsHandler(t *testing.T, cas *x509.CertPool, cfg httpapi.Config) http.Handler {
	t.Helper()
	log := cfg.Logger
	if log == nil {
		log = testkit.DiscardLogger()
	}
	now := func() time.Time { return epoch }
	store := memstore.New(memstore.Config{Now: now})
	reg, err := engine.New(engine.Config{
		Store: store, Keys: jose.KeySetChecker{}, Now: now, Rand: testkit.Rand(0), Logger: log,
		Tenants: map[string]engine.Settings{engine.DefaultTenant: {InitialAccessToken: engine.TokenNone}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := oauth.New(oauth.Config{
		Registrar: reg, Clients: store, Store: store, Now: now, Logger: log,
		ClientCAs: cas, CertificateKeys: jose.CertificateKeys{},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Registrar, cfg.Tokens, cfg.Issuer, cfg.Logger = reg, tokens, "https://registrar.example", log
	h, err := httpapi.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// send posts a form (or GETs when form is "") with headers ("Name:
// value") through client, and returns the status and the decoded body.
func send(t *testing.T, client *http.Client, url, form string, headers ...string) (int, map[string]any) {
	t.Helper()
	method := http.MethodGet
	if form != "" {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, url, strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Add(k, strings.TrimSpace(v))
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	return resp.StatusCode, m
}

// registerAt registers a client_credentials client with the given
// members at base and returns its ID.
func registerAt(t *testing.T, client *http.Client, base, members string) string {
	t.Helper()
	body := `{"grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],` + members + `}`
	resp, err := client.Post(base+"/reg", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("register: %d %v %v", resp.StatusCode, m, err)
	}
	return m["client_id"].(string)
}

// TestMutualTLSOverTLS: over a real TLS listener that asks for client
// certificates without requiring them, a tls_client_auth client (chain
// through an intermediate) and a self_signed_tls_client_auth client get
// tokens; the bound one's introspection carries cnf.x5t#S256; without a
// certificate the same client is invalid_client; discovery over TLS
// advertises both methods and certificate-bound tokens.
func TestMutualTLSOverTLS(t *testing.T) {
	ca := testkit.NewCA(t, "Client CA")
	inter := ca.Issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Issuing CA"}, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign})
	leaf := inter.Issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "svc", Organization: []string{"Example"}}, DNSNames: []string{"svc.example.com"}})
	self := testkit.SelfSigned(t, &x509.Certificate{Subject: pkix.Name{CommonName: "self"}})

	srv := httptest.NewUnstartedServer(mtlsHandler(t, testkit.Pool(ca), httpapi.Config{}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	clientWith := func(c ...tls.Certificate) *http.Client {
		tr := srv.Client().Transport.(*http.Transport).Clone()
		tr.TLSClientConfig.Certificates = c
		return &http.Client{Transport: tr}
	}
	anon := clientWith()
	pki := clientWith(leaf.TLS(inter))
	selfClient := clientWith(self.TLS())

	_, d := send(t, anon, srv.URL+"/.well-known/openid-configuration", "")
	methods, _ := d["token_endpoint_auth_methods_supported"].([]any)
	if !slices.Contains(methods, any("tls_client_auth")) || !slices.Contains(methods, any("self_signed_tls_client_auth")) || d["tls_client_certificate_bound_access_tokens"] != true {
		t.Errorf("discovery over TLS: methods %v, bound tokens %v", methods, d["tls_client_certificate_bound_access_tokens"])
	}

	id := registerAt(t, anon, srv.URL, `"token_endpoint_auth_method":"tls_client_auth","tls_client_auth_san_dns":"svc.example.com","tls_client_certificate_bound_access_tokens":true`)
	status, tok := send(t, pki, srv.URL+"/token", "grant_type=client_credentials&client_id="+id)
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, tok)
	}
	_, in := send(t, pki, srv.URL+"/introspect", "client_id="+id+"&token="+url.QueryEscape(tok["access_token"].(string)))
	cnf, _ := in["cnf"].(map[string]any)
	if in["active"] != true || cnf["x5t#S256"] != oauth.Thumbprint(leaf.Cert) {
		t.Errorf("introspection %v, want active with cnf.x5t#S256 %s", in, oauth.Thumbprint(leaf.Cert))
	}
	for name, cl := range map[string]*http.Client{"no certificate": anon, "self-signed certificate": selfClient} {
		if status, body := send(t, cl, srv.URL+"/token", "grant_type=client_credentials&client_id="+id); status != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("%s: %d %v, want 401 invalid_client", name, status, body)
		}
	}

	selfID := registerAt(t, anon, srv.URL, `"token_endpoint_auth_method":"self_signed_tls_client_auth","jwks":`+jwks(t, self))
	if status, body := send(t, selfClient, srv.URL+"/token", "grant_type=client_credentials&client_id="+selfID); status != http.StatusOK {
		t.Errorf("self-signed: %d %v", status, body)
	}
	if status, body := send(t, pki, srv.URL+"/token", "grant_type=client_credentials&client_id="+selfID); status != http.StatusUnauthorized {
		t.Errorf("self-signed client with another certificate: %d %v", status, body)
	}
}

// jwks is a JWK Set of the certificate's P-256 key with the certificate
// as x5c.
func jwks(t *testing.T, c *testkit.Cert) string {
	t.Helper()
	pub, err := c.Cert.PublicKey.(*ecdsa.PublicKey).ECDH()
	if err != nil {
		t.Fatal(err)
	}
	b := pub.Bytes() // 0x04 || X || Y
	enc := base64.RawURLEncoding.EncodeToString
	return fmt.Sprintf(`{"keys":[{"kty":"EC","crv":"P-256","x":%q,"y":%q,"x5c":[%q]}]}`, enc(b[1:33]), enc(b[33:]), base64.StdEncoding.EncodeToString(c.Cert.Raw))
}

// TestClientCertificateFromProxy: behind a TLS-terminating proxy, the
// client certificate is read from the configured header in each supported
// form, only when the request comes from a configured proxy address; a
// header from anywhere else is ignored, and a malformed one from a proxy
// is invalid_request. An ignored header is logged at debug level.
func TestClientCertificateFromProxy(t *testing.T) {
	ca := testkit.NewCA(t, "Client CA")
	inter := ca.Issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Issuing CA"}, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign})
	leaf := inter.Issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "svc"}})
	b64 := func(c *testkit.Cert) string { return base64.StdEncoding.EncodeToString(c.Cert.Raw) }
	pemEsc := func(cs ...*testkit.Cert) string {
		var s string
		for _, c := range cs {
			s += string(c.PEM())
		}
		return url.PathEscape(s)
	}
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	elsewhere := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	cases := []struct {
		name    string
		header  string
		proxies []netip.Prefix
		send    []string
		status  int
		ignored bool
	}{
		{"RFC 9440 with chain", "", loopback, []string{"Client-Cert: :" + b64(leaf) + ":", "Client-Cert-Chain: :" + b64(inter) + ":"}, 200, false},
		{"RFC 9440 without the intermediate", "", loopback, []string{"Client-Cert: :" + b64(leaf) + ":"}, 401, false},
		{"RFC 9440 from elsewhere", "", elsewhere, []string{"Client-Cert: :" + b64(leaf) + ":", "Client-Cert-Chain: :" + b64(inter) + ":"}, 401, true},
		{"no proxies configured", "", nil, []string{"Client-Cert: :" + b64(leaf) + ":", "Client-Cert-Chain: :" + b64(inter) + ":"}, 401, true},
		{"no header from the proxy", "", loopback, nil, 401, false},
		{"malformed", "", loopback, []string{"Client-Cert: :bm90IGEgY2VydA==:"}, 400, false},
		{"URL-encoded PEM", "X-SSL-Client-Cert", loopback, []string{"X-SSL-Client-Cert: " + pemEsc(leaf, inter)}, 200, false},
		{"URL-encoded PEM from elsewhere", "X-SSL-Client-Cert", elsewhere, []string{"X-SSL-Client-Cert: " + pemEsc(leaf, inter)}, 401, true},
		{"base64 DER list", "X-Client-Cert", loopback, []string{"X-Client-Cert: " + b64(leaf) + "," + b64(inter)}, 200, false},
		{"default header ignored when another is named", "X-SSL-Client-Cert", loopback, []string{"Client-Cert: :" + b64(leaf) + ":", "Client-Cert-Chain: :" + b64(inter) + ":"}, 401, false},
		{"Envoy XFCC Chain", "X-Forwarded-Client-Cert", loopback, []string{`X-Forwarded-Client-Cert: By=spiffe://a;Cert="` + pemEsc(ca) + `",By=spiffe://b;Hash=00;Chain="` + pemEsc(leaf, inter) + `";Subject="CN=svc"`}, 200, false},
		{"Envoy XFCC earlier hop only", "X-Forwarded-Client-Cert", loopback, []string{`X-Forwarded-Client-Cert: Chain="` + pemEsc(leaf, inter) + `",By=spiffe://b;Hash=00`}, 400, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logged testkit.Buffer
			log := slog.New(slog.NewJSONHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
			srv := testkit.NewServer(t, mtlsHandler(t, testkit.Pool(ca), httpapi.Config{ClientCertProxies: tc.proxies, ClientCertHeader: tc.header, Logger: log}))
			cl := srv.Client()
			id := registerAt(t, cl, srv.URL, `"token_endpoint_auth_method":"tls_client_auth","tls_client_auth_subject_dn":"CN=svc"`)
			status, body := send(t, cl, srv.URL+"/token", "grant_type=client_credentials&client_id="+id, tc.send...)
			if status != tc.status {
				t.Errorf("%d %v, want %d", status, body, tc.status)
			}
			if got := strings.Contains(logged.String(), `"level":"DEBUG","msg":"client certificate header ignored`); got != tc.ignored {
				t.Errorf("ignored header logged: %v, want %v", got, tc.ignored)
			}
		})
	}
}

// TestDiscoveryWithoutCertificates: on plain HTTP with no certificate
// proxies, no client certificate can arrive: discovery advertises
// neither the mutual TLS methods nor certificate-bound tokens.
func TestDiscoveryWithoutCertificates(t *testing.T) {
	ca := testkit.NewCA(t, "Client CA")
	for _, tc := range []struct {
		proxies []netip.Prefix
		want    bool
	}{{nil, false}, {[]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, true}} {
		srv := testkit.NewServer(t, mtlsHandler(t, testkit.Pool(ca), httpapi.Config{ClientCertProxies: tc.proxies}))
		_, d := send(t, srv.Client(), srv.URL+"/.well-known/openid-configuration", "")
		methods, _ := d["token_endpoint_auth_methods_supported"].([]any)
		if got := slices.Contains(methods, any("tls_client_auth")); got != tc.want {
			t.Errorf("proxies %v: tls_client_auth advertised %v, want %v (%v)", tc.proxies, got, tc.want, methods)
		}
		if got := d["tls_client_certificate_bound_access_tokens"] == true; got != tc.want {
			t.Errorf("proxies %v: bound tokens advertised %v, want %v", tc.proxies, got, tc.want)
		}
	}
}

// TestClientCertHeaderName: a header name that is not a token is refused
// by New.
func TestClientCertHeaderName(t *testing.T) {
	log := testkit.DiscardLogger()
	reg, err := engine.New(engine.Config{Store: memstore.New(memstore.Config{}), Keys: jose.KeySetChecker{}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := httpapi.New(httpapi.Config{Registrar: reg, Issuer: "https://a.example", ClientCertHeader: "Client Cert"}); err == nil {
		t.Error("a header name with a space was accepted")
	}
}
