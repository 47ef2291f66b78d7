package fetch

import (
	"fmt"
	"net/netip"
)

// metadata lists the cloud metadata services' addresses. Each is inside a
// refused range already; naming them makes the error say what was hit.
var metadata = map[netip.Addr]string{
	netip.MustParseAddr("169.254.169.254"): "cloud metadata address (AWS, GCP, Azure, OCI, DigitalOcean)",
	netip.MustParseAddr("169.254.170.2"):   "cloud metadata address (AWS ECS task metadata)",
	netip.MustParseAddr("fd00:ec2::254"):   "cloud metadata address (AWS IPv6)",
	netip.MustParseAddr("100.100.100.200"): "cloud metadata address (Alibaba Cloud)",
	netip.MustParseAddr("192.0.0.192"):     "cloud metadata address (Oracle Cloud Classic)",
}

// refused lists the ranges no outbound fetch may reach, with what each is.
// The documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
// 2001:db8::/32) are not refused: they are never routed, and tests use them
// as stand-ins for public addresses.
var refused = []struct {
	prefix netip.Prefix
	what   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified (this-network) address"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private address (RFC 1918)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared address (CGNAT, RFC 6598)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback address"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local address"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private address (RFC 1918)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignment address"},
	{netip.MustParsePrefix("192.88.99.0/24"), "6to4 relay anycast address"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private address (RFC 1918)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking address (RFC 2544)"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved address"},
	{netip.MustParsePrefix("::/128"), "unspecified address"},
	{netip.MustParsePrefix("::1/128"), "loopback address"},
	{netip.MustParsePrefix("::/96"), "IPv4-compatible address (deprecated)"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use NAT64 address"},
	{netip.MustParsePrefix("100::/64"), "discard-only address"},
	{netip.MustParsePrefix("2001::/32"), "Teredo address"},
	{netip.MustParsePrefix("2001:10::/28"), "ORCHID address"},
	{netip.MustParsePrefix("2002::/16"), "6to4 address"},
	{netip.MustParsePrefix("fc00::/7"), "unique local address (ULA)"},
	{netip.MustParsePrefix("fe80::/10"), "link-local address"},
	{netip.MustParsePrefix("fec0::/10"), "site-local address (deprecated)"},
	{netip.MustParsePrefix("ff00::/8"), "multicast address"},
}

// nat64 is the well-known NAT64 prefix (RFC 6052): its addresses reach the
// IPv4 address in their last 32 bits, which is checked instead.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// CheckAddr reports whether an outbound fetch may connect to a; the error
// says what kind of address a is when it may not. IPv4-mapped (::ffff:a.b.c.d)
// and NAT64 (64:ff9b::a.b.c.d) forms are judged by their IPv4 address.
// Addresses with a zone are refused.
func CheckAddr(a netip.Addr) error {
	if what := refusal(a); what != "" {
		return fmt.Errorf("%s is a %s", a, what)
	}
	return nil
}

// refusal returns what kind of refused address a is, or "" if a may be
// dialled.
func refusal(a netip.Addr) string {
	if !a.IsValid() {
		return "invalid address"
	}
	if a.Zone() != "" {
		return "scoped address"
	}
	v := a.Unmap()
	if nat64.Contains(v) {
		b := v.As16()
		v = netip.AddrFrom4([4]byte(b[12:]))
	}
	if what, ok := metadata[v]; ok {
		return what
	}
	for _, r := range refused {
		if r.prefix.Contains(v) {
			return r.what
		}
	}
	if !v.IsGlobalUnicast() {
		return "non-global-unicast address"
	}
	return ""
}
