package fetch_test

import (
	"crypto/x509"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/fetch"
	"github.com/registrar-dev/registrar/internal/testkit"
)

// tlsWorld is an https test server reachable as https://example.com (a
// name its certificate holds), which the resolver maps to a documentation
// address that the dialer replaces with the server's loopback address.
type tlsWorld struct {
	srv      *httptest.Server
	resolver *testkit.Resolver
	dialer   *testkit.Dialer
	roots    *x509.CertPool
}

// publicAddr stands for a public address: TEST-NET-3, never routed.
const publicAddr = "203.0.113.10"

func newTLSWorld(t *testing.T, srv *httptest.Server) *tlsWorld {
	t.Helper()
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	return &tlsWorld{
		srv:      srv,
		resolver: &testkit.Resolver{Hosts: map[string][]string{"example.com": {publicAddr}}},
		dialer:   &testkit.Dialer{StandIn: srv.Listener.Addr().String()},
		roots:    roots,
	}
}

// client returns a Client of cfg with the world's resolver, dialer and
// roots.
func (w *tlsWorld) client(t *testing.T, cfg fetch.Config) *fetch.Client {
	t.Helper()
	cfg.Resolver, cfg.Dialer, cfg.RootCAs = w.resolver, w.dialer, w.roots
	c, err := fetch.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantKind fails the test unless err is a *fetch.Error of kind k whose
// message contains each of subs.
func wantKind(t *testing.T, err error, k fetch.Kind, subs ...string) {
	t.Helper()
	var fe *fetch.Error
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v (%T), want a *fetch.Error of kind %s", err, err, k)
	}
	if fe.Kind != k {
		t.Fatalf("kind = %s, want %s (err: %v)", fe.Kind, k, err)
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("err = %q, want it to say %q", err, s)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("err = %q, want one line", err)
	}
}

func allow(t *testing.T, s string) fetch.AllowList {
	t.Helper()
	l, err := fetch.ParseAllowList(s)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
