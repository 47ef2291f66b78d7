/*
 * registrar_test: the C SDK's unit tests, run natively (make test).
 */
#include <stdio.h>
#include <stdlib.h>

#include "../registrar.h"

static int failures;

#define CHECK(cond)                                                        \
	do {                                                                   \
		if (!(cond)) {                                                     \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
			failures++;                                                    \
		}                                                                  \
	} while (0)

static bool str_is(reg_str s, const char *want) {
	if (!reg_str_eq(s, want)) {
		fprintf(stderr, "  got  %.*s\n  want %s\n", (int)s.len, s.ptr, want);
		return false;
	}
	return true;
}

static void test_parse(void) {
	static const char *const valid[] = {
		"{}", "{\"a\":1}", " { \"a\" : [ 1 , { } ] , \"b\" : \"\\u00e9\\\"\" } ", "{\"n\":-12.5e+3,\"t\":true,\"f\":false,\"z\":null}",
	};
	static const char *const invalid[] = {
		"", "[]", "\"a\"", "{", "{\"a\"}", "{\"a\":}", "{a:1}", "{\"a\":1,}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":[1,]}",
		"{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"a\nb\"}", "{\"a\":[}", "{\"a\":1} {}", "{\"a\":tru}",
	};
	reg_object *o;
	for (size_t i = 0; i < sizeof valid / sizeof *valid; i++)
		CHECK(reg_object_parse(reg_s(valid[i]), &o) == REG_OK);
	for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++) {
		reg_err err = reg_object_parse(reg_s(invalid[i]), &o);
		CHECK(err != REG_OK && !reg_err_is_rejection(err));
	}
	/* Nesting beyond the 64 containers kept in bits. */
	char deep[1024] = "{\"a\":";
	for (int i = 0; i < 100; i++)
		strcat(deep, i % 2 ? "{\"b\":" : "[");
	strcat(deep, "1");
	for (int i = 99; i >= 0; i--)
		strcat(deep, i % 2 ? "}" : "]");
	strcat(deep, "}");
	CHECK(reg_object_parse(reg_s(deep), &o) == REG_OK);
	deep[strlen(deep) - 2] = '}'; /* mismatched: the outermost array closed by a brace */
	CHECK(reg_object_parse(reg_s(deep), &o) != REG_OK);
}

static void test_accessors(void) {
	reg_object *o;
	CHECK(reg_object_parse(reg_s("{\"s\":\"caf\\u00e9 \\ud83d\\ude00 \\ud800!\",\"plain\":\"abc\",\"a\":[\"x\",\"y\"],"
	                             "\"n\":-9223372036854775808,\"big\":9223372036854775808,\"f\":1.5,\"b\":true,\"z\":null,"
	                             "\"o\":{\"k\":[1]},\"mixed\":[\"x\",1]}"),
	                       &o) == REG_OK);
	reg_str s;
	CHECK(reg_object_string(o, "s", &s) == REG_OK && str_is(s, "caf\xc3\xa9 \xf0\x9f\x98\x80 \xef\xbf\xbd!"));
	CHECK(reg_object_string(o, "plain", &s) == REG_OK && str_is(s, "abc") && s.ptr[3] == 0);
	CHECK(reg_object_string(o, "absent", &s) == REG_OK && str_is(s, ""));
	CHECK(reg_object_string(o, "z", &s) == REG_OK && !reg_object_has(o, "z") && reg_object_get(o, "z", NULL));
	reg_strs a;
	CHECK(reg_object_string_array(o, "a", &a) == REG_OK && a.len == 2 && str_is(a.items[1], "y"));
	int64_t n;
	CHECK(reg_object_int64(o, "n", &n) == REG_OK && n == INT64_MIN);
	bool b;
	CHECK(reg_object_bool(o, "b", &b) == REG_OK && b);
	reg_object *inner;
	CHECK(reg_object_object(o, "o", &inner) == REG_OK && inner && reg_object_len(inner) == 1);
	CHECK(reg_object_object(o, "absent", &inner) == REG_OK && inner == NULL);

	struct {
		reg_err err;
		const char *want;
	} errors[] = {
		{reg_object_string(o, "n", &s), "n must be a string"},
		{reg_object_string_array(o, "mixed", &a), "mixed must be an array of strings"},
		{reg_object_string_array(o, "s", &a), "s must be an array of strings"},
		{reg_object_int64(o, "big", &n), "big must be an integer"},
		{reg_object_int64(o, "f", &n), "f must be an integer"},
		{reg_object_bool(o, "s", &b), "s must be true or false"},
		{reg_object_object(o, "a", &inner), "a must be an object"},
	};
	for (size_t i = 0; i < sizeof errors / sizeof *errors; i++) {
		CHECK(reg_err_is_rejection(errors[i].err) && reg_err_code(errors[i].err) == REG_INVALID_CLIENT_METADATA);
		CHECK(str_is(reg_err_message(errors[i].err), errors[i].want));
	}
}

static void test_setters(void) {
	reg_object *o;
	CHECK(reg_object_parse(reg_s("{\"a\":1,\"caf\\u00e9\":2,\"c\":3}"), &o) == REG_OK);
	reg_object_set_string(o, "a", reg_s("x\"\\\n\x01\xe2\x80\xa8\xff"));
	reg_object_delete(o, "c");
	reg_object_delete(o, "absent");
	reg_str items[] = {reg_s("p"), reg_s("q")};
	reg_object_set_string_array(o, "l", items, 2);
	reg_object_set_bool(o, "t", false);
	reg_object_set_int64(o, "i", INT64_MIN);
	CHECK(reg_object_set_raw(o, "r", reg_s("[1, {}]")) == REG_OK);
	CHECK(reg_object_set_raw(o, "bad", reg_s("[1,")) != REG_OK);
	CHECK(str_is(reg_object_json(o), "{\"a\":\"x\\\"\\\\\\n\\u0001\\u2028\\ufffd\",\"caf\xc3\xa9\":2,\"l\":[\"p\",\"q\"],"
	                                 "\"t\":false,\"i\":-9223372036854775808,\"r\":[1, {}]}"));
	reg_str s;
	CHECK(reg_object_string(o, "a", &s) == REG_OK && str_is(s, "x\"\\\n\x01\xe2\x80\xa8\xef\xbf\xbd"));
}

static reg_err reject_long(reg_policy_input *in, reg_policy_output *out) {
	(void)in, (void)out;
	char desc[1200];
	desc[0] = 'x';
	for (int i = 1; i < 1199; i += 2)
		desc[i] = (char)0xc3, desc[i + 1] = (char)0xa9;
	desc[1199] = 0;
	return reg_reject(REG_INVALID_REDIRECT_URI, "%s", desc);
}

static reg_err reject_controls(reg_policy_input *in, reg_policy_output *out) {
	(void)in, (void)out;
	return reg_reject(REG_UNAPPROVED_SOFTWARE_STATEMENT, "a\tb\x7f" "c\xc2\x85" "d\xff\xfe" "e");
}

static reg_err accept_with_policies(reg_policy_input *in, reg_policy_output *out) {
	reg_object_set_string(in->metadata, "tenant", in->env.tenant);
	static reg_str names[] = {{"a", 1}};
	out->set_registration_policies = true;
	out->registration_policies.items = names;
	out->registration_policies.len = 1;
	return REG_OK;
}

static reg_err broken(reg_policy_input *in, reg_policy_output *out) {
	(void)in, (void)out;
	return reg_fail("config is %s", "missing");
}

static void test_policy(void) {
	reg_str doc = reg_s("{\"abi\":1,\"hook\":\"policy\",\"phase\":\"register\",\"tenant\":\"t\",\"metadata\":{\"x\":[1]}}");
	reg_str out;
	CHECK(reg_run_policy(accept_with_policies, doc, &out) &&
	      str_is(out, "{\"metadata\":{\"x\":[1],\"tenant\":\"t\"},\"registration_policies\":[\"a\"]}"));
	CHECK(reg_run_policy(reject_controls, doc, &out) &&
	      str_is(out, "{\"error\":\"unapproved_software_statement\",\"error_description\":\"a b c d\xef\xbf\xbd" "e\"}"));
	CHECK(reg_run_policy(reject_long, doc, &out));
	/* "x" and 511 two-byte characters: 1,023 bytes, cut at a boundary. */
	CHECK(strstr(out.ptr, "\"error_description\":\"x") && out.len == strlen("{\"error\":\"invalid_redirect_uri\",\"error_description\":\"\"}") + 1023);
	CHECK(!reg_run_policy(broken, doc, &out) && str_is(out, "registrar: the policy hook failed: config is missing"));
	CHECK(!reg_run_policy(accept_with_policies, reg_s("{\"abi\":1,\"hook\":\"policy\"}"), &out) &&
	      strstr(out.ptr, "no phase"));
	CHECK(!reg_run_policy(accept_with_policies, reg_s("{\"phase\":\"register\",\"metadata\":[]}"), &out) &&
	      strstr(out.ptr, "\"metadata\": not a JSON object"));
}

/* statement_roles admits a client whose verified statement has the role
 * AISP; it writes what it read into the metadata. */
static reg_err statement_roles(reg_policy_input *in, reg_policy_output *out) {
	(void)out;
	const reg_software_statement *st = in->software_statement;
	if (!st)
		return reg_reject(REG_UNAPPROVED_SOFTWARE_STATEMENT, "no statement");
	reg_strs roles;
	REG_TRY(reg_object_string_array(st->claims, "software_roles", &roles));
	reg_str org;
	REG_TRY(reg_object_string(st->claims, "org_id", &org));
	reg_object_set_string(in->metadata, "issuer", st->issuer);
	reg_object_set_bool(in->metadata, "verified", st->verified);
	reg_object_set_string(in->metadata, "org", org);
	reg_object_set_int64(in->metadata, "claims", (int64_t)reg_object_len(st->claims));
	for (size_t i = 0; i < roles.len; i++)
		if (reg_str_eq(roles.items[i], "AISP"))
			return REG_OK;
	return reg_reject(REG_UNAPPROVED_SOFTWARE_STATEMENT, "no AISP role");
}

static void test_statement(void) {
	reg_str out;
	CHECK(reg_run_policy(statement_roles,
	                     reg_s("{\"abi\":1,\"hook\":\"policy\",\"phase\":\"register\",\"metadata\":{},"
	                           "\"software_statement\":{\"later\":[{}],\"issuer\":\"https://dir.example\",\"claims\":"
	                           "{\"org_id\":\"o\\u002d1\",\"software_roles\":[\"PISP\",\"AISP\"]},\"verified\":true}}"),
	                     &out) &&
	      str_is(out, "{\"metadata\":{\"issuer\":\"https://dir.example\",\"verified\":true,\"org\":\"o-1\",\"claims\":2}}"));
	static const char *const absent[] = {
		"{\"abi\":1,\"hook\":\"policy\",\"phase\":\"register\",\"metadata\":{}}",
		"{\"abi\":1,\"hook\":\"policy\",\"phase\":\"register\",\"metadata\":{},\"software_statement\":null}",
	};
	for (size_t i = 0; i < sizeof absent / sizeof *absent; i++)
		CHECK(reg_run_policy(statement_roles, reg_s(absent[i]), &out) && strstr(out.ptr, "no statement"));
	/* Null claims are an empty object, never NULL; verified false reads as false. */
	CHECK(reg_run_policy(statement_roles,
	                     reg_s("{\"abi\":1,\"hook\":\"policy\",\"phase\":\"register\",\"software_statement\":"
	                           "{\"claims\":null,\"verified\":false}}"),
	                     &out) &&
	      str_is(out, "{\"error\":\"unapproved_software_statement\",\"error_description\":\"no AISP role\"}"));
	/* A claim of the wrong type is the accessor's rejection. */
	CHECK(reg_run_policy(statement_roles,
	                     reg_s("{\"abi\":1,\"hook\":\"policy\",\"phase\":\"register\",\"software_statement\":"
	                           "{\"claims\":{\"software_roles\":\"AISP\"}}}"),
	                     &out) &&
	      str_is(out, "{\"error\":\"invalid_client_metadata\",\"error_description\":\"software_roles must be an array of strings\"}"));
	static const char *const bad[] = {
		"{\"abi\":1,\"hook\":\"policy\",\"phase\":\"register\",\"software_statement\":[1]}",
		"{\"abi\":1,\"hook\":\"policy\",\"phase\":\"register\",\"software_statement\":{\"claims\":[1]}}",
		"{\"abi\":1,\"hook\":\"policy\",\"phase\":\"register\",\"software_statement\":{\"verified\":\"yes\"}}",
		"{\"abi\":1,\"hook\":\"policy\",\"phase\":\"register\",\"software_statement\":{\"issuer\":5}}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		CHECK(!reg_run_policy(statement_roles, reg_s(bad[i]), &out) && strstr(out.ptr, "\"software_statement\""));
}

static reg_str factory_value;

static reg_err factory(reg_factory_input *in, reg_str *out) {
	(void)in;
	*out = factory_value;
	return REG_OK;
}

static void test_factories(void) {
	reg_str doc = reg_s("{\"abi\":1,\"hook\":\"id_factory\",\"tenant\":\"t\"}"), out;
	factory_value = reg_s("A.b_c~d-9");
	CHECK(reg_run_id_factory(factory, doc, &out) && str_is(out, "{\"client_id\":\"A.b_c~d-9\"}"));
	factory_value = reg_s("a b");
	CHECK(!reg_run_id_factory(factory, doc, &out) && strstr(out.ptr, "client_id"));
	factory_value = reg_s("0123456789abcdef0123456789abcdef\"");
	CHECK(reg_run_secret_factory(factory, doc, &out) && str_is(out, "{\"client_secret\":\"0123456789abcdef0123456789abcdef\\\"\"}"));
	factory_value = reg_s("short");
	CHECK(!reg_run_secret_factory(factory, doc, &out));
}

static void test_random(void) {
	reg_reset();
	reg_str s = reg_random_string(1000, REG_BASE32);
	CHECK(s.len == 1000 && strlen(s.ptr) == 1000 && strspn(s.ptr, REG_BASE32) == 1000);
	/* 1,000 draws from 32 characters miss one with probability < 1e-12. */
	for (const char *c = REG_BASE32; *c; c++)
		CHECK(strchr(s.ptr, *c) != NULL);
	CHECK(!reg_str_eq(reg_random_string(32, REG_BASE62), reg_random_string(32, REG_BASE62).ptr));
}

static void test_arena(void) {
	/* Allocations beyond a block, and reuse after a reset. */
	for (int round = 0; round < 3; round++) {
		reg_reset();
		for (int i = 0; i < 100; i++) {
			char *p = reg_alloc(1000);
			memset(p, i, 1000);
			CHECK(((uintptr_t)p & 7) == 0);
		}
		char *big = reg_alloc(1 << 20);
		memset(big, 1, 1 << 20);
	}
	reg_reset();
}

int main(void) {
	test_parse();
	test_accessors();
	test_setters();
	test_policy();
	test_statement();
	test_factories();
	test_random();
	test_arena();
	reg_reset();
	if (failures) {
		fprintf(stderr, "%d checks failed\n", failures);
		return 1;
	}
	printf("ok\n");
	return 0;
}
