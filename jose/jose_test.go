package jose_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/registrar-dev/registrar/jose"
)

// jwkJSON returns a key as a JWK JSON object.
func jwkJSON(t *testing.T, raw any) string {
	t.Helper()
	k, err := jwk.FromRaw(raw)
	if err != nil {
		t.Fatal(err)
	}
	_ = k.Set(jwk.KeyIDKey, "k1")
	b, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func set(keys ...string) json.RawMessage {
	return json.RawMessage(`{"keys":[` + strings.Join(keys, ",") + `]}`)
}

func TestCheckKeySet(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	shortRSA, _ := rsa.GenerateKey(rand.Reader, 1024)

	rsaPub, ecPub, okpPub := jwkJSON(t, &rsaKey.PublicKey), jwkJSON(t, &ecKey.PublicKey), jwkJSON(t, edPub)
	ok := map[string]json.RawMessage{
		"rsa":              set(rsaPub),
		"ec":               set(ecPub),
		"okp":              set(okpPub),
		"all three":        set(rsaPub, ecPub, okpPub),
		"with use and alg": set(`{"kty":"EC","crv":"P-256","use":"sig","alg":"ES256",` + strings.TrimPrefix(ecPub, "{")),
	}
	for name, raw := range ok {
		if err := (jose.KeySetChecker{}).CheckKeySet(raw); err != nil {
			t.Errorf("%s: refused: %v", name, err)
		}
	}

	many := make([]string, jose.MaxKeys+1)
	for i := range many {
		many[i] = ecPub
	}
	bad := map[string]struct {
		raw  json.RawMessage
		want string
	}{
		"rsa private":         {set(jwkJSON(t, rsaKey)), "private"},
		"ec private":          {set(jwkJSON(t, ecKey)), "private"},
		"okp private":         {set(jwkJSON(t, edPriv)), "private"},
		"private among":       {set(ecPub, jwkJSON(t, rsaKey)), "key 1"},
		"lone d member":       {set(`{"kty":"EC","crv":"P-256","d":"AA",` + strings.TrimPrefix(ecPub, "{")), `"d"`},
		"symmetric":           {set(`{"kty":"oct","k":"c2VjcmV0"}`), "symmetric"},
		"symmetric without k": {set(`{"kty":"oct"}`), "symmetric"},
		"empty set":           {set(), "no keys"},
		"too many":            {set(many...), "more than"},
		"no keys member":      {json.RawMessage(`{"kty":"EC"}`), "keys"},
		"keys not array":      {json.RawMessage(`{"keys":{}}`), "keys"},
		"key not object":      {json.RawMessage(`{"keys":["x"]}`), "keys"},
		"unknown kty":         {set(`{"kty":"XYZ","x":"AA"}`), ""},
		"rsa without n":       {set(`{"kty":"RSA","e":"AQAB"}`), ""},
		"ec bad curve":        {set(`{"kty":"EC","crv":"P-999","x":"AA","y":"AA"}`), ""},
		"ec off-curve point":  {set(`{"kty":"EC","crv":"P-256","x":"AQ","y":"AQ"}`), ""},
		"rsa 1024 bits":       {set(jwkJSON(t, &shortRSA.PublicKey)), "2048"},
	}
	for name, tc := range weakKeyCases(t, rsaKey, ecPub) {
		bad["weak: "+name] = tc
	}
	for name, tc := range bad {
		err := (jose.KeySetChecker{}).CheckKeySet(tc.raw)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q does not mention %q", name, err, tc.want)
		}
	}
}

// weakKeyCases are public key sets that parse but must be refused (issue
// 12): each error names the key by its kid, or by its index without one.
func weakKeyCases(t *testing.T, rsaKey *rsa.PrivateKey, ecPub string) map[string]struct {
	raw  json.RawMessage
	want string
} {
	t.Helper()
	b64 := func(n *big.Int) string { return base64.RawURLEncoding.EncodeToString(n.Bytes()) }
	n := b64(rsaKey.N)
	rsaWith := func(kid, n, e string, extra ...string) string {
		members := []string{`"kty":"RSA"`, `"n":"` + n + `"`, `"e":"` + e + `"`}
		if kid != "" {
			members = append(members, `"kid":"`+kid+`"`)
		}
		return "{" + strings.Join(append(members, extra...), ",") + "}"
	}
	even := new(big.Int).SetBit(rsaKey.N, 0, 0) // 2048 bits, even
	if even.BitLen() != 2048 {
		t.Fatalf("even modulus has %d bits", even.BitLen())
	}
	cases := map[string]struct {
		raw  json.RawMessage
		want string
	}{
		"e = 0 (AA)":      {set(rsaWith("r1", n, "AA")), `kid "r1"`},
		"e empty":         {set(rsaWith("r1", n, "")), `kid "r1"`},
		"e = 3":           {set(rsaWith("r1", n, b64(big.NewInt(3)))), "e = 3"},
		"e = 65536":       {set(rsaWith("r1", n, b64(big.NewInt(65536)))), "e = 65536"},
		"e = 2^32+1":      {set(rsaWith("r1", n, b64(big.NewInt(1<<32+1)))), "below 2^32"},
		"e not a string":  {set(`{"kty":"RSA","kid":"r1","n":"` + n + `","e":65537}`), `kid "r1"`},
		"even modulus":    {set(rsaWith("r1", b64(even), "AQAB")), "even"},
		"named by index":  {set(ecPub, rsaWith("", n, "Aw")), "key 1 is"},
		"ec off-curve":    {set(`{"kty":"EC","kid":"e1","crv":"P-256","x":"AQ","y":"AQ"}`), `kid "e1"`},
		"symmetric named": {set(`{"kty":"oct","kid":"s1","k":"c2VjcmV0"}`), `kid "s1"`},
	}
	// Each private member of RFC 7518 §6.3.2 and the symmetric "k", alone
	// on an otherwise public key.
	for _, m := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
		cases["private member "+m] = struct {
			raw  json.RawMessage
			want string
		}{set(rsaWith("r1", n, "AQAB", `"`+m+`":"AQAB"`)), `kid "r1") has the private or symmetric member "` + m + `"`}
	}
	cases["symmetric k on an EC key"] = struct {
		raw  json.RawMessage
		want string
	}{set(`{"kty":"EC","crv":"P-256","k":"c2VjcmV0",` + strings.TrimPrefix(ecPub, "{")), `member "k"`}
	return cases
}
