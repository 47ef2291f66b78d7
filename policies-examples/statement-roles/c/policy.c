/*
 * statement-roles: a Registrar policy. A new client is admitted only when
 * its verified software statement (RFC 7591 §2.3) vouches for it with a
 * role or an organisation the tenant approves: a software_roles claim
 * holding one of the configured roles, or an org_id claim among the
 * configured organisations. Anything else is refused with
 * unapproved_software_statement. See ../README.md.
 */
#include "registrar.h"

static bool contains(reg_strs list, reg_str s) {
	for (size_t i = 0; i < list.len; i++) {
		if (list.items[i].len == s.len && memcmp(list.items[i].ptr, s.ptr, s.len) == 0)
			return true;
	}
	return false;
}

/* The module's configuration (policy_config.statement-roles). */
typedef struct {
	reg_strs roles;   /* approved software_roles */
	reg_strs org_ids; /* approved org_id values */
	reg_strs issuers; /* accepted issuers; empty: every issuer the tenant trusts */
} config;

static reg_err read_config(const reg_envelope *env, config *cfg) {
	reg_object *obj;
	if (reg_envelope_config(env, &obj) != REG_OK)
		return reg_fail("statement-roles: the configuration must be an object");
	if (!obj)
		return reg_fail("statement-roles is not configured: set policy_config.statement-roles");
	if (reg_object_string_array(obj, "roles", &cfg->roles) != REG_OK)
		return reg_fail("statement-roles: roles must be an array of strings");
	if (reg_object_string_array(obj, "org_ids", &cfg->org_ids) != REG_OK)
		return reg_fail("statement-roles: org_ids must be an array of strings");
	if (reg_object_string_array(obj, "issuers", &cfg->issuers) != REG_OK)
		return reg_fail("statement-roles: issuers must be an array of strings");
	if (cfg->roles.len == 0 && cfg->org_ids.len == 0)
		return reg_fail("statement-roles: set roles or org_ids (or both): with neither, no client is admitted");
	return REG_OK;
}

/* check admits or refuses a registration by its software statement. */
static reg_err check(reg_policy_input *in, reg_policy_output *out) {
	(void)out; /* out->metadata is in->metadata: admitted as it is */
	config cfg;
	REG_TRY(read_config(&in->env, &cfg));
	/* An update carries no verified statement (it must send the client's
	 * unchanged): the client was admitted when it registered. */
	if (in->phase == REG_UPDATE)
		return REG_OK;
	const reg_software_statement *st = in->software_statement;
	if (!st || !st->verified)
		return reg_reject(REG_UNAPPROVED_SOFTWARE_STATEMENT, "a verified software statement is required");
	if (cfg.issuers.len > 0 && !contains(cfg.issuers, st->issuer))
		return reg_reject(REG_UNAPPROVED_SOFTWARE_STATEMENT, "the software statement's issuer is not accepted here: %.*s",
		                  (int)st->issuer.len, st->issuer.ptr);
	/* The claims' own type errors would be invalid_client_metadata; a
	 * statement is refused with the statement's code. */
	reg_strs roles;
	if (reg_object_string_array(st->claims, "software_roles", &roles) != REG_OK)
		return reg_reject(REG_UNAPPROVED_SOFTWARE_STATEMENT, "the software_roles claim must be an array of strings");
	reg_str org;
	if (reg_object_string(st->claims, "org_id", &org) != REG_OK)
		return reg_reject(REG_UNAPPROVED_SOFTWARE_STATEMENT, "the org_id claim must be a string");
	for (size_t i = 0; i < roles.len; i++) {
		if (contains(cfg.roles, roles.items[i]))
			return REG_OK;
	}
	if (org.len > 0 && contains(cfg.org_ids, org))
		return REG_OK;
	return reg_reject(REG_UNAPPROVED_SOFTWARE_STATEMENT,
	                  "the software statement has no approved software_roles and no approved org_id");
}

REGISTRAR_POLICY(check)
