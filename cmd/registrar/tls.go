package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/netip"
	"os"

	"golang.org/x/net/http/httpguts"

	"github.com/registrar-dev/registrar/httpapi"
	"github.com/registrar-dev/registrar/internal/httpio"
)

// tlsFlags are the serve flags of the public listener's TLS and of client
// certificates (mutual TLS, RFC 8705).
type tlsFlags struct {
	cert, key, clientCA     string
	certProxies, certHeader string
}

// register adds the flags with str, serveCmd's flag helper.
func (f *tlsFlags) register(str func(p *string, name, envName, def, help string)) {
	str(&f.cert, "tls-cert", "REGISTRAR_TLS_CERT", "", "PEM certificate (chain) of the public listener; set with --tls-key to serve HTTPS, which asks clients for certificates without requiring them")
	str(&f.key, "tls-key", "REGISTRAR_TLS_KEY", "", "PEM private key of --tls-cert")
	str(&f.clientCA, "tls-client-ca", "REGISTRAR_TLS_CLIENT_CA", "", "PEM bundle of the CAs that tls_client_auth client certificates chain to; empty: tls_client_auth is off")
	str(&f.certProxies, "client-cert-proxies", "REGISTRAR_CLIENT_CERT_PROXIES", "", "comma-separated IP addresses and CIDR prefixes of TLS-terminating proxies whose client certificate header is believed")
	str(&f.certHeader, "client-cert-header", "REGISTRAR_CLIENT_CERT_HEADER", httpapi.DefaultClientCertHeader, "header in which --client-cert-proxies pass the client certificate (RFC 9440 Client-Cert, URL-encoded PEM, base64 DER, or X-Forwarded-Client-Cert)")
}

// scheme is the default issuer's scheme.
func (f *tlsFlags) scheme() string {
	if f.cert != "" {
		return "https"
	}
	return "http"
}

// mtlsSetup is what the TLS flags give the handlers: the client CAs of
// tls_client_auth, and the proxies whose certificate header is believed.
type mtlsSetup struct {
	clientCAs   *x509.CertPool
	certProxies []netip.Prefix
	certHeader  string
}

// listenTLS makes the public listener serve TLS when --tls-cert is set,
// asking for a client certificate without requiring or verifying one at
// the handshake: tls_client_auth certificates are verified against the
// client CAs, and self-signed ones against the client's keys, per client
// by the token endpoint. It also reads the client CAs and the certificate
// proxies. The admin listener is unchanged.
func (s *server) listenTLS(context.Context) error {
	f := &s.c.tls
	s.mtls = &mtlsSetup{certHeader: f.certHeader}
	if !httpguts.ValidHeaderFieldName(f.certHeader) {
		return usageError{fmt.Sprintf("--client-cert-header %q: not a header name", f.certHeader)}
	}
	var err error
	if s.mtls.certProxies, err = httpio.ParseTrustedProxies(f.certProxies); err != nil {
		return usageError{"--client-cert-proxies: " + err.Error()}
	}
	if f.clientCA != "" {
		if s.mtls.clientCAs, err = readCAs(f.clientCA); err != nil {
			return usageError{"--tls-client-ca: " + err.Error()}
		}
	}
	if (f.cert == "") != (f.key == "") {
		return usageError{"--tls-cert and --tls-key go together"}
	}
	if f.cert == "" {
		if f.clientCA != "" && len(s.mtls.certProxies) == 0 {
			s.log.Warn("--tls-client-ca is set, but client certificates cannot arrive: set --tls-cert and --tls-key, or --client-cert-proxies")
		}
		return nil
	}
	cert, err := tls.LoadX509KeyPair(f.cert, f.key)
	if err != nil {
		return usageError{"--tls-cert, --tls-key: " + err.Error()}
	}
	s.pub = tls.NewListener(s.pub, &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequestClientCert,
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
	})
	s.log.Info("public listener serves TLS", "cert", f.cert, "client_ca", f.clientCA)
	return nil
}

// readCAs reads a PEM bundle of CA certificates; a bundle with no
// certificate, or with anything but certificates, is an error.
func readCAs(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	n := 0
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("%s: a %s block; want CERTIFICATE blocks only", path, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: certificate %d: %w", path, n+1, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: no PEM certificate", path)
	}
	return pool, nil
}
