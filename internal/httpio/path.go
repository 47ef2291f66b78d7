package httpio

import (
	"net/http"
	"strings"
)

// CanonicalPath reports whether a request's path is in the one form the
// routers match: absolute, without empty, "." or ".." segments (also when
// they were sent percent-encoded, as %2e%2e), and without an encoded "/"
// (%2F), which would otherwise be matched as a segment separator. A
// trailing slash is an empty segment: no route has one.
func CanonicalPath(r *http.Request) bool {
	p := r.URL.Path
	if p == "/" {
		return true
	}
	if !strings.HasPrefix(p, "/") || strings.Contains(strings.ToLower(r.URL.RawPath), "%2f") {
		return false
	}
	for seg := range strings.SplitSeq(p[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// CanonicalPaths serves requests whose path is canonical (CanonicalPath)
// with next and every other one with notFound. Routers must not clean
// paths themselves (gorilla/mux's SkipClean(true)): cleaning answers
// "//reg", "/./reg" or "/reg/..%2f..%2fadmin" with an empty 301 to another
// route, where a client (or a proxy's path rules) expected the path it
// sent.
func CanonicalPaths(next, notFound http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !CanonicalPath(r) {
			notFound.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
