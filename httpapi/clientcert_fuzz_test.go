package httpapi

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/internal/testkit"
)

// TestParseCertHeader: each form a proxy sends reads as the chain it
// carries, leaf first; malformed values are errors.
func TestParseCertHeader(t *testing.T) {
	ca := testkit.NewCA(t, "CA")
	leaf := ca.Issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "leaf"}})
	der := base64.StdEncoding.EncodeToString(leaf.Cert.Raw)
	pemText := string(leaf.PEM()) + string(ca.PEM())
	spaced := strings.ReplaceAll(pemText, "\n", " ")
	for _, tc := range []struct {
		name, header, value string
		chain               []string
		want                int
	}{
		{"RFC 9440", "Client-Cert", ":" + der + ":", nil, 1},
		{"RFC 9440 unpadded", "Client-Cert", ":" + strings.TrimRight(der, "=") + ":", nil, 1},
		{"RFC 9440 with chain", "Client-Cert", ":" + der + ":", []string{":" + base64.StdEncoding.EncodeToString(ca.Cert.Raw) + ":;p=1"}, 2},
		{"RFC 9440 in another header: no chain", "X-Cert", ":" + der + ":", []string{":" + base64.StdEncoding.EncodeToString(ca.Cert.Raw) + ":"}, 1},
		{"URL-encoded PEM", "X-SSL-Client-Cert", url.PathEscape(pemText), nil, 2},
		{"URL-encoded PEM, +=/ kept", "X-Amzn-Mtls-Clientcert", strings.NewReplacer("+", "%20", "%2B", "+", "%2F", "/", "%3D", "=").Replace(url.QueryEscape(pemText)), nil, 2},
		{"PEM with spaces for line breaks", "X-SSL-Client-Cert", spaced, nil, 2},
		{"base64 DER", "X-SSL-Client-Cert", der, nil, 1},
		{"XFCC quoted with escapes", "X-Forwarded-Client-Cert", `By="spiffe://a;\"x\"";Cert="` + url.PathEscape(string(leaf.PEM())) + `";URI=spiffe://c`, nil, 1},
		{"XFCC several lines", "x-forwarded-client-cert", `Hash=0,Cert="` + url.PathEscape(pemText) + `"`, nil, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseCertHeader(tc.header, tc.value, tc.chain)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.want || !got[0].Equal(leaf.Cert) {
				t.Errorf("got %d certificates, want %d with the leaf first", len(got), tc.want)
			}
		})
	}
	many := strings.Repeat(":"+der+":,", maxHeaderCerts) + ":" + der + ":"
	for _, tc := range []struct{ name, header, value string }{
		{"empty", "Client-Cert", ""},
		{"not base64", "Client-Cert", ":***:"},
		{"two byte sequences", "Client-Cert", ":" + der + ":, :" + der + ":"},
		{"too many", "X-Cert", strings.ReplaceAll(many, ":", "")},
		{"not a certificate", "Client-Cert", ":aGVsbG8=:"},
		{"text around PEM", "X-Cert", "x" + url.PathEscape(pemText)},
		{"unterminated PEM", "X-Cert", strings.TrimSuffix(spaced, "-----END CERTIFICATE----- ")},
		{"bad escape", "X-Cert", "%zz"},
		{"XFCC without Cert", "X-Forwarded-Client-Cert", "By=spiffe://a;Hash=00"},
		{"XFCC unterminated quote", "X-Forwarded-Client-Cert", `Cert="abc`},
		{"XFCC pair without =", "X-Forwarded-Client-Cert", `Cert`},
	} {
		if got, err := parseCertHeader(tc.header, tc.value, nil); err == nil {
			t.Errorf("%s: got %d certificates, want an error", tc.name, len(got))
		}
	}
}

// FuzzParseCertHeader: no value makes the parser panic, and what it
// accepts is one to maxHeaderCerts certificates.
func FuzzParseCertHeader(f *testing.F) {
	ca := testkit.NewCA(f, "CA")
	der := base64.StdEncoding.EncodeToString(ca.Cert.Raw)
	for _, s := range []string{":" + der + ":", url.PathEscape(string(ca.PEM())), der + "," + der, `By=a;Cert="` + url.PathEscape(string(ca.PEM())) + `"`, `a="\"",b=c;d`} {
		f.Add(0, s, "")
		f.Add(1, s, ":"+der+":")
		f.Add(2, s, "")
	}
	headers := []string{"Client-Cert", "X-Forwarded-Client-Cert", "X-SSL-Client-Cert"}
	f.Fuzz(func(t *testing.T, which int, value, chain string) {
		h := headers[uint(which)%uint(len(headers))]
		certs, err := parseCertHeader(h, value, []string{chain})
		if err == nil && (len(certs) == 0 || len(certs) > maxHeaderCerts) {
			t.Errorf("%d certificates accepted", len(certs))
		}
	})
}
