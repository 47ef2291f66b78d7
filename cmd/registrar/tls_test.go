package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/internal/testkit"
)

// tlsFiles writes a server certificate for 127.0.0.1, its key and a
// client CA bundle to a temporary folder and returns their paths, the
// server certificate and the client CA.
func tlsFiles(t *testing.T) (certFile, keyFile, caFile string, server, clientCA *testkit.Cert) {
	t.Helper()
	dir := t.TempDir()
	server = testkit.SelfSigned(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "registrar"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	})
	clientCA = testkit.NewCA(t, "Client CA")
	certFile, keyFile, caFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "ca.pem")
	for path, b := range map[string][]byte{certFile: server.PEM(), keyFile: server.KeyPEM(t), caFile: clientCA.PEM()} {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return certFile, keyFile, caFile, server, clientCA
}

// TestServeTLS: with --tls-cert and --tls-key (here the first by its
// environment variable) the public listener serves HTTPS, the default
// issuer is https, and the handshake asks for a client certificate
// without requiring it or checking its issuer; the admin listener stays
// plain HTTP.
func TestServeTLS(t *testing.T) {
	certFile, keyFile, caFile, server, clientCA := tlsFiles(t)
	addr, adminAddr, _ := startServe(t, map[string]string{"REGISTRAR_ADMIN_TOKEN": "cli-admin-token-0123456789", "REGISTRAR_TLS_CERT": certFile},
		"--tls-key", keyFile, "--tls-client-ca", caFile)
	fromCA := clientCA.Issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "client"}})
	self := testkit.SelfSigned(t, &x509.Certificate{Subject: pkix.Name{CommonName: "self"}})
	for name, certs := range map[string][]tls.Certificate{"no certificate": nil, "CA-issued": {fromCA.TLS()}, "self-signed": {self.TLS()}} {
		t.Run(name, func(t *testing.T) {
			var asked bool
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
				RootCAs: testkit.Pool(server),
				GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
					asked = true
					if len(certs) == 0 {
						return &tls.Certificate{}, nil
					}
					return &certs[0], nil
				},
			}}}
			resp, err := client.Get("https://" + addr + "/.well-known/openid-configuration")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var d map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&d); err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("discovery: %d %v", resp.StatusCode, err)
			}
			if d["issuer"] != "https://"+addr {
				t.Errorf("issuer %v, want https://%s", d["issuer"], addr)
			}
			if !asked {
				t.Error("the server did not ask for a client certificate")
			}
			if resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 || !resp.TLS.PeerCertificates[0].Equal(server.Cert) {
				t.Error("not served with --tls-cert")
			}
		})
	}
	resp, err := http.Get("http://" + adminAddr + "/healthz")
	if err != nil {
		t.Fatalf("admin listener: %v", err)
	}
	resp.Body.Close()
}

// TestServeTLSFlagErrors: a key without a certificate, an unreadable
// pair, and a CA bundle without certificates fail start-up naming the
// flag.
func TestServeTLSFlagErrors(t *testing.T) {
	certFile, keyFile, caFile, _, _ := tlsFiles(t)
	notPEM := filepath.Join(t.TempDir(), "empty.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--tls-key", keyFile}, "--tls-cert and --tls-key"},
		{[]string{"--tls-cert", certFile, "--tls-key", caFile}, "--tls-cert, --tls-key"},
		{[]string{"--tls-cert", certFile, "--tls-key", keyFile, "--tls-client-ca", notPEM}, "--tls-client-ca"},
		{[]string{"--tls-client-ca", keyFile}, "--tls-client-ca"},
		{[]string{"--client-cert-proxies", "not-an-address"}, "--client-cert-proxies"},
		{[]string{"--client-cert-header", "Client Cert"}, "--client-cert-header"},
	} {
		e, _, _ := testEnv(map[string]string{"REGISTRAR_ADMIN_TOKEN": "cli-admin-token-0123456789"})
		err := run(context.Background(), append([]string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"}, tc.args...), e)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error naming %s", tc.args, err, tc.want)
		}
	}
}
