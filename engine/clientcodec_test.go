package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// The codec of clientcodec.go against encoding/json (marshalStored,
// unmarshalStored): the same bytes out, the same client in.

// codecStrings are strings that exercise every rule of encoding/json's
// string escaping.
var codecStrings = []string{
	"", "a", "https://app.example.com/cb", "dev@example.com", "client_secret_basic",
	"Bücher 日本語 😀", "<script>alert('x')</script>", "a&b", "line\u2028sep\u2029x",
	`quote " and back \ slash`, "ctl \x00\x01\x1f\x7f", "\t\n\r\b\f", "invalid \xff\xfe\xc3 utf-8",
	"\xed\xa0\x80 surrogate", "\ufffd", "/path/with/slashes", strings.Repeat("x", 300),
}

// codecTimes are times of every kind a client may hold: zero, with a
// monotonic reading, in UTC, local and fixed zones, with and without
// fractions of a second.
func codecTimes() []time.Time {
	now := time.Now()
	return []time.Time{
		{}, now, now.Round(0), now.UTC(), time.Unix(1795348800, 0).UTC(), time.Unix(1795348800, 123456789).UTC(),
		time.Unix(1795348800, 120000000).In(time.FixedZone("X", 5*3600+30*60)),
		time.Unix(1795348800, 1).In(time.FixedZone("", -8*3600)),
		time.Unix(1795348800, 0).In(time.FixedZone("S", 3600+17)),
		time.Unix(1795348800, 0).In(time.Local),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
	}
}

// codecRaws are raw JSON values: compact, spaced, with characters
// json.Marshal escapes, nested.
var codecRaws = []json.RawMessage{
	nil, {}, json.RawMessage(`{"keys":[{"kty":"EC","crv":"P-256","x":"abc","y":"def"}]}`),
	json.RawMessage(` { "a" : [ 1 , -2.5e+3 , true , false , null ] , "b" : {} } `),
	json.RawMessage(`"<b>&amp;</b>"`), json.RawMessage("\"\u2028\u2029\""), json.RawMessage(`"\u003c\ud83d\ude00"`),
	json.RawMessage(`0`), json.RawMessage(`-0.5E-7`), json.RawMessage(`null`), json.RawMessage(`[[[[]]]]`),
	json.RawMessage("\"inv\xffalid\""),
}

// gen draws clients with every field set or unset.
type gen struct{ r *rand.Rand }

func (g gen) pick(n int) int { return g.r.IntN(n) }
func (g gen) coin() bool     { return g.r.IntN(2) == 0 }

func (g gen) str() string {
	if g.pick(4) == 0 {
		return ""
	}
	return codecStrings[g.pick(len(codecStrings))]
}

func (g gen) strs() []string {
	switch g.pick(4) {
	case 0:
		return nil
	case 1:
		return []string{}
	}
	l := make([]string, 1+g.pick(3))
	for i := range l {
		l[i] = g.str()
	}
	return l
}

func (g gen) time() time.Time {
	ts := codecTimes()
	return ts[g.pick(len(ts))]
}

func (g gen) raw() json.RawMessage { return codecRaws[g.pick(len(codecRaws))] }

func (g gen) metadata() Metadata {
	m := Metadata{
		RedirectURIs: g.strs(), TokenEndpointAuthMethod: g.str(), TokenEndpointAuthSigningAlg: g.str(),
		GrantTypes: g.strs(), ResponseTypes: g.strs(), ApplicationType: g.str(), ClientName: g.str(),
		ClientURI: g.str(), LogoURI: g.str(), PolicyURI: g.str(), TOSURI: g.str(), Scope: g.str(),
		Contacts: g.strs(), JWKSURI: g.str(), SoftwareID: g.str(), SoftwareVersion: g.str(),
		SoftwareStatement: g.str(), SubjectType: g.str(), SectorIdentifierURI: g.str(),
		IDTokenSignedResponseAlg: g.str(), UserinfoSignedResponseAlg: g.str(), RequestObjectSigningAlg: g.str(),
		RequireAuthTime: g.coin(), DefaultACRValues: g.strs(), InitiateLoginURI: g.str(), RequestURIs: g.strs(),
		PostLogoutRedirectURIs: g.strs(), TLSClientAuthSubjectDN: g.str(), TLSClientAuthSANDNS: g.str(),
		TLSClientAuthSANURI: g.str(), TLSClientAuthSANIP: g.str(), TLSClientAuthSANEmail: g.str(),
		TLSClientCertificateBoundAccessTokens: g.coin(),
	}
	if g.coin() {
		m.JWKS = g.raw()
	}
	if g.coin() {
		n := []int64{0, -5, 86400, math.MaxInt64, math.MinInt64}[g.pick(5)]
		m.DefaultMaxAge = &n
	}
	if g.pick(3) == 0 {
		m.Localized = map[string]string{}
		for range g.pick(4) {
			m.Localized["client_name#"+g.str()] = g.str()
		}
	}
	if g.pick(3) == 0 {
		m.Extra = map[string]json.RawMessage{}
		for range g.pick(4) {
			m.Extra[g.str()] = g.raw()
		}
	}
	return m
}

func (g gen) provenance() Provenance {
	p := Provenance{Event: g.str(), At: g.time(), Token: g.str()}
	switch g.pick(3) {
	case 1:
		p.Policies = []PolicyVersion{}
	case 2:
		for range 1 + g.pick(3) {
			p.Policies = append(p.Policies, PolicyVersion{Name: g.str(), Digest: g.str()})
		}
	}
	switch g.pick(3) {
	case 1:
		p.Hooks = []HookVersion{}
	case 2:
		for range 1 + g.pick(3) {
			p.Hooks = append(p.Hooks, HookVersion{Hook: Hook(g.str()), Name: g.str(), Digest: g.str()})
		}
	}
	if g.coin() {
		p.SoftwareStatement = StatementProvenance{Issuer: g.str(), KeyID: g.str(), JTI: g.str(), SoftwareID: g.str()}
	}
	return p
}

func (g gen) client() Client {
	c := Client{
		Tenant: g.str(), ID: g.str(), IssuedAt: g.time(), UpdatedAt: g.time(), ExpiresAt: g.time(),
		Metadata: g.metadata(), SecretHash: g.str(), SecretSealed: g.str(), RegistrationTokenHash: g.str(),
		RegistrationPolicies: g.strs(), IssuedBy: g.str(),
	}
	switch g.pick(3) {
	case 1:
		c.History = []Provenance{}
	case 2:
		for range 1 + g.pick(4) {
			c.History = append(c.History, g.provenance())
		}
	}
	return c
}

// typicalClient is the record a registration with the node-oidc-provider
// anchor body makes (bench/loadgen's anchorBody) under one policy.
func typicalClient() Client {
	at := time.Unix(1795348800, 123456789).UTC()
	return Client{
		Tenant: "acme", ID: "S0klO6rRe6eXiiwhujaMo", IssuedAt: at, UpdatedAt: at,
		SecretHash:            "a96d929caa22feafa4db7a8dd4c56cad9bb6f06704adf77ce1ff272676eb0bf1",
		RegistrationTokenHash: "afb70e6d3ea36e83883c2b599f613eae70cf3f442fdad17f03f94361714be737",
		RegistrationPolicies:  []string{"baseline"},
		History: []Provenance{{Event: EventRegister, At: at, Policies: []PolicyVersion{{
			Name: "baseline", Digest: "9b8af4ba15b0eb26b221e42d4bf101576584496267af4823cb7e681043faa70c"}}}},
		Metadata: Metadata{
			RedirectURIs: []string{"https://app.example.com/cb"}, TokenEndpointAuthMethod: "client_secret_basic",
			GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
			ApplicationType: "web", ClientName: "Example App", Contacts: []string{"dev@example.com"},
		},
	}
}

// checkEncode asserts that the codec writes what encoding/json writes, or
// leaves to it what it refuses.
func checkEncode(t *testing.T, c Client) {
	t.Helper()
	want, wantErr := marshalStored(c)
	got, ok := appendClient(nil, &c)
	switch {
	case wantErr != nil && ok:
		t.Fatalf("encoding/json fails (%v), the codec wrote %s", wantErr, got)
	case wantErr == nil && !ok:
		t.Fatalf("the codec gave up on what encoding/json writes: %s", want)
	case wantErr == nil && !bytes.Equal(got, want):
		t.Fatalf("codec writes\n%s\nencoding/json\n%s", got, want)
	}
	viaMethod, err := c.MarshalJSON()
	if (err != nil) != (wantErr != nil) || !bytes.Equal(viaMethod, want) {
		t.Fatalf("MarshalJSON = %s, %v; want %s, %v", viaMethod, err, want, wantErr)
	}
	// As a store calls it: json.Marshal checks and compacts what
	// MarshalJSON wrote.
	viaJSON, err := json.Marshal(&c)
	if (err != nil) != (wantErr != nil) || !bytes.Equal(viaJSON, want) {
		t.Fatalf("json.Marshal = %s, %v; want %s, %v", viaJSON, err, want, wantErr)
	}
}

// checkFlat asserts that the flat metadata object is written as
// encoding/json writes it.
func checkFlat(t *testing.T, m Metadata) {
	t.Helper()
	want, wantErr := marshalFlat(m)
	got, err := m.MarshalJSON()
	if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
		t.Fatalf("Metadata.MarshalJSON = %s, %v; encoding/json %s, %v", got, err, want, wantErr)
	}
	if _, ok := appendMetadataFlat(nil, &m); ok != (wantErr == nil) {
		t.Fatalf("appendMetadataFlat reports %v, encoding/json fails with %v", ok, wantErr)
	}
}

// checkInformation asserts that the client information response is
// written as encoding/json writes it.
func checkInformation(t *testing.T, ci ClientInformation) {
	t.Helper()
	want, wantErr := marshalInformation(ci)
	got, err := ci.MarshalJSON()
	if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
		t.Fatalf("ClientInformation.MarshalJSON = %s, %v; encoding/json %s, %v", got, err, want, wantErr)
	}
}

// checkDecode asserts that the codec reads data as encoding/json does
// (when it reads it at all) and that UnmarshalJSON agrees with
// encoding/json; it reports whether the codec read it.
func checkDecode(t *testing.T, data []byte) bool {
	t.Helper()
	var want Client
	wantErr := unmarshalStored(data, &want)
	var got Client
	fast := decodeClientFast(data, &got)
	if fast && wantErr != nil {
		t.Fatalf("the codec reads %q, encoding/json fails: %v", data, wantErr)
	}
	if fast {
		if diff := clientDiff(got, want); diff != "" {
			t.Fatalf("the codec reads %q as\n%+v\nencoding/json as\n%+v\n(%s)", data, got, want, diff)
		}
	}
	viaMethod := Client{Tenant: "left over", History: []Provenance{{}}}
	err := viaMethod.UnmarshalJSON(data)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("UnmarshalJSON(%q) = %v, encoding/json: %v", data, err, wantErr)
	}
	if err == nil {
		if diff := clientDiff(viaMethod, want); diff != "" {
			t.Fatalf("UnmarshalJSON(%q) differs from encoding/json: %s", data, diff)
		}
	}
	// As a store calls it: json.Unmarshal checks the input, then calls
	// UnmarshalJSON.
	var viaJSON Client
	if err := json.Unmarshal(data, &viaJSON); (err != nil) != (wantErr != nil) {
		t.Fatalf("json.Unmarshal(%q) = %v, encoding/json: %v", data, err, wantErr)
	} else if err == nil {
		if diff := clientDiff(viaJSON, want); diff != "" {
			t.Fatalf("json.Unmarshal(%q) differs from encoding/json: %s", data, diff)
		}
	}
	return fast
}

// TestClientCodecCoversEveryField: the codec's objects list the members
// encoding/json writes for each type, in its order, so that a field added
// to Client, Metadata or the history is not silently left out.
func TestClientCodecCoversEveryField(t *testing.T) {
	stored := slices.DeleteFunc(jsonNames(Client{}), func(n string) bool { return n == "metadata" })
	stored = append(stored, "metadata", "metadata_localized", "metadata_extra")
	for _, c := range []struct {
		what      string
		want, got []string
	}{
		{"storedClient", stored, storedClientObject.names()},
		{"Metadata", jsonNames(Metadata{}), metadataObject.names()},
		{"Provenance", jsonNames(Provenance{}), provenanceObject.names()},
		{"PolicyVersion", jsonNames(PolicyVersion{}), policyVersionObject.names()},
		{"HookVersion", jsonNames(HookVersion{}), hookVersionObject.names()},
		{"StatementProvenance", jsonNames(StatementProvenance{}), statementProvenanceObject.names()},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s: the codec has %q, encoding/json writes %q", c.what, c.got, c.want)
		}
	}
}

func (o *codecObject[T]) names() []string {
	l := make([]string, len(o.members))
	for i, m := range o.members {
		l[i] = m.name
	}
	return l
}

// clientDiff describes how a and b differ, "" when they do not: times by
// Equal and their zone offsets, the rest by reflect.DeepEqual.
func clientDiff(a, b Client) string {
	a, b = *a.Clone(), *b.Clone() // their times are zeroed below
	ta, tb := clientTimes(&a), clientTimes(&b)
	if len(ta) != len(tb) {
		return "history lengths"
	}
	for i := range ta {
		_, oa := ta[i].Zone()
		_, ob := tb[i].Zone()
		if !ta[i].Equal(*tb[i]) || oa != ob || ta[i].Location().String() != tb[i].Location().String() {
			return fmt.Sprintf("time %d: %v != %v", i, ta[i], tb[i])
		}
		*ta[i], *tb[i] = time.Time{}, time.Time{}
	}
	if !reflect.DeepEqual(a, b) {
		return "reflect.DeepEqual"
	}
	return ""
}

func clientTimes(c *Client) []*time.Time {
	ts := []*time.Time{&c.IssuedAt, &c.UpdatedAt, &c.ExpiresAt}
	for i := range c.History {
		ts = append(ts, &c.History[i].At)
	}
	return ts
}

// TestClientCodecMatchesEncodingJSON: for thousands of generated clients
// the codec writes encoding/json's bytes and reads them back, without
// falling back, as encoding/json does.
func TestClientCodecMatchesEncodingJSON(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(1, 16))}
	clients := []Client{{}, typicalClient()}
	for range 5000 {
		clients = append(clients, g.client())
	}
	encoded := 0
	for _, c := range clients {
		checkEncode(t, c)
		checkFlat(t, c.Metadata)
		checkInformation(t, ClientInformation{Client: &c, Secret: g.str(), RegistrationAccessToken: g.str(), RegistrationClientURI: g.str()})
		b, err := marshalStored(c)
		if err != nil {
			continue
		}
		encoded++
		if !checkDecode(t, b) {
			t.Fatalf("the codec did not read what the encoder wrote: %s", b)
		}
		// A client read back writes as encoding/json writes it (not
		// always the same bytes: invalid UTF-8 came back as U+FFFD).
		var back Client
		if err := back.UnmarshalJSON(b); err != nil {
			t.Fatal(err)
		}
		checkEncode(t, back)
	}
	if encoded < len(clients)/2 {
		t.Fatalf("only %d of %d generated clients encode", encoded, len(clients))
	}
}

// TestClientCodecRefusals: what encoding/json refuses to write, the codec
// leaves to it, and MarshalJSON fails as before.
func TestClientCodecRefusals(t *testing.T) {
	for name, c := range map[string]Client{
		"year 10000":       {IssuedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"year -1":          {History: []Provenance{{At: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}}},
		"zone offset 24h":  {UpdatedAt: time.Unix(0, 0).In(time.FixedZone("", 24*3600))},
		"jwks not JSON":    {Metadata: Metadata{JWKS: json.RawMessage(`{"keys":`)}},
		"extra not JSON":   {Metadata: Metadata{Extra: map[string]json.RawMessage{"x": json.RawMessage(`tru`)}}},
		"extra empty":      {Metadata: Metadata{Extra: map[string]json.RawMessage{"x": {}}}},
		"extra two values": {Metadata: Metadata{Extra: map[string]json.RawMessage{"x": json.RawMessage(`1 2`)}}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := c.MarshalJSON(); err == nil {
				t.Fatal("MarshalJSON succeeded")
			}
			checkEncode(t, c)
			checkFlat(t, c.Metadata)
		})
	}
}

// codecDecodeCases are records the encoder never writes: each is read as
// encoding/json reads it (or refused as it refuses it).
var codecDecodeCases = []string{
	``, ` `, `null`, `{}`, ` {} `, `{} x`, `{}{}`, `[]`, `"x"`, `{`, `{"tenant"}`, `{"tenant":}`, `{"tenant":"a",}`,
	`{"tenant":"a" "client_id":"b"}`, `{"tenant":"a","tenant":"b"}`, `{"Tenant":"a"}`, `{"TENANT":"a"}`,
	`{"tenan\u0074":"a"}`, `{"tenant":"a\u0062\n\"c\ud83d\ude00\udc00"}`, `{"tenant":"a\x"}`, `{"tenant":"a\u00g0"}`,
	"{\"tenant\":\"a\tb\"}", "{\"tenant\":\"\xff\"}", `{"tenant":null}`, `{"tenant":1}`, `{"tenant":true}`,
	`{"unknown":1}`, `{"metadata":{"unknown":1}}`, `{"metadata":{"Scope":"x"}}`, `{"metadata":null}`, `{"metadata":[]}`,
	`{"metadata":{"redirect_uris":null,"grant_types":[],"response_types":["a","b"]}}`,
	`{"metadata":{"redirect_uris":[null]}}`, `{"metadata":{"redirect_uris":"x"}}`, `{"metadata":{"redirect_uris":[1]}}`,
	`{"metadata":{"redirect_uris":["a" , "b"] , "contacts" : [ ] }}`, `{"metadata":{"redirect_uris":["a",]}}`,
	`{"metadata":{"default_max_age":0}}`, `{"metadata":{"default_max_age":-0}}`, `{"metadata":{"default_max_age":01}}`,
	`{"metadata":{"default_max_age":1.5}}`, `{"metadata":{"default_max_age":1e3}}`, `{"metadata":{"default_max_age":null}}`,
	`{"metadata":{"default_max_age":9223372036854775808}}`, `{"metadata":{"default_max_age":"5"}}`,
	`{"metadata":{"default_max_age":-9223372036854775808}}`, `{"metadata":{"default_max_age":-}}`,
	`{"metadata":{"require_auth_time":false}}`, `{"metadata":{"require_auth_time":null}}`, `{"metadata":{"require_auth_time":1}}`,
	`{"metadata":{"jwks":null}}`, `{"metadata":{"jwks": {"keys" : [ ] } }}`, `{"metadata":{"jwks":"x"}}`, `{"metadata":{"jwks":-1.5e+10}}`,
	`{"metadata":{"jwks":[` + strings.Repeat(`[`, 150) + strings.Repeat(`]`, 150) + `]}}`,
	`{"metadata":{"jwks":{"a":01}}}`, `{"metadata":{"jwks":{"a":1.}}}`, `{"metadata":{"jwks":{"a":.5}}}`, `{"metadata":{"jwks":{1:2}}}`,
	`{"metadata":{"jwks":{"a":tru}}}`, `{"metadata":{"jwks":{"a" 1}}}`, "{\"metadata\":{\"jwks\":\"\xff\"}}",
	`{"metadata":{"redirect_uris":["a"],"redirect_uris":["b"]}}`,
	`{"metadata_localized":{}}`, `{"metadata_localized":null}`, `{"metadata_localized":{"client_name#ja":"x","client_name#ja":"y"}}`,
	`{"metadata_localized":{"a\u0062":"\u00e9"}}`, `{"metadata_localized":{"a":1}}`, `{"metadata_localized":{"a":null}}`,
	`{"metadata_extra":{}}`, `{"metadata_extra":{"a":null,"b":[1, 2],"c":"<&>"}}`, `{"metadata_extra":{"a":1,"a":2}}`,
	`{"metadata_extra":null}`, `{"metadata_extra":[]}`, `{"metadata_extra":{"\u00e9":{}}}`,
	`{"issued_at":null}`, `{"issued_at":"2030-01-02T03:04:05Z"}`, `{"issued_at":"2030-01-02T03:04:05.5+05:30"}`,
	`{"issued_at":"2030-01-02T03:04:05"}`, `{"issued_at":"2030-01-02T03:04:05\u005a"}`, `{"issued_at":5}`, `{"issued_at":{}}`,
	`{"issued_at":"2030-01-02t03:04:05z"}`, `{"expires_at":"0001-01-01T00:00:00Z"}`, `{"issued_at":"2030-01-02T03:04:05+24:00"}`,
	`{"history":null}`, `{"history":[]}`, `{"history":[null]}`, `{"history":[{}]}`, `{"history":[{},{}]}`, `{"history":{}}`,
	`{"history":[{"event":"register","policies":null,"hooks":[],"software_statement":{}}]}`,
	`{"history":[{"policies":[{"name":"a","digest":"b","name":"c"}]}]}`, `{"history":[{"policies":[{"Name":"a"}]}]}`,
	`{"history":[{"hooks":[{"hook":"policy","name":"p","digest":"d"}],"software_statement":{"issuer":"i","kid":"k"}}]}`,
	`{"history":[{"software_statement":null}]}`, `{"history":[{"at":"bad"}]}`, `{"history":[{"token":"t"},]}`,
	`{"metadata_localized":{"client_name#a":"x"},"metadata_localized":{"client_name#b":"y"}}`,
	`{"metadata_extra":{"a":1},"metadata_extra":{"b":2}}`, `{"metadata":{"scope":"a"},"metadata":{"client_name":"b"}}`,
	`{"history":[{"event":"a","token":"t"}],"history":[{"event":"b"}]}`, `{"history":[{"software_statement":{"issuer":"i"},"software_statement":{"kid":"k"}}]}`,
	`{"registration_policies":[]}`, `{"registration_policies":null}`, `{"registration_policies":["a","a"]}`,
}

// TestClientCodecDecodeEdges: records the encoder never writes are read
// as encoding/json reads them.
func TestClientCodecDecodeEdges(t *testing.T) {
	for _, in := range codecDecodeCases {
		checkDecode(t, []byte(in))
	}
	typical, err := marshalStored(typicalClient())
	if err != nil {
		t.Fatal(err)
	}
	spaced, _ := json.MarshalIndent(json.RawMessage(typical), "\t", "  ")
	for _, in := range [][]byte{typical, spaced, append([]byte("\r\n "), typical...), append(typical, " \t"...), typical[:len(typical)-1]} {
		checkDecode(t, in)
	}
}

// TestClientCodecDoesNotAliasTheInput: a decoded client keeps no part of
// the caller's buffer, which a store may reuse.
func TestClientCodecDoesNotAliasTheInput(t *testing.T) {
	withExtra := typicalClient()
	withExtra.Metadata.Extra = map[string]json.RawMessage{"tier": json.RawMessage(`"gold"`)}
	withExtra.Metadata.JWKS = json.RawMessage(`{"keys":[]}`)
	b, err := marshalStored(withExtra)
	if err != nil {
		t.Fatal(err)
	}
	var c Client
	if err := c.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 'x'
	}
	if c.Tenant != "acme" || string(c.Metadata.Extra["tier"]) != `"gold"` || string(c.Metadata.JWKS) != `{"keys":[]}` {
		t.Fatalf("the decoded client changed with the buffer: %+v", c)
	}
}

// FuzzClientCodec: for any record, the codec reads what encoding/json
// reads (or leaves it to encoding/json), and for any string or raw value
// in a client it writes what encoding/json writes.
func FuzzClientCodec(f *testing.F) {
	g := gen{rand.New(rand.NewPCG(2, 16))}
	for range 20 {
		if b, err := marshalStored(g.client()); err == nil {
			f.Add(b)
		}
	}
	for _, in := range codecDecodeCases {
		f.Add([]byte(in))
	}
	for _, s := range codecStrings {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, data)
		var c Client
		if unmarshalStored(data, &c) == nil {
			checkEncode(t, c)
			checkFlat(t, c.Metadata)
		}
		s := string(data)
		c = typicalClient()
		c.Tenant, c.Metadata.ClientName, c.History[0].Policies[0].Name = s, s, s
		c.Metadata.Localized = map[string]string{s: s, "client_name#de": "x"}
		c.Metadata.Extra = map[string]json.RawMessage{s: data, "k": json.RawMessage(`1`)}
		c.Metadata.JWKS = data
		checkEncode(t, c)
		checkFlat(t, c.Metadata)
		checkInformation(t, ClientInformation{Client: &c, Secret: s, RegistrationAccessToken: s, RegistrationClientURI: s})
	})
}

// BenchmarkClientCodec compares the codec with encoding/json on the
// typical record.
func BenchmarkClientCodec(b *testing.B) {
	c := typicalClient()
	rec, err := marshalStored(c)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encode/old", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := marshalStored(c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode/new", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.MarshalJSON(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("flat/old", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := marshalFlat(c.Metadata); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("flat/new", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Metadata.MarshalJSON(); err != nil {
				b.Fatal(err)
			}
		}
	})
	ci := ClientInformation{Client: &c, RegistrationAccessToken: "tok", RegistrationClientURI: "https://r.example/register/acme/S0klO6rRe6eXiiwhujaMo"}
	b.Run("response/old", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := marshalInformation(ci); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("response/new", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ci.MarshalJSON(); err != nil {
				b.Fatal(err)
			}
		}
	})
	// As a store calls it, json.Marshal checks and copies what
	// MarshalJSON wrote.
	b.Run("encode/old-via-json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(referenceClient{&c}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode/new-via-json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(&c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode/old", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var d Client
			if err := unmarshalStored(rec, &d); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode/new", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var d Client
			if err := d.UnmarshalJSON(rec); err != nil {
				b.Fatal(err)
			}
		}
	})
	// As a store calls it, json.Unmarshal checks the record before
	// UnmarshalJSON reads it.
	b.Run("decode/old-via-json.Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var d Client
			if err := json.Unmarshal(rec, &referenceClient{&d}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode/new-via-json.Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var d Client
			if err := json.Unmarshal(rec, &d); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// referenceClient is a Client coded by encoding/json alone, as Client was
// before the codec.
type referenceClient struct{ c *Client }

func (r referenceClient) MarshalJSON() ([]byte, error) { return marshalStored(*r.c) }
func (r referenceClient) UnmarshalJSON(b []byte) error { return unmarshalStored(b, r.c) }
