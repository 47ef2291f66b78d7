package metrics_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/metrics"
)

// publicRouter is shaped like httpapi's: the default tenant's routes at
// the root, every tenant's under /tenants/{tenant}, with the route
// middleware and handlers of its own for 404 and 405.
func publicRouter(t *testing.T) *mux.Router {
	r := mux.NewRouter()
	r.Use(metrics.Route)
	status := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
	}
	for _, prefix := range []string{"", "/tenants/{tenant}"} {
		r.Handle(prefix+"/reg", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if t, ok := mux.Vars(r)["tenant"]; ok && t != "acme" {
				w.WriteHeader(http.StatusNotFound) // no such tenant
				return
			}
			w.WriteHeader(http.StatusCreated)
		})).Methods(http.MethodPost)
		r.Handle(prefix+"/reg/{client_id}", status(http.StatusOK)).Methods(http.MethodGet)
	}
	r.Handle("/healthz", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).Methods(http.MethodGet) // writes nothing: 200
	r.Handle("/stream", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := w.(http.Flusher)
		if !ok {
			t.Error("the response writer is not an http.Flusher")
			return
		}
		io.WriteString(w, "part 1\n")
		f.Flush()
		if err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("http.ResponseController does not reach the server's writer: %v", err)
		}
		io.WriteString(w, "part 2\n")
	})).Methods(http.MethodGet)
	r.NotFoundHandler = status(http.StatusNotFound)
	r.MethodNotAllowedHandler = status(http.StatusMethodNotAllowed)
	return r
}

// adminRouter is shaped like adminapi's: some routes name a tenant, some
// do not, none is the default tenant's.
func adminRouter() *mux.Router {
	r := mux.NewRouter()
	r.Use(metrics.Route)
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	r.Handle("/admin/tenants", ok).Methods(http.MethodGet)
	r.Handle("/admin/tenants/{tenant}", ok).Methods(http.MethodGet)
	return r
}

func send(t *testing.T, method, url string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestHTTP: real requests through mux routers on two listeners are
// counted and timed by listener, route template, tenant, method and
// status.
func TestHTTP(t *testing.T) {
	m := metrics.New(metrics.Config{KnownTenant: func(name string) bool { return name == "acme" }})
	public := testkit.NewServer(t, m.HTTP("public", publicRouter(t)))
	admin := testkit.NewServer(t, m.HTTP("admin", adminRouter()))

	requests := []struct {
		method, url string
		status      int
	}{
		{"POST", public.URL + "/reg", 201},
		{"POST", public.URL + "/tenants/acme/reg", 201},
		{"POST", public.URL + "/tenants/acme/reg", 201},
		{"POST", public.URL + "/tenants/ghost/reg", 404},
		{"GET", public.URL + "/tenants/acme/reg/client-1", 200},
		{"GET", public.URL + "/tenants/acme/reg/client-2", 200},
		{"GET", public.URL + "/reg/client-3", 200},
		{"GET", public.URL + "/healthz", 200},
		{"GET", public.URL + "/stream", 200},
		{"GET", public.URL + "/no/such/route", 404},
		{"GET", public.URL + "/tenants/acme/nothing-here", 404},
		{"DELETE", public.URL + "/reg", 405},
		{"BREW", public.URL + "/reg", 405},
		{"GET", public.URL + "/a/../healthz", 200}, // the router's 301 to /healthz, then /healthz
		{"GET", admin.URL + "/admin/tenants", 200},
		{"GET", admin.URL + "/admin/tenants/acme", 200},
		{"GET", admin.URL + "/admin/tenants/ghost", 200},
		{"GET", admin.URL + "/admin/nothing", 404},
	}
	for _, r := range requests {
		if got := send(t, r.method, r.url); got != r.status {
			t.Fatalf("%s %s: %d, want %d", r.method, r.url, got, r.status)
		}
	}
	text := scrape(t, m)
	checkSamples(t, text, "registrar_http_requests_total",
		`registrar_http_requests_total{listener="public",method="POST",route="/reg",status="201",tenant="default"} 1`,
		`registrar_http_requests_total{listener="public",method="POST",route="/tenants/{tenant}/reg",status="201",tenant="acme"} 2`,
		`registrar_http_requests_total{listener="public",method="POST",route="/tenants/{tenant}/reg",status="404",tenant="unknown"} 1`,
		`registrar_http_requests_total{listener="public",method="GET",route="/tenants/{tenant}/reg/{client_id}",status="200",tenant="acme"} 2`,
		`registrar_http_requests_total{listener="public",method="GET",route="/reg/{client_id}",status="200",tenant="default"} 1`,
		`registrar_http_requests_total{listener="public",method="GET",route="/healthz",status="200",tenant="default"} 2`,
		`registrar_http_requests_total{listener="public",method="GET",route="/stream",status="200",tenant="default"} 1`,
		`registrar_http_requests_total{listener="public",method="GET",route="unmatched",status="404",tenant="none"} 2`,
		`registrar_http_requests_total{listener="public",method="GET",route="unmatched",status="301",tenant="none"} 1`,
		`registrar_http_requests_total{listener="public",method="DELETE",route="unmatched",status="405",tenant="none"} 1`,
		`registrar_http_requests_total{listener="public",method="other",route="unmatched",status="405",tenant="none"} 1`,
		`registrar_http_requests_total{listener="admin",method="GET",route="/admin/tenants",status="200",tenant="none"} 1`,
		`registrar_http_requests_total{listener="admin",method="GET",route="/admin/tenants/{tenant}",status="200",tenant="acme"} 1`,
		`registrar_http_requests_total{listener="admin",method="GET",route="/admin/tenants/{tenant}",status="200",tenant="unknown"} 1`,
		`registrar_http_requests_total{listener="admin",method="GET",route="unmatched",status="404",tenant="none"} 1`,
	)
	checkSamples(t, text, "registrar_http_request_duration_seconds_count",
		`registrar_http_request_duration_seconds_count{listener="public",method="POST",route="/reg",tenant="default"} 1`,
		`registrar_http_request_duration_seconds_count{listener="public",method="POST",route="/tenants/{tenant}/reg",tenant="acme"} 2`,
		`registrar_http_request_duration_seconds_count{listener="public",method="POST",route="/tenants/{tenant}/reg",tenant="unknown"} 1`,
		`registrar_http_request_duration_seconds_count{listener="public",method="GET",route="/tenants/{tenant}/reg/{client_id}",tenant="acme"} 2`,
		`registrar_http_request_duration_seconds_count{listener="public",method="GET",route="/reg/{client_id}",tenant="default"} 1`,
		`registrar_http_request_duration_seconds_count{listener="public",method="GET",route="/healthz",tenant="default"} 2`,
		`registrar_http_request_duration_seconds_count{listener="public",method="GET",route="/stream",tenant="default"} 1`,
		`registrar_http_request_duration_seconds_count{listener="public",method="GET",route="unmatched",tenant="none"} 3`,
		`registrar_http_request_duration_seconds_count{listener="public",method="DELETE",route="unmatched",tenant="none"} 1`,
		`registrar_http_request_duration_seconds_count{listener="public",method="other",route="unmatched",tenant="none"} 1`,
		`registrar_http_request_duration_seconds_count{listener="admin",method="GET",route="/admin/tenants",tenant="none"} 1`,
		`registrar_http_request_duration_seconds_count{listener="admin",method="GET",route="/admin/tenants/{tenant}",tenant="acme"} 1`,
		`registrar_http_request_duration_seconds_count{listener="admin",method="GET",route="/admin/tenants/{tenant}",tenant="unknown"} 1`,
		`registrar_http_request_duration_seconds_count{listener="admin",method="GET",route="unmatched",tenant="none"} 1`,
	)
	for _, want := range []string{
		`registrar_http_request_duration_seconds_bucket{listener="public",method="GET",route="/healthz",tenant="default",le="0.0005"}`,
		`registrar_http_request_duration_seconds_bucket{listener="public",method="GET",route="/healthz",tenant="default",le="10"}`,
		`registrar_http_request_duration_seconds_bucket{listener="public",method="GET",route="/healthz",tenant="default",le="+Inf"} 2`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the scrape lacks %s", want)
		}
	}
}

// TestHTTPWithoutRoute: without the route middleware every request is
// unmatched, and the route middleware alone only passes requests on.
func TestHTTPWithoutRoute(t *testing.T) {
	m := metrics.New(metrics.Config{})
	r := mux.NewRouter()
	r.Handle("/reg", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) }))
	rec := httptest.NewRecorder()
	m.HTTP("public", r).ServeHTTP(rec, httptest.NewRequest("POST", "/reg", nil))
	rec = httptest.NewRecorder()
	metrics.Route(r).ServeHTTP(rec, httptest.NewRequest("POST", "/reg", nil))
	if rec.Code != http.StatusCreated {
		t.Errorf("Route alone answered %d", rec.Code)
	}
	checkSamples(t, scrape(t, m), "registrar_http_requests_total",
		`registrar_http_requests_total{listener="public",method="POST",route="unmatched",status="201",tenant="none"} 1`)
}

// TestHTTPPanic: a request whose handler panics is counted as a 500 and
// the panic goes on up.
func TestHTTPPanic(t *testing.T) {
	m := metrics.New(metrics.Config{})
	r := mux.NewRouter()
	r.Use(metrics.Route)
	r.Handle("/boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }))
	func() {
		defer func() {
			if v := recover(); v != http.ErrAbortHandler {
				t.Errorf("recovered %v, want http.ErrAbortHandler", v)
			}
		}()
		m.HTTP("public", r).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/boom", nil))
	}()
	checkSamples(t, scrape(t, m), "registrar_http_requests_total",
		`registrar_http_requests_total{listener="public",method="GET",route="/boom",status="500",tenant="default"} 1`)
}

// TestTenantCardinality: whatever tenant names, paths and methods clients
// send, only tenants that KnownTenant vouches for become label values,
// KnownTenant sees only valid tenant names, and the number of series stays
// bounded by the routes.
func TestTenantCardinality(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	known := func(name string) bool {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, name)
		return name == "acme"
	}
	m := metrics.New(metrics.Config{KnownTenant: known})
	srv := testkit.NewServer(t, m.HTTP("public", publicRouter(t)))
	rnd := rand.New(rand.NewPCG(1, 2))
	names := []string{"acme", "default", "Has%20Space", "UPPER", "x", strings.Repeat("long", 40), "%C3%A9t%C3%A9", "a.b", "-dash"}
	methods := []string{"GET", "POST", "PUT", "DELETE", "PATCH", "PURGE", "X-" + "CUSTOM"}
	for i := range 300 {
		name := names[rnd.IntN(len(names))]
		if rnd.IntN(3) == 0 {
			name = fmt.Sprintf("tenant-%d", i) // a fresh name every time
		}
		path := []string{"/tenants/" + name + "/reg", "/tenants/" + name + "/reg/c" + fmt.Sprint(i), "/" + name + "/x", "/tenants/" + name}[rnd.IntN(4)]
		send(t, methods[rnd.IntN(len(methods))], srv.URL+path)
	}
	text := scrape(t, m)
	lines := samples(text, "registrar_http_requests_total")
	if len(lines) > 60 {
		t.Errorf("%d series from 300 requests: the labels are not bounded", len(lines))
	}
	allowed := []string{`tenant="acme"`, `tenant="unknown"`, `tenant="none"`, `tenant="default"`}
	for _, l := range lines {
		if !slices.ContainsFunc(allowed, func(a string) bool { return strings.Contains(l, a) }) {
			t.Errorf("a tenant label that nobody vouched for: %s", l)
		}
		if strings.Contains(l, "tenant-") || strings.Contains(l, "PURGE") || strings.Contains(l, "CUSTOM") || strings.Contains(l, `/c`) {
			t.Errorf("a label from the request: %s", l)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, name := range asked {
		if !engine.ValidTenantName(name) {
			t.Errorf("KnownTenant was asked about %q, which is not a tenant name", name)
		}
	}
	if !slices.Contains(asked, "acme") {
		t.Error("KnownTenant was never asked about acme")
	}
}

// TestForgetTenant: a deleted tenant's series go, the others stay.
func TestForgetTenant(t *testing.T) {
	m := metrics.New(metrics.Config{KnownTenant: func(name string) bool { return name == "acme" || name == "globex" }})
	h := m.HTTP("public", publicRouter(t))
	for _, path := range []string{"/tenants/acme/reg/c", "/tenants/globex/reg/c"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	m.ForgetTenant("acme")
	checkSamples(t, scrape(t, m), "registrar_http_requests_total",
		`registrar_http_requests_total{listener="public",method="GET",route="/tenants/{tenant}/reg/{client_id}",status="200",tenant="globex"} 1`)
}
