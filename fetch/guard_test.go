package fetch_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/fetch"
	"github.com/registrar-dev/registrar/internal/testkit"
)

func TestCheckAddr(t *testing.T) {
	for _, s := range []string{"203.0.113.10", "8.8.8.8", "1.1.1.1", "2001:db8::1", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"} {
		if err := fetch.CheckAddr(netip.MustParseAddr(s)); err != nil {
			t.Errorf("CheckAddr(%s) = %v, want nil", s, err)
		}
	}
	for s, what := range map[string]string{
		"127.0.0.1":              "loopback",
		"127.1.2.3":              "loopback",
		"::1":                    "loopback",
		"::ffff:127.0.0.1":       "loopback",
		"10.0.0.1":               "private",
		"172.16.5.4":             "private",
		"192.168.1.1":            "private",
		"::ffff:10.1.2.3":        "private",
		"fd00::1":                "unique local",
		"fc00::1":                "unique local",
		"169.254.1.1":            "link-local",
		"fe80::1":                "link-local",
		"fe80::1%eth0":           "scoped",
		"169.254.169.254":        "metadata",
		"::ffff:169.254.169.254": "metadata",
		"64:ff9b::a9fe:a9fe":     "metadata", // NAT64 of 169.254.169.254
		"fd00:ec2::254":          "metadata",
		"100.100.100.200":        "metadata",
		"169.254.170.2":          "metadata",
		"100.64.0.1":             "CGNAT",
		"224.0.0.1":              "multicast",
		"ff02::1":                "multicast",
		"0.0.0.0":                "unspecified",
		"::":                     "unspecified",
		"255.255.255.255":        "reserved",
		"198.18.0.1":             "benchmarking",
		"2002:a00:1::1":          "6to4",
		"2001:0:a00:1::1":        "Teredo",
		"::10.0.0.1":             "IPv4-compatible",
	} {
		err := fetch.CheckAddr(netip.MustParseAddr(s))
		if err == nil || !strings.Contains(err.Error(), what) {
			t.Errorf("CheckAddr(%s) = %v, want a refusal naming %q", s, err, what)
		}
	}
}

// TestRefusedResolvedAddresses: a host name that resolves to a refused
// address is refused before any connection: the dialer records nothing.
func TestRefusedResolvedAddresses(t *testing.T) {
	hosts := map[string][]string{
		"private.test":    {"10.0.0.1"},
		"private172.test": {"172.20.0.1"},
		"private192.test": {"192.168.0.10"},
		"metadata.test":   {"169.254.169.254"},
		"linklocal.test":  {"169.254.10.10"},
		"loopback.test":   {"127.0.0.1"},
		"loopback6.test":  {"::1"},
		"ula.test":        {"fd00::1"},
		"aws6.test":       {"fd00:ec2::254"},
		"mapped.test":     {"::ffff:127.0.0.1"},
		"mapped10.test":   {"::ffff:10.0.0.1"},
		"cgnat.test":      {"100.64.0.1"},
		"alibaba.test":    {"100.100.100.200"},
		"multicast.test":  {"224.0.0.251"},
		"unspec.test":     {"0.0.0.0"},
		"linklocal6.test": {"fe80::1"},
		"mixed.test":      {publicAddr, "10.0.0.1"}, // one bad address taints the host
	}
	for host := range hosts {
		t.Run(host, func(t *testing.T) {
			r := &testkit.Resolver{Hosts: hosts}
			d := &testkit.Dialer{}
			c, err := fetch.New(fetch.Config{Resolver: r, Dialer: d})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Get(context.Background(), "https://"+host+"/jwks", "")
			wantKind(t, err, fetch.Refused, host+" resolves to")
			if got := d.Dials(); len(got) != 0 {
				t.Errorf("dial attempts %v, want none", got)
			}
			if got := r.Lookups(); len(got) != 1 || got[0] != host {
				t.Errorf("lookups %v, want [%s]", got, host)
			}
		})
	}
}

// TestRefusedAddressLiterals: an address literal in the URL is judged
// without a lookup and refused before any connection.
func TestRefusedAddressLiterals(t *testing.T) {
	for _, u := range []string{
		"https://10.0.0.1/jwks",
		"https://127.0.0.1:8443/jwks",
		"https://[::1]/jwks",
		"https://169.254.169.254/latest/meta-data/",
		"https://[::ffff:127.0.0.1]/jwks",
		"https://[::ffff:a9fe:a9fe]/jwks",
		"https://[fd00:ec2::254]/latest/meta-data/",
		"https://[64:ff9b::a9fe:a9fe]/",
		"https://100.100.100.200/latest/meta-data/",
		"https://192.168.1.1/",
		"https://[fe80::1%25eth0]/",
		"https://0.0.0.0/",
	} {
		t.Run(u, func(t *testing.T) {
			r := &testkit.Resolver{}
			d := &testkit.Dialer{}
			c, err := fetch.New(fetch.Config{Resolver: r, Dialer: d})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Get(context.Background(), u, "")
			wantKind(t, err, fetch.Refused)
			if got := d.Dials(); len(got) != 0 {
				t.Errorf("dial attempts %v, want none", got)
			}
			if got := r.Lookups(); len(got) != 0 {
				t.Errorf("lookups %v, want none", got)
			}
		})
	}
}

// TestHTTPSRequired: plain http and other schemes are refused unless the
// host is allow-listed, before any lookup or connection; so are URLs with
// credentials, whose secret stays out of the message.
func TestHTTPSRequired(t *testing.T) {
	for u, say := range map[string]string{
		"http://example.com/jwks":            "only https",
		"ftp://example.com/jwks":             "only https",
		"file:///etc/passwd":                 "no host",
		"https://user:hunter2@example.com/x": "user information",
		"//example.com/jwks":                 "only https",
		"http://127.0.0.1:9/jwks":            "only https",
		"https:///jwks":                      "no host",
		"https://example.com:99999999/\x7f":  "not a URL",
		"https://example.com/\njwks":         "not a URL",
	} {
		t.Run(u, func(t *testing.T) {
			r := &testkit.Resolver{Hosts: map[string][]string{"example.com": {publicAddr}}}
			d := &testkit.Dialer{}
			c, err := fetch.New(fetch.Config{Resolver: r, Dialer: d, AllowHosts: allow(t, "keys.internal")})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Get(context.Background(), u, "")
			wantKind(t, err, fetch.Refused, say)
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("err = %q shows the password", err)
			}
			if len(d.Dials())+len(r.Lookups()) != 0 {
				t.Errorf("dials %v, lookups %v; want none", d.Dials(), r.Lookups())
			}
		})
	}
}

// TestHTTPSFetch: a public host is resolved once and the connection goes to
// the checked address, not to the name.
func TestHTTPSFetch(t *testing.T) {
	var accept, agent string
	w := newTLSWorld(t, httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		accept, agent = r.Header.Get("Accept"), r.Header.Get("User-Agent")
		rw.Header().Set("Cache-Control", "max-age=60")
		rw.Write([]byte(`{"keys":[]}`))
	})))
	c := w.client(t, fetch.Config{})
	res, err := c.Get(context.Background(), "https://example.com/jwks", "application/jwk-set+json")
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Body) != `{"keys":[]}` || res.Header.Get("Cache-Control") != "max-age=60" || res.URL != "https://example.com/jwks" {
		t.Errorf("response %q %v %s", res.Body, res.Header, res.URL)
	}
	if accept != "application/jwk-set+json" || agent != fetch.DefaultUserAgent {
		t.Errorf("Accept %q, User-Agent %q", accept, agent)
	}
	if got := w.dialer.Dials(); len(got) != 1 || got[0] != publicAddr+":443" {
		t.Errorf("dials %v, want [%s:443]", got, publicAddr)
	}
}

// TestHTTPSFetchIPv6: an IPv6 answer is dialled as a bracketed literal.
func TestHTTPSFetchIPv6(t *testing.T) {
	w := newTLSWorld(t, httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Write([]byte("ok"))
	})))
	w.resolver.Hosts["example.com"] = []string{"2001:db8::10"}
	c := w.client(t, fetch.Config{})
	if _, err := c.Get(context.Background(), "https://example.com:8443/jwks", ""); err != nil {
		t.Fatal(err)
	}
	if got := w.dialer.Dials(); len(got) != 1 || got[0] != "[2001:db8::10]:8443" {
		t.Errorf("dials %v, want [[2001:db8::10]:8443]", got)
	}
}

// TestAllowListedHTTP: an allow-listed loopback host is fetched over plain
// http; the same host is refused without the entry, or on another port.
func TestAllowListedHTTP(t *testing.T) {
	srv := testkit.NewServer(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Write([]byte("ok"))
	}))
	hostPort := srv.Listener.Addr().String()

	c, err := fetch.New(fetch.Config{AllowHosts: allow(t, hostPort)})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Get(context.Background(), srv.URL+"/x", "")
	if err != nil || string(res.Body) != "ok" {
		t.Fatalf("allow-listed: %q, %v", res, err)
	}

	for _, list := range []string{"", "127.0.0.1:1", "localhost"} {
		d := &testkit.Dialer{}
		c, err := fetch.New(fetch.Config{AllowHosts: allow(t, list), Dialer: d})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Get(context.Background(), srv.URL+"/x", "")
		wantKind(t, err, fetch.Refused, "only https")
		_, err = c.Get(context.Background(), "https://"+hostPort+"/x", "")
		wantKind(t, err, fetch.Refused, "loopback")
		if got := d.Dials(); len(got) != 0 {
			t.Errorf("allow list %q: dials %v, want none", list, got)
		}
	}
}

// TestRedirectToRefusedAddress: an allow-listed loopback server redirects
// to refused targets; each is refused before any connection to it (the only
// dial is to the allow-listed server).
func TestRedirectToRefusedAddress(t *testing.T) {
	var target string
	srv := testkit.NewServer(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		http.Redirect(rw, r, target, http.StatusFound)
	}))
	hostPort := srv.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(hostPort)
	for _, tc := range []struct{ target, say string }{
		{"https://metadata.test/latest/meta-data/", "metadata.test resolves to 169.254.169.254"},
		{"https://private.test/jwks", "private"},
		{"http://169.254.169.254/latest/meta-data/", "only https"},
		{"https://169.254.169.254/latest/meta-data/", "metadata"},
		{"https://[::1]:" + port + "/", "loopback"},
		{"https://[fd00:ec2::254]/", "metadata"},
		{"ftp://example.com/", "only https"},
	} {
		t.Run(tc.target, func(t *testing.T) {
			target = tc.target
			r := &testkit.Resolver{Hosts: map[string][]string{"metadata.test": {"169.254.169.254"}, "private.test": {"10.1.1.1"}}}
			d := &testkit.Dialer{}
			c, err := fetch.New(fetch.Config{AllowHosts: allow(t, hostPort), Resolver: r, Dialer: d})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Get(context.Background(), srv.URL+"/jwks", "")
			wantKind(t, err, fetch.Refused, tc.say)
			if got := d.Dials(); len(got) != 1 || got[0] != hostPort {
				t.Errorf("dials %v, want only [%s]", got, hostPort)
			}
		})
	}
}

// TestRedirectToPublicHost: a redirect to an https public host is followed.
func TestRedirectToPublicHost(t *testing.T) {
	w := newTLSWorld(t, httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Write([]byte("keys"))
	})))
	srv := testkit.NewServer(t, http.RedirectHandler("https://example.com/keys", http.StatusMovedPermanently))
	c := w.client(t, fetch.Config{AllowHosts: allow(t, srv.Listener.Addr().String())})
	res, err := c.Get(context.Background(), srv.URL+"/", "")
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Body) != "keys" || res.URL != "https://example.com/keys" {
		t.Errorf("body %q from %s", res.Body, res.URL)
	}
}

// TestRedirectLimit: three redirects are followed, a fourth is refused
// without being requested.
func TestRedirectLimit(t *testing.T) {
	var requests []string
	srv := testkit.NewServer(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		requests = append(requests, r.URL.Path)
		n := len(r.URL.Path) - len(strings.TrimRight(r.URL.Path, "x"))
		if n == 0 {
			rw.Write([]byte("done"))
			return
		}
		http.Redirect(rw, r, r.URL.Path[:len(r.URL.Path)-1], http.StatusFound)
	}))
	c, err := fetch.New(fetch.Config{AllowHosts: allow(t, srv.Listener.Addr().String())})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Get(context.Background(), srv.URL+"/r/xxx", "")
	if err != nil || string(res.Body) != "done" {
		t.Fatalf("3 redirects: %v", err)
	}
	requests = nil
	_, err = c.Get(context.Background(), srv.URL+"/r/xxxx", "")
	wantKind(t, err, fetch.Refused, "more than 3 redirects")
	if want := []string{"/r/xxxx", "/r/xxx", "/r/xx", "/r/x"}; strings.Join(requests, " ") != strings.Join(want, " ") {
		t.Errorf("requests %v, want %v", requests, want)
	}
}
