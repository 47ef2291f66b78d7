// Package fetch owns Registrar's outbound HTTP: the one guarded client
// through which every document the server fetches on someone's say-so is
// had — a client's jwks_uri, a software statement issuer's keys, a
// sector_identifier_uri.
//
// The guard, for every request and every redirect:
//
//   - https only, and no credentials in the URL;
//   - every address a host resolves to, and every address literal, is
//     checked before any connection (CheckAddr): loopback, private (RFC 1918,
//     ULA), link-local, CGNAT, multicast, unspecified, reserved and cloud
//     metadata addresses are refused, in IPv4-mapped and NAT64 forms too;
//     if one address of a host is refused, the host is;
//   - the connection goes to the address that was checked, never to a name
//     resolved again, so DNS rebinding cannot slip past the check; no proxy
//     from the environment is used;
//   - at most MaxRedirects redirects, each checked like the first request;
//   - a connect timeout, a total timeout that covers the body, a cap on the
//     body; only 200 is accepted.
//
// Hosts on the AllowList (`--fetch-allow-hosts`) are exempt from the address
// guard and may be fetched over plain http, for tests and internal
// deployments.
//
// Errors are *Error, classified by Kind (Refused, Unavailable, Invalid) so
// that callers can tell bad input from a server that cannot be had. Content
// types are not checked here: servers label JSON documents in many ways,
// and each caller knows what it will accept (it parses the body and reports
// a bad one as Invalid). The package imports only the standard library.
package fetch

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// MaxRedirects is the number of redirects a fetch follows; one more is
// refused.
const MaxRedirects = 3

// Defaults of Config.
const (
	DefaultMaxBodyBytes   = 512 << 10
	DefaultConnectTimeout = 5 * time.Second
	DefaultTimeout        = 10 * time.Second
	DefaultUserAgent      = "Registrar"
)

// Resolver looks up the addresses of a host; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Dialer opens connections; *net.Dialer is one.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Observation is what a Client reports of each fetch, for metrics.
type Observation struct {
	// Host is the host (and port, if the URL names one) of the URL asked
	// for. It comes from whoever named the URL: a metric should not use it
	// as a label without bounding the set of values.
	Host string
	// Kind is OK, or the Kind of the fetch's error.
	Kind Kind
	// Duration is the time from the start of Get to its return.
	Duration time.Duration
}

// Config configures a Client. The zero value is a guarded client with the
// defaults below.
type Config struct {
	// AllowHosts are exempt from the address guard and may be fetched
	// over http. Default: none.
	AllowHosts AllowList
	// MaxBodyBytes caps a response body; a longer one fails the fetch
	// (Invalid) after reading at most MaxBodyBytes+1 bytes of it. Default:
	// DefaultMaxBodyBytes (512 KiB).
	MaxBodyBytes int64
	// ConnectTimeout bounds each connection attempt, TCP and TLS handshake
	// each. Default: DefaultConnectTimeout (5 s).
	ConnectTimeout time.Duration
	// Timeout bounds a whole fetch: resolving, connecting, redirects and
	// reading the body. Default: DefaultTimeout (10 s).
	Timeout time.Duration
	// RootCAs are the certificate authorities trusted for https. Default:
	// the system's roots (so SSL_CERT_FILE and SSL_CERT_DIR work).
	RootCAs *x509.CertPool
	// Resolver looks up host names. Default: net.DefaultResolver.
	Resolver Resolver
	// Dialer connects to the checked addresses (and to allow-listed hosts
	// by name). Default: a net.Dialer whose Control refuses, once more, any
	// address the guard refuses, except for allow-listed hosts.
	Dialer Dialer
	// UserAgent is sent with every request. Default: DefaultUserAgent.
	UserAgent string
	// Observe, if set, is called once at the end of every Get. It must be
	// quick and safe for concurrent use.
	Observe func(Observation)
	// Now is the clock for Observation.Duration. Default: time.Now.
	Now func() time.Time
}

// Client fetches documents through the guard. It is safe for concurrent
// use; make one per process and share it.
type Client struct {
	cfg  Config
	http *http.Client
}

// Response is a fetched document: the answer to a 200.
type Response struct {
	// URL is the URL the body came from, after redirects.
	URL string
	// Header is the response's header (Cache-Control, Content-Type, ...).
	Header http.Header
	// Body is the whole body, at most Config.MaxBodyBytes long.
	Body []byte
}

// New returns a Client, or an error for a negative limit.
func New(cfg Config) (*Client, error) {
	switch {
	case cfg.MaxBodyBytes < 0:
		return nil, fmt.Errorf("fetch: MaxBodyBytes %d is negative", cfg.MaxBodyBytes)
	case cfg.ConnectTimeout < 0:
		return nil, fmt.Errorf("fetch: ConnectTimeout %s is negative", cfg.ConnectTimeout)
	case cfg.Timeout < 0:
		return nil, fmt.Errorf("fetch: Timeout %s is negative", cfg.Timeout)
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Client{cfg: cfg}
	guarded, open := cfg.Dialer, cfg.Dialer
	if cfg.Dialer == nil {
		guarded = &net.Dialer{Control: controlGuard}
		open = &net.Dialer{}
	}
	d := &dialer{allow: cfg.AllowHosts, resolver: cfg.Resolver, guarded: guarded, open: open, timeout: cfg.ConnectTimeout}
	tr := &http.Transport{
		Proxy:                  nil, // a proxy from the environment would dial past the guard
		DialContext:            d.DialContext,
		TLSClientConfig:        &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    cfg.ConnectTimeout,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           32,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	c.http = &http.Client{Transport: tr, CheckRedirect: c.checkRedirect}
	return c, nil
}

// Describe returns a one-line account of the guard, for the start-up log.
func (c *Client) Describe() string {
	s := fmt.Sprintf("outbound fetches: https only, public addresses only, at most %d redirects, bodies up to %d bytes, %s to connect, %s in all",
		MaxRedirects, c.cfg.MaxBodyBytes, c.cfg.ConnectTimeout, c.cfg.Timeout)
	if c.cfg.AllowHosts.Len() == 0 {
		return s + "; no host exempt"
	}
	return s + "; exempt (http allowed, address guard off): " + c.cfg.AllowHosts.String()
}

// Get fetches rawURL and returns its body, or an *Error. accept, if not
// empty, is sent as the Accept header; the response's Content-Type is not
// checked.
func (c *Client) Get(ctx context.Context, rawURL, accept string) (*Response, error) {
	start := c.cfg.Now()
	res, err := c.get(ctx, rawURL, accept)
	if c.cfg.Observe != nil {
		o := Observation{Kind: KindOf(err), Duration: c.cfg.Now().Sub(start)}
		if u, perr := url.Parse(rawURL); perr == nil {
			o.Host = u.Host
		}
		c.cfg.Observe(o)
	}
	return res, err
}

func (c *Client) get(ctx context.Context, rawURL, accept string) (*Response, error) {
	fail := func(k Kind, err error) (*Response, error) {
		return nil, &Error{Kind: k, URL: redact(rawURL), Err: err}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return fail(Refused, errors.New("not a URL"))
	}
	if err := c.checkURL(u); err != nil {
		return fail(Refused, err)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, c.cfg.Timeout,
		fmt.Errorf("timed out: no complete answer within %s: %w", c.cfg.Timeout, context.DeadlineExceeded))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fail(Refused, err)
	}
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fail(c.classify(ctx, err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooManyRequests:
		return fail(Unavailable, fmt.Errorf("the server answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode)))
	default:
		return fail(Invalid, fmt.Errorf("the server answered %d %s, want 200 OK", resp.StatusCode, http.StatusText(resp.StatusCode)))
	}
	limit := c.cfg.MaxBodyBytes
	if resp.ContentLength > limit {
		return fail(Invalid, fmt.Errorf("the body is %d bytes, more than the limit of %d", resp.ContentLength, limit))
	}
	var buf bytes.Buffer
	_, err = buf.ReadFrom(io.LimitReader(resp.Body, limit+1))
	if err == nil && ctx.Err() != nil {
		// The transport can end a body cut by the deadline with io.EOF.
		err = ctx.Err()
	}
	if err != nil {
		k, err := c.classify(ctx, err)
		return fail(k, fmt.Errorf("reading the body: %w", err))
	}
	if int64(buf.Len()) > limit {
		return fail(Invalid, fmt.Errorf("the body is more than the limit of %d bytes", limit))
	}
	return &Response{URL: resp.Request.URL.String(), Header: resp.Header, Body: buf.Bytes()}, nil
}

// CheckURL applies to a URL the checks that need no lookup, as Get would:
// the scheme (https, or http to an allowed host), no user information, and
// an address literal's address unless the host is allowed. Callers use it
// to refuse a URL when it is configured rather than when it is fetched.
func (c *Client) CheckURL(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return errors.New("not a URL")
	}
	return c.checkURL(u)
}

// checkURL applies the policy that needs no lookup: the scheme, the user
// information, and an address literal's address.
func (c *Client) checkURL(u *url.URL) error {
	host, port := u.Hostname(), u.Port()
	if host == "" {
		return errors.New("the URL has no host")
	}
	if u.User != nil {
		return errors.New("the URL carries user information")
	}
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	allowed := c.cfg.AllowHosts.Allows(host, port)
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowed:
	case u.Scheme == "http":
		return fmt.Errorf("plain http to %s; only https is allowed (or list the host in --fetch-allow-hosts)", u.Host)
	default:
		return fmt.Errorf("scheme %q; only https is allowed", u.Scheme)
	}
	if allowed {
		return nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return CheckAddr(a)
	}
	return nil
}

// checkRedirect is the http.Client's: a redirect is checked like the first
// request, and the fourth is refused.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > MaxRedirects {
		return &Error{Kind: Refused, Err: fmt.Errorf("more than %d redirects", MaxRedirects)}
	}
	if err := c.checkURL(req.URL); err != nil {
		return &Error{Kind: Refused, Err: fmt.Errorf("redirect to %s: %w", redact(req.URL.String()), err)}
	}
	return nil
}

// classify turns an error of the http.Client into a Kind and a cause for
// one line: the guard's refusals stay Refused, the rest is Unavailable.
func (c *Client) classify(ctx context.Context, err error) (Kind, error) {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Kind, fe.Err
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if ctx.Err() != nil {
		return Unavailable, context.Cause(ctx)
	}
	return Unavailable, err
}

// dialer is the Transport's DialContext: it resolves, checks every address,
// and dials a checked address.
type dialer struct {
	allow         AllowList
	resolver      Resolver
	guarded, open Dialer
	timeout       time.Duration
}

// DialContext implements the http.Transport hook.
func (d *dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	if d.allow.Allows(host, port) {
		return d.connect(ctx, d.open, network, addr)
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		addrs, err = d.resolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, fmt.Errorf("resolving %s: %w", host, err)
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("resolving %s: no addresses", host)
		}
	}
	for _, a := range addrs {
		if what := refusal(a); what != "" {
			err := fmt.Errorf("%s is a %s", a, what)
			if a.String() != host {
				err = fmt.Errorf("%s resolves to %s, a %s", host, a, what)
			}
			return nil, &Error{Kind: Refused, Err: err}
		}
	}
	var last error
	for _, a := range addrs {
		conn, err := d.connect(ctx, d.guarded, network, net.JoinHostPort(a.Unmap().String(), port))
		if err == nil {
			return conn, nil
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	if len(addrs) > 1 {
		return nil, fmt.Errorf("no address of %s answered (%d tried), the last: %w", host, len(addrs), last)
	}
	return nil, last
}

// connect dials, and names a connect timeout as such.
func (d *dialer) connect(ctx context.Context, dl Dialer, network, addr string) (net.Conn, error) {
	conn, err := dl.DialContext(ctx, network, addr)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil, fmt.Errorf("connecting to %s: no connection within %s: %w", addr, d.timeout, context.DeadlineExceeded)
	}
	return conn, err
}

// controlGuard is the default guarded net.Dialer's Control: a last check
// of the address the socket is about to connect to.
func controlGuard(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &Error{Kind: Refused, Err: fmt.Errorf("cannot check address %q", address)}
	}
	if err := CheckAddr(ap.Addr()); err != nil {
		return &Error{Kind: Refused, Err: err}
	}
	return nil
}
