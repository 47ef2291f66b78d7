package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/registrar-dev/registrar/engine"
)

// HTTP counts and times the requests of one listener, named by the
// listener label. The route and tenant labels come from Route, which must
// run on the same requests inside the listener's gorilla/mux router
// (Router.Use): a mux router sets its route and variables only on the
// request it passes down, so this outer handler cannot see them, and mux
// runs Use middlewares only for a request that matched a route. A request
// that Route did not see (404, 405, a path-cleaning redirect) is labelled
// route Unmatched and tenant NoTenant.
//
// Put HTTP outermost, so that its time covers the whole request, the
// access log included.
func (m *Metrics) HTTP(listener string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		seen := &routeSeen{}
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			v := recover()
			status := sw.status
			switch {
			case status != 0:
			case v != nil:
				status = http.StatusInternalServerError // the connection is dropped
			default:
				status = http.StatusOK // the handler wrote nothing
			}
			route, tenant := m.routeLabels(listener, seen)
			method := methodLabel(r.Method)
			m.httpTotal.WithLabelValues(listener, route, tenant, method, strconv.Itoa(status)).Inc()
			m.httpTime.WithLabelValues(listener, route, tenant, method).Observe(time.Since(start).Seconds())
			if v != nil {
				panic(v)
			}
		}()
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), routeKey{}, seen)))
	})
}

// Route is a gorilla/mux middleware (mux.MiddlewareFunc, for Router.Use)
// that tells HTTP, further out, which route template and {tenant} variable
// the router matched. Without HTTP around it, it only passes the request
// on.
func Route(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if seen, ok := r.Context().Value(routeKey{}).(*routeSeen); ok {
			if route := mux.CurrentRoute(r); route != nil {
				seen.matched = true
				seen.template, _ = route.GetPathTemplate()
				seen.tenant, seen.hasTenant = mux.Vars(r)["tenant"]
			}
		}
		next.ServeHTTP(w, r)
	})
}

// routeKey carries a *routeSeen in a request's context, from HTTP to Route.
type routeKey struct{}

// routeSeen is what Route saw of the matched route. Route writes it and
// HTTP reads it after the handler returned, on the same goroutine.
type routeSeen struct {
	matched   bool
	template  string
	tenant    string
	hasTenant bool
}

// routeLabels returns the route and tenant labels of a request.
func (m *Metrics) routeLabels(listener string, seen *routeSeen) (route, tenant string) {
	switch {
	case !seen.matched:
		return Unmatched, NoTenant
	case seen.template == "":
		route = "unnamed" // a route without a path template; httpapi has none
	default:
		route = seen.template
	}
	switch {
	case seen.hasTenant:
		tenant = m.tenantLabel(seen.tenant)
	case listener == m.public:
		tenant = engine.DefaultTenant
	default:
		tenant = NoTenant
	}
	return route, tenant
}

// methodLabel is the method label: one of the methods of RFC 9110 and
// RFC 5789, else OtherMethod.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return method
	}
	return OtherMethod
}

// statusWriter remembers the status code of a response. It passes Flush
// on, and Unwrap lets http.ResponseController reach the underlying writer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the first final status; informational (1xx)
// responses other than 101 Switching Protocols precede the final one.
func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 && (status >= 200 || status == http.StatusSwitchingProtocols) {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

// Write records the implicit 200 of a response written without WriteHeader.
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush implements http.Flusher: it sends the response so far, if the
// underlying writer can.
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
