package httpio

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
)

var discard = testkit.DiscardLogger()

// TestStatusTable walks every error code: each has a deliberate status,
// and the statuses are the ones the RFCs and docs/api.md name.
func TestStatusTable(t *testing.T) {
	want := map[engine.ErrorCode]int{
		engine.CodeInvalidRequest:              400,
		engine.CodeInvalidRedirectURI:          400,
		engine.CodeInvalidClientMetadata:       400,
		engine.CodeInvalidSoftwareStatement:    400,
		engine.CodeUnapprovedSoftwareStatement: 400,
		engine.CodeInvalidToken:                401,
		engine.CodeAccessDenied:                403,
		engine.CodeNotFound:                    404,
		engine.CodeConflict:                    409,
		engine.CodeServerError:                 500,
		engine.CodeTemporarilyUnavailable:      503,
		engine.CodeTooManyRequests:             429,
		engine.CodePreconditionFailed:          412,
		CodeMethodNotAllowed:                   405,
		CodeRequestTooLarge:                    413,
		// RFC 6749 §5.2: invalid_client may be 401, the others are 400;
		// RFC 8707 §2 and RFC 7009 §2.2.1 likewise.
		engine.CodeInvalidClient:        401,
		engine.CodeInvalidGrant:         400,
		engine.CodeUnauthorizedClient:   400,
		engine.CodeUnsupportedGrantType: 400,
		engine.CodeInvalidScope:         400,
		engine.CodeInvalidTarget:        400,
		engine.CodeUnsupportedTokenType: 400,
	}
	for _, code := range append(engine.Codes, CodeMethodNotAllowed, CodeRequestTooLarge) {
		if _, ok := statuses[code]; !ok {
			t.Errorf("code %s has no status in the table", code)
		}
		if Status(code) != want[code] {
			t.Errorf("Status(%s) = %d, want %d", code, Status(code), want[code])
		}
	}
	if len(statuses) != len(want) {
		t.Errorf("the table has %d codes, the test knows %d", len(statuses), len(want))
	}
	if Status("made_up") != 500 {
		t.Error("an unknown code is not a 500")
	}
}

func TestWriteError(t *testing.T) {
	cases := []struct {
		name        string
		err         error
		status      int
		code        string
		description string
		header      string
		value       string
	}{
		{"oauth error", engine.Errorf(engine.CodeInvalidClientMetadata, "contacts must be e-mail addresses"), 400, "invalid_client_metadata", "contacts must be e-mail addresses", "", ""},
		{"token", engine.Errorf(engine.CodeInvalidToken, `bad "token"`), 401, "invalid_token", `bad "token"`, "WWW-Authenticate", `Bearer error="invalid_token", error_description="bad _token_"`},
		{"foreign error", errors.New("dial tcp 10.0.0.7:6379: connection refused"), 500, "server_error", "internal server error", "", ""},
		{"wrapped cause", &engine.Error{Code: engine.CodeServerError, Description: "policy module \"x\" failed", Err: errors.New("wasm trap: secret internals")}, 500, "server_error", `policy module "x" failed`, "", ""},
		{"unavailable", engine.ErrUnavailable, 503, "temporarily_unavailable", "the service is temporarily unavailable, retry later", "Retry-After", RetryAfterSeconds},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			WriteError(w, httptest.NewRequest("GET", "/", nil), discard, tc.err)
			if w.Code != tc.status {
				t.Errorf("status %d, want %d", w.Code, tc.status)
			}
			var body map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if body["error"] != tc.code || body["error_description"] != tc.description || len(body) != 2 {
				t.Errorf("body %v", body)
			}
			if strings.Contains(w.Body.String(), "10.0.0.7") || strings.Contains(w.Body.String(), "internals") {
				t.Errorf("the body leaks the cause: %s", w.Body.String())
			}
			if tc.header != "" && w.Header().Get(tc.header) != tc.value {
				t.Errorf("%s: %q, want %q", tc.header, w.Header().Get(tc.header), tc.value)
			}
			if w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("Content-Type") != "application/json" {
				t.Errorf("headers %v", w.Header())
			}
		})
	}
}

func TestBearer(t *testing.T) {
	cases := []struct {
		name    string
		target  string
		headers []string
		token   string
		code    engine.ErrorCode
	}{
		{"none", "/", nil, "", ""},
		{"bearer", "/", []string{"Bearer abc.DEF-_~+/=="}, "abc.DEF-_~+/==", ""},
		{"case-insensitive scheme", "/", []string{"bEaReR abc"}, "abc", ""},
		{"extra spaces", "/", []string{"Bearer   abc"}, "abc", ""},
		{"query", "/?access_token=abc", nil, "", engine.CodeInvalidRequest},
		{"query and header", "/?access_token=abc", []string{"Bearer abc"}, "", engine.CodeInvalidRequest},
		{"two headers", "/", []string{"Bearer a", "Bearer b"}, "", engine.CodeInvalidRequest},
		{"basic", "/", []string{"Basic YTpi"}, "", engine.CodeInvalidRequest},
		{"no token", "/", []string{"Bearer"}, "", engine.CodeInvalidRequest},
		{"blank token", "/", []string{"Bearer "}, "", engine.CodeInvalidRequest},
		{"empty header", "/", []string{""}, "", engine.CodeInvalidRequest},
		{"bad characters", "/", []string{"Bearer a b"}, "", engine.CodeInvalidToken},
		{"padding in the middle", "/", []string{"Bearer a=b"}, "", engine.CodeInvalidToken},
		{"only padding", "/", []string{"Bearer =="}, "", engine.CodeInvalidToken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", tc.target, nil)
			for _, h := range tc.headers {
				r.Header.Add("Authorization", h)
			}
			token, err := Bearer(r)
			if tc.code == "" {
				if err != nil || token != tc.token {
					t.Fatalf("Bearer = %q, %v; want %q", token, err, tc.token)
				}
				return
			}
			var e *engine.Error
			if !errors.As(err, &e) || e.Code != tc.code {
				t.Fatalf("Bearer = %q, %v; want code %s", token, err, tc.code)
			}
		})
	}
}

// FuzzBearer checks that bearer parsing never panics, accepts only
// RFC 6750 b64token values, and fails only with OAuth errors.
func FuzzBearer(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer a=", "Basic x", "Bearer", "Bearer  a b", "", "Bearer \x00", "Bearer é"} {
		f.Add(s, "")
	}
	f.Add("Bearer abc", "access_token=x")
	f.Fuzz(func(t *testing.T, header, query string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.RawQuery = query
		r.Header.Set("Authorization", header)
		token, err := Bearer(r)
		if err != nil {
			var e *engine.Error
			if !errors.As(err, &e) || (e.Code != engine.CodeInvalidRequest && e.Code != engine.CodeInvalidToken) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if token != "" && !engine.ValidBearerValue(token) {
			t.Fatalf("accepted malformed token %q", token)
		}
		if token != "" && !strings.HasSuffix(header, token) {
			t.Fatalf("token %q is not from the header %q", token, header)
		}
	})
}

func TestReadJSON(t *testing.T) {
	cases := []struct {
		contentType, body string
		code              engine.ErrorCode
	}{
		{"application/json", `{}`, ""},
		{"application/json; charset=utf-8", `{}`, ""},
		{"Application/JSON", `{}`, ""},
		{"", `{}`, engine.CodeInvalidRequest},
		{"text/plain", `{}`, engine.CodeInvalidRequest},
		{"application/jsonx", `{}`, engine.CodeInvalidRequest},
		{"application/json", strings.Repeat("a", 101), CodeRequestTooLarge},
	}
	for _, tc := range cases {
		r := httptest.NewRequest("POST", "/", strings.NewReader(tc.body))
		r.Header.Set("Content-Type", tc.contentType)
		_, err := ReadJSON(httptest.NewRecorder(), r, 100)
		var e *engine.Error
		switch {
		case tc.code == "" && err != nil:
			t.Errorf("%q: %v", tc.contentType, err)
		case tc.code != "" && (!errors.As(err, &e) || e.Code != tc.code):
			t.Errorf("%q %d bytes: %v, want %s", tc.contentType, len(tc.body), err, tc.code)
		}
	}
}

func TestIssuer(t *testing.T) {
	for in, want := range map[string]string{
		"https://id.example":       "https://id.example",
		"https://id.example/":      "https://id.example",
		"http://127.0.0.1:8080/dr": "http://127.0.0.1:8080/dr",
	} {
		if got, err := CheckIssuer(in); err != nil || got != want {
			t.Errorf("CheckIssuer(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "id.example", "ftp://id.example", "https://id.example?x=1", "https://id.example#f", "https://u:p@id.example", "https:///path"} {
		if _, err := CheckIssuer(bad); err == nil {
			t.Errorf("CheckIssuer(%q) accepted", bad)
		}
	}
	if got := TenantIssuer("https://id.example", "default"); got != "https://id.example" {
		t.Error(got)
	}
	if got := ClientURI(TenantIssuer("https://id.example", "acme"), "a b"); got != "https://id.example/tenants/acme/reg/a%20b" {
		t.Error(got)
	}
}

func TestHandleAndLogging(t *testing.T) {
	var logged strings.Builder
	log := slog.New(ContextHandler{slog.NewJSONHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug})})
	h := Logging(log, Handle(log, func(w http.ResponseWriter, r *http.Request) error {
		log.InfoContext(r.Context(), "inside")
		return engine.Errorf(engine.CodeInvalidRequest, "nope")
	}))
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/reg?access_token=secret-value", nil)
	r.Header.Set("Authorization", "Bearer secret-header")
	r.Header.Set("X-Request-Id", "req-1")
	h.ServeHTTP(w, r)
	if w.Code != 400 || w.Header().Get("X-Request-Id") != "req-1" {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	out := logged.String()
	if strings.Count(out, `"request_id":"req-1"`) != 3 {
		t.Errorf("every line of the request should carry its ID:\n%s", out)
	}
	if !strings.Contains(out, `"error":"invalid_request"`) || !strings.Contains(out, `"status":400`) {
		t.Errorf("access line lacks status or error code:\n%s", out)
	}
	if strings.Contains(out, "secret-") {
		t.Errorf("the log contains a token:\n%s", out)
	}
}

func TestPanicIsA500(t *testing.T) {
	var logged strings.Builder
	log := slog.New(slog.NewJSONHandler(&logged, nil))
	h := Logging(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 500 || !strings.Contains(w.Body.String(), `"server_error"`) || strings.Contains(w.Body.String(), "boom") {
		t.Fatalf("%d %s", w.Code, w.Body.String())
	}
	if !strings.Contains(logged.String(), "boom") || !strings.Contains(logged.String(), `"status":500`) {
		t.Errorf("panic not logged:\n%s", logged.String())
	}
}

func TestCanonicalPath(t *testing.T) {
	for _, tc := range []struct {
		target string
		want   bool
	}{
		{"/", true}, {"/reg", true}, {"/reg/abc", true}, {"/tenants/acme/reg/a.b", true},
		{"/reg/%41", true}, {"/reg/a%20b", true}, {"/reg/...", true},
		{"//reg", false}, {"/./reg", false}, {"/reg/../healthz", false}, {"/reg/", false},
		{"/reg/..%2f..%2fadmin", false}, {"/reg/a%2Fb", false}, {"/reg/%2e%2e", false}, {"/reg/%2E", false},
		{"/reg/.", false}, {"/reg/..", false}, {"/a//b", false},
	} {
		r := httptest.NewRequest("GET", tc.target, nil)
		if got := CanonicalPath(r); got != tc.want {
			t.Errorf("CanonicalPath(%s) = %v, want %v", tc.target, got, tc.want)
		}
	}
}
