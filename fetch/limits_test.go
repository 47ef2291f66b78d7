package fetch_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/fetch"
	"github.com/registrar-dev/registrar/internal/testkit"
)

// serveHuge writes 100 MB in 32 KiB chunks until the client hangs up,
// declaring the length or not.
func serveHuge(declare bool) http.HandlerFunc {
	const total = 100 << 20
	return func(rw http.ResponseWriter, r *http.Request) {
		if declare {
			rw.Header().Set("Content-Length", strconv.Itoa(total))
		}
		chunk := []byte(strings.Repeat("x", 32<<10))
		for sent := 0; sent < total; sent += len(chunk) {
			if _, err := rw.Write(chunk); err != nil {
				return
			}
		}
	}
}

// TestBodyCap: a 100 MB body fails the fetch as Invalid; with a declared
// length before the body is read, without one after reading at most the
// cap and a byte (plus what the connection buffers).
func TestBodyCap(t *testing.T) {
	const limit = 64 << 10
	const slack = 128 << 10 // headers, TLS records and the transport's buffers
	for _, declare := range []bool{true, false} {
		t.Run("declared="+strconv.FormatBool(declare), func(t *testing.T) {
			w := newTLSWorld(t, httptest.NewTLSServer(serveHuge(declare)))
			c := w.client(t, fetch.Config{MaxBodyBytes: limit})
			_, err := c.Get(context.Background(), "https://example.com/jwks", "")
			wantKind(t, err, fetch.Invalid, "more than the limit of 65536")
			if n := w.dialer.BytesRead(); n > limit+slack {
				t.Errorf("read %d bytes from the connection, want at most %d", n, limit+slack)
			}
		})
	}
	t.Run("at the cap", func(t *testing.T) {
		w := newTLSWorld(t, httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			rw.(http.Flusher).Flush() // no Content-Length: chunked
			rw.Write([]byte(strings.Repeat("x", limit)))
		})))
		c := w.client(t, fetch.Config{MaxBodyBytes: limit})
		res, err := c.Get(context.Background(), "https://example.com/jwks", "")
		if err != nil || len(res.Body) != limit {
			t.Fatalf("body of exactly the cap: %v", err)
		}
	})
	t.Run("default cap", func(t *testing.T) {
		w := newTLSWorld(t, httptest.NewTLSServer(serveHuge(false)))
		c := w.client(t, fetch.Config{})
		_, err := c.Get(context.Background(), "https://example.com/jwks", "")
		wantKind(t, err, fetch.Invalid, "more than the limit of "+strconv.Itoa(fetch.DefaultMaxBodyBytes))
	})
}

// stall answers after sending part of a body, or nothing, and then waits
// until the client hangs up.
func stall(headers bool) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		if headers {
			rw.Write([]byte(`{"keys":[`))
			rw.(http.Flusher).Flush()
		}
		<-r.Context().Done()
	}
}

// TestSlowServer: a server that trickles its body, or never answers, ends
// the fetch with a timeout error, Unavailable.
func TestSlowServer(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{"slow body": stall(true), "no answer": stall(false)} {
		t.Run(name, func(t *testing.T) {
			w := newTLSWorld(t, httptest.NewTLSServer(h))
			c := w.client(t, fetch.Config{Timeout: 200 * time.Millisecond})
			_, err := c.Get(context.Background(), "https://example.com/jwks", "")
			wantKind(t, err, fetch.Unavailable, "timed out", "200ms")
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want it to wrap context.DeadlineExceeded", err)
			}
		})
	}
}

// blockingDialer records every address it is asked to dial and never
// connects: it waits for its context.
type blockingDialer struct{ dials testkit.Recorder[string] }

func (d *blockingDialer) DialContext(ctx context.Context, _, addr string) (net.Conn, error) {
	d.dials.Add(addr)
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestConnectTimeout: a connection that cannot be made ends the fetch at
// the connect timeout, well before the total one.
func TestConnectTimeout(t *testing.T) {
	d := &blockingDialer{}
	r := &testkit.Resolver{Hosts: map[string][]string{"example.com": {publicAddr}}}
	c, err := fetch.New(fetch.Config{Resolver: r, Dialer: d, ConnectTimeout: 50 * time.Millisecond, Timeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Get(context.Background(), "https://example.com/jwks", "")
	wantKind(t, err, fetch.Unavailable, "no connection within 50ms")
	if got := d.dials.All(); len(got) != 1 || got[0] != publicAddr+":443" {
		t.Errorf("dials %v", got)
	}
}

// TestStatus: only 200 is a document; 5xx, 408 and 429 are Unavailable,
// the rest Invalid.
func TestStatus(t *testing.T) {
	for code, want := range map[int]fetch.Kind{
		200: fetch.OK, 500: fetch.Unavailable, 502: fetch.Unavailable, 503: fetch.Unavailable,
		408: fetch.Unavailable, 429: fetch.Unavailable,
		201: fetch.Invalid, 204: fetch.Invalid, 304: fetch.Invalid, 400: fetch.Invalid, 404: fetch.Invalid, 410: fetch.Invalid,
	} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			w := newTLSWorld(t, httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				rw.WriteHeader(code)
			})))
			c := w.client(t, fetch.Config{})
			_, err := c.Get(context.Background(), "https://example.com/jwks", "")
			if want == fetch.OK {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantKind(t, err, want, strconv.Itoa(code))
		})
	}
}

// TestUnresolvable: a name that does not resolve is Unavailable.
func TestUnresolvable(t *testing.T) {
	d := &testkit.Dialer{}
	c, err := fetch.New(fetch.Config{Resolver: &testkit.Resolver{}, Dialer: d})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Get(context.Background(), "https://nowhere.test/jwks", "")
	wantKind(t, err, fetch.Unavailable, "resolving nowhere.test")
	if len(d.Dials()) != 0 {
		t.Errorf("dials %v", d.Dials())
	}
}

// TestObserve: every Get is reported once, with its host and outcome.
func TestObserve(t *testing.T) {
	w := newTLSWorld(t, httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/down" {
			rw.WriteHeader(503)
		}
	})))
	var mu sync.Mutex
	var seen []fetch.Observation
	clock := time.Unix(0, 0)
	c := w.client(t, fetch.Config{
		Observe: func(o fetch.Observation) { mu.Lock(); seen = append(seen, o); mu.Unlock() },
		Now:     func() time.Time { clock = clock.Add(time.Second); return clock },
	})
	c.Get(context.Background(), "https://example.com/ok", "")
	c.Get(context.Background(), "https://example.com/down", "")
	c.Get(context.Background(), "http://example.com:8080/", "")
	want := []fetch.Observation{
		{Host: "example.com", Kind: fetch.OK, Duration: time.Second},
		{Host: "example.com", Kind: fetch.Unavailable, Duration: time.Second},
		{Host: "example.com:8080", Kind: fetch.Refused, Duration: time.Second},
	}
	if len(seen) != len(want) {
		t.Fatalf("observations %v, want %v", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Errorf("observation %d = %+v, want %+v", i, seen[i], want[i])
		}
	}
}

func TestNew(t *testing.T) {
	for _, cfg := range []fetch.Config{{MaxBodyBytes: -1}, {ConnectTimeout: -1}, {Timeout: -time.Second}} {
		if _, err := fetch.New(cfg); err == nil {
			t.Errorf("New(%+v) = nil error", cfg)
		}
	}
	c, err := fetch.New(fetch.Config{AllowHosts: allow(t, "keys.internal, 127.0.0.1:8443")})
	if err != nil {
		t.Fatal(err)
	}
	d := c.Describe()
	for _, s := range []string{"https only", "at most 3 redirects", "524288 bytes", "5s to connect", "10s in all", "keys.internal,127.0.0.1:8443"} {
		if !strings.Contains(d, s) {
			t.Errorf("Describe() = %q, want it to say %q", d, s)
		}
	}
	if strings.Contains(d, "\n") {
		t.Errorf("Describe() = %q, want one line", d)
	}
}

func TestKindOf(t *testing.T) {
	for err, want := range map[error]fetch.Kind{
		nil:             fetch.OK,
		errors.New("x"): fetch.Unavailable,
		&fetch.Error{Kind: fetch.Invalid, Err: errors.New("bad")}: fetch.Invalid,
	} {
		if got := fetch.KindOf(err); got != want {
			t.Errorf("KindOf(%v) = %s, want %s", err, got, want)
		}
	}
}
