/*
 * vectors_test replays the ABI vectors (sdk/testdata/vectors) natively
 * against the conformance module's handlers, through the SDK's reg_run_*
 * functions. The host's test replays them against the built module; this
 * one checks the same answers without WebAssembly.
 *
 * Usage: vectors_test <vectors folder>
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "../registrar.h"

reg_err check_policy(reg_policy_input *in, reg_policy_output *out);
reg_err make_id(reg_factory_input *in, reg_str *id);
reg_err make_secret(reg_factory_input *in, reg_str *secret);
reg_err decide(reg_decision_input *in, bool *decision);
reg_err issue_access_token(reg_access_token_input *in, reg_access_token_output *out);

/* ---- an independent JSON reader: members in order, numbers as written,
 * strings decoded to WTF-8 (lone surrogates kept), raw text kept ---- */

typedef struct jv {
	enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } kind;
	char *s; /* J_NUM: the text; J_STR: the decoded bytes */
	size_t len;
	bool b;
	struct jv *items; /* J_ARR elements, J_OBJ values */
	char **names;     /* J_OBJ names */
	size_t n;
	const char *raw; /* the value as written */
	size_t rawlen;
} jv;

static const char *p, *end;

static void ws(void) {
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
}

static bool parse(jv *v);

static void put(char **s, size_t *len, size_t *cap, uint32_t cp) {
	if (*len + 4 >= *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*s = realloc(*s, *cap);
	}
	char *o = *s + *len;
	if (cp < 0x80) {
		o[0] = (char)cp, *len += 1;
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6), o[1] = (char)(0x80 | (cp & 0x3f)), *len += 2;
	} else if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12), o[1] = (char)(0x80 | (cp >> 6 & 0x3f)), o[2] = (char)(0x80 | (cp & 0x3f)), *len += 3;
	} else {
		o[0] = (char)(0xf0 | cp >> 18), o[1] = (char)(0x80 | (cp >> 12 & 0x3f)), o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[3] = (char)(0x80 | (cp & 0x3f)), *len += 4;
	}
	(*s)[*len] = 0;
}

static bool parse_string(jv *v) {
	size_t cap = 0;
	v->kind = J_STR;
	v->s = NULL;
	v->len = 0;
	put(&v->s, &v->len, &cap, 0);
	v->len = 0;
	p++;
	while (p < end && *p != '"') {
		if (*p != '\\') {
			if (v->len + 1 >= cap) {
				cap *= 2;
				v->s = realloc(v->s, cap);
			}
			v->s[v->len++] = *p++;
			v->s[v->len] = 0;
			continue;
		}
		char e = p[1];
		p += 2;
		uint32_t cp = (uint32_t)e;
		if (e == 'b') cp = 8;
		if (e == 'f') cp = 12;
		if (e == 'n') cp = 10;
		if (e == 'r') cp = 13;
		if (e == 't') cp = 9;
		if (e == 'u') {
			char hex[5] = {p[0], p[1], p[2], p[3], 0};
			cp = (uint32_t)strtoul(hex, NULL, 16);
			p += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && p + 6 <= end && p[0] == '\\' && p[1] == 'u') {
				char lo[5] = {p[2], p[3], p[4], p[5], 0};
				uint32_t c2 = (uint32_t)strtoul(lo, NULL, 16);
				if (c2 >= 0xdc00 && c2 < 0xe000) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (c2 - 0xdc00);
					p += 6;
				}
			}
		}
		put(&v->s, &v->len, &cap, cp);
	}
	if (p >= end)
		return false;
	p++;
	return true;
}

static bool parse(jv *v) {
	ws();
	memset(v, 0, sizeof *v);
	v->raw = p;
	if (p >= end)
		return false;
	if (*p == '{' || *p == '[') {
		bool obj = *p == '{';
		v->kind = obj ? J_OBJ : J_ARR;
		p++;
		ws();
		size_t cap = 0;
		if (p < end && *p == (obj ? '}' : ']')) {
			p++;
		} else {
			for (;;) {
				if (v->n == cap) {
					cap = cap ? cap * 2 : 8;
					v->items = realloc(v->items, cap * sizeof *v->items);
					v->names = realloc(v->names, cap * sizeof *v->names);
				}
				if (obj) {
					jv name;
					ws();
					if (p >= end || *p != '"' || !parse_string(&name))
						return false;
					v->names[v->n] = name.s;
					ws();
					if (p >= end || *p++ != ':')
						return false;
				}
				if (!parse(&v->items[v->n++]))
					return false;
				ws();
				if (p < end && *p == ',') {
					p++;
					continue;
				}
				if (p < end && *p == (obj ? '}' : ']')) {
					p++;
					break;
				}
				return false;
			}
		}
	} else if (*p == '"') {
		if (!parse_string(v))
			return false;
	} else if (strncmp(p, "true", 4) == 0 || strncmp(p, "false", 5) == 0) {
		v->kind = J_BOOL;
		v->b = *p == 't';
		p += v->b ? 4 : 5;
	} else if (strncmp(p, "null", 4) == 0) {
		v->kind = J_NULL;
		p += 4;
	} else {
		v->kind = J_NUM;
		const char *start = p;
		while (p < end && strchr("-+.eE0123456789", *p))
			p++;
		if (p == start)
			return false;
		v->len = (size_t)(p - start);
		v->s = strndup(start, v->len);
	}
	v->rawlen = (size_t)(p - v->raw);
	return true;
}

static bool parse_text(const char *text, size_t n, jv *v) {
	p = text;
	end = text + n;
	if (!parse(v))
		return false;
	ws();
	return p == end;
}

static bool equal(const jv *a, const jv *b) {
	if (a->kind != b->kind || a->n != b->n)
		return false;
	switch (a->kind) {
	case J_NULL: return true;
	case J_BOOL: return a->b == b->b;
	case J_NUM:
	case J_STR: return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
	default:
		for (size_t i = 0; i < a->n; i++) {
			if ((a->kind == J_OBJ && strcmp(a->names[i], b->names[i]) != 0) || !equal(&a->items[i], &b->items[i]))
				return false;
		}
		return true;
	}
}

static const jv *get(const jv *o, const char *name) {
	for (size_t i = 0; o && o->kind == J_OBJ && i < o->n; i++) {
		if (strcmp(o->names[i], name) == 0)
			return &o->items[i];
	}
	return NULL;
}

/* matches handles the vectors' regular expressions: ^, $, literals and
 * [...] classes of ranges, each optionally followed by {n}. */
static bool matches(const char *re, const char *s) {
	if (*re == '^')
		re++;
	while (*re && *re != '$') {
		char set[64] = {0};
		size_t nset = 0;
		if (*re == '[') {
			for (re++; *re != ']'; re++)
				set[nset++] = *re;
			re++;
		} else {
			set[nset++] = *re++;
		}
		long count = 1;
		if (*re == '{') {
			count = strtol(re + 1, (char **)&re, 10);
			re++;
		}
		for (long k = 0; k < count; k++, s++) {
			bool ok = false;
			for (size_t i = 0; i < nset && *s; i++) {
				if (i + 2 < nset && set[i + 1] == '-') {
					ok = ok || (*s >= set[i] && *s <= set[i + 2]);
					i += 2;
				} else {
					ok = ok || *s == set[i];
				}
			}
			if (!ok)
				return false;
		}
	}
	return *s == 0;
}

/* ---- the replay ---- */

static char logged[1 << 16];
static size_t logged_len;

static void capture(reg_level level, reg_str line) {
	(void)level;
	if (logged_len + line.len + 1 < sizeof logged) {
		memcpy(logged + logged_len, line.ptr, line.len);
		logged_len += line.len;
		logged[logged_len++] = '\n';
		logged[logged_len] = 0;
	}
}

static char *read_file(const char *path, size_t *n) {
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	*n = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	char *text = malloc(*n + 1);
	if (fread(text, 1, *n, f) != *n) {
		fclose(f);
		return NULL;
	}
	text[*n] = 0;
	fclose(f);
	return text;
}

static int failures, total;

static void fail(const char *hook, const char *name, const char *why, reg_str out) {
	fprintf(stderr, "FAIL %s: %s: %s\n  output: %.*s\n", hook, name, why, (int)out.len, out.ptr);
	failures++;
}

static void replay(const char *hook, const jv *v) {
	const jv *name = get(v, "name"), *input = get(v, "input"), *text = get(v, "input_text");
	reg_str doc = input ? (reg_str){input->raw, input->rawlen} : (reg_str){text->s, text->len};
	reg_str out;
	bool ok;
	logged_len = 0;
	logged[0] = 0;
	total++;
	if (strcmp(hook, "policy") == 0)
		ok = reg_run_policy(check_policy, doc, &out);
	else if (strcmp(hook, "id_factory") == 0)
		ok = reg_run_id_factory(make_id, doc, &out);
	else if (strcmp(hook, "secret_factory") == 0)
		ok = reg_run_secret_factory(make_secret, doc, &out);
	else if (strcmp(hook, "issue_registration_access_token") == 0)
		ok = reg_run_issue_registration_access_token(decide, doc, &out);
	else if (strcmp(hook, "issue_access_token") == 0)
		ok = reg_run_issue_access_token(issue_access_token, doc, &out);
	else
		ok = reg_run_rotate_registration_access_token(decide, doc, &out);
	const jv *want_log = get(v, "want_log");
	if (get(v, "want_failure")) {
		if (ok)
			return fail(hook, name->s, "succeeded; want a failure", out);
		if (want_log && !strstr(out.ptr, want_log->s))
			fail(hook, name->s, "the failure does not name want_log", out);
		return;
	}
	if (!ok)
		return fail(hook, name->s, "failed", out);
	if (want_log && !strstr(logged, want_log->s))
		fail(hook, name->s, "the log does not contain want_log", out);
	jv got;
	if (!parse_text(out.ptr, out.len, &got))
		return fail(hook, name->s, "output is not JSON", out);
	const jv *want = get(v, "want"), *match = get(v, "want_match");
	if (want && !equal(&got, want))
		return fail(hook, name->s, "output differs from want (member order counts)", out);
	if (match) {
		if (got.kind != J_OBJ || got.n != match->n)
			return fail(hook, name->s, "output members differ from want_match", out);
		for (size_t i = 0; i < match->n; i++) {
			const jv *m = get(&got, match->names[i]);
			if (!m || m->kind != J_STR || !matches(match->items[i].s, m->s))
				return fail(hook, name->s, "a member does not match want_match", out);
		}
	}
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

int main(int argc, char **argv) {
	if (argc != 2) {
		fprintf(stderr, "usage: vectors_test <vectors folder>\n");
		return 2;
	}
	reg_native_log = capture;
	struct dirent **entries;
	int n = scandir(argv[1], &entries, NULL, by_name), files = 0;
	for (int i = 0; i < n; i++) {
		const char *fname = entries[i]->d_name;
		size_t len = strlen(fname);
		if (len < 5 || strcmp(fname + len - 5, ".json") != 0)
			continue;
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", argv[1], fname);
		size_t size;
		char *text = read_file(path, &size);
		jv file;
		if (!text || !parse_text(text, size, &file)) {
			fprintf(stderr, "%s: cannot read or parse\n", path);
			return 1;
		}
		files++;
		const jv *hook = get(&file, "hook"), *vectors = get(&file, "vectors");
		for (size_t k = 0; k < vectors->n; k++)
			replay(hook->s, &vectors->items[k]);
	}
	if (files != 6 || total < 50) {
		fprintf(stderr, "found %d vector files and %d vectors in %s\n", files, total, argv[1]);
		return 1;
	}
	printf("%d of %d vectors passed\n", total - failures, total);
	return failures ? 1 : 0;
}
