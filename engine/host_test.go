package engine_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/jose"
)

// hostileHostChars are the characters of issue 12 that made one host read
// differently by a policy, an operator and a browser, each with what a
// host containing it becomes: "" means refused.
var hostileHostChars = []struct {
	name, char, want string
}{
	{"U+202E right-to-left override", "\u202e", ""},
	{"U+200B zero width space", "\u200b", ""},
	{"U+00AD soft hyphen", "\u00ad", ""},
	{"U+00A0 no-break space", "\u00a0", ""},
	{"U+200D zero width joiner", "\u200d", ""},
	{"U+FEFF byte order mark", "\ufeff", ""},
	{"U+2066 left-to-right isolate", "\u2066", ""},
	{"U+FE0F variation selector", "\ufe0f", ""},
	// A browser resolves the fullwidth dot as a dot: so does Registrar.
	{"U+FF0E fullwidth full stop", "\uff0e", "app.example"},
}

// TestURIHosts: every URI member's host is stored (and validated) in its
// A-label form, and a host with invisible, spacing or bidirectional control
// characters is refused: invalid_redirect_uri for redirect_uris,
// invalid_client_metadata for the other members.
func TestURIHosts(t *testing.T) {
	type member struct {
		name   string
		body   func(uri string) string
		got    func(md engine.Metadata) string
		code   engine.ErrorCode
		prefix string // the URI before the host
		suffix string // the URI after the host
	}
	icm, iru := engine.CodeInvalidClientMetadata, engine.CodeInvalidRedirectURI
	members := []member{
		{"redirect_uris", func(u string) string { return web([]string{u}) }, func(md engine.Metadata) string { return md.RedirectURIs[0] }, iru, "https://", ":8443/cb?x=%41"},
		{"post_logout_redirect_uris", func(u string) string { return rp(`"post_logout_redirect_uris":` + strs(u)) }, func(md engine.Metadata) string { return md.PostLogoutRedirectURIs[0] }, icm, "https://", "/bye"},
		{"client_uri", func(u string) string { return rp(`"client_uri":` + q(u)) }, func(md engine.Metadata) string { return md.ClientURI }, icm, "https://", "/"},
		{"logo_uri", func(u string) string { return rp(`"logo_uri":` + q(u)) }, func(md engine.Metadata) string { return md.LogoURI }, icm, "https://", "/logo.png"},
		{"logo_uri#de", func(u string) string { return rp(`"logo_uri#de":` + q(u)) }, func(md engine.Metadata) string { return md.Localized["logo_uri#de"] }, icm, "https://", "/logo.png"},
		{"policy_uri", func(u string) string { return rp(`"policy_uri":` + q(u)) }, func(md engine.Metadata) string { return md.PolicyURI }, icm, "http://", "/policy"},
		{"tos_uri", func(u string) string { return rp(`"tos_uri":` + q(u)) }, func(md engine.Metadata) string { return md.TOSURI }, icm, "https://", "/tos"},
		{"jwks_uri", func(u string) string { return rp(`"jwks_uri":` + q(u)) }, func(md engine.Metadata) string { return md.JWKSURI }, icm, "https://", "/jwks"},
		{"initiate_login_uri", func(u string) string { return rp(`"initiate_login_uri":` + q(u)) }, func(md engine.Metadata) string { return md.InitiateLoginURI }, icm, "https://", "/login"},
		{"sector_identifier_uri", func(u string) string { return rp(`"sector_identifier_uri":` + q(u)) }, func(md engine.Metadata) string { return md.SectorIdentifierURI }, icm, "https://", "/sector.json"},
		{"request_uris", func(u string) string { return rp(`"request_uris":` + strs(u)) }, func(md engine.Metadata) string { return md.RequestURIs[0] }, icm, "https://", "/r#hash"},
		{"tls_client_auth_san_uri", func(u string) string {
			return rp(`"token_endpoint_auth_method":"tls_client_auth"`, `"tls_client_auth_san_uri":`+q(u))
		}, func(md engine.Metadata) string { return md.TLSClientAuthSANURI }, icm, "https://", "/id"},
	}
	for _, m := range members {
		for _, c := range hostileHostChars {
			t.Run(m.name+"/"+c.name, func(t *testing.T) {
				uri := m.prefix + "app" + c.char + "example" + m.suffix
				md, err := validateBody(t, engine.Settings{}, m.body(uri))
				if c.want == "" {
					wantError(t, err, m.code, m.name)
					return
				}
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got, want := m.got(md), m.prefix+c.want+m.suffix; got != want {
					t.Errorf("stored %q, want %q", got, want)
				}
			})
		}
		t.Run(m.name+"/U-label to A-label", func(t *testing.T) {
			md, err := validateBody(t, engine.Settings{}, m.body(m.prefix+"Bücher.EXAMPLE"+m.suffix))
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if got, want := m.got(md), m.prefix+"xn--bcher-kva.example"+m.suffix; got != want {
				t.Errorf("stored %q, want %q", got, want)
			}
		})
		t.Run(m.name+"/percent-encoded U+202E", func(t *testing.T) {
			_, err := validateBody(t, engine.Settings{}, m.body(m.prefix+"app%E2%80%AEexample"+m.suffix))
			wantError(t, err, m.code, m.name)
		})
		t.Run(m.name+"/A-label hiding U+202E", func(t *testing.T) {
			// "xn--appexample-726e" is "app\u202eexample" in punycode.
			_, err := validateBody(t, engine.Settings{}, m.body(m.prefix+"xn--appexample-726e"+m.suffix))
			wantError(t, err, m.code, m.name)
		})
	}
}

// TestURIHostsUnchanged: ASCII hosts are kept exactly as sent (redirect URIs
// are compared by exact string match), and valid A-labels too.
func TestURIHostsUnchanged(t *testing.T) {
	for _, uri := range []string{
		"https://App.Example/cb", "https://xn--bcher-kva.example/cb", "https://127.0.0.1:8443/cb", "https://[2001:db8::1]/cb",
	} {
		md, err := validateBody(t, engine.Settings{}, web([]string{uri}))
		if err != nil {
			t.Errorf("%s refused: %v", uri, err)
			continue
		}
		if md.RedirectURIs[0] != uri {
			t.Errorf("%s stored as %s", uri, md.RedirectURIs[0])
		}
	}
}

// TestURIHostsWithoutIDNA: engine's own default refuses every host that
// needs IDNA, so a Registrar wired without the idn package stays safe.
func TestURIHostsWithoutIDNA(t *testing.T) {
	for _, uri := range []string{"https://bücher.example/cb", "https://xn--bcher-kva.example/cb", "https://app\u202eexample/cb"} {
		o, err := engine.DecodeObject([]byte(web([]string{uri})))
		if err != nil {
			t.Fatal(err)
		}
		_, err = engine.ValidateMetadata(engine.Settings{}, o, jose.KeySetChecker{}, nil)
		wantError(t, err, engine.CodeInvalidRedirectURI, "redirect_uris")
	}
	o, _ := engine.DecodeObject([]byte(web([]string{"https://rp.example/cb"})))
	if _, err := engine.ValidateMetadata(engine.Settings{}, o, jose.KeySetChecker{}, nil); err != nil {
		t.Errorf("ASCII host refused: %v", err)
	}
}

// TestPolicySeesALabels: policies get hosts in the form that is stored, on
// registration and on update.
func TestPolicySeesALabels(t *testing.T) {
	h := newHarness(t, map[string]engine.Settings{"t": {InitialAccessToken: engine.TokenNone, DefaultPolicies: []string{"watch"}}})
	h.mods.add("t", "watch", &fakeModule{})
	ci := h.mustRegister("t", "", web([]string{"https://bücher.example/cb"}, `"client_uri":"https://bücher．example/"`))
	if got := ci.Client.Metadata.RedirectURIs[0]; got != "https://xn--bcher-kva.example/cb" {
		t.Errorf("stored %s", got)
	}
	calls := h.mods.Calls()
	if len(calls) != 1 {
		t.Fatalf("calls = %+v", calls)
	}
	var uris []string
	if err := json.Unmarshal(calls[0].Metadata["redirect_uris"], &uris); err != nil || len(uris) != 1 || uris[0] != "https://xn--bcher-kva.example/cb" {
		t.Errorf("policy saw redirect_uris %s", calls[0].Metadata["redirect_uris"])
	}
	if got := string(calls[0].Metadata["client_uri"]); got != `"https://xn--bcher-kva.example/"` {
		t.Errorf("policy saw client_uri %s", got)
	}
	// A hostile host is refused before any policy runs.
	_, err := h.register("t", "", web([]string{"https://app\u200bexample/cb"}))
	wantCode(t, err, engine.CodeInvalidRedirectURI)
	if n := len(h.mods.Calls()); n != 0 {
		t.Errorf("a policy ran on a refused host (%d calls)", n)
	}
	if !strings.Contains(engine.AsError(err).Description, "U+200B") {
		t.Errorf("description does not name the character: %s", engine.AsError(err).Description)
	}
}
