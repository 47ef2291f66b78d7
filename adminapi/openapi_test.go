package adminapi

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The OpenAPI document is checked against routes() by walking its JSON:
// no OpenAPI library is worth a dependency for this.

// openAPIMethods are the operation keys of an OpenAPI path item.
var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// openAPIDoc parses the embedded document, the bytes that are served.
func openAPIDoc(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	return doc
}

// jsonObject returns v[key] as a JSON object, failing the test if it is not one.
func jsonObject(t *testing.T, v map[string]any, key, where string) map[string]any {
	t.Helper()
	o, ok := v[key].(map[string]any)
	if !ok {
		t.Fatalf("%s: %q is not an object", where, key)
	}
	return o
}

// apiOperation is one path+method of the document.
type apiOperation struct {
	path, method string // method in upper case, as routes() has it
	op           map[string]any
	pathParams   []any // the path item's parameters
}

func (o apiOperation) String() string { return o.method + " " + o.path }

func apiOperations(t *testing.T, doc map[string]any) []apiOperation {
	t.Helper()
	var ops []apiOperation
	paths := jsonObject(t, doc, "paths", "document")
	for _, path := range slices.Sorted(maps.Keys(paths)) {
		item, ok := paths[path].(map[string]any)
		if !ok {
			t.Fatalf("paths[%q] is not an object", path)
		}
		params, _ := item["parameters"].([]any)
		for _, m := range openAPIMethods {
			if op, ok := item[m].(map[string]any); ok {
				ops = append(ops, apiOperation{path: path, method: strings.ToUpper(m), op: op, pathParams: params})
			}
		}
	}
	return ops
}

func TestOpenAPIDocument(t *testing.T) {
	doc := openAPIDoc(t)
	v, _ := doc["openapi"].(string)
	if !strings.HasPrefix(v, "3.0.") && !strings.HasPrefix(v, "3.1.") {
		t.Errorf("openapi = %q, want 3.0.x or 3.1.x", v)
	}
	info := jsonObject(t, doc, "info", "document")
	for _, k := range []string{"title", "version"} {
		if s, _ := info[k].(string); s == "" {
			t.Errorf("info.%s is missing", k)
		}
	}
	if len(jsonObject(t, doc, "paths", "document")) == 0 {
		t.Error("paths is empty")
	}
}

// TestOpenAPIRoutes checks that the document describes exactly the routes
// the handler serves. mux templates and OpenAPI paths share the {var}
// syntax, so they compare as strings.
func TestOpenAPIRoutes(t *testing.T) {
	documented := map[string]bool{}
	for _, op := range apiOperations(t, openAPIDoc(t)) {
		documented[op.String()] = true
	}
	served := map[string]bool{}
	for _, rt := range (&handler{}).routes() {
		key := rt.method + " " + rt.path
		if served[key] {
			t.Errorf("routes() has %s twice", key)
		}
		served[key] = true
		if !documented[key] {
			t.Errorf("routes() serves %s, which openapi.json does not describe", key)
		}
	}
	for key := range documented {
		if !served[key] {
			t.Errorf("openapi.json describes %s, which routes() does not serve", key)
		}
	}
}

var pathVarPattern = regexp.MustCompile(`\{([^{}]+)\}`)

// TestOpenAPIOperations checks each operation's operationId, security,
// responses and path parameters against the route that serves it.
func TestOpenAPIOperations(t *testing.T) {
	doc := openAPIDoc(t)
	schemes := jsonObject(t, jsonObject(t, doc, "components", "document"), "securitySchemes", "components")
	routes := map[string]route{}
	for _, rt := range (&handler{}).routes() {
		routes[rt.method+" "+rt.path] = rt
	}
	ids := map[string]string{}
	for _, op := range apiOperations(t, doc) {
		t.Run(op.String(), func(t *testing.T) {
			rt, ok := routes[op.String()]
			if !ok {
				t.Skip("not served; TestOpenAPIRoutes reports it")
			}
			id, _ := op.op["operationId"].(string)
			switch {
			case id == "":
				t.Error("no operationId")
			case ids[id] != "":
				t.Errorf("operationId %q is also the one of %s", id, ids[id])
			default:
				ids[id] = op.String()
			}

			sec, ok := op.op["security"].([]any)
			if !ok {
				t.Fatal("no security: every operation must declare its own")
			}
			var names []string
			for _, req := range sec {
				r, ok := req.(map[string]any)
				if !ok || len(r) != 1 {
					t.Fatalf("security requirement %v: want one scheme per requirement", req)
				}
				for name := range r {
					if _, ok := schemes[name]; !ok {
						t.Errorf("security names %q, which components.securitySchemes lacks", name)
					}
					names = append(names, name)
				}
			}
			slices.Sort(names)
			var want []string
			switch {
			case rt.public:
				want = nil
			case rt.scope == globalOnly:
				want = []string{"adminToken"}
			default:
				want = []string{"adminToken", "tenantAdminToken"}
			}
			if !slices.Equal(names, want) {
				t.Errorf("security schemes %v, want %v", names, want)
			}

			responses, ok := op.op["responses"].(map[string]any)
			if !ok {
				t.Fatal("no responses")
			}
			has2xx := false
			for code := range responses {
				if len(code) == 3 && code[0] == '2' {
					has2xx = true
				}
			}
			if !has2xx {
				t.Error("no 2xx response")
			}
			if !rt.public {
				if _, ok := responses["401"]; !ok {
					t.Error("no 401 response, though the route needs a token")
				}
			}
			// A tenant admin token of the path's tenant is answered 403 on
			// the global-only routes that name a tenant.
			if !rt.public && rt.scope == globalOnly && strings.Contains(rt.path, "{tenant}") {
				if _, ok := responses["403"]; !ok {
					t.Error("no 403 response, though a tenant admin token is refused here")
				}
			}

			// Every {var} of the path is a required path parameter and
			// every path parameter is a {var} of the path.
			declared := map[string]bool{}
			params, _ := op.op["parameters"].([]any)
			for _, p := range append(slices.Clone(op.pathParams), params...) {
				p, ok := resolveRef(doc, p).(map[string]any)
				if !ok || p["in"] != "path" {
					continue
				}
				name, _ := p["name"].(string)
				if p["required"] != true {
					t.Errorf("path parameter %q is not required", name)
				}
				declared[name] = true
			}
			vars := map[string]bool{}
			for _, m := range pathVarPattern.FindAllStringSubmatch(op.path, -1) {
				vars[m[1]] = true
				if !declared[m[1]] {
					t.Errorf("path variable {%s} has no path parameter", m[1])
				}
			}
			for name := range declared {
				if !vars[name] {
					t.Errorf("path parameter %q is not in the path", name)
				}
			}
		})
	}
}

// resolveRef follows a local $ref; it returns nil for one that does not
// resolve and v itself for anything that is not a reference.
func resolveRef(doc map[string]any, v any) any {
	for range 16 {
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return v
		}
		target, err := jsonPointer(doc, ref)
		if err != nil {
			return nil
		}
		v = target
	}
	return nil // a reference cycle
}

// jsonPointer resolves a local reference "#/a/b" (RFC 6901) within doc.
func jsonPointer(doc map[string]any, ref string) (any, error) {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("%q is not a reference within the document", ref)
	}
	var cur any = doc
	for _, tok := range strings.Split(rest, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[tok]
			if !ok {
				return nil, fmt.Errorf("%q: no member %q", ref, tok)
			}
			cur = next
		default:
			return nil, fmt.Errorf("%q: %q is not inside an object", ref, tok)
		}
	}
	return cur, nil
}

// TestOpenAPIRefs checks that every $ref resolves within the document.
func TestOpenAPIRefs(t *testing.T) {
	doc := openAPIDoc(t)
	n := 0
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"]; ok {
				n++
				s, ok := ref.(string)
				if !ok {
					t.Errorf("%s: $ref is not a string", at)
				} else if _, err := jsonPointer(doc, s); err != nil {
					t.Errorf("%s: %v", at, err)
				}
			}
			for _, k := range slices.Sorted(maps.Keys(v)) {
				walk(v[k], at+"/"+k)
			}
		case []any:
			for i, e := range v {
				walk(e, fmt.Sprintf("%s/%d", at, i))
			}
		}
	}
	walk(doc, "#")
	if n == 0 {
		t.Error("the document has no $ref: is this the right document?")
	}
}

// The responses the handler writes are checked against the document by
// checkResponse, which every test of the package calls through its HTTP
// helpers (export_test.go): a small JSON Schema validator, for the
// keywords the document uses.

// docOnce is the parsed document, shared by every check.
var docOnce = sync.OnceValues(func() (map[string]any, error) {
	var doc map[string]any
	err := json.Unmarshal(openAPI, &doc)
	return doc, err
})

// findOperation returns the path template and operation that serve method
// and path; ok is false when no documented path matches.
func findOperation(doc map[string]any, method, path string) (template string, op map[string]any, ok bool) {
	paths, _ := doc["paths"].(map[string]any)
	segs := strings.Split(path, "/")
	best := -1
	for tmpl, item := range paths {
		tsegs := strings.Split(tmpl, "/")
		if len(tsegs) != len(segs) {
			continue
		}
		literal := 0
		for i, s := range tsegs {
			switch {
			case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}"):
				if segs[i] == "" {
					literal = -1
				}
			case s == segs[i]:
				literal++
			default:
				literal = -1
			}
			if literal < 0 {
				break
			}
		}
		if literal <= best {
			continue
		}
		o, _ := item.(map[string]any)[strings.ToLower(method)].(map[string]any)
		if o == nil {
			continue
		}
		best, template, op, ok = literal, tmpl, o, true
	}
	return template, op, ok
}

// checkResponse validates one response of the admin handler against the
// document: its status must be one the operation lists, and a JSON body
// must match the response's application/json schema. A request the
// document has no operation for (an unknown path or method) is not
// checked.
func checkResponse(method, path string, status int, contentType string, body []byte) []string {
	doc, err := docOnce()
	if err != nil {
		return []string{"openapi.json: " + err.Error()}
	}
	tmpl, op, ok := findOperation(doc, method, path)
	if !ok {
		return nil
	}
	where := fmt.Sprintf("%s %s answered %d", method, tmpl, status)
	responses, _ := op["responses"].(map[string]any)
	resp, ok := responses[strconv.Itoa(status)]
	if !ok {
		if resp, ok = responses["default"]; !ok {
			return []string{where + ": the document lists no such status"}
		}
	}
	r, _ := resolveRef(doc, resp).(map[string]any)
	content, _ := r["content"].(map[string]any)
	if len(body) == 0 {
		if content != nil && status != http.StatusNoContent {
			return []string{where + " without a body, but the document describes one"}
		}
		return nil
	}
	media, _ := content["application/json"].(map[string]any)
	if media == nil {
		return []string{where + " with a body, but the document describes no application/json content"}
	}
	if !strings.HasPrefix(contentType, "application/json") {
		return []string{fmt.Sprintf("%s with Content-Type %q", where, contentType)}
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return []string{where + ": body is not JSON: " + err.Error()}
	}
	var problems []string
	validate(doc, media["schema"], v, "$", func(at, msg string) {
		problems = append(problems, fmt.Sprintf("%s: %s: %s", where, at, msg))
	})
	return problems
}

// validate checks v against schema (JSON Schema 2020-12, as OpenAPI 3.1
// uses it), reporting each failure.
func validate(doc map[string]any, schema, v any, at string, fail func(at, msg string)) {
	s, ok := schema.(map[string]any)
	if !ok {
		if schema == false {
			fail(at, "no value is allowed here")
		}
		return
	}
	if ref, ok := s["$ref"].(string); ok {
		target, err := jsonPointer(doc, ref)
		if err != nil {
			fail(at, err.Error())
			return
		}
		validate(doc, target, v, at, fail) // siblings of $ref apply too (3.1)
	}
	if t, ok := s["type"]; ok && !hasType(t, v) {
		fail(at, fmt.Sprintf("%s, want type %v", jsonKind(v), t))
		return
	}
	if c, ok := s["const"]; ok && !jsonEqual(c, v) {
		fail(at, fmt.Sprintf("%v, want %v", v, c))
	}
	if e, ok := s["enum"].([]any); ok && !slices.ContainsFunc(e, func(x any) bool { return jsonEqual(x, v) }) {
		fail(at, fmt.Sprintf("%v is not one of %v", v, e))
	}
	for _, sub := range anySlice(s["allOf"]) {
		validate(doc, sub, v, at, fail)
	}
	for _, key := range []string{"oneOf", "anyOf"} {
		subs := anySlice(s[key])
		if len(subs) == 0 {
			continue
		}
		n := 0
		for _, sub := range subs {
			ok := true
			validate(doc, sub, v, at, func(string, string) { ok = false })
			if ok {
				n++
			}
		}
		if n == 0 || (key == "oneOf" && n > 1) {
			fail(at, fmt.Sprintf("%d of the %s schemas match", n, key))
		}
	}
	switch v := v.(type) {
	case map[string]any:
		validateObject(doc, s, v, at, fail)
	case []any:
		if max, ok := s["maxItems"].(float64); ok && float64(len(v)) > max {
			fail(at, fmt.Sprintf("%d items, at most %v allowed", len(v), max))
		}
		for i, e := range v {
			validate(doc, s["items"], e, fmt.Sprintf("%s[%d]", at, i), fail)
		}
	case string:
		validateString(s, v, at, fail)
	case float64:
		if min, ok := s["minimum"].(float64); ok && v < min {
			fail(at, fmt.Sprintf("%v is below the minimum %v", v, min))
		}
		if max, ok := s["maximum"].(float64); ok && v > max {
			fail(at, fmt.Sprintf("%v is above the maximum %v", v, max))
		}
	}
}

func validateObject(doc map[string]any, s, v map[string]any, at string, fail func(at, msg string)) {
	props, _ := s["properties"].(map[string]any)
	for _, name := range anySlice(s["required"]) {
		if _, ok := v[name.(string)]; !ok {
			fail(at, fmt.Sprintf("lacks the required member %q", name))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(v)) {
		if p, ok := props[name]; ok {
			validate(doc, p, v[name], at+"."+name, fail)
			continue
		}
		if ap, ok := s["additionalProperties"]; ok {
			validate(doc, ap, v[name], at+"."+name, fail)
		}
	}
}

func validateString(s map[string]any, v, at string, fail func(at, msg string)) {
	if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(v) {
		fail(at, fmt.Sprintf("%q does not match %s", v, p))
	}
	if n, ok := s["minLength"].(float64); ok && float64(len([]rune(v))) < n {
		fail(at, fmt.Sprintf("%q is shorter than %v", v, n))
	}
	if n, ok := s["maxLength"].(float64); ok && float64(len([]rune(v))) > n {
		fail(at, fmt.Sprintf("%q is longer than %v", v, n))
	}
	// The admin API writes every time one way: RFC 3339, UTC, whole seconds.
	if s["format"] == "date-time" {
		if _, err := time.Parse(time.RFC3339, v); err != nil || len(v) != len("2006-01-02T15:04:05Z") || !strings.HasSuffix(v, "Z") {
			fail(at, fmt.Sprintf("%q is not an RFC 3339 time in UTC to the second", v))
		}
	}
}

// hasType reports whether v is of the JSON Schema type t (a name or a list
// of names).
func hasType(t, v any) bool {
	for _, name := range append(anySlice(t), t) {
		switch name {
		case "object", "array", "string", "boolean", "null":
			if jsonKind(v) == name {
				return true
			}
		case "number":
			if _, ok := v.(float64); ok {
				return true
			}
		case "integer":
			if f, ok := v.(float64); ok && f == math.Trunc(f) {
				return true
			}
		}
	}
	return false
}

// jsonKind names the JSON type of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func anySlice(v any) []any { s, _ := v.([]any); return s }

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// TestValidate: the validator refuses what it must, so that a passing
// response check means something.
func TestValidate(t *testing.T) {
	doc, err := docOnce()
	if err != nil {
		t.Fatal(err)
	}
	iat := `{"id":"` + strings.Repeat("a", 64) + `","tenant":"acme","created_at":"2026-12-04T12:15:00Z","expires_at":"2026-12-05T12:15:00Z","policies":[],"max_uses":0,"uses":0,"replacement":false}`
	for _, tc := range []struct {
		name, body string
		ok         bool
	}{
		{"valid", iat, true},
		{"unix time", strings.Replace(iat, `"2026-12-04T12:15:00Z"`, `1795348800`, 1), false},
		{"not UTC", strings.Replace(iat, `12:15:00Z"`, `13:15:00+01:00"`, 1), false},
		{"fraction", strings.Replace(iat, `12:15:00Z"`, `12:15:00.5Z"`, 1), false},
		{"unknown member", strings.Replace(iat, `{`, `{"issued_by":"x",`, 1), false},
		{"missing member", strings.Replace(iat, `"uses":0,`, ``, 1), false},
		{"bad pattern", strings.Replace(iat, strings.Repeat("a", 64), "nothex", 1), false},
		{"wrong type", strings.Replace(iat, `"policies":[]`, `"policies":{}`, 1), false},
	} {
		var v any
		if err := json.Unmarshal([]byte(tc.body), &v); err != nil {
			t.Fatal(err)
		}
		var problems []string
		validate(doc, map[string]any{"$ref": "#/components/schemas/InitialAccessToken"}, v, "$", func(at, msg string) {
			problems = append(problems, at+": "+msg)
		})
		if (len(problems) == 0) != tc.ok {
			t.Errorf("%s: problems %v, want ok=%t", tc.name, problems, tc.ok)
		}
	}
	if p := checkResponse("GET", "/admin/tenants/acme/initial-access-tokens/"+strings.Repeat("a", 64), 200, "application/json", []byte(iat)); len(p) != 0 {
		t.Errorf("checkResponse of a valid token: %v", p)
	}
	if p := checkResponse("GET", "/admin/tenants/acme/initial-access-tokens/"+strings.Repeat("a", 64), 418, "application/json", []byte(iat)); len(p) == 0 {
		t.Error("checkResponse accepted a status the document does not list")
	}
}

// TestOpenAPIListings: every operation whose success answers next_cursor
// takes limit and cursor, the one paging convention.
func TestOpenAPIListings(t *testing.T) {
	doc := openAPIDoc(t)
	n := 0
	for _, op := range apiOperations(t, doc) {
		responses, _ := op.op["responses"].(map[string]any)
		r, _ := resolveRef(doc, responses["200"]).(map[string]any)
		content, _ := r["content"].(map[string]any)
		media, _ := content["application/json"].(map[string]any)
		schema, _ := resolveRef(doc, media["schema"]).(map[string]any)
		props, _ := schema["properties"].(map[string]any)
		if _, ok := props["next_cursor"]; !ok {
			continue
		}
		n++
		query := map[string]bool{}
		params, _ := op.op["parameters"].([]any)
		for _, p := range append(slices.Clone(op.pathParams), params...) {
			if p, ok := resolveRef(doc, p).(map[string]any); ok && p["in"] == "query" {
				query[p["name"].(string)] = true
			}
		}
		if !query["limit"] || !query["cursor"] || query["before"] {
			t.Errorf("%s answers next_cursor but takes %v: want limit and cursor", op, slices.Sorted(maps.Keys(query)))
		}
		if _, ok := responses["400"]; !ok {
			t.Errorf("%s: no 400 response for a bad cursor", op)
		}
	}
	if n < 7 {
		t.Errorf("%d listings, want the 7 of the admin API", n)
	}
}
