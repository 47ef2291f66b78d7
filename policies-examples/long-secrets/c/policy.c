/*
 * long-secrets: a Registrar secret_factory that makes client secrets with
 * as much entropy as the tenant asks for (256 bits by default), in the
 * alphabet it asks for, with an optional prefix that makes leaked secrets
 * easy to find by scanners (sk_live_...). See ../README.md.
 */
#include "registrar.h"

static const struct {
	const char *name;
	const char *chars;
	int millibits; /* bits per character, rounded down, times 1,000 */
} alphabets[] = {
	{"base62", REG_BASE62, 5954},
	{"base32", REG_BASE32, 5000},
	{"hex", "0123456789abcdef", 4000},
	{"base64url", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 6000},
};

static reg_err make_secret(reg_factory_input *in, reg_str *secret) {
	reg_object *cfg;
	if (reg_envelope_config(&in->env, &cfg) != REG_OK)
		return reg_fail("configuration must be a JSON object");
	int64_t bits = 256;
	if (reg_object_has(cfg, "bits") && (reg_object_int64(cfg, "bits", &bits) != REG_OK || bits < 128 || bits > 3072))
		return reg_fail("configuration: bits must be an integer from 128 to 3072");
	reg_str name = reg_s("base62"), prefix = reg_s("");
	if (reg_object_string(cfg, "alphabet", &name) != REG_OK || reg_object_string(cfg, "prefix", &prefix) != REG_OK)
		return reg_fail("configuration: alphabet and prefix must be strings");
	if (name.len == 0)
		name = reg_s("base62");
	for (size_t i = 0; i < prefix.len; i++) {
		if ((unsigned char)prefix.ptr[i] <= ' ' || (unsigned char)prefix.ptr[i] >= 0x7f)
			return reg_fail("configuration: prefix must be printable ASCII without spaces");
	}
	for (size_t i = 0; i < sizeof alphabets / sizeof *alphabets; i++) {
		if (!reg_str_eq(name, alphabets[i].name))
			continue;
		/* enough characters for the bits, rounding up */
		size_t n = (size_t)((bits * 1000 + alphabets[i].millibits - 1) / alphabets[i].millibits);
		if (prefix.len + n > 512)
			return reg_fail("configuration: the secret would be %zu characters; at most 512 are allowed", prefix.len + n);
		*secret = reg_sprintf("%s%s", prefix.ptr, reg_random_string(n, alphabets[i].chars).ptr);
		reg_log(REG_DEBUG, "made a secret of %zu characters with %lld bits of entropy", secret->len, (long long)bits);
		return REG_OK;
	}
	return reg_fail("configuration: alphabet must be base62, base32, hex or base64url");
}

REGISTRAR_SECRET_FACTORY(make_secret)
