package adminapi

import (
	"fmt"
	"net/http"
	"testing"
)

// CheckResponse fails t when a response of the admin handler does not
// match the OpenAPI document (see checkResponse). The external tests' admin
// servers call it on every response. It returns the documented operation
// and status that answered, "GET /admin/tenants/{tenant} 200", or "" for
// a request the document has no operation for.
func CheckResponse(t testing.TB, method, path string, status int, header http.Header, body []byte) string {
	t.Helper()
	for _, p := range checkResponse(method, path, status, header.Get("Content-Type"), body) {
		t.Errorf("openapi.json does not describe this response: %s", p)
	}
	doc, _ := docOnce()
	tmpl, _, ok := findOperation(doc, method, path)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%s %s %d", method, tmpl, status)
}

// JSONSuccesses lists the documented operations and 2xx statuses whose
// response has an application/json body, as CheckResponse names them.
func JSONSuccesses(t *testing.T) []string {
	t.Helper()
	doc, err := docOnce()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, op := range apiOperations(t, doc) {
		responses, _ := op.op["responses"].(map[string]any)
		for code, resp := range responses {
			r, _ := resolveRef(doc, resp).(map[string]any)
			content, _ := r["content"].(map[string]any)
			if code[0] == '2' && content["application/json"] != nil {
				out = append(out, fmt.Sprintf("%s %s %s", op.method, op.path, code))
			}
		}
	}
	return out
}
