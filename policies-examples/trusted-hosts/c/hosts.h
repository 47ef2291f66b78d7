/*
 * hosts.h: reading a URI's host strictly, the canonical form hosts are
 * compared in, and trusted-host patterns, by the rules of the example's
 * README, which every language's trusted-hosts follows. Results live in the
 * SDK's arena unless said otherwise.
 */
#ifndef TRUSTED_HOSTS_H
#define TRUSTED_HOSTS_H

#include "registrar.h"

/* A trusted host: an exact host, or "*.example.org" for every host below
 * example.org. host is canonical and, being configuration that is cached
 * between calls, on the heap. */
typedef struct {
	char *host;
	size_t len;
	bool wildcard;
} pattern;

/* parse_pattern reads a configured host; NULL, or why it is not one. */
const char *parse_pattern(reg_str s, pattern *p);
/* pattern_matches reports whether a canonical host is trusted by p. */
bool pattern_matches(const pattern *p, reg_str host);
/* uri_host sets *host to the canonical host of an absolute URI ("" for a
 * URI without an authority); NULL, or why the URI is not acceptable. */
const char *uri_host(reg_str uri, reg_str *host);
/* canonical_host sets *out to a host's canonical form; NULL, or why not. */
const char *canonical_host(reg_str h, reg_str *out);
/* punycode encodes a label (UTF-8) with RFC 3492's parameters. */
reg_str punycode(reg_str label);
/* quote quotes a URI for an error description. */
reg_str quote(reg_str s);

#endif
