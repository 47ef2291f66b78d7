/*
 * max-redirect-uris: a Registrar policy module that keeps client metadata
 * within limits: how many redirect URIs, how long a URI or any other
 * string, how many entries in an array, how many members, how many bytes in
 * all. Registrations are cheap to make and expensive to keep; these limits
 * keep one client from storing megabytes, and keep metadata that is
 * displayed (names, URIs) sane. See ../README.md.
 */
#include "registrar.h"

/* The limits, from policy_config.max-redirect-uris, with their defaults. */
typedef struct {
	int64_t redirect_uris, uri_length, contacts, string_length, array_length, members, metadata_bytes;
} limits;

static const struct {
	const char *name;
	size_t offset;
	int64_t fallback;
} limit_names[] = {
	{"max_redirect_uris", offsetof(limits, redirect_uris), 10},
	{"max_uri_length", offsetof(limits, uri_length), 2000},
	{"max_contacts", offsetof(limits, contacts), 5},
	{"max_string_length", offsetof(limits, string_length), 1000},
	{"max_array_length", offsetof(limits, array_length), 20},
	{"max_members", offsetof(limits, members), 64},
	{"max_metadata_bytes", offsetof(limits, metadata_bytes), 16384},
};

/* load reads the limits. A bad configuration is the operator's mistake,
 * not the client's: it fails the call. */
static reg_err load(const reg_envelope *env, limits *l) {
	reg_object *cfg;
	if (reg_envelope_config(env, &cfg) != REG_OK)
		return reg_fail("configuration must be a JSON object");
	for (size_t i = 0; i < sizeof limit_names / sizeof *limit_names; i++) {
		int64_t *v = (int64_t *)((char *)l + limit_names[i].offset);
		*v = limit_names[i].fallback;
		if (!reg_object_has(cfg, limit_names[i].name))
			continue;
		if (reg_object_int64(cfg, limit_names[i].name, v) != REG_OK || *v < 1)
			return reg_fail("configuration: %s must be a positive integer", limit_names[i].name);
	}
	return REG_OK;
}

/* A member that holds URIs: its name, before any language tag
 * (client_uri#fr), ends with "_uri" or "_uris". */
static bool ends_with(reg_str name, const char *suffix) {
	size_t base = name.len, n = strlen(suffix);
	const char *tag = memchr(name.ptr, '#', name.len);
	if (tag)
		base = (size_t)(tag - name.ptr);
	return base >= n && memcmp(name.ptr + base - n, suffix, n) == 0;
}

static reg_err check(reg_policy_input *in, reg_policy_output *out) {
	(void)out;
	limits l;
	REG_TRY(load(&in->env, &l));
	reg_object *md = in->metadata;
	size_t bytes = reg_object_json(md).len, members = reg_object_len(md);
	if ((int64_t)bytes > l.metadata_bytes)
		return reg_reject(REG_INVALID_CLIENT_METADATA, "the metadata is %zu bytes of JSON; at most %lld are allowed", bytes,
		                  (long long)l.metadata_bytes);
	if ((int64_t)members > l.members)
		return reg_reject(REG_INVALID_CLIENT_METADATA, "the metadata has %zu members; at most %lld are allowed", members,
		                  (long long)l.members);
	for (size_t i = 0; i < members; i++) {
		reg_str name = reg_object_name(md, i), raw = reg_object_raw(md, i);
		bool redirects = reg_str_eq(name, "redirect_uris");
		reg_code code = redirects ? REG_INVALID_REDIRECT_URI : REG_INVALID_CLIENT_METADATA;
		if (raw.ptr[0] == '"') {
			reg_str s;
			REG_TRY(reg_object_string(md, name.ptr, &s));
			bool uri = ends_with(name, "_uri");
			int64_t max = uri ? l.uri_length : l.string_length;
			if ((int64_t)s.len > max)
				return reg_reject(code, "%s is %zu bytes long; at most %lld are allowed", name.ptr, s.len, (long long)max);
		} else if (raw.ptr[0] == '[') {
			reg_strs items;
			if (reg_object_string_array(md, name.ptr, &items) != REG_OK)
				continue; /* not an array of strings: Registrar's validation judges it */
			int64_t max = redirects ? l.redirect_uris : reg_str_eq(name, "contacts") ? l.contacts : l.array_length;
			if ((int64_t)items.len > max)
				return reg_reject(code, "%s has %zu entries; at most %lld are allowed", name.ptr, items.len, (long long)max);
			bool uris = ends_with(name, "_uris");
			int64_t longest = uris ? l.uri_length : l.string_length;
			for (size_t k = 0; k < items.len; k++) {
				if ((int64_t)items.items[k].len > longest)
					return reg_reject(code, "%s: entry %zu is %zu bytes long; at most %lld are allowed", name.ptr, k + 1,
					                  items.items[k].len, (long long)longest);
			}
		}
	}
	return REG_OK;
}

REGISTRAR_POLICY(check)
