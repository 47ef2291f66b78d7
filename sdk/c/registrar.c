/*
 * registrar.c: the C SDK for Registrar policy modules. See registrar.h.
 *
 * Under Registrar's host every loop iteration of a module pays a deadline
 * check, so the JSON decoder walks each document once, skips nested values
 * in one non-recursive loop and scans string contents eight bytes at a
 * time; member values stay raw slices of the input, and the output is
 * written by copying them.
 */
#include "registrar.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_DEPTH 10000
#define MAX_DESCRIPTION 1024
#define MAX_RANDOM_CHUNK (64 << 10)
#define BLOCK_SIZE (32 << 10)

/* ---- host imports (sdk/ABI.md §3) and their native stand-ins ------------ */

#if defined(__wasm__)
__attribute__((import_module("registrar"), import_name("log"))) void reg_host_log_(int32_t level, const char *ptr,
                                                                                    uint32_t len);
__attribute__((import_module("registrar"), import_name("random"))) int32_t reg_host_random_(void *ptr, uint32_t len);
#define REG_TRAP() __builtin_trap()
#else
void (*reg_native_log)(reg_level level, reg_str line);

static void reg_host_log_(int32_t level, const char *ptr, uint32_t len) {
	static const char *const names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
	if (reg_native_log) {
		reg_str line = {ptr, len};
		reg_native_log((reg_level)level, line);
		return;
	}
	fprintf(stderr, "registrar: %s %.*s\n", level >= 0 && level <= 3 ? names[level] : "LEVEL", (int)len, ptr);
}

static int32_t reg_host_random_(void *ptr, uint32_t len) {
	FILE *f = fopen("/dev/urandom", "rb");
	size_t got = f ? fread(ptr, 1, len, f) : 0;
	if (f)
		fclose(f);
	return got == len ? 0 : 1;
}
#define REG_TRAP() abort()
#endif

/* The hook being run, for failure messages. */
static const char *current_hook = "";

static void die(const char *msg) {
	char line[256];
	int n = snprintf(line, sizeof line, "registrar: the %s hook failed: %s", current_hook, msg);
	reg_host_log_(REG_ERROR, line, (uint32_t)(n < (int)sizeof line ? n : (int)sizeof line - 1));
	REG_TRAP();
}

/* ---- arena ------------------------------------------------------------ */

typedef struct block {
	struct block *next;
	size_t cap, used;
	max_align_t data[];
} block;

/* The arena's blocks, newest first. reg_reset keeps the oldest. */
static block *blocks;

void *reg_alloc(size_t n) {
	n = (n + 7) & ~(size_t)7;
	if (!blocks || blocks->cap - blocks->used < n) {
		size_t cap = n > BLOCK_SIZE ? n : BLOCK_SIZE;
		block *b = malloc(sizeof(block) + cap);
		if (!b)
			die("out of memory");
		b->next = blocks;
		b->cap = cap;
		b->used = 0;
		blocks = b;
	}
	void *p = (char *)blocks->data + blocks->used;
	blocks->used += n;
	return p;
}

void reg_reset(void) {
	while (blocks && blocks->next) {
		block *next = blocks->next;
		free(blocks);
		blocks = next;
	}
	if (blocks)
		blocks->used = 0;
}

reg_str reg_strdup(reg_str s) {
	char *p = reg_alloc(s.len + 1);
	memcpy(p, s.ptr, s.len);
	p[s.len] = 0;
	reg_str r = {p, s.len};
	return r;
}

static reg_str vformat(const char *format, va_list ap) {
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, format, ap2);
	va_end(ap2);
	if (n < 0)
		n = 0;
	char *p = reg_alloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, format, ap);
	reg_str r = {p, (size_t)n};
	return r;
}

reg_str reg_sprintf(const char *format, ...) {
	va_list ap;
	va_start(ap, format);
	reg_str r = vformat(format, ap);
	va_end(ap);
	return r;
}

/* ---- growable buffers ------------------------------------------------- */

/* A byte buffer in the arena (heap == false) or on the heap, for the
 * output document, which is reused from call to call. */
typedef struct {
	char *p;
	size_t len, cap;
	bool heap;
} buf;

static void buf_grow(buf *b, size_t more) {
	if (b->len + more <= b->cap)
		return;
	size_t cap = b->cap ? b->cap * 2 : 256;
	while (cap < b->len + more)
		cap *= 2;
	char *p;
	if (b->heap) {
		p = realloc(b->p, cap);
		if (!p)
			die("out of memory");
	} else {
		p = reg_alloc(cap);
		if (b->len)
			memcpy(p, b->p, b->len);
	}
	b->p = p;
	b->cap = cap;
}

static void buf_put(buf *b, const void *p, size_t n) {
	buf_grow(b, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void buf_byte(buf *b, char c) {
	buf_grow(b, 1);
	b->p[b->len++] = c;
}

static void buf_cstr(buf *b, const char *s) { buf_put(b, s, strlen(s)); }

/* buf_str returns the contents, NUL-terminated, as a reg_str. */
static reg_str buf_str(buf *b) {
	buf_byte(b, 0);
	b->len--;
	reg_str r = {b->p, b->len};
	return r;
}

/* ---- UTF-8 ------------------------------------------------------------ */

/* utf8_seq returns the length of the valid UTF-8 sequence at p (n bytes
 * left) and its code point, or 0 if the bytes there are not one. */
static size_t utf8_seq(const unsigned char *p, size_t n, uint32_t *cp) {
	unsigned char c = p[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	size_t len;
	uint32_t min;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, min = 0x80, *cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, min = 0x800, *cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, min = 0x10000, *cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (p[i] & 0x3f);
	}
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return len;
}

static void put_utf8(buf *b, uint32_t cp) {
	char s[4];
	size_t n;
	if (cp < 0x80) {
		s[0] = (char)cp, n = 1;
	} else if (cp < 0x800) {
		s[0] = (char)(0xc0 | cp >> 6), s[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
	} else if (cp < 0x10000) {
		s[0] = (char)(0xe0 | cp >> 12), s[1] = (char)(0x80 | (cp >> 6 & 0x3f)), s[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
	} else {
		s[0] = (char)(0xf0 | cp >> 18), s[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		s[2] = (char)(0x80 | (cp >> 6 & 0x3f)), s[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
	}
	buf_put(b, s, n);
}

/* ---- JSON: writing ---------------------------------------------------- */

/* write_string appends s as a JSON string: quotes, backslashes and control
 * characters escaped, U+2028 and U+2029 too; invalid UTF-8 becomes U+FFFD. */
static void write_string(buf *b, reg_str s) {
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s.ptr;
	size_t start = 0, i = 0;
	buf_grow(b, s.len + 2);
	buf_byte(b, '"');
	while (i < s.len) {
		unsigned char c = p[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			i++;
			continue;
		}
		uint32_t cp = 0;
		size_t n = c < 0x80 ? 1 : utf8_seq(p + i, s.len - i, &cp);
		if (c >= 0x80 && n > 0 && cp != 0x2028 && cp != 0x2029) {
			i += n;
			continue;
		}
		buf_put(b, p + start, i - start);
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			buf_put(b, e, 2);
		} else if (c == '\n') {
			buf_put(b, "\\n", 2);
		} else if (c == '\r') {
			buf_put(b, "\\r", 2);
		} else if (c == '\t') {
			buf_put(b, "\\t", 2);
		} else if (c < 0x20) {
			char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			buf_put(b, e, 6);
		} else if (n == 0) {
			buf_put(b, "\\ufffd", 6);
			n = 1;
		} else {
			buf_put(b, cp == 0x2028 ? "\\u2028" : "\\u2029", 6);
		}
		i += c < 0x80 ? 1 : n;
		start = i;
	}
	buf_put(b, p + start, s.len - start);
	buf_byte(b, '"');
}

static void write_strings(buf *b, const reg_str *items, size_t n) {
	buf_byte(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_byte(b, ',');
		write_string(b, items[i]);
	}
	buf_byte(b, ']');
}

/* ---- JSON: reading ---------------------------------------------------- */

typedef struct {
	const char *s;
	size_t n, i;
	const char *err; /* the first error, or NULL */
	size_t err_at;
} dec;

/* Results of the typed reads. */
enum { READ_ERROR = -1, READ_OTHER = 0, READ_OK = 1 };

static void dec_init(dec *d, reg_str s) {
	d->s = s.ptr;
	d->n = s.len;
	d->i = 0;
	d->err = NULL;
	d->err_at = 0;
}

static bool dec_fail(dec *d, size_t at, const char *msg) {
	if (!d->err) {
		d->err = msg;
		d->err_at = at;
	}
	return false;
}

static void skip_space(dec *d) {
	while (d->i < d->n) {
		char c = d->s[d->i];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			return;
		d->i++;
	}
}

static int peek(dec *d) {
	skip_space(d);
	return d->i < d->n ? (unsigned char)d->s[d->i] : 0;
}

static bool dec_end(dec *d) {
	skip_space(d);
	return d->err == NULL && (d->i == d->n || dec_fail(d, d->i, "data after the value"));
}

static bool dec_null(dec *d) {
	if (peek(d) == 'n' && d->n - d->i >= 4 && memcmp(d->s + d->i, "null", 4) == 0) {
		d->i += 4;
		return true;
	}
	return false;
}

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* The high bit of each byte of w that is '"', '\\', a control character or
 * not ASCII; a borrow can only spoil the bytes above the first match. */
static inline uint64_t stops(uint64_t w) {
	uint64_t q = w ^ (ONES * '"'), s = w ^ (ONES * '\\');
	return (((q - ONES) & ~q) | ((s - ONES) & ~s) | ((w - ONES * 0x20) & ~w) | w) & HIGHS;
}

/* plain_run returns the offset of the first '"', '\\' or control character
 * at or after i, and sets *ascii to whether the bytes before were ASCII. */
static size_t plain_run(const char *s, size_t n, size_t i, bool *ascii) {
	*ascii = true;
	while (i + 8 <= n) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		uint64_t m = stops(w);
		if (m == 0) {
			i += 8;
			continue;
		}
		i += (size_t)__builtin_ctzll(m) >> 3;
		if ((unsigned char)s[i] < 0x80)
			return i;
		*ascii = false;
		i++;
	}
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\' || c < 0x20)
			return i;
		if (c >= 0x80)
			*ascii = false;
	}
	return i;
}

static int hex4(const char *p, uint32_t *r) {
	*r = 0;
	for (int k = 0; k < 4; k++) {
		char c = p[k];
		uint32_t v;
		if (c >= '0' && c <= '9')
			v = (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = (uint32_t)(c - 'A' + 10);
		else
			return 0;
		*r = *r << 4 | v;
	}
	return 1;
}

/* string_end scans the string at s[start] == '"': *end is the offset after
 * its closing quote, *plain whether its body is ASCII without escapes. */
static bool string_end(dec *d, size_t start, size_t *end, bool *plain) {
	size_t i = start + 1;
	*plain = true;
	for (;;) {
		bool ascii;
		i = plain_run(d->s, d->n, i, &ascii);
		*plain = *plain && ascii;
		if (i >= d->n)
			return dec_fail(d, start, "unterminated string");
		char c = d->s[i];
		if (c == '"') {
			*end = i + 1;
			return true;
		}
		if (c != '\\')
			return dec_fail(d, i, "control character in a string");
		*plain = false;
		if (i + 1 >= d->n)
			return dec_fail(d, start, "unterminated string");
		switch (d->s[i + 1]) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
			i += 2;
			break;
		case 'u': {
			uint32_t r;
			if (i + 6 > d->n || !hex4(d->s + i + 2, &r))
				return dec_fail(d, i, "invalid \\u escape");
			i += 6;
			break;
		}
		default:
			return dec_fail(d, i, "invalid escape");
		}
	}
}

/* unescape decodes the body of a valid JSON string into the arena,
 * NUL-terminated. Lone surrogates become U+FFFD. */
static reg_str unescape(const char *s, size_t n) {
	buf b = {reg_alloc(n + 1), 0, n + 1, false};
	size_t i = 0;
	while (i < n) {
		bool ascii;
		size_t next = plain_run(s, n, i, &ascii);
		buf_put(&b, s + i, next - i);
		i = next;
		if (i >= n)
			break;
		char e = s[i + 1];
		if (e != 'u') {
			char c = e == 'b' ? '\b' : e == 'f' ? '\f' : e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e;
			buf_byte(&b, c);
			i += 2;
			continue;
		}
		uint32_t r, r2;
		hex4(s + i + 2, &r);
		i += 6;
		if (r >= 0xd800 && r < 0xdc00) {
			if (i + 6 <= n && s[i] == '\\' && s[i + 1] == 'u' && hex4(s + i + 2, &r2) && r2 >= 0xdc00 && r2 < 0xe000) {
				r = 0x10000 + ((r - 0xd800) << 10) + (r2 - 0xdc00);
				i += 6;
			} else {
				r = 0xfffd;
			}
		} else if (r >= 0xdc00 && r < 0xe000) {
			r = 0xfffd;
		}
		put_utf8(&b, r);
	}
	return buf_str(&b);
}

/* number scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at s[i]; 0 if
 * there is none. */
static size_t number(const char *s, size_t n, size_t i) {
#define DIGIT(k) ((k) < n && s[k] >= '0' && s[k] <= '9')
	if (s[i] == '-')
		i++;
	if (i < n && s[i] == '0') {
		i++;
	} else if (i < n && s[i] >= '1' && s[i] <= '9') {
		while (DIGIT(i))
			i++;
	} else {
		return 0;
	}
	if (i < n && s[i] == '.') {
		if (!DIGIT(i + 1))
			return 0;
		i++;
		while (DIGIT(i))
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (!DIGIT(i))
			return 0;
		while (DIGIT(i))
			i++;
	}
	return i;
#undef DIGIT
}

/* skip reads one value, validating it, in one loop without recursion. */
static bool skip(dec *d) {
	enum { VALUE, NAME_OR_CLOSE, VALUE_OR_CLOSE, NAME, COLON, COMMA_OR_CLOSE } state = VALUE;
	uint64_t bits = 0;     /* kinds of the first 64 open containers: 1 = object */
	unsigned char *deeper = NULL; /* kinds of the deeper ones */
	size_t depth = 0;
	const char *s = d->s;
	size_t n = d->n, i = d->i;
	if (d->err)
		return false;
	for (;;) {
		if (i >= n)
			return dec_fail(d, i, "unexpected end of JSON");
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ') {
			if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
				i++;
				continue;
			}
			return dec_fail(d, i, "unexpected control character");
		}
		bool in_object = depth > 0 && (depth <= 64 ? (bits >> (depth - 1) & 1) : deeper[depth - 65]);
		switch (state) {
		case COLON:
			if (c != ':')
				return dec_fail(d, i, "expected ':' after a member name");
			i++;
			state = VALUE;
			continue;
		case COMMA_OR_CLOSE:
			if (c == ',') {
				i++;
				state = in_object ? NAME : VALUE;
				continue;
			}
			if (c == '}' || c == ']') {
				if (in_object != (c == '}'))
					return dec_fail(d, i, "mismatched bracket");
				i++;
				if (--depth == 0) {
					d->i = i;
					return true;
				}
				continue;
			}
			return dec_fail(d, i, "expected ',' or the end of a container");
		case NAME_OR_CLOSE:
		case VALUE_OR_CLOSE:
			if (c == (state == NAME_OR_CLOSE ? '}' : ']')) {
				i++;
				if (--depth == 0) {
					d->i = i;
					return true;
				}
				state = COMMA_OR_CLOSE;
				continue;
			}
			state = state == NAME_OR_CLOSE ? NAME : VALUE;
			break;
		default:
			break;
		}
		if (state == NAME) {
			if (c != '"')
				return dec_fail(d, i, "expected a member name");
			bool plain;
			if (!string_end(d, i, &i, &plain))
				return false;
			state = COLON;
			continue;
		}
		if (c == '"') {
			bool plain;
			if (!string_end(d, i, &i, &plain))
				return false;
		} else if (c == '{' || c == '[') {
			if (depth >= MAX_DEPTH)
				return dec_fail(d, i, "nested too deeply");
			if (depth < 64) {
				bits = (bits & ~(1ull << depth)) | (uint64_t)(c == '{') << depth;
			} else {
				if (depth == 64)
					deeper = reg_alloc(MAX_DEPTH - 64);
				deeper[depth - 64] = c == '{';
			}
			depth++;
			i++;
			state = c == '{' ? NAME_OR_CLOSE : VALUE_OR_CLOSE;
			continue;
		} else if (c == 't' || c == 'f' || c == 'n') {
			const char *lit = c == 't' ? "true" : c == 'f' ? "false" : "null";
			size_t len = strlen(lit);
			if (n - i < len || memcmp(s + i, lit, len) != 0)
				return dec_fail(d, i, "invalid literal");
			i += len;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			size_t end = number(s, n, i);
			if (end == 0)
				return dec_fail(d, i, "invalid number");
			i = end;
		} else {
			return dec_fail(d, i, "expected a value");
		}
		if (depth == 0) {
			d->i = i;
			return true;
		}
		state = COMMA_OR_CLOSE;
	}
}

/* read_raw reads any value and returns it as written. */
static bool read_raw(dec *d, reg_str *raw) {
	skip_space(d);
	size_t start = d->i;
	if (!skip(d))
		return false;
	raw->ptr = d->s + start;
	raw->len = d->i - start;
	return true;
}

/* read_string reads a string into the arena; a valid value of another kind
 * is consumed and is READ_OTHER. */
static int read_string(dec *d, reg_str *out) {
	if (peek(d) != '"') {
		reg_str raw;
		return read_raw(d, &raw) ? READ_OTHER : READ_ERROR;
	}
	size_t start = d->i, end;
	bool plain;
	if (!string_end(d, start, &end, &plain))
		return READ_ERROR;
	d->i = end;
	reg_str body = {d->s + start + 1, end - start - 2};
	*out = plain ? reg_strdup(body) : unescape(body.ptr, body.len);
	return READ_OK;
}

/* obj_next steps through an object that starts at d's position: it returns
 * READ_OK with the next member's name (decoded, NUL-terminated) and, if
 * quoted is not NULL, its quoted form as written when that is plain ASCII
 * (else ptr NULL), leaving d at the member's value; READ_OTHER at the end;
 * READ_ERROR for malformed JSON or a value that is not an object. *started
 * must be false on the first call. */
static int obj_next(dec *d, bool *started, reg_str *name, reg_str *quoted) {
	if (!*started) {
		*started = true;
		if (peek(d) != '{') {
			reg_str raw;
			if (read_raw(d, &raw))
				dec_fail(d, d->i, "not a JSON object");
			return READ_ERROR;
		}
		d->i++;
		if (peek(d) == '}') {
			d->i++;
			return READ_OTHER;
		}
	} else {
		int c = peek(d);
		if (c == '}') {
			d->i++;
			return READ_OTHER;
		}
		if (c != ',') {
			dec_fail(d, d->i, "expected ',' or '}' in an object");
			return READ_ERROR;
		}
		d->i++;
	}
	if (peek(d) != '"') {
		dec_fail(d, d->i, "expected a member name");
		return READ_ERROR;
	}
	size_t start = d->i, end;
	bool plain;
	if (!string_end(d, start, &end, &plain))
		return READ_ERROR;
	reg_str body = {d->s + start + 1, end - start - 2};
	*name = plain ? reg_strdup(body) : unescape(body.ptr, body.len);
	if (quoted) {
		quoted->ptr = plain ? d->s + start : NULL;
		quoted->len = plain ? end - start : 0;
	}
	d->i = end;
	if (peek(d) != ':') {
		dec_fail(d, d->i, "expected ':' after a member name");
		return READ_ERROR;
	}
	d->i++;
	skip_space(d);
	return READ_OK;
}

/* arr_next steps through an array like obj_next: READ_OK with d at the
 * next element, READ_OTHER at the end, READ_ERROR for malformed JSON; a
 * valid value that is not an array is consumed and is READ_ERROR with
 * d->err unset. */
static int arr_next(dec *d, bool *started) {
	if (!*started) {
		*started = true;
		if (peek(d) != '[') {
			reg_str raw;
			read_raw(d, &raw);
			return READ_ERROR;
		}
		d->i++;
		if (peek(d) == ']') {
			d->i++;
			return READ_OTHER;
		}
		return READ_OK;
	}
	int c = peek(d);
	if (c == ']') {
		d->i++;
		return READ_OTHER;
	}
	if (c != ',') {
		dec_fail(d, d->i, "expected ',' or ']' in an array");
		return READ_ERROR;
	}
	d->i++;
	return READ_OK;
}

/* read_strings reads an array of strings: READ_OTHER if the value (which
 * is consumed) is of another kind or holds one. */
static int read_strings(dec *d, reg_strs *out) {
	size_t cap = 8, len = 0;
	reg_str *items = reg_alloc(cap * sizeof *items);
	bool started = false, other = false;
	int r;
	while ((r = arr_next(d, &started)) == READ_OK) {
		reg_str s;
		int k = read_string(d, &s);
		if (k == READ_ERROR)
			return READ_ERROR;
		if (k == READ_OTHER) {
			other = true;
			continue;
		}
		if (len == cap) {
			reg_str *bigger = reg_alloc(2 * cap * sizeof *items);
			memcpy(bigger, items, len * sizeof *items);
			items = bigger;
			cap *= 2;
		}
		items[len++] = s;
	}
	if (r == READ_ERROR)
		return d->err ? READ_ERROR : READ_OTHER;
	out->items = items;
	out->len = len;
	return other ? READ_OTHER : READ_OK;
}

/* ---- errors ----------------------------------------------------------- */

struct reg_error {
	bool rejection;
	reg_code code;
	reg_str message;
};

static const char *const code_names[] = {
	"invalid_redirect_uri",
	"invalid_client_metadata",
	"invalid_software_statement",
	"unapproved_software_statement",
	"invalid_scope",
	"unauthorized_client",
	"access_denied",
};

#define NUM_CODES (sizeof code_names / sizeof code_names[0])

const char *reg_code_name(reg_code code) {
	return (unsigned)code < NUM_CODES ? code_names[code] : "invalid_client_metadata";
}

/* token_code reports a code of the issue_access_token hook. */
static bool token_code(reg_code code) {
	return code == REG_INVALID_SCOPE || code == REG_UNAUTHORIZED_CLIENT || code == REG_ACCESS_DENIED;
}

bool reg_code_parse(reg_str name, reg_code *code) {
	for (unsigned k = 0; k < NUM_CODES; k++) {
		if (reg_str_eq(name, code_names[k])) {
			*code = (reg_code)k;
			return true;
		}
	}
	return false;
}

static reg_err make_error(bool rejection, reg_code code, reg_str message) {
	struct reg_error *e = reg_alloc(sizeof *e);
	e->rejection = rejection;
	e->code = code;
	e->message = message;
	return e;
}

reg_err reg_reject(reg_code code, const char *format, ...) {
	va_list ap;
	va_start(ap, format);
	reg_str msg = vformat(format, ap);
	va_end(ap);
	return make_error(true, code, msg);
}

reg_err reg_fail(const char *format, ...) {
	va_list ap;
	va_start(ap, format);
	reg_str msg = vformat(format, ap);
	va_end(ap);
	return make_error(false, REG_INVALID_CLIENT_METADATA, msg);
}

reg_err reg_reject_str(reg_code code, reg_str description) {
	return make_error(true, code, reg_strdup(description));
}

reg_err reg_fail_str(reg_str message) { return make_error(false, REG_INVALID_CLIENT_METADATA, reg_strdup(message)); }

bool reg_err_is_rejection(reg_err err) { return err && err->rejection; }
reg_code reg_err_code(reg_err err) { return err ? err->code : REG_INVALID_CLIENT_METADATA; }
reg_str reg_err_message(reg_err err) { return err ? err->message : reg_s(""); }

static reg_err type_error(const char *name, const char *want) {
	return reg_reject(REG_INVALID_CLIENT_METADATA, "%s must be %s", name, want);
}

/* safe_description returns a description as it may be sent: valid UTF-8
 * (each run of invalid bytes one U+FFFD), control characters (C0, DEL, C1)
 * replaced by spaces, cut to 1,024 bytes at a character boundary. */
static reg_str safe_description(reg_str s) {
	buf b = {0};
	const unsigned char *p = (const unsigned char *)s.ptr;
	bool bad = false;
	for (size_t i = 0; i < s.len;) {
		uint32_t cp;
		size_t n = utf8_seq(p + i, s.len - i, &cp);
		if (n == 0) {
			if (!bad)
				buf_put(&b, "\xef\xbf\xbd", 3);
			bad = true;
			i++;
			continue;
		}
		bad = false;
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			buf_byte(&b, ' ');
		else
			buf_put(&b, p + i, n);
		i += n;
	}
	if (b.len > MAX_DESCRIPTION) {
		size_t cut = MAX_DESCRIPTION;
		while (cut > 0 && ((unsigned char)b.p[cut] & 0xc0) == 0x80)
			cut--;
		b.len = cut;
	}
	return buf_str(&b);
}

/* ---- objects ---------------------------------------------------------- */

typedef struct {
	reg_str name;   /* decoded, NUL-terminated */
	reg_str quoted; /* as written, quotes included, if plain; else ptr NULL */
	reg_str value;  /* raw JSON */
} member;

struct reg_object {
	member *m;
	size_t len, cap;
};

reg_object *reg_object_new(void) {
	reg_object *o = reg_alloc(sizeof *o);
	o->cap = 16;
	o->len = 0;
	o->m = reg_alloc(o->cap * sizeof *o->m);
	return o;
}

static void push_member(reg_object *o, reg_str name, reg_str quoted, reg_str value) {
	if (o->len == o->cap) {
		member *bigger = reg_alloc(2 * o->cap * sizeof *bigger);
		memcpy(bigger, o->m, o->len * sizeof *bigger);
		o->m = bigger;
		o->cap *= 2;
	}
	member *m = &o->m[o->len++];
	m->name = name;
	m->quoted = quoted;
	m->value = value;
}

/* read_object reads an object whose values stay raw. */
static bool read_object(dec *d, reg_object **out) {
	reg_object *o = reg_object_new();
	bool started = false;
	reg_str name, quoted, value;
	int r;
	while ((r = obj_next(d, &started, &name, &quoted)) == READ_OK) {
		if (!read_raw(d, &value))
			return false;
		push_member(o, name, quoted, value);
	}
	if (r == READ_ERROR)
		return false;
	*out = o;
	return true;
}

reg_err reg_object_parse(reg_str json, reg_object **out) {
	dec d;
	dec_init(&d, json);
	if (!read_object(&d, out) || !dec_end(&d))
		return reg_fail("invalid JSON object at offset %zu: %s", d.err_at, d.err ? d.err : "not an object");
	return REG_OK;
}

size_t reg_object_len(const reg_object *o) { return o ? o->len : 0; }
reg_str reg_object_name(const reg_object *o, size_t i) { return o->m[i].name; }
reg_str reg_object_raw(const reg_object *o, size_t i) { return o->m[i].value; }

static member *find(const reg_object *o, const char *name) {
	if (!o)
		return NULL;
	size_t n = strlen(name);
	for (size_t i = 0; i < o->len; i++) {
		if (o->m[i].name.len == n && memcmp(o->m[i].name.ptr, name, n) == 0)
			return &o->m[i];
	}
	return NULL;
}

bool reg_object_get(const reg_object *o, const char *name, reg_str *raw) {
	member *m = find(o, name);
	if (m && raw)
		*raw = m->value;
	return m != NULL;
}

/* value returns a member's raw value unless it is absent or null. */
static bool value(const reg_object *o, const char *name, reg_str *raw) {
	member *m = find(o, name);
	if (!m || (m->value.len == 4 && memcmp(m->value.ptr, "null", 4) == 0))
		return false;
	*raw = m->value;
	return true;
}

bool reg_object_has(const reg_object *o, const char *name) {
	reg_str raw;
	return value(o, name, &raw);
}

reg_err reg_object_string(const reg_object *o, const char *name, reg_str *out) {
	reg_str raw;
	*out = reg_s("");
	if (!value(o, name, &raw))
		return REG_OK;
	dec d;
	dec_init(&d, raw);
	if (read_string(&d, out) != READ_OK || !dec_end(&d)) {
		*out = reg_s("");
		return type_error(name, "a string");
	}
	return REG_OK;
}

reg_err reg_object_string_array(const reg_object *o, const char *name, reg_strs *out) {
	reg_str raw;
	out->items = NULL;
	out->len = 0;
	if (!value(o, name, &raw))
		return REG_OK;
	dec d;
	dec_init(&d, raw);
	if (read_strings(&d, out) != READ_OK || !dec_end(&d)) {
		out->len = 0;
		return type_error(name, "an array of strings");
	}
	return REG_OK;
}

reg_err reg_object_bool(const reg_object *o, const char *name, bool *out) {
	reg_str raw;
	*out = false;
	if (!value(o, name, &raw))
		return REG_OK;
	if (reg_str_eq(raw, "true"))
		*out = true;
	else if (!reg_str_eq(raw, "false"))
		return type_error(name, "true or false");
	return REG_OK;
}

/* parse_int64 parses an integer without fraction or exponent. */
static bool parse_int64(reg_str raw, int64_t *out) {
	const char *p = raw.ptr, *end = raw.ptr + raw.len;
	bool neg = p < end && *p == '-';
	if (neg)
		p++;
	if (p == end || (*p == '0' && end - p > 1))
		return false;
	uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return false;
		uint64_t digit = (uint64_t)(*p - '0');
		if (v > (limit - digit) / 10)
			return false;
		v = v * 10 + digit;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

reg_err reg_object_int64(const reg_object *o, const char *name, int64_t *out) {
	reg_str raw;
	*out = 0;
	if (!value(o, name, &raw))
		return REG_OK;
	if (!parse_int64(raw, out)) {
		*out = 0;
		return type_error(name, "an integer");
	}
	return REG_OK;
}

reg_err reg_object_object(const reg_object *o, const char *name, reg_object **out) {
	reg_str raw;
	*out = NULL;
	if (!value(o, name, &raw))
		return REG_OK;
	dec d;
	dec_init(&d, raw);
	if (!read_object(&d, out) || !dec_end(&d)) {
		*out = NULL;
		return type_error(name, "an object");
	}
	return REG_OK;
}

static void set(reg_object *o, const char *name, reg_str value) {
	member *m = find(o, name);
	if (m) {
		m->value = value;
		return;
	}
	reg_str none = {NULL, 0};
	push_member(o, reg_strdup(reg_s(name)), none, value);
}

void reg_object_set_string(reg_object *o, const char *name, reg_str value) {
	buf b = {0};
	write_string(&b, value);
	set(o, name, buf_str(&b));
}

void reg_object_set_string_array(reg_object *o, const char *name, const reg_str *items, size_t n) {
	buf b = {0};
	write_strings(&b, items, n);
	set(o, name, buf_str(&b));
}

void reg_object_set_bool(reg_object *o, const char *name, bool value) {
	set(o, name, reg_s(value ? "true" : "false"));
}

void reg_object_set_int64(reg_object *o, const char *name, int64_t value) {
	set(o, name, reg_sprintf("%lld", (long long)value));
}

void reg_object_set_object(reg_object *o, const char *name, const reg_object *value) {
	set(o, name, reg_object_json(value));
}

reg_err reg_object_set_raw(reg_object *o, const char *name, reg_str raw) {
	dec d;
	dec_init(&d, raw);
	reg_str v;
	if (!read_raw(&d, &v) || !dec_end(&d))
		return reg_fail("reg_object_set_raw(\"%s\"): the value is not valid JSON", name);
	set(o, name, reg_strdup(raw));
	return REG_OK;
}

void reg_object_delete(reg_object *o, const char *name) {
	member *m = find(o, name);
	if (m) {
		size_t i = (size_t)(m - o->m);
		memmove(m, m + 1, (o->len - i - 1) * sizeof *m);
		o->len--;
	}
}

static void write_object(buf *b, const reg_object *o) {
	buf_byte(b, '{');
	for (size_t i = 0; o && i < o->len; i++) {
		const member *m = &o->m[i];
		if (i > 0)
			buf_byte(b, ',');
		if (m->quoted.ptr)
			buf_put(b, m->quoted.ptr, m->quoted.len);
		else
			write_string(b, m->name);
		buf_byte(b, ':');
		buf_put(b, m->value.ptr, m->value.len);
	}
	buf_byte(b, '}');
}

reg_str reg_object_json(const reg_object *o) {
	buf b = {0};
	write_object(&b, o);
	return buf_str(&b);
}

/* ---- inputs ----------------------------------------------------------- */

reg_err reg_envelope_config(const reg_envelope *env, reg_object **out) {
	*out = NULL;
	if (env->config.len == 0)
		return REG_OK;
	return reg_object_parse(env->config, out);
}

/* The decoders of the input document set why when the input is bad. */
static const char *why;

static bool in_string(dec *d, reg_str *out) {
	if (dec_null(d)) {
		*out = reg_s("");
		return true;
	}
	int r = read_string(d, out);
	if (r == READ_OTHER)
		why = "not a JSON string";
	return r == READ_OK;
}

static bool in_strings(dec *d, reg_strs *out) {
	if (dec_null(d)) {
		out->items = NULL;
		out->len = 0;
		return true;
	}
	int r = read_strings(d, out);
	if (r == READ_OTHER)
		why = "not an array of strings";
	return r == READ_OK;
}

static bool in_object(dec *d, reg_object **out) {
	if (dec_null(d)) {
		*out = NULL;
		return true;
	}
	if (peek(d) != '{') {
		why = "not a JSON object";
		reg_str raw;
		read_raw(d, &raw);
		return false;
	}
	return read_object(d, out);
}

static bool in_int(dec *d, int64_t *out) {
	reg_str raw;
	if (!read_raw(d, &raw))
		return false;
	if (!parse_int64(raw, out)) {
		why = "not an integer";
		return false;
	}
	return true;
}

static bool in_phase(dec *d, reg_phase *out, bool *seen) {
	reg_str s;
	if (!in_string(d, &s))
		return false;
	*seen = true;
	if (reg_str_eq(s, "register")) {
		*out = REG_REGISTER;
	} else if (reg_str_eq(s, "update")) {
		*out = REG_UPDATE;
	} else {
		why = "not \"register\" or \"update\"";
		return false;
	}
	return true;
}

static bool in_token(dec *d, reg_envelope *env) {
	if (dec_null(d))
		return true;
	bool started = false;
	reg_str name;
	int r;
	while ((r = obj_next(d, &started, &name, NULL)) == READ_OK) {
		bool ok;
		reg_str raw;
		if (reg_str_eq(name, "kind"))
			ok = in_string(d, &env->token.kind);
		else if (reg_str_eq(name, "id"))
			ok = in_string(d, &env->token.id);
		else if (reg_str_eq(name, "policies"))
			ok = in_strings(d, &env->token.policies);
		else if (reg_str_eq(name, "client_id"))
			ok = in_string(d, &env->token.client_id);
		else
			ok = read_raw(d, &raw);
		if (!ok)
			return false;
	}
	return r != READ_ERROR;
}

static bool in_request(dec *d, reg_envelope *env) {
	if (dec_null(d))
		return true;
	bool started = false;
	reg_str name;
	int r;
	while ((r = obj_next(d, &started, &name, NULL)) == READ_OK) {
		reg_str raw;
		if (!(reg_str_eq(name, "remote_ip") ? in_string(d, &env->request.remote_ip) : read_raw(d, &raw)))
			return false;
	}
	return r != READ_ERROR;
}

/* in_statement reads the policy input's software_statement; null is
 * NULL. Members it does not know are skipped. */
static bool in_statement(dec *d, const reg_software_statement **out) {
	*out = NULL;
	if (dec_null(d))
		return true;
	if (peek(d) != '{') {
		why = "not a JSON object";
		reg_str raw;
		read_raw(d, &raw);
		return false;
	}
	reg_software_statement *s = reg_alloc(sizeof *s);
	s->issuer = reg_s("");
	s->claims = NULL;
	s->verified = false;
	bool started = false;
	reg_str name;
	int r;
	while ((r = obj_next(d, &started, &name, NULL)) == READ_OK) {
		bool ok;
		reg_str raw;
		if (reg_str_eq(name, "issuer")) {
			ok = in_string(d, &s->issuer);
		} else if (reg_str_eq(name, "claims")) {
			ok = in_object(d, &s->claims);
		} else if (reg_str_eq(name, "verified")) {
			ok = read_raw(d, &raw);
			if (ok && reg_str_eq(raw, "true"))
				s->verified = true;
			else if (ok && !reg_str_eq(raw, "false") && !reg_str_eq(raw, "null")) {
				why = "verified is not true or false";
				ok = false;
			}
		} else {
			ok = read_raw(d, &raw);
		}
		if (!ok)
			return false;
	}
	if (r == READ_ERROR)
		return false;
	if (!s->claims)
		s->claims = reg_object_new();
	*out = s;
	return true;
}

/* The members of the four kinds of input beyond the envelope. */
typedef struct {
	const reg_software_statement *statement;
	reg_phase phase;
	bool has_phase;
	reg_object *metadata, *current, *claims;
	reg_str client_id, grant_type, auth_method;
	reg_strs policies, requested_scope, allowed_scope, scope, resources, audience;
	int64_t lifetime;
} hook_members;

/* decode reads an input document in one pass; members it does not know
 * are skipped (a later host may add members). */
static reg_err decode(reg_str doc, reg_envelope *env, hook_members *h) {
	static const reg_strs no_strings = {NULL, 0};
	dec d;
	dec_init(&d, doc);
	memset(env, 0, sizeof *env);
	env->hook = env->tenant = env->token.kind = env->token.id = env->token.client_id = env->request.remote_ip =
		env->config = reg_s("");
	env->token.policies = no_strings;
	memset(h, 0, sizeof *h);
	h->client_id = h->grant_type = h->auth_method = reg_s("");
	h->policies = h->requested_scope = h->allowed_scope = h->scope = h->resources = h->audience = no_strings;
	why = NULL;
	bool started = false;
	reg_str name;
	int r;
	while ((r = obj_next(&d, &started, &name, NULL)) == READ_OK) {
		bool ok;
		reg_str raw;
		if (reg_str_eq(name, "abi"))
			ok = in_int(&d, &env->abi);
		else if (reg_str_eq(name, "hook"))
			ok = in_string(&d, &env->hook);
		else if (reg_str_eq(name, "tenant"))
			ok = in_string(&d, &env->tenant);
		else if (reg_str_eq(name, "now"))
			ok = in_int(&d, &env->now);
		else if (reg_str_eq(name, "token"))
			ok = in_token(&d, env);
		else if (reg_str_eq(name, "request"))
			ok = in_request(&d, env);
		else if (reg_str_eq(name, "config"))
			ok = dec_null(&d) || read_raw(&d, &env->config);
		else if (reg_str_eq(name, "phase"))
			ok = in_phase(&d, &h->phase, &h->has_phase);
		else if (reg_str_eq(name, "metadata"))
			ok = in_object(&d, &h->metadata);
		else if (reg_str_eq(name, "client_id"))
			ok = in_string(&d, &h->client_id);
		else if (reg_str_eq(name, "current"))
			ok = in_object(&d, &h->current);
		else if (reg_str_eq(name, "policies"))
			ok = in_strings(&d, &h->policies);
		else if (reg_str_eq(name, "grant_type"))
			ok = in_string(&d, &h->grant_type);
		else if (reg_str_eq(name, "auth_method"))
			ok = in_string(&d, &h->auth_method);
		else if (reg_str_eq(name, "requested_scope"))
			ok = in_strings(&d, &h->requested_scope);
		else if (reg_str_eq(name, "allowed_scope"))
			ok = in_strings(&d, &h->allowed_scope);
		else if (reg_str_eq(name, "scope"))
			ok = in_strings(&d, &h->scope);
		else if (reg_str_eq(name, "resources"))
			ok = in_strings(&d, &h->resources);
		else if (reg_str_eq(name, "audience"))
			ok = in_strings(&d, &h->audience);
		else if (reg_str_eq(name, "lifetime"))
			ok = dec_null(&d) || in_int(&d, &h->lifetime);
		else if (reg_str_eq(name, "claims"))
			ok = in_object(&d, &h->claims);
		else if (reg_str_eq(name, "software_statement"))
			ok = in_statement(&d, &h->statement);
		else
			ok = read_raw(&d, &raw);
		if (!ok) {
			if (d.err)
				return reg_fail("input member \"%s\": invalid JSON at offset %zu: %s", name.ptr, d.err_at, d.err);
			return reg_fail("input member \"%s\": %s", name.ptr, why ? why : "invalid");
		}
	}
	if (r == READ_ERROR || !dec_end(&d))
		return reg_fail("input: invalid JSON at offset %zu: %s", d.err_at, d.err ? d.err : "not a JSON object");
	if (!h->metadata)
		h->metadata = reg_object_new();
	if (!h->claims)
		h->claims = reg_object_new();
	return REG_OK;
}

/* ---- running hooks ---------------------------------------------------- */

/* The output document, reused from call to call. */
static buf output = {NULL, 0, 0, true};

/* finish turns a hook's result into the output document (true) or the
 * failure line (false). */
static bool finish(reg_err err, reg_str *out) {
	if (err && !err->rejection) {
		*out = reg_sprintf("registrar: the %s hook failed: %.*s", current_hook, (int)err->message.len,
		                   err->message.ptr);
		return false;
	}
	bool token_hook = strcmp(current_hook, "issue_access_token") == 0;
	if (err && token_code(err->code) != token_hook) {
		*out = reg_sprintf("registrar: the %s hook failed: rejected with %s, but the code is not %s", current_hook,
		                   reg_code_name(err->code),
		                   token_hook ? "invalid_scope, unauthorized_client or access_denied" : "one of the RFC 7591 codes");
		return false;
	}
	if (err) {
		output.len = 0;
		buf_cstr(&output, "{\"error\":");
		write_string(&output, reg_s(reg_code_name(err->code)));
		reg_str desc = safe_description(err->message);
		if (desc.len > 0) {
			buf_cstr(&output, ",\"error_description\":");
			write_string(&output, desc);
		}
		buf_byte(&output, '}');
	}
	out->ptr = output.p;
	out->len = output.len;
	return true;
}

static void start(const char *hook) {
	reg_reset();
	current_hook = hook;
	output.len = 0;
}

static reg_err need_phase(const hook_members *h) {
	return h->has_phase ? REG_OK : reg_fail("input has no phase");
}

bool reg_run_policy(reg_policy_fn fn, reg_str doc, reg_str *out) {
	start("policy");
	reg_policy_input in;
	hook_members h;
	reg_err err = decode(doc, &in.env, &h);
	if (!err)
		err = need_phase(&h);
	if (!err) {
		in.phase = h.phase;
		in.metadata = h.metadata;
		in.client_id = h.client_id;
		in.current = h.current;
		in.policies = h.policies;
		in.software_statement = h.statement;
		reg_policy_output res = {in.metadata, false, {NULL, 0}};
		err = fn(&in, &res);
		if (!err) {
			buf_cstr(&output, "{\"metadata\":");
			write_object(&output, res.metadata);
			if (res.set_registration_policies) {
				buf_cstr(&output, ",\"registration_policies\":");
				write_strings(&output, res.registration_policies.items, res.registration_policies.len);
			}
			buf_byte(&output, '}');
		}
	}
	return finish(err, out);
}

/* valid_client_id: 1 to 128 characters of A-Z a-z 0-9 . _ ~ -. */
static bool valid_client_id(reg_str s) {
	if (s.len < 1 || s.len > 128)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.ptr[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '~' || c == '-'))
			return false;
	}
	return true;
}

/* valid_client_secret: 32 to 512 printable ASCII characters without spaces. */
static bool valid_client_secret(reg_str s) {
	if (s.len < 32 || s.len > 512)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		if ((unsigned char)s.ptr[i] <= ' ' || (unsigned char)s.ptr[i] >= 0x7f)
			return false;
	}
	return true;
}

static bool run_factory(const char *hook, reg_factory_fn fn, reg_str doc, reg_str *out) {
	start(hook);
	reg_factory_input in;
	hook_members h;
	reg_err err = decode(doc, &in.env, &h);
	if (!err) {
		in.metadata = h.metadata;
		reg_str v = reg_s("");
		err = fn(&in, &v);
		bool id = strcmp(hook, "id_factory") == 0;
		if (!err && id && !valid_client_id(v))
			err = reg_fail("returned a client_id that is not 1 to 128 characters of A-Z a-z 0-9 . _ ~ -");
		if (!err && !id && !valid_client_secret(v))
			err = reg_fail("returned a client_secret that is not 32 to 512 printable ASCII characters without spaces");
		if (!err) {
			buf_cstr(&output, id ? "{\"client_id\":" : "{\"client_secret\":");
			write_string(&output, v);
			buf_byte(&output, '}');
		}
	}
	return finish(err, out);
}

bool reg_run_id_factory(reg_factory_fn fn, reg_str doc, reg_str *out) {
	return run_factory("id_factory", fn, doc, out);
}

bool reg_run_secret_factory(reg_factory_fn fn, reg_str doc, reg_str *out) {
	return run_factory("secret_factory", fn, doc, out);
}

static bool run_decision(const char *hook, reg_decision_fn fn, reg_str doc, reg_str *out) {
	start(hook);
	reg_decision_input in;
	hook_members h;
	reg_err err = decode(doc, &in.env, &h);
	if (!err)
		err = need_phase(&h);
	if (!err) {
		in.phase = h.phase;
		in.client_id = h.client_id;
		in.metadata = h.metadata;
		bool yes = false;
		err = fn(&in, &yes);
		if (!err)
			buf_cstr(&output, yes ? "{\"decision\":true}" : "{\"decision\":false}");
	}
	return finish(err, out);
}

bool reg_run_issue_registration_access_token(reg_decision_fn fn, reg_str doc, reg_str *out) {
	return run_decision("issue_registration_access_token", fn, doc, out);
}

bool reg_run_rotate_registration_access_token(reg_decision_fn fn, reg_str doc, reg_str *out) {
	return run_decision("rotate_registration_access_token", fn, doc, out);
}

static const char *const reserved_claims[] = {
	"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "client_id", "scope",
	"cnf", "token_type", "active", "username", "auth_time", "acr", "amr",
};

bool reg_reserved_claim(reg_str name) {
	for (size_t k = 0; k < sizeof reserved_claims / sizeof reserved_claims[0]; k++) {
		if (reg_str_eq(name, reserved_claims[k]))
			return true;
	}
	return false;
}

static bool strs_has(reg_strs list, reg_str s, size_t upto) {
	for (size_t i = 0; i < upto && i < list.len; i++) {
		if (list.items[i].len == s.len && memcmp(list.items[i].ptr, s.ptr, s.len) == 0)
			return true;
	}
	return false;
}

/* check_access_token refuses what the host would (sdk/ABI.md §2). */
static reg_err check_access_token(const reg_access_token_input *in, const reg_access_token_output *res) {
	for (size_t i = 0; res->set_scope && i < res->scope.len; i++) {
		reg_str v = res->scope.items[i];
		if (!strs_has(in->scope, v, in->scope.len))
			return reg_fail("returned scope \"%.*s\", which is not in the input's scope", (int)v.len, v.ptr);
		if (strs_has(res->scope, v, i))
			return reg_fail("returned scope \"%.*s\" twice", (int)v.len, v.ptr);
	}
	if (res->set_audience) {
		bool ok = res->audience.len >= 1 && res->audience.len <= 16;
		for (size_t i = 0; ok && i < res->audience.len; i++)
			ok = res->audience.items[i].len > 0;
		if (!ok)
			return reg_fail("returned an audience that is not 1 to 16 non-empty strings");
	}
	if (res->lifetime < 0 || res->lifetime > in->lifetime)
		return reg_fail("returned a lifetime of %lld seconds; the most is the input's %lld", (long long)res->lifetime,
		                (long long)in->lifetime);
	for (size_t i = 0; i < reg_object_len(res->claims); i++) {
		reg_str name = reg_object_name(res->claims, i);
		if (name.len == 0 || reg_reserved_claim(name))
			return reg_fail("returned claim \"%s\", which is reserved: the token endpoint sets it", name.ptr);
		reg_str raw;
		if (reg_object_get(in->claims, name.ptr, &raw))
			return reg_fail("returned claim \"%s\", which an earlier module set", name.ptr);
	}
	size_t n = reg_object_json(res->claims).len;
	if (n > 4096)
		return reg_fail("returned claims of %zu bytes; the most is 4096", n);
	return REG_OK;
}

bool reg_run_issue_access_token(reg_access_token_fn fn, reg_str doc, reg_str *out) {
	start("issue_access_token");
	reg_access_token_input in;
	hook_members h;
	reg_err err = decode(doc, &in.env, &h);
	if (!err) {
		in.client_id = h.client_id;
		in.metadata = h.metadata;
		in.grant_type = h.grant_type;
		in.auth_method = h.auth_method;
		in.requested_scope = h.requested_scope;
		in.allowed_scope = h.allowed_scope;
		in.scope = h.scope;
		in.resources = h.resources;
		in.audience = h.audience;
		in.lifetime = h.lifetime;
		in.policies = h.policies;
		in.claims = h.claims;
		reg_access_token_output res = {false, {NULL, 0}, false, {NULL, 0}, 0, reg_object_new()};
		err = fn(&in, &res);
		if (!err)
			err = check_access_token(&in, &res);
		if (!err) {
			buf_byte(&output, '{');
			if (res.set_scope) {
				buf_cstr(&output, "\"scope\":");
				write_strings(&output, res.scope.items, res.scope.len);
			}
			if (res.set_audience) {
				buf_cstr(&output, output.len > 1 ? ",\"audience\":" : "\"audience\":");
				write_strings(&output, res.audience.items, res.audience.len);
			}
			if (res.lifetime > 0) {
				reg_str l = reg_sprintf("%s\"lifetime\":%lld", output.len > 1 ? "," : "", (long long)res.lifetime);
				buf_put(&output, l.ptr, l.len);
			}
			if (reg_object_len(res.claims) > 0) {
				buf_cstr(&output, output.len > 1 ? ",\"claims\":" : "\"claims\":");
				write_object(&output, res.claims);
			}
			buf_byte(&output, '}');
		}
	}
	return finish(err, out);
}

/* ---- the calling convention (sdk/ABI.md §1) ---------------------------- */

/* The buffer the host writes the current call's input into, reused. */
static char *input;
static size_t input_cap;

REG_EXPORT_(registrar_abi_version) int32_t registrar_abi_version(void);
int32_t registrar_abi_version(void) { return REGISTRAR_ABI_VERSION; }

REG_EXPORT_(registrar_alloc) uint32_t registrar_alloc(uint32_t size);
uint32_t registrar_alloc(uint32_t size) {
	if ((size_t)size + 1 > input_cap) {
		free(input);
		input = malloc((size_t)size + 1);
		input_cap = input ? (size_t)size + 1 : 0;
		if (!input)
			return 0;
	}
	return (uint32_t)(uintptr_t)input;
}

static uint64_t serve(const char *hook, bool ok, reg_str out) {
	if (!ok) {
		reg_host_log_(REG_ERROR, out.ptr, (uint32_t)out.len);
		REG_TRAP();
	}
	(void)hook;
	return (uint64_t)(uintptr_t)out.ptr << 32 | (uint64_t)out.len;
}

/* input_doc returns the input at (ptr, len), which registrar_alloc made
 * room for; anything else fails the call. */
static reg_str input_doc(const char *hook, uint32_t ptr, uint32_t len) {
	current_hook = hook;
	if ((uintptr_t)ptr != (uintptr_t)input || (size_t)len >= input_cap)
		die("the host passed an input that registrar_alloc did not return");
	reg_str doc = {input, len};
	return doc;
}

#define SERVE_(hook, runner)                                                            \
	reg_str out;                                                                        \
	bool ok = runner(fn, input_doc(hook, ptr, len), &out);                              \
	return serve(hook, ok, out)

uint64_t reg_serve_policy(reg_policy_fn fn, uint32_t ptr, uint32_t len) {
	SERVE_("policy", reg_run_policy);
}
uint64_t reg_serve_id_factory(reg_factory_fn fn, uint32_t ptr, uint32_t len) {
	SERVE_("id_factory", reg_run_id_factory);
}
uint64_t reg_serve_secret_factory(reg_factory_fn fn, uint32_t ptr, uint32_t len) {
	SERVE_("secret_factory", reg_run_secret_factory);
}
uint64_t reg_serve_issue_registration_access_token(reg_decision_fn fn, uint32_t ptr, uint32_t len) {
	SERVE_("issue_registration_access_token", reg_run_issue_registration_access_token);
}
uint64_t reg_serve_rotate_registration_access_token(reg_decision_fn fn, uint32_t ptr, uint32_t len) {
	SERVE_("rotate_registration_access_token", reg_run_rotate_registration_access_token);
}
uint64_t reg_serve_issue_access_token(reg_access_token_fn fn, uint32_t ptr, uint32_t len) {
	SERVE_("issue_access_token", reg_run_issue_access_token);
}

/* ---- log and randomness ----------------------------------------------- */

void reg_log(reg_level level, const char *format, ...) {
	char line[MAX_DESCRIPTION + 1];
	va_list ap;
	va_start(ap, format);
	int n = vsnprintf(line, sizeof line, format, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (n > MAX_DESCRIPTION)
		n = MAX_DESCRIPTION;
	reg_host_log_((int32_t)level, line, (uint32_t)n);
}

void reg_random(void *p, size_t n) {
	char *b = p;
	while (n > 0) {
		size_t k = n < MAX_RANDOM_CHUNK ? n : MAX_RANDOM_CHUNK;
		if (reg_host_random_(b, (uint32_t)k) != 0)
			die("the host's random import failed");
		b += k;
		n -= k;
	}
}

reg_str reg_random_string(size_t n, const char *alphabet) {
	size_t a = strlen(alphabet);
	if (a == 0 || a > 256)
		die("reg_random_string needs an alphabet of 1 to 256 bytes");
	/* Rejection sampling: keep the bytes below the largest multiple of the
	 * alphabet's size, so that every character is equally likely. */
	size_t limit = 256 - 256 % a, len = 0, want = n + n / 4 + 8;
	char *out = reg_alloc(n + 1);
	unsigned char *r = reg_alloc(want);
	while (len < n) {
		reg_random(r, want);
		for (size_t i = 0; i < want && len < n; i++) {
			if (r[i] < limit)
				out[len++] = alphabet[r[i] % a];
		}
	}
	out[n] = 0;
	reg_str s = {out, n};
	return s;
}
