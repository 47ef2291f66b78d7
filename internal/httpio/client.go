package httpio

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/registrar-dev/registrar/engine"
)

// ParseTrustedProxies reads a comma-separated list of IP addresses and
// CIDR prefixes ("10.0.0.0/8, 127.0.0.1").
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: want an IP address or a CIDR prefix", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// ClientIP returns the address of the client that made r. It is the
// socket peer, unless the peer is one of the trusted proxies: then
// X-Forwarded-For is read from the right, skipping trusted proxies, and the
// first address that is not one is the client. A malformed entry stops the
// walk at the last trusted hop, so that a client cannot forge its address
// past a proxy it does not control.
func ClientIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer := addr.Unmap()
	if !isTrusted(peer, trusted) {
		if addr.Is4() {
			// ParseAddr takes IPv4 only in dotted decimal without
			// leading zeros: host is what String would make of it.
			return host
		}
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		if h == "" {
			continue
		}
		a, err := netip.ParseAddr(h)
		if err != nil {
			break
		}
		client = a.Unmap()
		if !isTrusted(client, trusted) {
			break
		}
	}
	return client.String()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// AuditContext returns r's context carrying the request's ID and client
// address for the engine's audit events.
func AuditContext(r *http.Request, clientIP string) context.Context {
	return engine.WithRequest(r.Context(), engine.RequestInfo{ID: RequestID(r.Context()), RemoteIP: clientIP})
}
