package e2e_test

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/registrar-dev/registrar/internal/testkit"
)

// TestMutualTLSAcrossReplicas registers a tls_client_auth client (with
// certificate-bound tokens) and a self_signed_tls_client_auth client,
// gets a token from one replica over its HTTPS listener with the client
// certificate, introspects and revokes it on the other, over Redis.
func TestMutualTLSAcrossReplicas(t *testing.T) {
	addr := startRedis(t)
	dir := t.TempDir()
	serverCA, clientCA := testkit.NewCA(t, "e2e server CA"), testkit.NewCA(t, "e2e client CA")
	server := serverCA.Issue(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "127.0.0.1"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	pki := clientCA.Issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "e2e-client", Organization: []string{"Example"}}})
	impostor := testkit.NewCA(t, "another CA").Issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "e2e-client", Organization: []string{"Example"}}})
	self := testkit.SelfSigned(t, &x509.Certificate{Subject: pkix.Name{CommonName: "self"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	files := map[string][]byte{"server.pem": server.PEM(), "server.key": server.KeyPEM(t), "client-ca.pem": clientCA.PEM()}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	withCert := func(cert *testkit.Cert) *http.Client {
		cfg := &tls.Config{RootCAs: testkit.Pool(serverCA)}
		if cert != nil {
			cfg.Certificates = []tls.Certificate{cert.TLS()}
		}
		return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
	}
	args := []string{"--redis-url", "redis://" + addr,
		"--tls-cert", filepath.Join(dir, "server.pem"), "--tls-key", filepath.Join(dir, "server.key"),
		"--tls-client-ca", filepath.Join(dir, "client-ca.pem")}
	trust := withCert(nil)
	a, b := startProcessWith(t, "https", trust, args...), startProcessWith(t, "https", trust, args...)

	c := client{t: t, h: trust}
	if r := c.do(http.MethodPut, a.admin+"/admin/tenants/mtls", adminToken, "application/json", []byte(`{"initial_access_token":"none"}`)); r.status != 201 && r.status != 200 {
		t.Fatalf("create tenant: %d %s", r.status, r.raw)
	}
	const prefix = "/tenants/mtls"
	waitTenant(t, c, b, prefix)
	tc := tokenClient{c: c, prefix: prefix}
	ea, eb := tc.endpoints(a), tc.endpoints(b)
	doc := c.do(http.MethodGet, a.public+prefix+"/.well-known/openid-configuration", "", "", nil)
	if doc.body["tls_client_certificate_bound_access_tokens"] != true {
		t.Errorf("discovery over TLS does not advertise certificate-bound tokens: %s", doc.raw)
	}

	register := func(metadata string) string {
		t.Helper()
		r := c.do(http.MethodPost, a.public+ea["registration_endpoint"], "", "application/json",
			[]byte(`{"grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],"scope":"read",`+metadata+`}`))
		if r.status != http.StatusCreated {
			t.Fatalf("register: %d %s", r.status, r.raw)
		}
		return r.str("client_id")
	}
	pkiID := register(`"token_endpoint_auth_method":"tls_client_auth","tls_client_auth_subject_dn":"` + pki.Cert.Subject.String() + `","tls_client_certificate_bound_access_tokens":true`)
	selfID := register(`"token_endpoint_auth_method":"self_signed_tls_client_auth","jwks":{"keys":[` + certJWK(t, self) + `]}`)

	for _, tt := range []struct {
		name string
		id   string
		cert *testkit.Cert
	}{{"tls_client_auth", pkiID, pki}, {"self_signed_tls_client_auth", selfID, self}} {
		t.Run(tt.name, func(t *testing.T) {
			mine := tokenClient{c: client{t: t, h: withCert(tt.cert)}, prefix: prefix}
			tok := mine.form(b.public+eb["token_endpoint"], url.Values{"grant_type": {"client_credentials"}, "client_id": {tt.id}}, "", "")
			if tok.status != http.StatusOK {
				t.Fatalf("token on the second replica: %d %s", tok.status, tok.raw)
			}
			at := tok.str("access_token")
			in := mine.form(a.public+ea["introspection_endpoint"], url.Values{"token": {at}, "client_id": {tt.id}}, "", "")
			if in.body["active"] != true || in.str("client_id") != tt.id {
				t.Fatalf("introspection on the first replica: %d %s", in.status, in.raw)
			}
			if tt.id == pkiID {
				sum := sha256.Sum256(pki.Cert.Raw)
				cnf, _ := in.body["cnf"].(map[string]any)
				if cnf["x5t#S256"] != base64.RawURLEncoding.EncodeToString(sum[:]) {
					t.Errorf("cnf %v, want the certificate's thumbprint", in.body["cnf"])
				}
			}
			if r := mine.form(b.public+eb["revocation_endpoint"], url.Values{"token": {at}, "client_id": {tt.id}}, "", ""); r.status != http.StatusOK {
				t.Fatalf("revoke: %d %s", r.status, r.raw)
			}
			if in := mine.form(a.public+ea["introspection_endpoint"], url.Values{"token": {at}, "client_id": {tt.id}}, "", ""); in.body["active"] != false {
				t.Errorf("after revocation on the other replica: %s", in.raw)
			}
		})
	}
	// No certificate, and a certificate with the right name from another
	// CA, are refused.
	for name, cert := range map[string]*testkit.Cert{"no certificate": nil, "another CA": impostor} {
		other := tokenClient{c: client{t: t, h: withCert(cert)}, prefix: prefix}
		if r := other.form(a.public+ea["token_endpoint"], url.Values{"grant_type": {"client_credentials"}, "client_id": {pkiID}}, "", ""); r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" {
			t.Errorf("%s: %d %s", name, r.status, r.raw)
		}
	}
}

// certJWK is the public JWK of a P-256 certificate's key, with the
// certificate in x5c.
func certJWK(t *testing.T, c *testkit.Cert) string {
	t.Helper()
	pub := c.Cert.PublicKey.(*ecdsa.PublicKey)
	raw, err := pub.Bytes() // 0x04 || X || Y
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{
		"kty": "EC", "crv": "P-256", "use": "sig",
		"x":   base64.RawURLEncoding.EncodeToString(raw[1:33]),
		"y":   base64.RawURLEncoding.EncodeToString(raw[33:]),
		"x5c": []string{base64.StdEncoding.EncodeToString(c.Cert.Raw)},
	})
	return string(b)
}
