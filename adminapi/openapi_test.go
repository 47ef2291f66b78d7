package adminapi

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
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
