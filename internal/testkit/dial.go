package testkit

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// Resolver answers host lookups from a table (host → addresses) and
// records what it was asked; an unknown name is not found. It stands in
// for DNS in tests of the outbound fetch client.
type Resolver struct {
	Hosts map[string][]string

	mu      sync.Mutex
	lookups []string
}

// LookupNetIP implements fetch.Resolver.
func (r *Resolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	r.lookups = append(r.lookups, host)
	r.mu.Unlock()
	ss, ok := r.Hosts[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	out := make([]netip.Addr, 0, len(ss))
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out, nil
}

// Lookups returns the names asked for so far.
func (r *Resolver) Lookups() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lookups...)
}

// Dialer records every address it is asked to dial and connects only to
// loopback: to a loopback address as asked, and to StandIn (a loopback
// test server's address) in place of any other; without a StandIn it
// refuses. A guard that let a request through thus shows up as a recorded
// dial, never as traffic leaving the machine. It counts the bytes read
// from every connection it made, for tests of a cap on a body.
type Dialer struct {
	StandIn string

	mu    sync.Mutex
	dials []string
	read  atomic.Int64
}

// DialContext implements fetch.Dialer.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.dials = append(d.dials, addr)
	d.mu.Unlock()
	target := addr
	if ap, err := netip.ParseAddrPort(addr); err != nil || !ap.Addr().IsLoopback() {
		if d.StandIn == "" {
			return nil, fmt.Errorf("test dialer: not dialling %s", addr)
		}
		target = d.StandIn
	}
	if ap, err := netip.ParseAddrPort(target); err != nil || !ap.Addr().IsLoopback() {
		return nil, fmt.Errorf("test dialer: %s is not a loopback address", target)
	}
	var nd net.Dialer
	conn, err := nd.DialContext(ctx, network, target)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn, n: &d.read}, nil
}

// Dials returns the addresses asked for so far.
func (d *Dialer) Dials() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.dials...)
}

// BytesRead returns how many bytes were read so far from the connections
// the dialer made.
func (d *Dialer) BytesRead() int64 { return d.read.Load() }

// countingConn adds the bytes read from its connection to n.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

// Read reads from the connection and counts what it read.
func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}
