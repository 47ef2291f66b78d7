package testkit

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// NewServer serves h on a loopback listener until the test ends.
func NewServer(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// Response is an HTTP response read completely: its Body is closed and
// its bytes are in Bytes.
type Response struct {
	*http.Response
	Bytes []byte
}

// Object decodes the body as a JSON object, nil when the body is empty,
// and fails the test when it is not one.
func (r Response) Object(t testing.TB) map[string]any {
	t.Helper()
	if len(strings.TrimSpace(string(r.Bytes))) == 0 {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(r.Bytes, &m); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %v\n%s", r.Request.Method, r.Request.URL.Path, err, r.Bytes)
	}
	return m
}

// Bearer returns the header that presents token as a bearer token, for
// Do; no header ("") when token is empty.
func Bearer(token string) string {
	if token == "" {
		return ""
	}
	return "Authorization: Bearer " + token
}

// Do sends a request to srv and reads the response completely, failing
// the test when it gets none. A non-empty body is sent as
// application/json. Each header is "Name: value" and is added to those
// already set (so a second Content-Type is a second value, sent after
// application/json); "Name:" with no value removes the header, and "" is
// ignored.
func Do(t testing.TB, srv *httptest.Server, method, path, body string, headers ...string) Response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		if h == "" {
			continue
		}
		name, value, _ := strings.Cut(h, ": ")
		if value == "" {
			req.Header.Del(strings.TrimSuffix(name, ":"))
			continue
		}
		req.Header.Add(name, value)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return Response{Response: resp, Bytes: b}
}
