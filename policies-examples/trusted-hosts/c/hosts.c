/*
 * hosts.c: see hosts.h. The IP address rules are those of Go's net/netip.
 */
#include "hosts.h"

#include <stdio.h>
#include <stdlib.h>

static bool has_byte(reg_str s, char c) { return memchr(s.ptr, c, s.len) != NULL; }

static reg_str sub(reg_str s, size_t from, size_t to) {
	reg_str r = {s.ptr + from, to - from};
	return r;
}

static bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* ---- IP addresses ---- */

typedef struct {
	uint8_t b[16];
	bool v6, zone;
} addr;

/* parse_ipv4 reads dotted decimal without leading zeros into out[0..3]. */
static bool parse_ipv4(reg_str s, uint8_t *out) {
	int val = 0, pos = 0, digits = 0;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.ptr[i];
		if (is_digit(c)) {
			if (digits == 1 && val == 0)
				return false; /* a leading zero */
			val = val * 10 + (c - '0');
			digits++;
			if (val > 255)
				return false;
		} else if (c == '.') {
			if (i == 0 || i == s.len - 1 || s.ptr[i - 1] == '.' || pos == 3)
				return false;
			out[pos++] = (uint8_t)val;
			val = 0;
			digits = 0;
		} else {
			return false;
		}
	}
	if (pos < 3)
		return false;
	out[3] = (uint8_t)val;
	return true;
}

static bool parse_ipv6(reg_str in, addr *a) {
	reg_str s = in;
	const char *pct = memchr(in.ptr, '%', in.len);
	memset(a, 0, sizeof *a);
	a->v6 = true;
	if (pct) {
		if (pct + 1 == in.ptr + in.len)
			return false; /* an empty zone */
		s.len = (size_t)(pct - in.ptr);
		a->zone = true;
	}
	int ellipsis = -1;
	if (s.len >= 2 && s.ptr[0] == ':' && s.ptr[1] == ':') {
		ellipsis = 0;
		s = sub(s, 2, s.len);
		if (s.len == 0)
			return true;
	}
	int i = 0;
	while (i < 16) {
		size_t off = 0;
		uint32_t acc = 0;
		for (; off < s.len; off++) {
			char c = s.ptr[off];
			uint32_t d;
			if (is_digit(c))
				d = (uint32_t)(c - '0');
			else if (c >= 'a' && c <= 'f')
				d = (uint32_t)(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				d = (uint32_t)(c - 'A' + 10);
			else
				break;
			acc = acc << 4 | d;
			if (off > 3 || acc > 0xffff)
				return false;
		}
		if (off == 0)
			return false;
		if (off < s.len && s.ptr[off] == '.') {
			if ((ellipsis < 0 && i != 12) || i + 4 > 16)
				return false;
			if (!parse_ipv4(s, a->b + i))
				return false;
			s.len = 0;
			i += 4;
			break;
		}
		a->b[i] = (uint8_t)(acc >> 8);
		a->b[i + 1] = (uint8_t)acc;
		i += 2;
		s = sub(s, off, s.len);
		if (s.len == 0)
			break;
		if (s.ptr[0] != ':' || s.len == 1)
			return false;
		s = sub(s, 1, s.len);
		if (s.ptr[0] == ':') {
			if (ellipsis >= 0)
				return false;
			ellipsis = i;
			s = sub(s, 1, s.len);
			if (s.len == 0)
				break;
		}
	}
	if (s.len != 0)
		return false;
	if (i < 16) {
		if (ellipsis < 0)
			return false;
		int n = 16 - i;
		for (int j = i - 1; j >= ellipsis; j--)
			a->b[j + n] = a->b[j];
		memset(a->b + ellipsis, 0, (size_t)n);
	} else if (ellipsis >= 0) {
		return false; /* the :: must stand for at least one group */
	}
	return true;
}

/* parse_addr reads an IP address as Go's netip.ParseAddr does. */
static bool parse_addr(reg_str s, addr *a) {
	for (size_t i = 0; i < s.len; i++) {
		char c = s.ptr[i];
		if (c == '.') {
			memset(a, 0, sizeof *a);
			return parse_ipv4(s, a->b + 12);
		}
		if (c == ':')
			return parse_ipv6(s, a);
		if (c == '%')
			return false;
	}
	return false;
}

/* format_addr prints an address as netip does, without its zone. */
static reg_str format_addr(const addr *a) {
	const uint8_t *b = a->b;
	if (!a->v6)
		return reg_sprintf("%u.%u.%u.%u", b[12], b[13], b[14], b[15]);
	bool mapped = b[10] == 0xff && b[11] == 0xff;
	for (int k = 0; k < 10; k++)
		mapped = mapped && b[k] == 0;
	if (mapped)
		return reg_sprintf("::ffff:%u.%u.%u.%u", b[12], b[13], b[14], b[15]);
	unsigned g[8];
	for (int k = 0; k < 8; k++)
		g[k] = (unsigned)b[2 * k] << 8 | b[2 * k + 1];
	int zs = 8, ze = 8; /* the first longest run of two or more zero groups */
	for (int k = 0; k < 8; k++) {
		int j = k;
		while (j < 8 && g[j] == 0)
			j++;
		if (j - k >= 2 && j - k > ze - zs)
			zs = k, ze = j;
	}
	char buf[48];
	size_t n = 0;
	for (int k = 0; k < 8; k++) {
		if (k == zs) {
			buf[n++] = ':';
			buf[n++] = ':';
			k = ze;
			if (k >= 8)
				break;
		} else if (k > 0) {
			buf[n++] = ':';
		}
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%x", g[k]);
	}
	reg_str r = {buf, n};
	return reg_strdup(r);
}

/* ---- names ---- */

/* plain_name reports whether h is already a canonical DNS name but for a
 * trailing dot: lower-case ASCII labels of 1 to 63 letters, digits, '-'
 * and '_', with a letter in the last one (so that it is no IP address). */
static bool plain_name(reg_str h) {
	if (h.len > 0 && h.ptr[h.len - 1] == '.')
		h.len--;
	if (h.len == 0 || h.len > 253)
		return false;
	int label = 0;
	bool letter = false;
	for (size_t i = 0; i < h.len; i++) {
		char c = h.ptr[i];
		if (is_lower(c)) {
			letter = true;
		} else if (c == '.') {
			if (label == 0)
				return false;
			label = -1;
			letter = false;
		} else if (!is_digit(c) && c != '-' && c != '_') {
			return false;
		}
		if (++label > 63)
			return false;
	}
	return label > 0 && letter;
}

/* next_rune decodes the UTF-8 character at s[*i] (valid UTF-8). */
static uint32_t next_rune(reg_str s, size_t *i) {
	const unsigned char *p = (const unsigned char *)s.ptr + *i;
	uint32_t c = p[0];
	size_t n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	if (n > 1)
		c &= 0x3f >> (n - 1);
	for (size_t k = 1; k < n && *i + k < s.len; k++)
		c = c << 6 | (p[k] & 0x3f);
	*i += n;
	return c;
}

reg_str punycode(reg_str label) {
	enum { BASE = 36, TMIN = 1, TMAX = 26, SKEW = 38, DAMP = 700 };
	uint32_t runes[256];
	size_t count = 0;
	for (size_t i = 0; i < label.len && count < 256;)
		runes[count++] = next_rune(label, &i);
	char *out = reg_alloc(8 * label.len + 8);
	size_t n_out = 0;
	for (size_t k = 0; k < count; k++)
		if (runes[k] < 0x80)
			out[n_out++] = (char)runes[k];
	uint32_t basic = (uint32_t)n_out, handled = basic;
	if (basic > 0)
		out[n_out++] = '-';
	uint32_t n = 128, delta = 0, bias = 72;
	while (handled < count) {
		uint32_t m = UINT32_MAX;
		for (size_t k = 0; k < count; k++)
			if (runes[k] >= n && runes[k] < m)
				m = runes[k];
		delta += (m - n) * (handled + 1);
		n = m;
		for (size_t k = 0; k < count; k++) {
			if (runes[k] < n)
				delta++;
			if (runes[k] != n)
				continue;
			uint32_t q = delta;
			for (uint32_t kk = BASE;; kk += BASE) {
				uint32_t t = kk <= bias ? TMIN : kk >= bias + TMAX ? TMAX : kk - bias;
				if (q < t)
					break;
				uint32_t d = t + (q - t) % (BASE - t);
				out[n_out++] = (char)(d < 26 ? 'a' + d : '0' + d - 26);
				q = (q - t) / (BASE - t);
			}
			out[n_out++] = (char)(q < 26 ? 'a' + q : '0' + q - 26);
			/* adapt */
			uint32_t dl = handled == basic ? delta / DAMP : delta / 2;
			dl += dl / (handled + 1);
			uint32_t kk = 0;
			while (dl > ((BASE - TMIN) * TMAX) / 2) {
				dl /= BASE - TMIN;
				kk += BASE;
			}
			bias = kk + (BASE - TMIN + 1) * dl / (dl + SKEW);
			delta = 0;
			handled++;
		}
		delta++;
		n++;
	}
	out[n_out] = 0;
	reg_str r = {out, n_out};
	return r;
}

const char *canonical_host(reg_str h, reg_str *out) {
	if (plain_name(h)) {
		if (h.ptr[h.len - 1] == '.')
			h.len--;
		*out = reg_strdup(h);
		return NULL;
	}
	addr a;
	if (parse_addr(h, &a)) {
		if (a.zone)
			return "an IPv6 zone is not a host";
		*out = format_addr(&a);
		return NULL;
	}
	if (h.len > 0 && h.ptr[h.len - 1] == '.')
		h.len--;
	if (h.len == 0 || h.len > 253)
		return "a host name has 1 to 253 characters";
	char *lower = reg_alloc(h.len);
	for (size_t i = 0; i < h.len; i++) {
		char c = h.ptr[i];
		lower[i] = c >= 'A' && c <= 'Z' ? (char)(c + 'a' - 'A') : c;
	}
	char *res = reg_alloc(8 * h.len + 64);
	size_t n = 0, start = 0;
	for (size_t i = 0; i <= h.len; i++) {
		if (i < h.len && lower[i] != '.')
			continue;
		reg_str l = {lower + start, i - start};
		bool ascii = true;
		for (size_t k = 0; k < l.len; k++)
			ascii = ascii && (unsigned char)l.ptr[k] < 0x80;
		if (!ascii) {
			reg_str p = punycode(l);
			l = reg_sprintf("xn--%s", p.ptr);
		}
		if (l.len == 0 || l.len > 63)
			return "a host name's labels have 1 to 63 characters";
		for (size_t k = 0; k < l.len; k++) {
			char c = l.ptr[k];
			if (!is_lower(c) && !is_digit(c) && c != '-' && c != '_')
				return "a host name has only letters, digits, '-' and '_'";
		}
		if (n > 0)
			res[n++] = '.';
		memcpy(res + n, l.ptr, l.len);
		n += l.len;
		start = i + 1;
	}
	res[n] = 0;
	out->ptr = res;
	out->len = n;
	return NULL;
}

/* ---- URIs ---- */

/* valid_scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 §3.1). */
static bool valid_scheme(reg_str s) {
	for (size_t i = 0; i < s.len; i++) {
		char c = s.ptr[i] | 0x20;
		if (!(is_lower(c) || (i > 0 && (is_digit(s.ptr[i]) || s.ptr[i] == '+' || s.ptr[i] == '-' || s.ptr[i] == '.'))))
			return false;
	}
	return s.len > 0;
}

static bool valid_port(reg_str s) {
	if (s.len > 5)
		return false;
	long n = 0;
	for (size_t i = 0; i < s.len; i++) {
		if (!is_digit(s.ptr[i]))
			return false;
		n = n * 10 + (s.ptr[i] - '0');
	}
	return n <= 65535;
}

static bool equal_fold(reg_str s, const char *lower) {
	if (s.len != strlen(lower))
		return false;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.ptr[i];
		if ((c >= 'A' && c <= 'Z' ? (char)(c + 32) : c) != lower[i])
			return false;
	}
	return true;
}

const char *uri_host(reg_str uri, reg_str *host) {
	*host = reg_s("");
	for (size_t i = 0; i < uri.len; i++) {
		unsigned char c = (unsigned char)uri.ptr[i];
		if (c <= ' ' || c == 0x7f || c == '\\')
			return "must not contain white space, control characters or backslashes";
	}
	const char *colon = memchr(uri.ptr, ':', uri.len);
	if (!colon || colon == uri.ptr || !valid_scheme(sub(uri, 0, (size_t)(colon - uri.ptr))))
		return "is not an absolute URI";
	reg_str scheme = sub(uri, 0, (size_t)(colon - uri.ptr)), rest = sub(uri, scheme.len + 1, uri.len);
	bool web = equal_fold(scheme, "https") || equal_fold(scheme, "http");
	if (rest.len < 2 || rest.ptr[0] != '/' || rest.ptr[1] != '/')
		return web ? "has no host" : NULL;
	reg_str auth = sub(rest, 2, rest.len);
	for (size_t i = 0; i < auth.len; i++) {
		if (auth.ptr[i] == '/' || auth.ptr[i] == '?' || auth.ptr[i] == '#') {
			auth.len = i;
			break;
		}
	}
	if (has_byte(auth, '@'))
		return "must not contain user information";
	reg_str h, port;
	if (auth.len > 0 && auth.ptr[0] == '[') {
		const char *end = memchr(auth.ptr, ']', auth.len);
		if (!end)
			return "has an invalid host";
		h = sub(auth, 1, (size_t)(end - auth.ptr));
		port = sub(auth, (size_t)(end - auth.ptr) + 1, auth.len);
		if (port.len > 0 && port.ptr[0] != ':')
			return "has an invalid host";
		addr a;
		if (!parse_addr(h, &a) || !a.v6 || a.zone)
			return "has an invalid IPv6 address";
	} else {
		h = auth;
		port = sub(auth, auth.len, auth.len);
		for (size_t i = auth.len; i > 0; i--) {
			if (auth.ptr[i - 1] == ':') {
				h = sub(auth, 0, i - 1);
				port = sub(auth, i - 1, auth.len);
				break;
			}
		}
		if (has_byte(h, ':'))
			return "has an invalid host"; /* an IPv6 address must be in brackets */
	}
	if (port.len > 0 && port.ptr[0] == ':')
		port = sub(port, 1, port.len);
	if (!valid_port(port))
		return "has an invalid port";
	if (h.len == 0)
		return web ? "has no host" : NULL;
	const char *err = canonical_host(h, host);
	if (err)
		return reg_sprintf("has an invalid host: %s", err).ptr;
	return NULL;
}

/* ---- patterns ---- */

const char *parse_pattern(reg_str s, pattern *p) {
	bool wildcard = s.len >= 2 && s.ptr[0] == '*' && s.ptr[1] == '.';
	reg_str rest = wildcard ? sub(s, 2, s.len) : s;
	if (has_byte(rest, '*'))
		return reg_sprintf("%s: a wildcard must be a whole first label, as in *.example.org", quote(s).ptr).ptr;
	if (rest.len > 0 && rest.ptr[rest.len - 1] == ']')
		rest.len--;
	if (rest.len > 0 && rest.ptr[0] == '[')
		rest = sub(rest, 1, rest.len);
	reg_str host;
	const char *err = canonical_host(rest, &host);
	if (err)
		return reg_sprintf("%s: %s", quote(s).ptr, err).ptr;
	if (wildcard) {
		addr a;
		if (parse_addr(host, &a))
			return reg_sprintf("%s: a wildcard needs a DNS name, not an IP address", quote(s).ptr).ptr;
		if (!has_byte(host, '.'))
			return reg_sprintf("%s: a wildcard needs at least two labels after *.", quote(s).ptr).ptr;
	}
	p->host = malloc(host.len + 1);
	if (!p->host)
		return "out of memory";
	memcpy(p->host, host.ptr, host.len + 1);
	p->len = host.len;
	p->wildcard = wildcard;
	return NULL;
}

bool pattern_matches(const pattern *p, reg_str host) {
	if (!p->wildcard)
		return host.len == p->len && memcmp(host.ptr, p->host, p->len) == 0;
	return host.len > p->len + 1 && memcmp(host.ptr + host.len - p->len, p->host, p->len) == 0 &&
	       host.ptr[host.len - p->len - 1] == '.';
}

reg_str quote(reg_str s) {
	const char *cut = "";
	if (s.len > 200) {
		size_t n = 200;
		while (n > 0 && ((unsigned char)s.ptr[n] & 0xc0) == 0x80)
			n--;
		s.len = n;
		cut = "...";
	}
	char *q = reg_alloc(2 * s.len + 8);
	size_t n = 0;
	q[n++] = '"';
	for (size_t i = 0; i < s.len; i++) {
		if (s.ptr[i] == '"' || s.ptr[i] == '\\')
			q[n++] = '\\';
		q[n++] = s.ptr[i];
	}
	memcpy(q + n, cut, strlen(cut));
	n += strlen(cut);
	q[n++] = '"';
	q[n] = 0;
	reg_str r = {q, n};
	return r;
}
