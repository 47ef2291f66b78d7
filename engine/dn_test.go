package engine_test

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"testing"

	"github.com/registrar-dev/registrar/engine"
)

// TestParseDN: the string forms of RFC 4514 parse to the name they
// denote, as Go writes names and with the escapes and spacing others use;
// malformed ones are refused.
func TestParseDN(t *testing.T) {
	name := pkix.Name{
		CommonName: "a+b, \"c\" <d>; #e ", Organization: []string{"Ex\\ample"}, Country: []string{"DE"},
		OrganizationalUnit: []string{" lead space"}, Locality: []string{"Zürich"},
	}
	der, err := asn1.Marshal(name.ToRDNSequence())
	if err != nil {
		t.Fatal(err)
	}
	got, err := engine.DecodeDN(der)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		name.String(),
		`CN=a\2Bb\2C \22c\22 \3Cd\3E\3B #e\20,OU=\ lead space,O=Ex\\ample,L=Z\C3\BCrich,C=DE`,
		`cn=A\+B\, \"C\" \<D\>\; \#E\ ,ou=lead  space , o = EX\\AMPLE , l=zürich, c=de`,
	} {
		want, err := engine.ParseDN(s)
		if err != nil {
			t.Errorf("parseDN(%q): %v", s, err)
			continue
		}
		if !want.Equal(got) {
			t.Errorf("parseDN(%q) = %v, not the name %v", s, want, got)
		}
	}
	for _, s := range []string{
		"", "CN", "CN=a,", "CN=a;O=b", `CN="a"`, `CN=a\`, `CN=a\zz`, "XX=a", "1=a", "2.5.4.03=a", "CN=#zz", "CN=#0c", "CN=#0c0161 x",
		`CN=\ff`, "CN=a\x00",
	} {
		if d, err := engine.ParseDN(s); err == nil {
			t.Errorf("parseDN(%q) = %v, want an error", s, d)
		}
	}
}

// FuzzParseDN: parsing never panics, and a parsed name equals itself.
func FuzzParseDN(f *testing.F) {
	for _, s := range []string{"CN=a,O=b", `CN=a\,b+UID=1,DC=example`, "2.5.4.3=#0c0161", `OU=\20x\20`, "cn = a , o = b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := engine.ParseDN(s)
		if err != nil {
			return
		}
		if !d.Equal(d) {
			t.Errorf("%q does not equal itself", s)
		}
	})
}
