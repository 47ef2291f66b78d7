package testkit

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"sync/atomic"
	"testing"
	"time"
)

// CertNotBefore and CertNotAfter are the validity of the certificates
// this file makes unless a template says otherwise: a window around any
// clock a test uses.
var (
	CertNotBefore = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	CertNotAfter  = time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
)

var serial atomic.Int64

// Cert is a certificate and its private key.
type Cert struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// NewCA returns a self-signed certificate authority named cn.
func NewCA(t testing.TB, cn string) *Cert {
	t.Helper()
	return SelfSigned(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: cn}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	})
}

// SelfSigned returns a certificate made from tmpl, signed by its own new
// P-256 key. A zero SerialNumber, NotBefore or NotAfter gets a default.
func SelfSigned(t testing.TB, tmpl *x509.Certificate) *Cert {
	t.Helper()
	key := newKey(t)
	return sign(t, tmpl, key, nil)
}

// Resign returns a new self-signed certificate made from tmpl, with c's
// key: another certificate of the same key.
func (c *Cert) Resign(t testing.TB, tmpl *x509.Certificate) *Cert {
	t.Helper()
	return sign(t, tmpl, c.Key, nil)
}

// Issue returns a certificate made from tmpl with a new P-256 key, signed
// by ca. A template without ExtKeyUsage is for client authentication.
func (ca *Cert) Issue(t testing.TB, tmpl *x509.Certificate) *Cert {
	t.Helper()
	if tmpl.ExtKeyUsage == nil && !tmpl.IsCA {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	return sign(t, tmpl, newKey(t), ca)
}

// TLS returns the certificate as a tls.Certificate, with chain after it.
func (c *Cert) TLS(chain ...*Cert) tls.Certificate {
	out := tls.Certificate{Certificate: [][]byte{c.Cert.Raw}, PrivateKey: c.Key, Leaf: c.Cert}
	for _, ch := range chain {
		out.Certificate = append(out.Certificate, ch.Cert.Raw)
	}
	return out
}

// PEM returns the certificate in PEM form.
func (c *Cert) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})
}

// KeyPEM returns the private key in PKCS #8 PEM form.
func (c *Cert) KeyPEM(t testing.TB) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// Pool returns a pool of the certificates.
func Pool(certs ...*Cert) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c.Cert)
	}
	return p
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func sign(t testing.TB, tmpl *x509.Certificate, key crypto.Signer, ca *Cert) *Cert {
	t.Helper()
	if tmpl.SerialNumber == nil {
		tmpl.SerialNumber = big.NewInt(serial.Add(1))
	}
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = CertNotBefore
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = CertNotAfter
	}
	parent, signer := tmpl, key
	if ca != nil {
		parent, signer = ca.Cert, ca.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &Cert{Cert: cert, Key: key}
}
