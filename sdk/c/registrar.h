/*
 * registrar.h: the C SDK for Registrar policy modules (sdk/ABI.md, ABI v1).
 *
 * It hides the linear memory, the allocator, the ABI version export and
 * the JSON of the module ABI. A module exports a hook with that hook's
 * macro, naming its handler:
 *
 *     #include "registrar.h"
 *
 *     static reg_err check(reg_policy_input *in, reg_policy_output *out) {
 *         (void)out; // out->metadata is in->metadata unless you change it
 *         if (!reg_object_has(in->metadata, "client_name"))
 *             reg_object_set_string(in->metadata, "client_name", reg_s("Unnamed client"));
 *         return REG_OK;
 *     }
 *     REGISTRAR_POLICY(check)
 *
 * Memory: everything the SDK hands out (strings, arrays, objects, and
 * reg_alloc's blocks) lives in an arena that is freed when the hook
 * returns. Nothing needs freeing; nothing survives the call.
 *
 * Strings are reg_str: a pointer and a length in bytes of UTF-8. Strings
 * the SDK decodes are also NUL-terminated, so they can go to the C string
 * functions (a JSON string may contain "\u0000": trust len, not strlen).
 *
 * Errors: functions that can fail return a reg_err, which is REG_OK (NULL)
 * on success. A hook returns reg_reject(...) to refuse the request (the
 * client receives the code and description), reg_fail(...) to fail the
 * call (server_error; the message goes to Registrar's log), or passes on
 * the reg_err of an accessor with REG_TRY.
 */
#ifndef REGISTRAR_H
#define REGISTRAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this SDK implements. */
#define REGISTRAR_ABI_VERSION 1

/* ---- strings ---------------------------------------------------------- */

/* A string: len bytes of UTF-8 at ptr. ptr is never NULL. */
typedef struct {
	const char *ptr;
	size_t len;
} reg_str;

/* An array of strings. */
typedef struct {
	reg_str *items;
	size_t len;
} reg_strs;

/* reg_s makes a reg_str of a NUL-terminated string. */
static inline reg_str reg_s(const char *s) {
	reg_str r = {s, strlen(s)};
	return r;
}

/* reg_str_eq reports whether a string is equal to a NUL-terminated one. */
static inline bool reg_str_eq(reg_str a, const char *b) {
	size_t n = strlen(b);
	return a.len == n && memcmp(a.ptr, b, n) == 0;
}

/* ---- errors ----------------------------------------------------------- */

/* The error codes a hook may reject with: those of RFC 7591 §3.2.2 for the
 * registration hooks, those of RFC 6749 §5.2 (the last three) for the
 * issue_access_token hook. A code of the other kind fails the call. */
typedef enum {
	REG_INVALID_REDIRECT_URI,          /* a redirect URI is not acceptable */
	REG_INVALID_CLIENT_METADATA,       /* a metadata member is not acceptable */
	REG_INVALID_SOFTWARE_STATEMENT,    /* the software statement is invalid */
	REG_UNAPPROVED_SOFTWARE_STATEMENT, /* the software statement is not approved */
	REG_INVALID_SCOPE,                 /* token endpoint (400): the scope is not acceptable */
	REG_UNAUTHORIZED_CLIENT,           /* token endpoint (400): not this client, not this way */
	REG_ACCESS_DENIED,                 /* token endpoint (403): the token is refused */
} reg_code;

/* reg_code_name returns a code as the client receives it. */
const char *reg_code_name(reg_code code);

/* reg_code_parse finds the code of a name; false if it is none of the seven. */
bool reg_code_parse(reg_str name, reg_code *code);

/* A rejection or a failure; REG_OK (NULL) is success. */
typedef const struct reg_error *reg_err;
#define REG_OK ((reg_err)0)

/* REG_TRY returns from the calling function with the error of expr, if any. */
#define REG_TRY(expr)                       \
	do {                                    \
		reg_err reg_try_err_ = (expr);      \
		if (reg_try_err_ != REG_OK)         \
			return reg_try_err_;            \
	} while (0)

/*
 * reg_reject refuses the request: the client receives the code and the
 * description (printf-style), made safe when it is sent (at most 1,024
 * bytes, control characters replaced by spaces).
 */
reg_err reg_reject(reg_code code, const char *format, ...) __attribute__((format(printf, 2, 3)));

/*
 * reg_fail fails the call: the client receives server_error, and the SDK
 * logs "registrar: the <hook> hook failed: <message>". Use it for what is
 * not the client's fault, such as a broken configuration.
 */
reg_err reg_fail(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* reg_reject_str and reg_fail_str take the description or message as it is
 * (it may contain NUL bytes), without formatting. */
reg_err reg_reject_str(reg_code code, reg_str description);
reg_err reg_fail_str(reg_str message);

/* reg_err_is_rejection reports whether err is a rejection (else a failure). */
bool reg_err_is_rejection(reg_err err);
/* reg_err_code is a rejection's code. */
reg_code reg_err_code(reg_err err);
/* reg_err_message is a rejection's description or a failure's message. */
reg_str reg_err_message(reg_err err);

/* ---- memory ----------------------------------------------------------- */

/*
 * reg_alloc returns n bytes, 8-aligned, that stay valid until the hook
 * returns. It fails the call (it never returns NULL) if memory runs out.
 */
void *reg_alloc(size_t n);

/* reg_strdup copies a string into the arena, NUL-terminated. */
reg_str reg_strdup(reg_str s);

/* reg_sprintf formats into the arena. */
reg_str reg_sprintf(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* ---- objects ---------------------------------------------------------- */

/*
 * A JSON object, such as client metadata, with its member values kept as
 * raw JSON in document order. The typed accessors decode a value on
 * demand; the setters encode one.
 *
 * Policy metadata is not yet validated: any member may have the wrong
 * type. The accessors return a rejection with invalid_client_metadata for
 * that ("redirect_uris must be an array of strings"), and treat a member
 * whose value is null as absent, as Registrar does. An absent member reads
 * as "", an empty array, false, 0 or a NULL object; reg_object_has tells.
 * The read functions accept a NULL object, which has no members.
 */
typedef struct reg_object reg_object;

/* reg_object_new returns an empty object. */
reg_object *reg_object_new(void);
/* reg_object_parse parses a JSON object (a failure if json is not one). */
reg_err reg_object_parse(reg_str json, reg_object **out);

size_t reg_object_len(const reg_object *o);
/* The name (decoded, NUL-terminated) and raw value of the i-th member. */
reg_str reg_object_name(const reg_object *o, size_t i);
reg_str reg_object_raw(const reg_object *o, size_t i);
/* reg_object_get finds a member's raw value; false if absent (null is present). */
bool reg_object_get(const reg_object *o, const char *name, reg_str *raw);
/* reg_object_has reports whether the member is present and not null. */
bool reg_object_has(const reg_object *o, const char *name);

reg_err reg_object_string(const reg_object *o, const char *name, reg_str *out);
reg_err reg_object_string_array(const reg_object *o, const char *name, reg_strs *out);
reg_err reg_object_bool(const reg_object *o, const char *name, bool *out);
/* reg_object_int64 reads an integer written without fraction or exponent. */
reg_err reg_object_int64(const reg_object *o, const char *name, int64_t *out);
reg_err reg_object_object(const reg_object *o, const char *name, reg_object **out);

/* The setters set a member in its place if it is present, else at the end. */
void reg_object_set_string(reg_object *o, const char *name, reg_str value);
void reg_object_set_string_array(reg_object *o, const char *name, const reg_str *items, size_t n);
void reg_object_set_bool(reg_object *o, const char *name, bool value);
void reg_object_set_int64(reg_object *o, const char *name, int64_t value);
void reg_object_set_object(reg_object *o, const char *name, const reg_object *value);
/* reg_object_set_raw sets a raw JSON value; a failure if it is not valid JSON. */
reg_err reg_object_set_raw(reg_object *o, const char *name, reg_str raw);
/* reg_object_delete removes a member, if present. */
void reg_object_delete(reg_object *o, const char *name);
/* reg_object_json writes the object as JSON, members in order. */
reg_str reg_object_json(const reg_object *o);

/* ---- inputs and outputs (sdk/ABI.md §2) --------------------------------- */

/* The members every hook's input has. */
typedef struct {
	int64_t abi;  /* the ABI version of the document: 1 */
	reg_str hook; /* the hook being called, e.g. "policy" */
	reg_str tenant;
	int64_t now; /* the host's time, seconds since the Unix epoch */
	struct {
		reg_str kind; /* initial_access_token, static, registration_access_token, none */
		reg_str id;   /* SHA-256 of a stored token, or "" */
		reg_strs policies;
		reg_str client_id; /* the client ID the token reserves or updates, or "" */
	} token;
	struct {
		reg_str remote_ip;
	} request;
	/* This module's configuration for the tenant (policy_config.<name>) as
	 * raw JSON; len 0 if there is none. reg_envelope_config parses it. */
	reg_str config;
} reg_envelope;

/* reg_envelope_config parses the configuration as an object: NULL if there
 * is none, a failure if it is not a JSON object. */
reg_err reg_envelope_config(const reg_envelope *env, reg_object **out);

typedef enum { REG_REGISTER, REG_UPDATE } reg_phase;

/* A software statement (RFC 7591 §2.3) as Registrar verified it: the
 * software_statement member of the policy input (sdk/ABI.md §2). Its
 * claims already override the same members of the metadata. */
typedef struct {
	reg_str issuer; /* the statement's iss: one of the tenant's trusted issuers */
	/* Every claim of the statement as signed (iss, iat, jti, software_id,
	 * and any other such as software_roles or org_id); never NULL. The
	 * reg_object accessors read them; their type errors are rejections
	 * with invalid_client_metadata, so a policy that wants another code
	 * checks them itself. */
	reg_object *claims;
	/* That the host verified it: always true in what the host sends (an
	 * unverified statement is not sent). A policy that admits clients by
	 * a claim checks it all the same. */
	bool verified;
} reg_software_statement;

/* The input of the policy hook. */
typedef struct {
	reg_envelope env;
	reg_phase phase;
	reg_object *metadata; /* about to be validated: any member may have the wrong type; never NULL */
	reg_str client_id;    /* on update: the client being updated */
	reg_object *current;  /* on update: its stored metadata; else NULL */
	reg_strs policies;    /* the policy list of the request */
	/* The request's verified software statement, or NULL: on registration
	 * only, when the tenant verifies statements and the request carried
	 * one. */
	const reg_software_statement *software_statement;
} reg_policy_input;

/* What the policy hook answers. The SDK sets metadata to the input's. */
typedef struct {
	/* The metadata to continue with. It must not contain the members the
	 * server assigns (client_id, client_secret, ...). */
	reg_object *metadata;
	/* If set_registration_policies, registration_policies replaces the
	 * policy list the client's registration access token carries. */
	bool set_registration_policies;
	reg_strs registration_policies;
} reg_policy_output;

/* The input of the id_factory and secret_factory hooks. */
typedef struct {
	reg_envelope env;
	reg_object *metadata; /* validated; never NULL */
} reg_factory_input;

/* The input of the issue_ and rotate_registration_access_token hooks. */
typedef struct {
	reg_envelope env;
	reg_phase phase;
	reg_str client_id;
	reg_object *metadata; /* validated; never NULL */
} reg_decision_input;

typedef reg_err (*reg_policy_fn)(reg_policy_input *in, reg_policy_output *out);
/* A factory sets *out to the client_id (1 to 128 of A-Z a-z 0-9 . _ ~ -)
 * or the client_secret (32 to 512 printable ASCII characters without
 * spaces); anything else fails the call. */
typedef reg_err (*reg_factory_fn)(reg_factory_input *in, reg_str *out);
typedef reg_err (*reg_decision_fn)(reg_decision_input *in, bool *out);

/* The input of the issue_access_token hook: a token request at the token
 * endpoint, as the endpoint has judged it so far. */
typedef struct {
	reg_envelope env;
	reg_str client_id;
	reg_object *metadata;    /* the client's validated metadata; never NULL */
	reg_str grant_type;      /* "client_credentials" */
	reg_str auth_method;     /* how the client authenticated */
	reg_strs requested_scope; /* the scope parameter, split; empty if none */
	reg_strs allowed_scope;  /* the scope the client registered */
	reg_strs scope;          /* granted unless narrowed; the most the hook may return */
	reg_strs resources;      /* the resource parameters (RFC 8707) */
	reg_strs audience;       /* the audience unless replaced */
	int64_t lifetime;        /* seconds, unless shortened; the most the hook may return */
	reg_strs policies;       /* the client's registration policies */
	reg_object *claims;      /* claims earlier modules set (never NULL); not to be set again */
} reg_access_token_input;

/* What the issue_access_token hook answers to allow the token. The SDK
 * starts it as "change nothing". */
typedef struct {
	bool set_scope;     /* if set, scope is the token's scope: values of the */
	reg_strs scope;     /* input's scope only, each once (empty: no scope) */
	bool set_audience;  /* if set, audience (1 to 16 non-empty strings) */
	reg_strs audience;  /* replaces the token's */
	int64_t lifetime;   /* if positive: seconds, at most the input's */
	reg_object *claims; /* extra claims (never NULL; empty: none): at most 4,096 bytes, no reserved name */
} reg_access_token_output;

/* The claim names an issue_access_token hook may not set: the token
 * endpoint decides them. reg_reserved_claim reports one. */
bool reg_reserved_claim(reg_str name);

/* An issue_access_token hook allows the token (filling *out) or denies it
 * with reg_reject(REG_INVALID_SCOPE, REG_UNAUTHORIZED_CLIENT or
 * REG_ACCESS_DENIED, ...). An output the host would refuse fails the call. */
typedef reg_err (*reg_access_token_fn)(reg_access_token_input *in, reg_access_token_output *out);

/* ---- log and randomness (sdk/ABI.md §3) --------------------------------- */

typedef enum { REG_DEBUG = 0, REG_INFO = 1, REG_WARN = 2, REG_ERROR = 3 } reg_level;

/* reg_log writes one line (printf-style) to Registrar's log, tagged with
 * the module, its version and the tenant. Registrar keeps 1,024 bytes. */
void reg_log(reg_level level, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* reg_random fills buf with cryptographically secure random bytes. */
void reg_random(void *buf, size_t n);

/* reg_random_string returns n characters drawn uniformly from alphabet
 * (1 to 256 bytes), with cryptographically secure randomness. */
reg_str reg_random_string(size_t n, const char *alphabet);

#define REG_BASE32 "abcdefghijklmnopqrstuvwxyz234567"
#define REG_BASE62 "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

/* ---- running hooks ---------------------------------------------------- */

/*
 * reg_run_* run a hook on an input document as the module does: they
 * return true with the output document in *out (an answer or a rejection),
 * or false with the line a failure logs in *out. Use them in native tests;
 * the export macros below call them in WebAssembly.
 */
bool reg_run_policy(reg_policy_fn fn, reg_str doc, reg_str *out);
bool reg_run_id_factory(reg_factory_fn fn, reg_str doc, reg_str *out);
bool reg_run_secret_factory(reg_factory_fn fn, reg_str doc, reg_str *out);
bool reg_run_issue_registration_access_token(reg_decision_fn fn, reg_str doc, reg_str *out);
bool reg_run_rotate_registration_access_token(reg_decision_fn fn, reg_str doc, reg_str *out);
bool reg_run_issue_access_token(reg_access_token_fn fn, reg_str doc, reg_str *out);

/* reg_reset frees the arena; the reg_run_* functions call it first. */
void reg_reset(void);

#if !defined(__wasm__)
/* Outside WebAssembly, for tests: reg_log and failures write to standard
 * error, or to this function if it is set; randomness is /dev/urandom. */
extern void (*reg_native_log)(reg_level level, reg_str line);
#endif

/* Used by the export macros: one call of a hook on the input at (ptr, len). */
uint64_t reg_serve_policy(reg_policy_fn fn, uint32_t ptr, uint32_t len);
uint64_t reg_serve_id_factory(reg_factory_fn fn, uint32_t ptr, uint32_t len);
uint64_t reg_serve_secret_factory(reg_factory_fn fn, uint32_t ptr, uint32_t len);
uint64_t reg_serve_issue_registration_access_token(reg_decision_fn fn, uint32_t ptr, uint32_t len);
uint64_t reg_serve_rotate_registration_access_token(reg_decision_fn fn, uint32_t ptr, uint32_t len);
uint64_t reg_serve_issue_access_token(reg_access_token_fn fn, uint32_t ptr, uint32_t len);

#if defined(__wasm__)
#define REG_EXPORT_(name) __attribute__((export_name(#name)))
#else
#define REG_EXPORT_(name)
#endif

#define REG_HOOK_(hook, fn)                                              \
	REG_EXPORT_(registrar_##hook) uint64_t registrar_##hook(uint32_t ptr, uint32_t len); \
	uint64_t registrar_##hook(uint32_t ptr, uint32_t len) { return reg_serve_##hook(fn, ptr, len); }

/* Each macro exports one hook, handled by fn, whose type it checks. A
 * module exports exactly the hooks it names; use each at most once, at
 * file scope. */
#define REGISTRAR_POLICY(fn) REG_HOOK_(policy, fn)
#define REGISTRAR_ID_FACTORY(fn) REG_HOOK_(id_factory, fn)
#define REGISTRAR_SECRET_FACTORY(fn) REG_HOOK_(secret_factory, fn)
#define REGISTRAR_ISSUE_REGISTRATION_ACCESS_TOKEN(fn) REG_HOOK_(issue_registration_access_token, fn)
#define REGISTRAR_ROTATE_REGISTRATION_ACCESS_TOKEN(fn) REG_HOOK_(rotate_registration_access_token, fn)
#define REGISTRAR_ISSUE_ACCESS_TOKEN(fn) REG_HOOK_(issue_access_token, fn)

#ifdef __cplusplus
}
#endif

#endif /* REGISTRAR_H */
