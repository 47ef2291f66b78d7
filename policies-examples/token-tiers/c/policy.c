/*
 * token-tiers: a Registrar issue_access_token hook. A client's access
 * tokens are capped by the tier its metadata names (an extra metadata
 * member, "tier" by default): the scope is narrowed to the tier's ceiling,
 * the audience comes from the configuration, the lifetime is capped, and
 * the token carries the tier as a claim. See ../README.md.
 */
#include "registrar.h"

static bool contains(reg_strs list, reg_str s) {
	for (size_t i = 0; i < list.len; i++) {
		if (list.items[i].len == s.len && memcmp(list.items[i].ptr, s.ptr, s.len) == 0)
			return true;
	}
	return false;
}

static reg_err issue(reg_access_token_input *in, reg_access_token_output *out) {
	reg_object *cfg, *tiers;
	if (reg_envelope_config(&in->env, &cfg) != REG_OK)
		return reg_fail("token-tiers: the configuration must be an object");
	if (!cfg)
		return reg_fail("token-tiers is not configured: set policy_config.token-tiers");
	reg_str member = reg_s("tier");
	if (reg_object_has(cfg, "member") && (reg_object_string(cfg, "member", &member) != REG_OK || member.len == 0))
		return reg_fail("token-tiers: member must be a non-empty string");
	if (reg_object_object(cfg, "tiers", &tiers) != REG_OK || !tiers)
		return reg_fail("token-tiers: tiers must be an object of scope arrays");
	reg_strs audience;
	if (reg_object_string_array(cfg, "audience", &audience) != REG_OK ||
	    (reg_object_has(cfg, "audience") && audience.len == 0))
		return reg_fail("token-tiers: audience must be a non-empty array of strings");
	int64_t max_lifetime;
	if (reg_object_int64(cfg, "max_lifetime", &max_lifetime) != REG_OK || max_lifetime < 0)
		return reg_fail("token-tiers: max_lifetime must be a positive number of seconds");

	reg_str tier;
	if (reg_object_string(in->metadata, member.ptr, &tier) != REG_OK)
		return reg_fail("token-tiers: the client's %s is not a string", member.ptr);
	if (tier.len == 0)
		return reg_reject(REG_UNAUTHORIZED_CLIENT, "the client has no %s: register one to get tokens", member.ptr);
	if (!reg_object_has(tiers, tier.ptr))
		return reg_reject(REG_ACCESS_DENIED, "tier \"%s\" gets no tokens here", tier.ptr);
	reg_strs ceiling;
	if (reg_object_string_array(tiers, tier.ptr, &ceiling) != REG_OK)
		return reg_fail("token-tiers: config tiers.%s must be an array of strings", tier.ptr);
	for (size_t i = 0; i < in->requested_scope.len; i++) {
		if (!contains(ceiling, in->requested_scope.items[i]))
			return reg_reject(REG_INVALID_SCOPE, "scope \"%s\" is beyond the %s tier", in->requested_scope.items[i].ptr,
			                  tier.ptr);
	}
	out->set_scope = true;
	out->scope.items = reg_alloc((in->scope.len + 1) * sizeof(reg_str));
	out->scope.len = 0;
	for (size_t i = 0; i < in->scope.len; i++) {
		if (contains(ceiling, in->scope.items[i]))
			out->scope.items[out->scope.len++] = in->scope.items[i];
	}
	if (audience.len > 0) {
		out->set_audience = true;
		out->audience = audience;
	}
	if (max_lifetime > 0 && max_lifetime < in->lifetime)
		out->lifetime = max_lifetime;
	reg_object_set_string(out->claims, "tier", tier);
	return REG_OK;
}

REGISTRAR_ISSUE_ACCESS_TOKEN(issue)
