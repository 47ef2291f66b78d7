package oauth

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/registrar-dev/registrar/engine"
)

// CertificateKeys matches a client's TLS certificate with the keys the
// client registered (jwks or jwks_uri), for self_signed_tls_client_auth
// (RFC 8705 §2.2). jose.CertificateKeys implements it.
type CertificateKeys interface {
	// MatchCertificate returns nil when leaf is one of the certificates,
	// or carries one of the public keys, of the set given by value (jwks)
	// or by reference (jwksURI), and an error saying why not otherwise.
	MatchCertificate(ctx context.Context, jwks json.RawMessage, jwksURI string, leaf *x509.Certificate) error
}

// maxIntermediates bounds the certificates a chain may add to the leaf, so
// that a client cannot make chain building expensive.
const maxIntermediates = 8

// mtlsVerifiable reports whether the server can verify a TLS method: the
// PKI method needs the client CAs, the self-signed one a CertificateKeys.
// Other methods are not its business.
func (s *Server) mtlsVerifiable(method string) bool {
	switch method {
	case MethodTLSClientAuth:
		return s.clientCAs != nil
	case MethodSelfSignedTLS:
		return s.certKeys != nil
	}
	return true
}

// checkTLSClientAuth checks tls_client_auth (RFC 8705 §2.1): the client
// sent no other credentials, its certificate chains to one of the client
// CAs and is valid now for client authentication (an end entity's, with
// no extended key usage or clientAuth), and the one registered
// tls_client_auth_* member matches the leaf.
func (s *Server) checkTLSClientAuth(c *engine.Client, p presented, cr *Credentials) error {
	leaf, err := tlsLeaf(c, p, cr)
	if err != nil {
		return err
	}
	if s.clientCAs == nil {
		return errors.New("the token endpoint has no client CAs (--tls-client-ca) to verify tls_client_auth with")
	}
	if leaf.IsCA {
		return errors.New("the client certificate is a CA certificate, not an end entity's")
	}
	if len(cr.Certificates)-1 > maxIntermediates {
		return fmt.Errorf("the certificate chain has more than %d intermediates", maxIntermediates)
	}
	inter := x509.NewCertPool()
	for _, ic := range cr.Certificates[1:] {
		inter.AddCert(ic)
	}
	_, err = leaf.Verify(x509.VerifyOptions{
		Roots: s.clientCAs, Intermediates: inter, CurrentTime: s.now(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return fmt.Errorf("the client certificate does not verify against the client CAs: %w", err)
	}
	return matchSubject(&c.Metadata, leaf)
}

// checkSelfSigned checks self_signed_tls_client_auth (RFC 8705 §2.2): the
// client sent no other credentials, and its certificate is one it
// registered. Its chain is not validated: the registration is the trust.
func (s *Server) checkSelfSigned(ctx context.Context, c *engine.Client, p presented, cr *Credentials) error {
	leaf, err := tlsLeaf(c, p, cr)
	if err != nil {
		return err
	}
	if s.certKeys == nil {
		return errors.New("the token endpoint cannot match self-signed certificates with client keys")
	}
	if err := s.certKeys.MatchCertificate(ctx, c.Metadata.JWKS, c.Metadata.JWKSURI, leaf); err != nil {
		var answer *engine.Error
		if errors.As(err, &answer) {
			return err
		}
		return fmt.Errorf("the client certificate is not one the client registered: %w", err)
	}
	return nil
}

// tlsLeaf returns the client's certificate for a TLS method: the request
// must carry one and no other credentials, since a TLS method names its
// client with the client_id parameter only (RFC 8705 §2).
func tlsLeaf(c *engine.Client, p presented, cr *Credentials) (*x509.Certificate, error) {
	if p != presentedNone {
		return nil, fmt.Errorf("registered %s, presented another method", c.Metadata.TokenEndpointAuthMethod)
	}
	if len(cr.Certificates) == 0 {
		return nil, fmt.Errorf("registered %s, presented no client certificate", c.Metadata.TokenEndpointAuthMethod)
	}
	return cr.Certificates[0], nil
}

// matchSubject checks the one tls_client_auth_* member the client
// registered (RFC 8705 §2.1.2) against the leaf: the subject DN compared
// as X.500 names, or a SAN of the registered type.
func matchSubject(md *engine.Metadata, leaf *x509.Certificate) error {
	type member struct {
		name, value string
		match       func(string, *x509.Certificate) (bool, error)
	}
	var set []member
	for _, m := range []member{
		{"tls_client_auth_subject_dn", md.TLSClientAuthSubjectDN, matchDN},
		{"tls_client_auth_san_dns", md.TLSClientAuthSANDNS, matchDNS},
		{"tls_client_auth_san_uri", md.TLSClientAuthSANURI, matchURI},
		{"tls_client_auth_san_ip", md.TLSClientAuthSANIP, matchIP},
		{"tls_client_auth_san_email", md.TLSClientAuthSANEmail, matchEmail},
	} {
		if m.value != "" {
			set = append(set, m)
		}
	}
	if len(set) != 1 {
		return fmt.Errorf("the client registered %d tls_client_auth_* members, not exactly one (RFC 8705 §2.1.2)", len(set))
	}
	ok, err := set[0].match(set[0].value, leaf)
	if err != nil {
		return fmt.Errorf("%s: %w", set[0].name, err)
	}
	if !ok {
		return fmt.Errorf("the client certificate does not match the registered %s", set[0].name)
	}
	return nil
}

func matchDN(registered string, leaf *x509.Certificate) (bool, error) {
	want, err := engine.ParseDN(registered)
	if err != nil {
		return false, fmt.Errorf("not a distinguished name (RFC 4514): %w", err)
	}
	got, err := engine.DecodeDN(leaf.RawSubject)
	if err != nil {
		return false, fmt.Errorf("the certificate's subject: %w", err)
	}
	return want.Equal(got), nil
}

func matchDNS(registered string, leaf *x509.Certificate) (bool, error) {
	return slices.ContainsFunc(leaf.DNSNames, func(n string) bool { return strings.EqualFold(n, registered) }), nil
}

// matchURI compares URIs as the certificate parser leaves them, so that
// both sides are in the same form.
func matchURI(registered string, leaf *x509.Certificate) (bool, error) {
	u, err := url.Parse(registered)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(leaf.URIs, func(v *url.URL) bool { return v.String() == u.String() }), nil
}

// matchIP compares addresses, an IPv4-mapped IPv6 address equal to its
// IPv4 address.
func matchIP(registered string, leaf *x509.Certificate) (bool, error) {
	want, err := netip.ParseAddr(registered)
	if err != nil {
		return false, err
	}
	for _, ip := range leaf.IPAddresses {
		if a, ok := netip.AddrFromSlice(ip); ok && a.Unmap() == want.Unmap() {
			return true, nil
		}
	}
	return false, nil
}

// matchEmail compares addresses: the local part exactly, the domain
// without regard to case.
func matchEmail(registered string, leaf *x509.Certificate) (bool, error) {
	at := strings.LastIndexByte(registered, '@')
	if at < 0 {
		return false, errors.New("not an email address")
	}
	return slices.ContainsFunc(leaf.EmailAddresses, func(e string) bool {
		i := strings.LastIndexByte(e, '@')
		return i == at && e[:i] == registered[:at] && strings.EqualFold(e[i:], registered[at:])
	}), nil
}

// certificateBinding returns the x5t#S256 that binds a token to the
// client's certificate (RFC 8705 §3.1) when the client registered
// tls_client_certificate_bound_access_tokens, and "" otherwise. Such a
// client must present a certificate, whatever method it authenticates
// with.
func certificateBinding(c *engine.Client, cr *Credentials) (string, error) {
	if !c.Metadata.TLSClientCertificateBoundAccessTokens {
		return "", nil
	}
	if len(cr.Certificates) == 0 {
		return "", engine.Errorf(engine.CodeInvalidRequest, "the client registered tls_client_certificate_bound_access_tokens: the request needs a TLS client certificate (RFC 8705 §3)")
	}
	return Thumbprint(cr.Certificates[0]), nil
}

// Thumbprint is a certificate's x5t#S256: the base64url SHA-256 of its DER
// (RFC 8705 §3.1), what a resource server compares with the certificate
// its client presents.
func Thumbprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
