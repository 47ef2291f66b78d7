package fetch_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/registrar-dev/registrar/fetch"
)

// resolver answers from a table and records what it was asked. An unknown
// name is not found.
type resolver struct {
	hosts map[string][]string

	mu      sync.Mutex
	lookups []string
}

func (r *resolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	r.lookups = append(r.lookups, host)
	r.mu.Unlock()
	ss, ok := r.hosts[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out, nil
}

func (r *resolver) asked() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lookups...)
}

// dialer records every address it is asked to dial. It connects only to
// loopback: to a loopback address as asked, and to standIn (a loopback test
// server) in place of any other address; without a standIn it refuses.
// So a guard failure shows up as a recorded dial, never as traffic.
type dialer struct {
	standIn string

	mu    sync.Mutex
	dials []string
	read  atomic.Int64 // bytes read from every connection
}

func (d *dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.dials = append(d.dials, addr)
	d.mu.Unlock()
	target := addr
	if ap, err := netip.ParseAddrPort(addr); err != nil || !ap.Addr().IsLoopback() {
		if d.standIn == "" {
			return nil, fmt.Errorf("test dialer: not dialling %s", addr)
		}
		target = d.standIn
	}
	if ap, err := netip.ParseAddrPort(target); err != nil || !ap.Addr().IsLoopback() {
		panic("test dialer: " + target + " is not a loopback address")
	}
	var nd net.Dialer
	conn, err := nd.DialContext(ctx, network, target)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn, n: &d.read}, nil
}

func (d *dialer) attempts() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.dials...)
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// tlsWorld is an https test server reachable as https://example.com (a
// name its certificate holds), which the resolver maps to a documentation
// address that the dialer replaces with the server's loopback address.
type tlsWorld struct {
	srv      *httptest.Server
	resolver *resolver
	dialer   *dialer
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
		resolver: &resolver{hosts: map[string][]string{"example.com": {publicAddr}}},
		dialer:   &dialer{standIn: srv.Listener.Addr().String()},
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
