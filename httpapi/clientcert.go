package httpapi

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/oauth"
)

// DefaultClientCertHeader is the header a TLS-terminating proxy passes
// the client certificate in unless Config.ClientCertHeader names another:
// RFC 9440's Client-Cert.
const DefaultClientCertHeader = "Client-Cert"

// clientCertChainHeader carries the rest of the chain with Client-Cert
// (RFC 9440 §2.3).
const clientCertChainHeader = "Client-Cert-Chain"

// maxHeaderCerts bounds the certificates one request's headers may carry.
const maxHeaderCerts = 10

// certificates returns the client's certificate chain, leaf first: from
// the configured header when the request comes straight from one of the
// ClientCertProxies (the socket peer, never X-Forwarded-For), else from
// the TLS handshake. A certificate header from anyone else is ignored: a
// client could write any certificate into it.
func (h *handler) certificates(r *http.Request) ([]*x509.Certificate, error) {
	values := r.Header.Values(h.certHeader)
	if h.fromCertProxy(r) {
		if len(values) == 0 {
			return nil, nil
		}
		chain, err := parseCertHeader(h.certHeader, strings.Join(values, ","), r.Header.Values(clientCertChainHeader))
		if err != nil {
			h.log.WarnContext(r.Context(), "the client certificate header from a trusted proxy cannot be read", "header", h.certHeader, "err", err)
			return nil, engine.Errorf(engine.CodeInvalidRequest, "the %s header is not a client certificate", h.certHeader)
		}
		return chain, nil
	}
	if len(values) > 0 {
		h.log.DebugContext(r.Context(), "client certificate header ignored: the request does not come from a client certificate proxy", "header", h.certHeader, "remote_addr", r.RemoteAddr)
	}
	if r.TLS != nil {
		return r.TLS.PeerCertificates, nil
	}
	return nil, nil
}

// fromCertProxy reports whether the socket peer is one of the proxies
// whose certificate header is believed.
func (h *handler) fromCertProxy(r *http.Request) bool {
	if len(h.certProxies) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	peer = peer.Unmap()
	for _, p := range h.certProxies {
		if p.Contains(peer) {
			return true
		}
	}
	return false
}

// parseCertHeader reads the certificate chain, leaf first, that a proxy
// put in header name (value: its lines joined by commas):
//   - X-Forwarded-Client-Cert (Envoy): the last element's Chain, else its
//     Cert, each URL-encoded PEM;
//   - a byte sequence of RFC 9440 (":base64-DER:"), with the rest of the
//     chain in Client-Cert-Chain (chain) when the header is Client-Cert;
//   - URL-encoded PEM of one or more certificates (nginx
//     $ssl_client_escaped_cert, AWS ALB), PEM whose line breaks became
//     spaces, or comma-separated base64 DER (HAProxy ssl_c_der,base64,
//     Traefik).
func parseCertHeader(name, value string, chain []string) ([]*x509.Certificate, error) {
	var ders [][]byte
	var err error
	switch {
	case strings.EqualFold(name, "X-Forwarded-Client-Cert"):
		ders, err = xfccDER(value)
	case strings.HasPrefix(strings.TrimSpace(value), ":"):
		ders, err = sfBinaryList(value)
		if err == nil && len(ders) != 1 {
			err = errors.New("want one byte sequence")
		}
		if err == nil && strings.EqualFold(name, DefaultClientCertHeader) && len(chain) > 0 {
			var rest [][]byte
			rest, err = sfBinaryList(strings.Join(chain, ","))
			ders = append(ders, rest...)
		}
	default:
		ders, err = pemOrBase64DER(value)
	}
	if err != nil {
		return nil, err
	}
	return parseDERs(ders)
}

func parseDERs(ders [][]byte) ([]*x509.Certificate, error) {
	if len(ders) == 0 {
		return nil, errors.New("no certificate")
	}
	if len(ders) > maxHeaderCerts {
		return nil, fmt.Errorf("more than %d certificates", maxHeaderCerts)
	}
	out := make([]*x509.Certificate, len(ders))
	for i, der := range ders {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", i, err)
		}
		out[i] = c
	}
	return out, nil
}

// sfBinaryList decodes a list of byte sequences (RFC 8941 §3.1, §3.3.5):
// ":base64:" members separated by commas; parameters are ignored, and
// padding may be missing (§4.2.7).
func sfBinaryList(s string) ([][]byte, error) {
	var out [][]byte
	for _, m := range strings.Split(s, ",") {
		m = strings.Trim(m, " \t")
		if i := strings.IndexByte(m, ';'); i >= 0 {
			m = m[:i]
		}
		if len(m) < 2 || m[0] != ':' || m[len(m)-1] != ':' {
			return nil, errors.New("not a byte sequence (:base64:)")
		}
		b, err := decodeBase64(m[1 : len(m)-1])
		if err != nil {
			return nil, err
		}
		out = append(out, b)
		if len(out) > maxHeaderCerts {
			return nil, fmt.Errorf("more than %d certificates", maxHeaderCerts)
		}
	}
	return out, nil
}

func decodeBase64(s string) ([]byte, error) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("not base64")
	}
	return b, nil
}

const (
	pemBegin = "-----BEGIN CERTIFICATE-----"
	pemEnd   = "-----END CERTIFICATE-----"
)

// pemOrBase64DER decodes URL-encoded (or plain) PEM, or base64 DER
// certificates separated by commas.
func pemOrBase64DER(value string) ([][]byte, error) {
	s, err := url.PathUnescape(strings.TrimSpace(value))
	if err != nil {
		return nil, errors.New("not URL-encoded")
	}
	if !strings.Contains(s, pemBegin) {
		var out [][]byte
		for _, part := range strings.Split(s, ",") {
			b, err := decodeBase64(strings.Join(strings.Fields(part), ""))
			if err != nil {
				return nil, errors.New("neither PEM nor base64 DER")
			}
			out = append(out, b)
			if len(out) > maxHeaderCerts {
				return nil, fmt.Errorf("more than %d certificates", maxHeaderCerts)
			}
		}
		return out, nil
	}
	return pemDER(s)
}

// pemDER decodes the CERTIFICATE blocks of PEM text whose line breaks may
// have become spaces or tabs; nothing but blocks and white space is
// allowed.
func pemDER(s string) ([][]byte, error) {
	var out [][]byte
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		if s == "" {
			return out, nil
		}
		if !strings.HasPrefix(s, pemBegin) {
			return nil, errors.New("text outside a CERTIFICATE block")
		}
		body, rest, ok := strings.Cut(s[len(pemBegin):], pemEnd)
		if !ok {
			return nil, errors.New("a CERTIFICATE block has no end")
		}
		der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(body), ""))
		if err != nil {
			return nil, errors.New("a CERTIFICATE block is not base64")
		}
		out = append(out, der)
		if len(out) > maxHeaderCerts {
			return nil, fmt.Errorf("more than %d certificates", maxHeaderCerts)
		}
		s = rest
	}
}

// xfccDER reads Envoy's X-Forwarded-Client-Cert: elements separated by
// commas, one per proxy hop, each key=value pairs separated by
// semicolons, values optionally quoted. The last element is the one the
// nearest proxy added: its Chain (leaf first), else its Cert.
func xfccDER(value string) ([][]byte, error) {
	elems, err := splitQuoted(value, ',')
	if err != nil {
		return nil, err
	}
	pairs, err := splitQuoted(elems[len(elems)-1], ';')
	if err != nil {
		return nil, err
	}
	var cert, chain string
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return nil, errors.New("an X-Forwarded-Client-Cert pair has no '='")
		}
		v, err := unquote(strings.TrimSpace(v))
		if err != nil {
			return nil, err
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "cert":
			cert = v
		case "chain":
			chain = v
		}
	}
	if chain != "" {
		cert = chain
	}
	if cert == "" {
		return nil, errors.New("the last X-Forwarded-Client-Cert element has no Cert")
	}
	s, err := url.PathUnescape(cert)
	if err != nil {
		return nil, errors.New("the Cert value is not URL-encoded")
	}
	return pemDER(s)
}

// splitQuoted splits s at sep outside double quotes, where a backslash
// escapes the next character.
func splitQuoted(s string, sep byte) ([]string, error) {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == sep && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if quoted {
		return nil, errors.New("an unterminated quoted string")
	}
	return append(out, s[start:]), nil
}

// unquote removes the quotes and escapes of a quoted value; an unquoted
// one is returned as it is.
func unquote(v string) (string, error) {
	if len(v) < 2 || v[0] != '"' {
		return v, nil
	}
	if v[len(v)-1] != '"' {
		return "", errors.New("a malformed quoted string")
	}
	var b strings.Builder
	for i := 1; i < len(v)-1; i++ {
		if v[i] == '\\' && i+1 < len(v)-1 {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String(), nil
}

// validHeaderName reports whether s is a field name: an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// receivesCertificates reports whether client certificates can reach the
// token endpoint: the request came over TLS (the public listener asks
// for client certificates), or certificate proxies are configured.
// Discovery advertises the mutual TLS methods and certificate-bound
// tokens only then.
func (h *handler) receivesCertificates(r *http.Request) bool {
	return r.TLS != nil || len(h.certProxies) > 0
}

// withoutTLSMethods drops the mutual TLS methods from a list of methods.
func withoutTLSMethods(methods []string) []string {
	return slices.DeleteFunc(methods, func(m string) bool {
		return m == oauth.MethodTLSClientAuth || m == oauth.MethodSelfSignedTLS
	})
}
