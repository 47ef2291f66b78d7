/*
 * The C SDK's conformance module: it exports every hook and does what its
 * input's config asks, as sdk/testdata/vectors/README.md specifies, so that
 * the shared ABI vectors exercise the whole SDK. It is built to
 * conformance.wasm beside this file and replayed by the host's tests
 * (go test ./plugins -run Vectors); vectors_test.c replays the same
 * vectors natively.
 */
#include "../registrar.h"

/* common applies the instructions every hook follows (log, fail, reject)
 * and returns the configuration in *cfg (an empty object if none). */
static reg_err common(const reg_envelope *env, reg_object **cfg) {
	if (reg_envelope_config(env, cfg) != REG_OK)
		return reg_fail("conformance: config must be an object");
	if (!*cfg)
		*cfg = reg_object_new();
	reg_str msg;
	REG_TRY(reg_object_string(*cfg, "log", &msg));
	if (msg.len > 0)
		reg_log(REG_INFO, "%s", msg.ptr);
	if (reg_object_has(*cfg, "fail")) {
		REG_TRY(reg_object_string(*cfg, "fail", &msg));
		return reg_fail_str(msg);
	}
	reg_object *r;
	REG_TRY(reg_object_object(*cfg, "reject", &r));
	if (r) {
		reg_str name, desc;
		REG_TRY(reg_object_string(r, "code", &name));
		REG_TRY(reg_object_string(r, "description", &desc));
		reg_code code;
		/* A name that is no reg_code fails the call here; a code of the
		 * wrong kind for the hook fails it in the SDK, as the ABI requires. */
		if (!reg_code_parse(name, &code))
			return reg_fail("rejected with %s, which is not a code", name.ptr);
		return reg_reject_str(code, desc);
	}
	return REG_OK;
}

/* copy_typed reads the members that a config list names with one typed
 * accessor, and copies each one present to x_<name> with its setter. */
static reg_err copy_typed(reg_object *cfg, reg_object *md, const char *list) {
	reg_strs names;
	REG_TRY(reg_object_string_array(cfg, list, &names));
	for (size_t i = 0; i < names.len; i++) {
		const char *name = names.items[i].ptr;
		const char *x = reg_sprintf("x_%s", name).ptr;
		if (strcmp(list, "strings") == 0) {
			reg_str v;
			REG_TRY(reg_object_string(md, name, &v));
			if (reg_object_has(md, name))
				reg_object_set_string(md, x, v);
		} else if (strcmp(list, "string_arrays") == 0) {
			reg_strs v;
			REG_TRY(reg_object_string_array(md, name, &v));
			if (reg_object_has(md, name))
				reg_object_set_string_array(md, x, v.items, v.len);
		} else if (strcmp(list, "bools") == 0) {
			bool v;
			REG_TRY(reg_object_bool(md, name, &v));
			if (reg_object_has(md, name))
				reg_object_set_bool(md, x, v);
		} else if (strcmp(list, "integers") == 0) {
			int64_t v;
			REG_TRY(reg_object_int64(md, name, &v));
			if (reg_object_has(md, name))
				reg_object_set_int64(md, x, v);
		} else {
			reg_object *v;
			REG_TRY(reg_object_object(md, name, &v));
			if (v)
				reg_object_set_object(md, x, v);
		}
	}
	return REG_OK;
}

/* statement applies the statement, statement_strings and
 * statement_string_arrays instructions: the software statement's members,
 * and its claims read with the typed accessors, copied to the metadata. */
static reg_err statement(reg_object *cfg, const reg_software_statement *st, reg_object *md) {
	bool yes;
	REG_TRY(reg_object_bool(cfg, "statement", &yes));
	if (yes) {
		reg_object_set_bool(md, "x_statement", st != NULL);
		if (st) {
			reg_object_set_string(md, "x_statement_issuer", st->issuer);
			reg_object_set_bool(md, "x_statement_verified", st->verified);
			reg_object_set_object(md, "x_statement_claims", st->claims);
		}
	}
	const reg_object *claims = st ? st->claims : NULL;
	reg_strs names;
	REG_TRY(reg_object_string_array(cfg, "statement_strings", &names));
	for (size_t i = 0; i < names.len; i++) {
		reg_str v;
		REG_TRY(reg_object_string(claims, names.items[i].ptr, &v));
		if (reg_object_has(claims, names.items[i].ptr))
			reg_object_set_string(md, reg_sprintf("x_claim_%s", names.items[i].ptr).ptr, v);
	}
	REG_TRY(reg_object_string_array(cfg, "statement_string_arrays", &names));
	for (size_t i = 0; i < names.len; i++) {
		reg_strs v;
		REG_TRY(reg_object_string_array(claims, names.items[i].ptr, &v));
		if (reg_object_has(claims, names.items[i].ptr))
			reg_object_set_string_array(md, reg_sprintf("x_claim_%s", names.items[i].ptr).ptr, v.items, v.len);
	}
	return REG_OK;
}

reg_err check_policy(reg_policy_input *in, reg_policy_output *out) {
	reg_object *cfg;
	REG_TRY(common(&in->env, &cfg));
	bool yes;
	REG_TRY(reg_object_bool(cfg, "as_is", &yes));
	if (yes)
		return REG_OK;
	reg_object *md = in->metadata;
	REG_TRY(reg_object_bool(cfg, "envelope", &yes));
	if (yes) {
		const reg_envelope *env = &in->env;
		reg_object_set_int64(md, "x_abi", env->abi);
		reg_object_set_string(md, "x_hook", env->hook);
		reg_object_set_string(md, "x_tenant", env->tenant);
		reg_object_set_int64(md, "x_now", env->now);
		reg_object_set_string(md, "x_token_kind", env->token.kind);
		reg_object_set_string(md, "x_token_id", env->token.id);
		reg_object_set_string_array(md, "x_token_policies", env->token.policies.items, env->token.policies.len);
		reg_object_set_string(md, "x_token_client_id", env->token.client_id);
		reg_object_set_string(md, "x_remote_ip", env->request.remote_ip);
		reg_object_set_string(md, "x_phase", reg_s(in->phase == REG_UPDATE ? "update" : "register"));
		reg_object_set_string(md, "x_client_id", in->client_id);
		reg_object_set_string_array(md, "x_policies", in->policies.items, in->policies.len);
		if (in->current)
			reg_object_set_object(md, "x_current", in->current);
	}
	REG_TRY(statement(cfg, in->software_statement, md));
	static const char *const lists[] = {"strings", "string_arrays", "bools", "integers", "objects"};
	for (size_t i = 0; i < sizeof lists / sizeof *lists; i++)
		REG_TRY(copy_typed(cfg, md, lists[i]));
	reg_strs names;
	REG_TRY(reg_object_string_array(cfg, "delete", &names));
	for (size_t i = 0; i < names.len; i++)
		reg_object_delete(md, names.items[i].ptr);
	reg_object *set;
	REG_TRY(reg_object_object(cfg, "set", &set));
	for (size_t i = 0; i < reg_object_len(set); i++)
		REG_TRY(reg_object_set_raw(md, reg_object_name(set, i).ptr, reg_object_raw(set, i)));
	if (reg_object_has(cfg, "registration_policies")) {
		REG_TRY(reg_object_string_array(cfg, "registration_policies", &out->registration_policies));
		out->set_registration_policies = true;
	}
	return REG_OK;
}

reg_err make_id(reg_factory_input *in, reg_str *id) {
	reg_object *cfg;
	REG_TRY(common(&in->env, &cfg));
	if (reg_object_has(cfg, "client_id"))
		return reg_object_string(cfg, "client_id", id);
	*id = reg_sprintf("%s-%s", in->env.tenant.ptr, reg_random_string(26, REG_BASE32).ptr);
	return REG_OK;
}

reg_err make_secret(reg_factory_input *in, reg_str *secret) {
	reg_object *cfg;
	REG_TRY(common(&in->env, &cfg));
	if (reg_object_has(cfg, "client_secret"))
		return reg_object_string(cfg, "client_secret", secret);
	int64_t n;
	REG_TRY(reg_object_int64(cfg, "length", &n));
	if (n == 0)
		n = 48;
	if (n < 1 || n > 512)
		return reg_fail("conformance: length must be 1 to 512");
	*secret = reg_random_string((size_t)n, REG_BASE62);
	return REG_OK;
}

reg_err decide(reg_decision_input *in, bool *decision) {
	reg_object *cfg;
	REG_TRY(common(&in->env, &cfg));
	if (reg_object_has(cfg, "decision"))
		return reg_object_bool(cfg, "decision", decision);
	reg_str method;
	REG_TRY(reg_object_string(in->metadata, "token_endpoint_auth_method", &method));
	*decision = !reg_str_eq(method, "none");
	return REG_OK;
}

reg_err issue_access_token(reg_access_token_input *in, reg_access_token_output *out) {
	reg_object *cfg;
	REG_TRY(common(&in->env, &cfg));
	bool b;
	REG_TRY(reg_object_bool(cfg, "as_is", &b));
	if (b)
		return REG_OK;
	REG_TRY(reg_object_bool(cfg, "envelope", &b));
	if (b) {
		reg_object *c = out->claims;
		reg_object_set_string(c, "x_client_id", in->client_id);
		reg_object_set_string(c, "x_grant_type", in->grant_type);
		reg_object_set_string(c, "x_auth_method", in->auth_method);
		reg_object_set_string_array(c, "x_requested_scope", in->requested_scope.items, in->requested_scope.len);
		reg_object_set_string_array(c, "x_allowed_scope", in->allowed_scope.items, in->allowed_scope.len);
		reg_object_set_string_array(c, "x_scope", in->scope.items, in->scope.len);
		reg_object_set_string_array(c, "x_resources", in->resources.items, in->resources.len);
		reg_object_set_string_array(c, "x_audience", in->audience.items, in->audience.len);
		reg_object_set_int64(c, "x_lifetime", in->lifetime);
		reg_object_set_string_array(c, "x_policies", in->policies.items, in->policies.len);
		reg_str method;
		REG_TRY(reg_object_string(in->metadata, "token_endpoint_auth_method", &method));
		reg_object_set_string(c, "x_token_endpoint_auth_method", method);
		if (reg_object_len(in->claims) > 0)
			reg_object_set_object(c, "x_claims", in->claims);
	}
	if (reg_object_has(cfg, "scope")) {
		out->set_scope = true;
		REG_TRY(reg_object_string_array(cfg, "scope", &out->scope));
	}
	if (reg_object_has(cfg, "audience")) {
		out->set_audience = true;
		REG_TRY(reg_object_string_array(cfg, "audience", &out->audience));
	}
	REG_TRY(reg_object_int64(cfg, "lifetime", &out->lifetime));
	reg_object *claims;
	REG_TRY(reg_object_object(cfg, "claims", &claims));
	for (size_t i = 0; i < reg_object_len(claims); i++)
		REG_TRY(reg_object_set_raw(out->claims, reg_object_name(claims, i).ptr, reg_object_raw(claims, i)));
	return REG_OK;
}

REGISTRAR_POLICY(check_policy)
REGISTRAR_ID_FACTORY(make_id)
REGISTRAR_SECRET_FACTORY(make_secret)
REGISTRAR_ISSUE_REGISTRATION_ACCESS_TOKEN(decide)
REGISTRAR_ROTATE_REGISTRATION_ACCESS_TOKEN(decide)
REGISTRAR_ISSUE_ACCESS_TOKEN(issue_access_token)
