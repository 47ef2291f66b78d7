package oauth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/fetch"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/oauth"
)

var _ oauth.CertificateKeys = jose.CertificateKeys{}

// newMTLSFixture is newFixture with the TLS methods configured: client
// CAs (nil: tls_client_auth off) and a CertificateKeys (nil: self-signed
// off).
func newMTLSFixture(t *testing.T, cas *x509.CertPool, keys oauth.CertificateKeys) *fixture {
	t.Helper()
	f := newFixture(t, engine.Settings{})
	srv, err := oauth.New(oauth.Config{
		Registrar: f.reg, Clients: f.store, Store: f.store, AuditLog: f.store, Now: f.clock.Now, Logger: testkit.DiscardLogger(),
		ClientCAs: cas, CertificateKeys: keys,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	return f
}

// registerJSON registers a client_credentials client with the given
// members and returns its ID.
func (f *fixture) registerJSON(members string) string {
	f.t.Helper()
	body := `{"grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],"scope":"read",` + members + `}`
	info, err := f.reg.Register(context.Background(), engine.RegisterRequest{Tenant: engine.DefaultTenant, Body: []byte(body)})
	if err != nil {
		f.t.Fatalf("register %s: %v", members, err)
	}
	return info.Client.ID
}

// withCert is credentials that name the client and carry a chain.
func withCert(id string, chain ...*testkit.Cert) oauth.Credentials {
	cr := oauth.Credentials{ClientID: id}
	for _, c := range chain {
		cr.Certificates = append(cr.Certificates, c.Cert)
	}
	return cr
}

// rdnSubject is the DER of a Name whose RDNs are given in ASN.1 order.
func rdnSubject(t *testing.T, rdns ...[]pkix.AttributeTypeAndValue) []byte {
	t.Helper()
	var seq pkix.RDNSequence
	for _, r := range rdns {
		seq = append(seq, pkix.RelativeDistinguishedNameSET(r))
	}
	der, err := asn1.Marshal(seq)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

var (
	oidCN  = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidO   = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidC   = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidUID = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}
)

// TestTLSClientAuth: the PKI method accepts a certificate that chains to
// a client CA and matches the registered subject DN or SAN, compared as
// RFC 8705 §2.1.2 says (DNs as X.500 names, not strings), and refuses
// everything else with invalid_client.
func TestTLSClientAuth(t *testing.T) {
	ca := testkit.NewCA(t, "Client CA")
	inter := ca.Issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Issuing CA"}, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign})
	other := testkit.NewCA(t, "Other CA")
	f := newMTLSFixture(t, testkit.Pool(ca), nil)

	named := ca.Issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "client-1", Organization: []string{"Example Corp"}, Country: []string{"DE"}}})
	multi := ca.Issue(t, &x509.Certificate{RawSubject: rdnSubject(t,
		[]pkix.AttributeTypeAndValue{{Type: oidC, Value: "DE"}},
		[]pkix.AttributeTypeAndValue{{Type: oidO, Value: "Example, Inc."}},
		[]pkix.AttributeTypeAndValue{{Type: oidUID, Value: "42"}, {Type: oidCN, Value: "client-1"}},
	)})
	sans := ca.Issue(t, &x509.Certificate{
		Subject:        pkix.Name{CommonName: "sans"},
		DNSNames:       []string{"client.example.com"},
		URIs:           []*url.URL{{Scheme: "spiffe", Host: "example.org", Path: "/ns/prod/sa/client"}},
		IPAddresses:    []net.IP{net.ParseIP("192.0.2.7")},
		EmailAddresses: []string{"Ops@Example.com"},
	})
	viaInter := inter.Issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "client-1", Organization: []string{"Example Corp"}, Country: []string{"DE"}}})
	foreign := other.Issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "client-1", Organization: []string{"Example Corp"}, Country: []string{"DE"}}})
	expired := ca.Issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "client-1", Organization: []string{"Example Corp"}, Country: []string{"DE"}}, NotAfter: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	serverOnly := ca.Issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "client-1", Organization: []string{"Example Corp"}, Country: []string{"DE"}}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})

	tls := func(member, value string) string {
		v, _ := json.Marshal(value)
		return `"token_endpoint_auth_method":"tls_client_auth","` + member + `":` + string(v)
	}
	cases := []struct {
		name    string
		members string
		chain   []*testkit.Cert
		ok      bool
	}{
		{"dn", tls("tls_client_auth_subject_dn", "CN=client-1,O=Example Corp,C=DE"), []*testkit.Cert{named}, true},
		{"dn with other spacing and case", tls("tls_client_auth_subject_dn", "cn = Client-1 ,  o=example   corp, c=de"), []*testkit.Cert{named}, true},
		{"dn by OID", tls("tls_client_auth_subject_dn", "2.5.4.3=client-1,OID.2.5.4.10=Example Corp,C=DE"), []*testkit.Cert{named}, true},
		{"dn hex of a UTF8String for a PrintableString", tls("tls_client_auth_subject_dn", "CN=#0c08636c69656e742d31,O=Example Corp,C=DE"), []*testkit.Cert{named}, true},
		{"dn hex of a PrintableString", tls("tls_client_auth_subject_dn", "CN=#1308636c69656e742d31,O=Example Corp,C=DE"), []*testkit.Cert{named}, true},
		{"dn multi-valued RDN in either order", tls("tls_client_auth_subject_dn", "UID=42+CN=client-1,O=Example\\, Inc.,C=DE"), []*testkit.Cert{multi}, true},
		{"dn multi-valued RDN other order", tls("tls_client_auth_subject_dn", "CN=client-1 + UID=42,O=Example\\2C Inc.,C=DE"), []*testkit.Cert{multi}, true},
		{"dn multi-valued RDN split", tls("tls_client_auth_subject_dn", "CN=client-1,UID=42,O=Example\\, Inc.,C=DE"), []*testkit.Cert{multi}, false},
		{"dn wrong CN", tls("tls_client_auth_subject_dn", "CN=client-2,O=Example Corp,C=DE"), []*testkit.Cert{named}, false},
		{"dn reversed order", tls("tls_client_auth_subject_dn", "C=DE,O=Example Corp,CN=client-1"), []*testkit.Cert{named}, false},
		{"dn missing RDN", tls("tls_client_auth_subject_dn", "CN=client-1,O=Example Corp"), []*testkit.Cert{named}, false},
		{"dn extra RDN", tls("tls_client_auth_subject_dn", "CN=client-1,OU=x,O=Example Corp,C=DE"), []*testkit.Cert{named}, false},
		{"dn via intermediate", tls("tls_client_auth_subject_dn", "CN=client-1,O=Example Corp,C=DE"), []*testkit.Cert{viaInter, inter}, true},
		{"dn via intermediate not sent", tls("tls_client_auth_subject_dn", "CN=client-1,O=Example Corp,C=DE"), []*testkit.Cert{viaInter}, false},
		{"other CA", tls("tls_client_auth_subject_dn", "CN=client-1,O=Example Corp,C=DE"), []*testkit.Cert{foreign}, false},
		{"expired", tls("tls_client_auth_subject_dn", "CN=client-1,O=Example Corp,C=DE"), []*testkit.Cert{expired}, false},
		{"not for client auth", tls("tls_client_auth_subject_dn", "CN=client-1,O=Example Corp,C=DE"), []*testkit.Cert{serverOnly}, false},
		{"the CA itself", tls("tls_client_auth_subject_dn", "CN=Client CA"), []*testkit.Cert{ca}, false},
		{"no certificate", tls("tls_client_auth_subject_dn", "CN=client-1,O=Example Corp,C=DE"), nil, false},
		{"san dns", tls("tls_client_auth_san_dns", "Client.Example.com"), []*testkit.Cert{sans}, true},
		{"san dns other", tls("tls_client_auth_san_dns", "other.example.com"), []*testkit.Cert{sans}, false},
		{"san dns on the CN only", tls("tls_client_auth_san_dns", "sans"), []*testkit.Cert{sans}, false},
		{"san uri", tls("tls_client_auth_san_uri", "spiffe://example.org/ns/prod/sa/client"), []*testkit.Cert{sans}, true},
		{"san uri other", tls("tls_client_auth_san_uri", "spiffe://example.org/ns/prod/sa/other"), []*testkit.Cert{sans}, false},
		{"san ip", tls("tls_client_auth_san_ip", "192.0.2.7"), []*testkit.Cert{sans}, true},
		{"san ip mapped", tls("tls_client_auth_san_ip", "::ffff:192.0.2.7"), []*testkit.Cert{sans}, true},
		{"san ip other", tls("tls_client_auth_san_ip", "192.0.2.8"), []*testkit.Cert{sans}, false},
		{"san email", tls("tls_client_auth_san_email", "Ops@example.COM"), []*testkit.Cert{sans}, true},
		{"san email local part case", tls("tls_client_auth_san_email", "ops@example.com"), []*testkit.Cert{sans}, false},
		{"san dns of a DN-only certificate", tls("tls_client_auth_san_dns", "client.example.com"), []*testkit.Cert{named}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := f.registerJSON(tc.members)
			resp, err := f.token(withCert(id, tc.chain...))
			if !tc.ok {
				wantCode(t, err, engine.CodeInvalidClient)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !f.active(withCert(id, tc.chain...), resp.AccessToken) {
				t.Error("the token is inactive")
			}
		})
	}
}

// TestTLSClientAuthOtherCredentials: a tls_client_auth client that sends a
// secret or Basic credentials as well as its certificate is refused; so
// is a secret client that sends only a certificate.
func TestTLSClientAuthOtherCredentials(t *testing.T) {
	ca := testkit.NewCA(t, "Client CA")
	f := newMTLSFixture(t, testkit.Pool(ca), nil)
	cert := ca.Issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "c"}})
	id := f.registerJSON(`"token_endpoint_auth_method":"tls_client_auth","tls_client_auth_subject_dn":"CN=c"`)
	cr := withCert(id, cert)
	cr.ClientSecret = "x"
	_, err := f.token(cr)
	wantCode(t, err, engine.CodeInvalidClient)
	cr = withCert(id, cert)
	cr.Basic, cr.BasicID = true, id
	_, err = f.token(cr)
	wantCode(t, err, engine.CodeInvalidClient)

	secretID, _ := f.register("")
	_, err = f.token(withCert(secretID, cert))
	wantCode(t, err, engine.CodeInvalidClient)
}

// TestTLSMethodsNeedConfiguration: without client CAs tls_client_auth is
// neither advertised nor accepted; without CertificateKeys the
// self-signed method is neither.
func TestTLSMethodsNeedConfiguration(t *testing.T) {
	ca := testkit.NewCA(t, "Client CA")
	all := []string{oauth.MethodSecretBasic, oauth.MethodTLSClientAuth, oauth.MethodSelfSignedTLS}
	for _, tc := range []struct {
		name string
		cas  *x509.CertPool
		keys oauth.CertificateKeys
		want []string
	}{
		{"none", nil, nil, []string{oauth.MethodSecretBasic}},
		{"CAs", testkit.Pool(ca), nil, []string{oauth.MethodSecretBasic, oauth.MethodTLSClientAuth}},
		{"keys", nil, jose.CertificateKeys{}, []string{oauth.MethodSecretBasic, oauth.MethodSelfSignedTLS}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newMTLSFixture(t, tc.cas, tc.keys)
			if got := f.srv.AuthMethods(all); !slices.Equal(got, tc.want) {
				t.Errorf("AuthMethods %v, want %v", got, tc.want)
			}
		})
	}
	f := newMTLSFixture(t, nil, nil)
	cert := ca.Issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "c"}})
	id := f.registerJSON(`"token_endpoint_auth_method":"tls_client_auth","tls_client_auth_subject_dn":"CN=c"`)
	_, err := f.token(withCert(id, cert))
	wantCode(t, err, engine.CodeInvalidClient)
	self := testkit.SelfSigned(t, &x509.Certificate{Subject: pkix.Name{CommonName: "s"}})
	id = f.registerJSON(`"token_endpoint_auth_method":"self_signed_tls_client_auth","jwks":` + jwksOf(t, self, true))
	_, err = f.token(withCert(id, self))
	wantCode(t, err, engine.CodeInvalidClient)
}

// jwksOf is a JWK Set of the certificate's public key, with the
// certificate as x5c when x5c is set.
func jwksOf(t *testing.T, c *testkit.Cert, x5c bool, extra ...string) string {
	t.Helper()
	ec, err := c.Cert.PublicKey.(*ecdsa.PublicKey).ECDH()
	if err != nil {
		t.Fatal(err)
	}
	b := ec.Bytes()
	// Uncompressed point: 0x04 || X || Y.
	x, y := b[1:33], b[33:]
	key := fmt.Sprintf(`{"kty":"EC","crv":"P-256","x":%q,"y":%q`, base64.RawURLEncoding.EncodeToString(x), base64.RawURLEncoding.EncodeToString(y))
	if x5c {
		key += fmt.Sprintf(`,"x5c":[%q]`, base64.StdEncoding.EncodeToString(c.Cert.Raw))
	}
	for _, e := range extra {
		key += "," + e
	}
	return `{"keys":[` + key + `}]}`
}

// TestSelfSignedTLSClientAuth: the self-signed method accepts the
// certificate registered in jwks x5c, or a certificate of a registered
// key without x5c, and refuses any other certificate.
func TestSelfSignedTLSClientAuth(t *testing.T) {
	f := newMTLSFixture(t, nil, jose.CertificateKeys{})
	self := testkit.SelfSigned(t, &x509.Certificate{Subject: pkix.Name{CommonName: "me"}})
	sameKeyOtherCert := self.Resign(t, &x509.Certificate{Subject: pkix.Name{CommonName: "me again"}})
	stranger := testkit.SelfSigned(t, &x509.Certificate{Subject: pkix.Name{CommonName: "me"}})
	method := `"token_endpoint_auth_method":"self_signed_tls_client_auth","jwks":`
	cases := []struct {
		name  string
		jwks  string
		chain []*testkit.Cert
		ok    bool
	}{
		{"x5c", jwksOf(t, self, true), []*testkit.Cert{self}, true},
		{"public key", jwksOf(t, self, false), []*testkit.Cert{self}, true},
		{"public key, other certificate of it", jwksOf(t, self, false), []*testkit.Cert{sameKeyOtherCert}, true},
		{"x5c names another certificate of the key", jwksOf(t, self, true), []*testkit.Cert{sameKeyOtherCert}, false},
		{"wrong key", jwksOf(t, self, true), []*testkit.Cert{stranger}, false},
		{"wrong key without x5c", jwksOf(t, self, false), []*testkit.Cert{stranger}, false},
		{"encryption key", jwksOf(t, self, false, `"use":"enc"`), []*testkit.Cert{self}, false},
		{"no certificate", jwksOf(t, self, true), nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := f.registerJSON(method + tc.jwks)
			_, err := f.token(withCert(id, tc.chain...))
			if !tc.ok {
				wantCode(t, err, engine.CodeInvalidClient)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// keySetServer is a jose.Fetcher that serves the JWK Sets of a map, and
// counts the fetches.
type keySetServer struct {
	sets    map[string]string
	fetches int
}

func (k *keySetServer) Get(_ context.Context, u, _ string) (*fetch.Response, error) {
	k.fetches++
	body, ok := k.sets[u]
	if !ok {
		return nil, fmt.Errorf("%s: 404", u)
	}
	return &fetch.Response{URL: u, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)}, nil
}

// TestSelfSignedJWKSURI: a client that registered a jwks_uri authenticates
// with a certificate in the set at that URI, and with a new certificate
// once the set has it (the set is fetched again on a mismatch).
func TestSelfSignedJWKSURI(t *testing.T) {
	old := testkit.SelfSigned(t, &x509.Certificate{Subject: pkix.Name{CommonName: "old"}})
	next := testkit.SelfSigned(t, &x509.Certificate{Subject: pkix.Name{CommonName: "new"}})
	const uri = "https://client.example/jwks.json"
	ks := &keySetServer{sets: map[string]string{uri: jwksOf(t, old, true)}}
	sets, err := jose.NewKeySets(jose.KeySetsConfig{Fetcher: ks, RefetchInterval: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	f := newMTLSFixture(t, nil, jose.CertificateKeys{KeySets: sets})
	id := f.registerJSON(`"token_endpoint_auth_method":"self_signed_tls_client_auth","jwks_uri":"` + uri + `"`)
	if _, err := f.token(withCert(id, old)); err != nil {
		t.Fatal(err)
	}
	_, err = f.token(withCert(id, next))
	wantCode(t, err, engine.CodeInvalidClient)
	ks.sets[uri] = jwksOf(t, next, true)
	if _, err := f.token(withCert(id, next)); err != nil {
		t.Fatalf("the rotated certificate: %v", err)
	}
	if ks.fetches < 3 {
		t.Errorf("%d fetches, want the set fetched again on a mismatch", ks.fetches)
	}

	noSets := newMTLSFixture(t, nil, jose.CertificateKeys{})
	id = noSets.registerJSON(`"token_endpoint_auth_method":"self_signed_tls_client_auth","jwks_uri":"` + uri + `"`)
	_, err = noSets.token(withCert(id, next))
	wantCode(t, err, engine.CodeInvalidClient)
}

// TestCertificateBoundToken: a client that registered
// tls_client_certificate_bound_access_tokens gets a token bound to its
// certificate (introspection's cnf.x5t#S256 is the certificate's SHA-256),
// whatever method it authenticates with, and no token without a
// certificate; other clients' tokens carry no cnf.
func TestCertificateBoundToken(t *testing.T) {
	ca := testkit.NewCA(t, "Client CA")
	f := newMTLSFixture(t, testkit.Pool(ca), nil)
	cert := ca.Issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "bound"}})
	id := f.registerJSON(`"token_endpoint_auth_method":"tls_client_auth","tls_client_auth_subject_dn":"CN=bound","tls_client_certificate_bound_access_tokens":true`)
	resp, err := f.token(withCert(id, cert))
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`"cnf":{"x5t#S256":%q}`, oauth.Thumbprint(cert.Cert))
	if got := f.introspectJSON(withCert(id, cert), resp.AccessToken); !strings.Contains(got, want) {
		t.Errorf("introspection %s, want %s", got, want)
	}

	secretID, secret := f.register(`,"tls_client_certificate_bound_access_tokens":true`)
	_, err = f.token(basic(secretID, secret))
	wantCode(t, err, engine.CodeInvalidRequest)
	cr := basic(secretID, secret)
	cr.Certificates = []*x509.Certificate{cert.Cert}
	if resp, err = f.token(cr); err != nil {
		t.Fatal(err)
	}
	if got := f.introspectJSON(cr, resp.AccessToken); !strings.Contains(got, want) {
		t.Errorf("introspection %s, want %s", got, want)
	}

	plainID, plainSecret := f.register("")
	cr = basic(plainID, plainSecret)
	cr.Certificates = []*x509.Certificate{cert.Cert}
	if resp, err = f.token(cr); err != nil {
		t.Fatal(err)
	}
	if got := f.introspectJSON(cr, resp.AccessToken); strings.Contains(got, "cnf") {
		t.Errorf("an unbound token has a cnf: %s", got)
	}
}

func (f *fixture) introspectJSON(cr oauth.Credentials, token string) string {
	f.t.Helper()
	in, err := f.srv.Introspect(context.Background(), oauth.IntrospectRequest{
		Tenant: engine.DefaultTenant, Endpoints: oauth.Endpoints{Issuer: issuer, Endpoint: issuer + "/introspect"},
		Credentials: cr, Token: token,
	})
	if err != nil {
		f.t.Fatalf("introspect: %v", err)
	}
	b, err := json.Marshal(in)
	if err != nil {
		f.t.Fatal(err)
	}
	return string(b)
}
