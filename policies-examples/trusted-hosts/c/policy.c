/*
 * trusted-hosts: a Registrar policy module that accepts redirect URIs,
 * post-logout redirect URIs and client URIs only on the hosts its
 * configuration trusts, and gives clients without a name a default one.
 * See ../README.md; every language's trusted-hosts passes ../cases.json.
 */
#include <stdlib.h>

#include "hosts.h"
#include "registrar.h"

/* The module's configuration (the tenant's policy_config.trusted-hosts),
 * kept on the heap with the JSON it was parsed from: an instance usually
 * serves one tenant, so this saves parsing it on every call. (An instance
 * may be replaced at any time; this is only a cache.) */
static struct {
	char *raw;
	size_t raw_len;
	pattern *hosts;
	size_t n_hosts;
	char *default_name; /* "" for none */
	bool private_use;   /* accept redirect URIs without a host (RFC 8252 §7.1) */
} cfg;

static void forget_config(void) {
	for (size_t i = 0; i < cfg.n_hosts; i++)
		free(cfg.hosts[i].host);
	free(cfg.hosts);
	free(cfg.raw);
	free(cfg.default_name);
	memset(&cfg, 0, sizeof cfg);
}

/* load_config parses the configuration unless it is the cached one. A bad
 * one is the operator's mistake, not the client's: it fails the call. */
static reg_err load_config(reg_str raw) {
	if (cfg.raw && raw.len == cfg.raw_len && memcmp(raw.ptr, cfg.raw, raw.len) == 0)
		return REG_OK;
	forget_config();
	if (raw.len == 0)
		return reg_fail("no configuration: set policy_config.trusted-hosts.hosts for the tenant");
	reg_object *obj;
	if (reg_object_parse(raw, &obj) != REG_OK)
		return reg_fail("configuration must be a JSON object");
	reg_strs hosts;
	if (reg_object_string_array(obj, "hosts", &hosts) != REG_OK || hosts.len == 0)
		return reg_fail("configuration: hosts must be a non-empty array of host names");
	reg_str name;
	if (reg_object_string(obj, "default_client_name", &name) != REG_OK)
		return reg_fail("configuration: default_client_name must be a string");
	bool private_use;
	if (reg_object_bool(obj, "allow_private_use_schemes", &private_use) != REG_OK)
		return reg_fail("configuration: allow_private_use_schemes must be true or false");
	cfg.hosts = calloc(hosts.len, sizeof *cfg.hosts);
	if (!cfg.hosts)
		return reg_fail("out of memory");
	for (size_t i = 0; i < hosts.len; i++) {
		const char *err = parse_pattern(hosts.items[i], &cfg.hosts[i]);
		if (err) {
			forget_config();
			return reg_fail("configuration: hosts: %s", err);
		}
		cfg.n_hosts++;
	}
	cfg.default_name = strdup(name.ptr);
	cfg.private_use = private_use;
	cfg.raw = malloc(raw.len);
	if (!cfg.default_name || !cfg.raw) {
		forget_config();
		return reg_fail("out of memory");
	}
	memcpy(cfg.raw, raw.ptr, raw.len);
	cfg.raw_len = raw.len;
	return REG_OK;
}

/* judge returns why a URI is not acceptable, or NULL. */
static const char *judge(reg_str uri, bool redirect) {
	reg_str host;
	const char *err = uri_host(uri, &host);
	if (err)
		return err;
	if (host.len == 0)
		return redirect && cfg.private_use ? NULL : "has no host"; /* private-use: Registrar decides */
	for (size_t i = 0; i < cfg.n_hosts; i++)
		if (pattern_matches(&cfg.hosts[i], host))
			return NULL;
	return "is not on a trusted host";
}

/* check_uris judges every URI of an array member. A member of the wrong
 * type is rejected: the policy runs before Registrar's validation, and a
 * value it cannot read must not slip past it. */
static reg_err check_uris(reg_object *md, const char *name, reg_code code, bool redirect) {
	reg_strs uris;
	REG_TRY(reg_object_string_array(md, name, &uris));
	for (size_t i = 0; i < uris.len; i++) {
		const char *why = judge(uris.items[i], redirect);
		if (why)
			return reg_reject(code, "%s: %s %s", name, quote(uris.items[i]).ptr, why);
	}
	return REG_OK;
}

static reg_err check(reg_policy_input *in, reg_policy_output *out) {
	(void)out; /* out->metadata is in->metadata, changed in place */
	REG_TRY(load_config(in->env.config));
	reg_object *md = in->metadata;
	REG_TRY(check_uris(md, "redirect_uris", REG_INVALID_REDIRECT_URI, true));
	REG_TRY(check_uris(md, "post_logout_redirect_uris", REG_INVALID_CLIENT_METADATA, false));
	/* client_uri and its language-tagged forms (client_uri#fr, RFC 7591 §2.2). */
	for (size_t i = 0; i < reg_object_len(md); i++) {
		reg_str name = reg_object_name(md, i);
		if (!reg_str_eq(name, "client_uri") && strncmp(name.ptr, "client_uri#", 11) != 0)
			continue;
		reg_str uri;
		REG_TRY(reg_object_string(md, name.ptr, &uri));
		if (uri.len == 0)
			continue;
		const char *why = judge(uri, false);
		if (why)
			return reg_reject(REG_INVALID_CLIENT_METADATA, "%s: %s %s", name.ptr, quote(uri).ptr, why);
	}
	if (cfg.default_name[0] && !reg_object_has(md, "client_name"))
		reg_object_set_string(md, "client_name", reg_s(cfg.default_name));
	return REG_OK;
}

REGISTRAR_POLICY(check)
