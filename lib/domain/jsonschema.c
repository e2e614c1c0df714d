/*
 * jsonschema.c: a JSON Schema validator for the subset the job types'
 * params schemas use (rap/jsonschema.h lists it).
 *
 * The model: a schema is compiled once into a tree of nodes, one per schema
 * object, each holding only the checks it declares; validation walks the
 * instance along that tree and stops at the first error, whose message
 * names the value by its path (params.columns[2].type) and says what it
 * must be.
 *
 * Invariants: compiling refuses every keyword outside the subset and every
 * keyword whose value has the wrong shape, so a loaded schema checks all
 * it says.  The texts that messages quote (the allowed values of an enum,
 * the known properties, the kinds of a type) are written at compile time:
 * validation only reads the tree, never asks json-c to serialise a schema
 * value (json-c caches that text inside the object, which would race
 * between threads), so one compiled schema serves every thread at once.
 */
#include "rap/jsonschema.h"
#include "rap/buf.h"
#include "rap/err.h"
#include "rap/mem.h"

#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The kinds of JSON value a `type` names; an integer is also a number. */
enum kind {
	K_NULL = 1 << 0,
	K_BOOLEAN = 1 << 1,
	K_INTEGER = 1 << 2,
	K_NUMBER = 1 << 3,
	K_STRING = 1 << 4,
	K_ARRAY = 1 << 5,
	K_OBJECT = 1 << 6,
};

static const struct {
	const char *name;
	unsigned kind;
	const char *phrase; /* as messages say it: "must be <phrase>" */
} kinds[] = {
	{ "null", K_NULL, "null" },
	{ "boolean", K_BOOLEAN, "a boolean" },
	{ "integer", K_INTEGER, "an integer" },
	{ "number", K_NUMBER, "a number" },
	{ "string", K_STRING, "a string" },
	{ "array", K_ARRAY, "an array" },
	{ "object", K_OBJECT, "an object" },
};

#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))
#define TEXT_MAX 4096 /* the longest list a message quotes */
#define PATH_MAX_LEN 200
#define POINTER_MAX 256

/* A numeric bound (minimum, maximum), exact for integers. */
struct bound {
	bool set;
	bool integral;
	int64_t i;
	double d;
};

struct node;

struct prop {
	char *name;
	struct node *schema;
};

struct node {
	unsigned kinds;   /* 0: any kind */
	char *kinds_text; /* "a string or an integer" */
	struct prop *props;
	size_t n_props;
	char **required;
	size_t n_required;
	bool closed;      /* additionalProperties: false */
	char *known_text; /* the properties' names, for a closed object */
	struct node *items;
	struct json_object *enum_vals; /* a reference held: an array */
	char *enum_text;
	bool has_const;
	struct json_object *const_val; /* a reference held (NULL: null) */
	char *const_text;
	struct bound min, max;
	long long min_len, max_len, min_items, max_items; /* -1: unset */
};

struct rap_jsonschema {
	struct node *root;
};

static void node_free(struct node *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->n_props; i++) {
		free(n->props[i].name);
		node_free(n->props[i].schema);
	}
	free(n->props);
	for (i = 0; i < n->n_required; i++)
		free(n->required[i]);
	free(n->required);
	node_free(n->items);
	json_object_put(n->enum_vals);
	json_object_put(n->const_val);
	free(n->kinds_text);
	free(n->known_text);
	free(n->enum_text);
	free(n->const_text);
	free(n);
}

/* ---- compiling ---- */

/* Where a keyword sits in the schema, as a JSON pointer. */
struct pointer {
	char buf[POINTER_MAX];
	size_t len;
};

/* Appends "/seg" (RFC 6901 escaping); returns the length to restore. */
static size_t pointer_push(struct pointer *p, const char *seg)
{
	size_t old = p->len;

	if (p->len + 1 < sizeof(p->buf))
		p->buf[p->len++] = '/';
	for (; *seg && p->len + 2 < sizeof(p->buf); seg++) {
		if (*seg == '~' || *seg == '/') {
			p->buf[p->len++] = '~';
			p->buf[p->len++] = *seg == '~' ? '0' : '1';
		} else {
			p->buf[p->len++] = *seg;
		}
	}
	p->buf[p->len] = '\0';
	return old;
}

static void pointer_pop(struct pointer *p, size_t len)
{
	p->len = len;
	p->buf[len] = '\0';
}

static int bad_schema(const struct pointer *p, char *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad_schema(const struct pointer *p, char *err, const char *fmt, ...)
{
	char what[RAP_ERRLEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(err, RAP_ERRLEN, "%.160s at #%.90s", what, p->buf);
	return RAP_EINVAL;
}

/* A string a message may quote bare: a word of [A-Za-z0-9_.-]. */
static bool bare_word(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

/* Appends a value as a message quotes it: a bare word as it is, anything
 * else as JSON.  Only at compile time (it serialises schema values). */
static void quote_value(struct rap_buf *b, struct json_object *v)
{
	if (json_object_is_type(v, json_type_string) && bare_word(json_object_get_string(v)))
		rap_buf_appends(b, json_object_get_string(v));
	else
		rap_buf_appends(
			b, json_object_to_json_string_ext(
				   v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

static bool is_number(struct json_object *v)
{
	return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
}

static int compile_bound(struct json_object *v, struct bound *b, const struct pointer *p,
			 const char *kw, char *err)
{
	double d;

	if (!is_number(v) || !isfinite(json_object_get_double(v)))
		return bad_schema(p, err, "'%s' must be a number", kw);
	d = json_object_get_double(v);
	b->set = true;
	b->d = d;
	if (json_object_is_type(v, json_type_int)) {
		b->integral = true;
		b->i = json_object_get_int64(v);
	} else if (d == floor(d) && fabs(d) < 9.0e18) {
		b->integral = true;
		b->i = (int64_t)d;
	}
	return RAP_OK;
}

static int compile_count(struct json_object *v, long long *out, const struct pointer *p,
			 const char *kw, char *err)
{
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return bad_schema(p, err, "'%s' must be a whole number, 0 or more", kw);
	*out = json_object_get_int64(v);
	return RAP_OK;
}

/* "a string", "a string or an integer", "null, a string or an array". */
static char *kinds_phrase(unsigned mask)
{
	struct rap_buf b;
	size_t i, n = 0, total = 0;

	for (i = 0; i < N_KINDS; i++)
		total += (mask & kinds[i].kind) != 0;
	rap_buf_init(&b, TEXT_MAX);
	for (i = 0; i < N_KINDS; i++) {
		if (!(mask & kinds[i].kind))
			continue;
		if (n)
			rap_buf_appends(&b, n + 1 == total ? " or " : ", ");
		rap_buf_appends(&b, kinds[i].phrase);
		n++;
	}
	return rap_buf_take(&b);
}

static int compile_type(struct node *n, struct json_object *v, const struct pointer *p, char *err)
{
	size_t i, k, count = 1;
	struct json_object *name = v;

	if (json_object_is_type(v, json_type_array)) {
		count = json_object_array_length(v);
		if (count == 0)
			return bad_schema(p, err, "'type' must not be an empty array");
	} else if (!json_object_is_type(v, json_type_string)) {
		return bad_schema(p, err, "'type' must be a type name or an array of them");
	}
	for (i = 0; i < count; i++) {
		if (json_object_is_type(v, json_type_array))
			name = json_object_array_get_idx(v, i);
		if (!json_object_is_type(name, json_type_string))
			return bad_schema(p, err, "'type' must name types with strings");
		for (k = 0; k < N_KINDS; k++)
			if (strcmp(json_object_get_string(name), kinds[k].name) == 0)
				break;
		if (k == N_KINDS)
			return bad_schema(p, err, "'type' names an unknown type '%.40s'",
					  json_object_get_string(name));
		if (n->kinds & kinds[k].kind)
			return bad_schema(p, err, "'type' names '%s' twice", kinds[k].name);
		n->kinds |= kinds[k].kind;
	}
	n->kinds_text = kinds_phrase(n->kinds);
	return RAP_OK;
}

static int compile_required(struct node *n, struct json_object *v, const struct pointer *p,
			    char *err)
{
	size_t i, count;

	if (!json_object_is_type(v, json_type_array))
		return bad_schema(p, err, "'required' must be an array of names");
	count = json_object_array_length(v);
	n->required = rap_calloc(count ? count : 1, sizeof(*n->required));
	for (i = 0; i < count; i++) {
		struct json_object *name = json_object_array_get_idx(v, i);

		if (!json_object_is_type(name, json_type_string))
			return bad_schema(p, err, "'required' must be an array of names");
		n->required[n->n_required++] = rap_strdup(json_object_get_string(name));
	}
	return RAP_OK;
}

static int compile_node(struct json_object *o, struct pointer *p, struct node **out, char *err);

static int compile_properties(struct node *n, struct json_object *v, struct pointer *p, char *err)
{
	struct rap_buf known;
	int result = RAP_OK;

	if (!json_object_is_type(v, json_type_object))
		return bad_schema(p, err, "'properties' must be an object of schemas");
	n->props = rap_calloc((size_t)json_object_object_length(v) + 1, sizeof(*n->props));
	rap_buf_init(&known, TEXT_MAX);
	json_object_object_foreach(v, name, schema) {
		struct prop *pr = &n->props[n->n_props];
		size_t at = pointer_push(p, name);

		pr->name = rap_strdup(name);
		n->n_props++;
		result = compile_node(schema, p, &pr->schema, err);
		pointer_pop(p, at);
		if (result != RAP_OK)
			break;
		if (known.len)
			rap_buf_appends(&known, ", ");
		rap_buf_appends(&known, name);
	}
	n->known_text = rap_buf_take(&known);
	return result;
}

static void keep_value(struct json_object *v, struct json_object **slot, char **text)
{
	struct rap_buf b;

	*slot = json_object_get(v);
	rap_buf_init(&b, TEXT_MAX);
	quote_value(&b, v);
	*text = rap_buf_take(&b);
}

static int compile_enum(struct node *n, struct json_object *v, const struct pointer *p, char *err)
{
	struct rap_buf b;
	size_t i, count;

	if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0)
		return bad_schema(p, err, "'enum' must be a non-empty array");
	count = json_object_array_length(v);
	n->enum_vals = json_object_get(v);
	rap_buf_init(&b, TEXT_MAX);
	for (i = 0; i < count; i++) {
		if (i)
			rap_buf_appends(&b, ", ");
		quote_value(&b, json_object_array_get_idx(v, i));
	}
	n->enum_text = rap_buf_take(&b);
	return RAP_OK;
}

/* The keywords that document and change nothing the validator checks. */
static bool ignored_keyword(const char *kw)
{
	static const char *const names[] = { "$schema",     "$id",     "$comment", "title",
					     "description", "default", "examples" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(kw, names[i]) == 0)
			return true;
	return false;
}

/* Compiles one keyword of a schema object into n. */
static int compile_keyword(struct node *n, const char *kw, struct json_object *v, struct pointer *p,
			   char *err)
{
	int result = RAP_OK;
	size_t at;

	if (ignored_keyword(kw))
		return RAP_OK;
	if (strcmp(kw, "type") == 0)
		return compile_type(n, v, p, err);
	if (strcmp(kw, "required") == 0)
		return compile_required(n, v, p, err);
	if (strcmp(kw, "enum") == 0)
		return compile_enum(n, v, p, err);
	if (strcmp(kw, "const") == 0) {
		n->has_const = true;
		keep_value(v, &n->const_val, &n->const_text);
		return RAP_OK;
	}
	if (strcmp(kw, "minimum") == 0 || strcmp(kw, "maximum") == 0)
		return compile_bound(v, kw[1] == 'i' ? &n->min : &n->max, p, kw, err);
	if (strcmp(kw, "minLength") == 0 || strcmp(kw, "maxLength") == 0)
		return compile_count(v, kw[1] == 'i' ? &n->min_len : &n->max_len, p, kw, err);
	if (strcmp(kw, "minItems") == 0 || strcmp(kw, "maxItems") == 0)
		return compile_count(v, kw[1] == 'i' ? &n->min_items : &n->max_items, p, kw, err);
	if (strcmp(kw, "additionalProperties") == 0) {
		if (!json_object_is_type(v, json_type_boolean))
			return bad_schema(p, err,
					  "'additionalProperties' must be true or false "
					  "(schemas are not supported there)");
		n->closed = !json_object_get_boolean(v);
		return RAP_OK;
	}
	at = pointer_push(p, kw);
	if (strcmp(kw, "properties") == 0)
		result = compile_properties(n, v, p, err);
	else if (strcmp(kw, "items") == 0)
		result = compile_node(v, p, &n->items, err);
	else
		result = RAP_EUNSUPPORTED;
	pointer_pop(p, at);
	if (result == RAP_EUNSUPPORTED)
		return bad_schema(p, err, "keyword '%.64s' is not supported", kw);
	return result;
}

/* Compiles the schema object o (at pointer p) into *out. */
static int compile_node(struct json_object *o, struct pointer *p, struct node **out, char *err)
{
	struct node *n;
	int result = RAP_OK;

	*out = NULL;
	if (!json_object_is_type(o, json_type_object))
		return bad_schema(p, err, "a schema must be a JSON object");
	n = rap_calloc(1, sizeof(*n));
	n->min_len = n->max_len = n->min_items = n->max_items = -1;
	json_object_object_foreach(o, kw, v) {
		result = compile_keyword(n, kw, v, p, err);
		if (result != RAP_OK)
			break;
	}
	if (result != RAP_OK) {
		node_free(n);
		return result;
	}
	*out = n;
	return RAP_OK;
}

int rap_jsonschema_new(const char *text, size_t len, struct rap_jsonschema **out, char *err)
{
	struct json_tokener *tok = json_tokener_new();
	struct pointer p = { .len = 0 };
	struct json_object *o;
	struct node *root = NULL;
	int result = RAP_EINVAL;

	*out = NULL;
	p.buf[0] = '\0';
	o = json_tokener_parse_ex(tok, text, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		snprintf(err, RAP_ERRLEN, "the schema is not one JSON value");
		goto out_put;
	}
	result = compile_node(o, &p, &root, err);
	if (result == RAP_OK) {
		*out = rap_calloc(1, sizeof(**out));
		(*out)->root = root;
	}
out_put:
	json_object_put(o);
	json_tokener_free(tok);
	return result;
}

void rap_jsonschema_free(struct rap_jsonschema *s)
{
	if (!s)
		return;
	node_free(s->root);
	free(s);
}

/* ---- validating ---- */

/* The path of the value being checked, as messages name it. */
struct path {
	char buf[PATH_MAX_LEN + 1];
	size_t len;
};

static size_t path_append(struct path *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Appends to the path (cut at its maximum); returns the length to restore. */
static size_t path_append(struct path *p, const char *fmt, ...)
{
	size_t old = p->len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->buf + p->len, sizeof(p->buf) - p->len, fmt, ap);
	va_end(ap);
	p->len += strlen(p->buf + p->len);
	return old;
}

/* ".name" for a plain name, ["odd name"] (escaped) for any other. */
static size_t path_key(struct path *p, const char *key)
{
	char esc[3 * 64 + 1];
	size_t n = 0, i;
	bool plain = (*key >= 'a' && *key <= 'z') || (*key >= 'A' && *key <= 'Z') || *key == '_';

	for (i = 0; key[i] && plain; i++)
		plain = (key[i] >= 'a' && key[i] <= 'z') || (key[i] >= 'A' && key[i] <= 'Z') ||
			(key[i] >= '0' && key[i] <= '9') || key[i] == '_';
	if (plain)
		return path_append(p, ".%.64s", key);
	for (i = 0; i < 64 && key[i]; i++) {
		unsigned char c = (unsigned char)key[i];

		if (c == '"' || c == '\\') {
			esc[n++] = '\\';
			esc[n++] = (char)c;
		} else if (c < 0x20) {
			esc[n++] = '?';
		} else {
			esc[n++] = (char)c;
		}
	}
	esc[n] = '\0';
	return path_append(p, "[\"%s\"]", esc);
}

static void path_restore(struct path *p, size_t len)
{
	p->len = len;
	p->buf[len] = '\0';
}

static int invalid(const struct path *p, char *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int invalid(const struct path *p, char *err, const char *fmt, ...)
{
	char what[RAP_ERRLEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(err, RAP_ERRLEN, "%.100s: %.150s", p->buf, what);
	return RAP_EINVAL;
}

static unsigned kind_of(struct json_object *v)
{
	double d;

	switch (json_object_get_type(v)) {
	case json_type_null:
		return K_NULL;
	case json_type_boolean:
		return K_BOOLEAN;
	case json_type_int:
		return K_INTEGER | K_NUMBER;
	case json_type_double:
		d = json_object_get_double(v);
		return isfinite(d) && d == floor(d) ? K_INTEGER | K_NUMBER : K_NUMBER;
	case json_type_string:
		return K_STRING;
	case json_type_array:
		return K_ARRAY;
	case json_type_object:
		return K_OBJECT;
	}
	return 0;
}

/* -1, 0 or 1 as the number v is below, at or above the bound. */
static int cmp_bound(struct json_object *v, const struct bound *b)
{
	double x;

	if (json_object_is_type(v, json_type_int) && b->integral) {
		int64_t i = json_object_get_int64(v);

		return i < b->i ? -1 : i > b->i;
	}
	x = json_object_get_double(v);
	return x < b->d ? -1 : x > b->d;
}

/* JSON equality, where numbers compare by value (1 equals 1.0). */
static bool same(struct json_object *a, struct json_object *b)
{
	if ((kind_of(a) & K_NUMBER) && (kind_of(b) & K_NUMBER))
		return json_object_get_double(a) == json_object_get_double(b) &&
		       (!json_object_is_type(a, json_type_int) ||
			!json_object_is_type(b, json_type_int) ||
			json_object_get_int64(a) == json_object_get_int64(b));
	return json_object_equal(a, b) != 0;
}

static void bound_text(const struct bound *b, char *out, size_t len)
{
	if (b->integral)
		snprintf(out, len, "%lld", (long long)b->i);
	else
		snprintf(out, len, "%g", b->d);
}

/* Characters of UTF-8 text: the bytes that do not continue a sequence. */
static long long utf8_chars(const char *s, size_t len)
{
	long long n = 0;

	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xC0) != 0x80;
	return n;
}

static const char *plural(long long n, const char *word, const char *words)
{
	return n == 1 ? word : words;
}

static int validate_node(const struct node *n, struct json_object *v, struct path *p, char *err);

static int validate_number(const struct node *n, struct json_object *v, const struct path *p,
			   char *err)
{
	char b[40];

	if (n->min.set && cmp_bound(v, &n->min) < 0) {
		bound_text(&n->min, b, sizeof(b));
		return invalid(p, err, "must be at least %s", b);
	}
	if (n->max.set && cmp_bound(v, &n->max) > 0) {
		bound_text(&n->max, b, sizeof(b));
		return invalid(p, err, "must be at most %s", b);
	}
	return RAP_OK;
}

static int validate_string(const struct node *n, struct json_object *v, const struct path *p,
			   char *err)
{
	long long chars;

	if (n->min_len < 0 && n->max_len < 0)
		return RAP_OK;
	chars = utf8_chars(json_object_get_string(v), (size_t)json_object_get_string_len(v));
	if (n->min_len >= 0 && chars < n->min_len)
		return invalid(p, err, "must be at least %lld %s long", n->min_len,
			       plural(n->min_len, "character", "characters"));
	if (n->max_len >= 0 && chars > n->max_len)
		return invalid(p, err, "must be at most %lld %s long", n->max_len,
			       plural(n->max_len, "character", "characters"));
	return RAP_OK;
}

static int validate_array(const struct node *n, struct json_object *v, struct path *p, char *err)
{
	long long count = (long long)json_object_array_length(v);
	int result = RAP_OK;

	if (n->min_items >= 0 && count < n->min_items)
		return invalid(p, err, "must hold at least %lld %s", n->min_items,
			       plural(n->min_items, "item", "items"));
	if (n->max_items >= 0 && count > n->max_items)
		return invalid(p, err, "must hold at most %lld %s", n->max_items,
			       plural(n->max_items, "item", "items"));
	for (long long i = 0; n->items && i < count && result == RAP_OK; i++) {
		size_t at = path_append(p, "[%lld]", i);

		result = validate_node(n->items, json_object_array_get_idx(v, (size_t)i), p, err);
		path_restore(p, at);
	}
	return result;
}

static const struct prop *find_prop(const struct node *n, const char *name)
{
	for (size_t i = 0; i < n->n_props; i++)
		if (strcmp(n->props[i].name, name) == 0)
			return &n->props[i];
	return NULL;
}

/* Required names first, then unknown ones (a closed object), then each
 * property in the order the instance gives them. */
static int validate_object(const struct node *n, struct json_object *v, struct path *p, char *err)
{
	struct json_object *member;
	int result = RAP_OK;
	size_t i, at;

	for (i = 0; i < n->n_required; i++) {
		if (json_object_object_get_ex(v, n->required[i], &member))
			continue;
		at = path_key(p, n->required[i]);
		result = invalid(p, err, "is required");
		path_restore(p, at);
		return result;
	}
	json_object_object_foreach(v, key, val) {
		const struct prop *pr = find_prop(n, key);

		if (!pr && !n->closed)
			continue;
		at = path_key(p, key);
		if (!pr)
			result = n->n_props ? invalid(p, err, "is not a known field (known: %s)",
						      n->known_text)
					    : invalid(p, err, "is not a known field (none are)");
		else
			result = validate_node(pr->schema, val, p, err);
		path_restore(p, at);
		if (result != RAP_OK)
			return result;
	}
	return RAP_OK;
}

static bool in_enum(const struct node *n, struct json_object *v)
{
	size_t i, count = json_object_array_length(n->enum_vals);

	for (i = 0; i < count; i++)
		if (same(json_object_array_get_idx(n->enum_vals, i), v))
			return true;
	return false;
}

static int validate_node(const struct node *n, struct json_object *v, struct path *p, char *err)
{
	unsigned k = kind_of(v);

	if (n->kinds && !(n->kinds & k))
		return invalid(p, err, "must be %s", n->kinds_text);
	if (n->enum_vals && !in_enum(n, v))
		return invalid(p, err, "must be one of %s", n->enum_text);
	if (n->has_const && !same(n->const_val, v))
		return invalid(p, err, "must be %s", n->const_text);
	if (k & K_NUMBER)
		return validate_number(n, v, p, err);
	if (k & K_STRING)
		return validate_string(n, v, p, err);
	if (k & K_ARRAY)
		return validate_array(n, v, p, err);
	if (k & K_OBJECT)
		return validate_object(n, v, p, err);
	return RAP_OK;
}

int rap_jsonschema_validate(const struct rap_jsonschema *s, struct json_object *v, const char *root,
			    char *err)
{
	struct path p = { .len = 0 };

	p.buf[0] = '\0';
	path_append(&p, "%s", root);
	return validate_node(s->root, v, &p, err);
}

int rap_jsonschema_check(const struct rap_jsonschema *s, const char *text, size_t len,
			 const char *root, char *err)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = json_tokener_parse_ex(tok, text, (int)len);
	int result;

	if (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		snprintf(err, RAP_ERRLEN, "%s: is not one JSON value", root);
		result = RAP_EINVAL;
	} else {
		result = rap_jsonschema_validate(s, o, root, err);
	}
	json_object_put(o);
	json_tokener_free(tok);
	return result;
}
