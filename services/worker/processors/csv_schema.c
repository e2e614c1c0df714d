/*
 * csv_schema.c: compiling the columns of a validate job's params, and
 * checking one value against one column (csv_schema.h).
 *
 * A value is checked in a fixed order and the first failure is its one
 * error: empty (required, else it passes), its type, its bounds (value
 * for numbers, length in characters for text), its pattern, then unique.
 * The types are scanners of their own (csv_value.c); a decimal's value
 * for its bounds comes from strtod in the C locale, which the processor
 * never changes.
 *
 * Unique values are remembered as 64-bit hashes in an open-addressing
 * table (linear probing, power-of-two size, load <= 1/2) that doubles up
 * to the size its limit needs; 0 marks a free slot, so a hash of 0 is
 * stored as 1.  Nothing else grows while rows are checked.
 */
#include "csv_schema.h"

#include "rap/err.h"
#include "rap/mem.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <json-c/json.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A match may not take more than these (PCRE2's own defaults are 10
 * million steps and 20 MiB): a pattern that needs more on one value is a
 * mismatch with its own message, not a stalled job. */
#define MATCH_LIMIT 1000000
#define MATCH_DEPTH 10000
#define MATCH_HEAP_KIB 1024
#define DEFAULT_UNIQUE 1000000

static const char *const type_names[] = { "string", "integer",  "decimal", "boolean",
					  "date",   "datetime", "email",   "enum" };

const char *csv_type_name(enum csv_type t)
{
	return type_names[t];
}

/* --- the unique sets ---------------------------------------------------- */

struct csv_uniq {
	uint64_t *slots;
	size_t mask; /* slots - 1 */
	size_t count;
	size_t limit; /* values it may hold */
};

static inline uint64_t mum(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t read64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* A 64-bit hash in the manner of wyhash: 16 bytes per multiply. */
uint64_t csv_hash64(const void *data, size_t n)
{
	const unsigned char *p = data;
	const uint64_t k1 = 0xa0761d6478bd642full, k2 = 0xe7037ed1a0b428dbull;
	uint64_t seed = 0x8ebc6af09c88c6e3ull ^ n, a = 0, b = 0;
	size_t left = n;

	while (left > 16) {
		seed = mum(read64(p) ^ k1, read64(p + 8) ^ seed);
		p += 16;
		left -= 16;
	}
	if (left > 8) {
		a = read64(p);
		memcpy(&b, p + 8, left - 8);
	} else if (left) {
		memcpy(&a, p, left);
	}
	return mum(k2 ^ n, mum(a ^ k1, b ^ seed));
}

static struct csv_uniq *uniq_new(size_t limit)
{
	struct csv_uniq *u = rap_calloc(1, sizeof(*u));

	u->limit = limit;
	u->mask = 1023;
	u->slots = rap_calloc(u->mask + 1, sizeof(*u->slots));
	return u;
}

static void uniq_free(struct csv_uniq *u)
{
	if (!u)
		return;
	free(u->slots);
	free(u);
}

static void uniq_put(uint64_t *slots, size_t mask, uint64_t h)
{
	size_t i = (size_t)h & mask;

	while (slots[i])
		i = (i + 1) & mask;
	slots[i] = h;
}

static void uniq_grow(struct csv_uniq *u)
{
	size_t old = u->mask + 1, i, mask = old * 2 - 1;
	uint64_t *slots = rap_calloc(mask + 1, sizeof(*slots));

	for (i = 0; i < old; i++)
		if (u->slots[i])
			uniq_put(slots, mask, u->slots[i]);
	free(u->slots);
	u->slots = slots;
	u->mask = mask;
}

/* 1: seen before; 0: remembered now; -1: new, but the set is full. */
static int uniq_add(struct csv_uniq *u, uint64_t h)
{
	size_t i;

	h = h ? h : 1;
	for (i = (size_t)h & u->mask; u->slots[i]; i = (i + 1) & u->mask)
		if (u->slots[i] == h)
			return 1;
	if (u->count >= u->limit)
		return -1;
	if ((u->count + 1) * 2 > u->mask + 1) {
		uniq_grow(u);
		uniq_put(u->slots, u->mask, h);
	} else {
		u->slots[i] = h;
	}
	u->count++;
	return 0;
}

/* --- compiling ---------------------------------------------------------- */

static int cmp_value(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return an < bn ? -1 : 1;
	return memcmp(a, b, an);
}

static void sort_values(struct csv_column *col)
{
	size_t i, j;

	/* Insertion sort: at most 1000 values, once per job. */
	for (i = 1; i < col->n_values; i++) {
		char *v = col->values[i];
		size_t n = col->lens[i];

		for (j = i; j > 0 && cmp_value(col->values[j - 1], col->lens[j - 1], v, n) > 0;
		     j--) {
			col->values[j] = col->values[j - 1];
			col->lens[j] = col->lens[j - 1];
		}
		col->values[j] = v;
		col->lens[j] = n;
	}
}

static int compile_values(struct csv_column *col, struct json_object *values, char *err)
{
	size_t i, n;

	if (!json_object_is_type(values, json_type_array) ||
	    (n = json_object_array_length(values)) == 0) {
		snprintf(err, RAP_ERRLEN, "column '%s': an enum needs values", col->name);
		return RAP_EINVAL;
	}
	col->values = rap_calloc(n, sizeof(*col->values));
	col->lens = rap_calloc(n, sizeof(*col->lens));
	for (i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(values, i);

		if (!json_object_is_type(v, json_type_string)) {
			snprintf(err, RAP_ERRLEN, "column '%s': values must be strings", col->name);
			return RAP_EINVAL;
		}
		col->lens[i] = (size_t)json_object_get_string_len(v);
		col->values[i] = rap_strndup(json_object_get_string(v), col->lens[i]);
		col->n_values++;
	}
	sort_values(col);
	return RAP_OK;
}

static int compile_pattern(struct csv_column *col, const char *pattern, char *err)
{
	int code;
	PCRE2_SIZE at;
	PCRE2_UCHAR msg[120];

	col->re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
				PCRE2_UTF | PCRE2_ANCHORED | PCRE2_ENDANCHORED |
					PCRE2_NEVER_BACKSLASH_C,
				&code, &at, NULL);
	if (!col->re) {
		pcre2_get_error_message(code, msg, sizeof(msg));
		snprintf(err, RAP_ERRLEN, "column '%s': pattern: %s at offset %zu", col->name,
			 (const char *)msg, (size_t)at);
		return RAP_EINVAL;
	}
	return RAP_OK;
}

static bool get_number(struct json_object *o, const char *key, double *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return false;
	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		return false;
	*out = json_object_get_double(v);
	return true;
}

static bool get_bool(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_boolean) &&
	       json_object_get_boolean(v);
}

static int compile_type(struct csv_column *col, struct json_object *o, char *err)
{
	struct json_object *v;
	size_t t;

	col->type = CSV_STRING;
	if (!json_object_object_get_ex(o, "type", &v))
		return RAP_OK;
	for (t = 0; json_object_is_type(v, json_type_string) && t <= CSV_ENUM; t++) {
		if (strcmp(json_object_get_string(v), type_names[t]) == 0) {
			col->type = (enum csv_type)t;
			return RAP_OK;
		}
	}
	snprintf(err, RAP_ERRLEN, "column '%s': unknown type", col->name);
	return RAP_EINVAL;
}

static int compile_column(struct csv_column *col, struct json_object *o, char *err)
{
	struct json_object *v;
	int result;

	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "name", &v) ||
	    !json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0) {
		snprintf(err, RAP_ERRLEN, "every column needs a name");
		return RAP_EINVAL;
	}
	col->name = rap_strdup(json_object_get_string(v));
	result = compile_type(col, o, err);
	if (result != RAP_OK)
		return result;
	col->required = get_bool(o, "required");
	col->has_min = get_number(o, "min", &col->min);
	col->has_max = get_number(o, "max", &col->max);
	if (col->type == CSV_ENUM) {
		v = NULL;
		json_object_object_get_ex(o, "values", &v);
		result = compile_values(col, v, err);
		if (result != RAP_OK)
			return result;
	}
	if (json_object_object_get_ex(o, "pattern", &v)) {
		if (!json_object_is_type(v, json_type_string)) {
			snprintf(err, RAP_ERRLEN, "column '%s': pattern must be a string",
				 col->name);
			return RAP_EINVAL;
		}
		result = compile_pattern(col, json_object_get_string(v), err);
		if (result != RAP_OK)
			return result;
	}
	return RAP_OK;
}

int csv_schema_compile(struct json_object *columns, long long max_unique, struct csv_schema **out,
		       char *err)
{
	struct csv_schema *s;
	size_t i, n, unique = 0;
	int result = RAP_OK;

	*out = NULL;
	if (!columns || !json_object_is_type(columns, json_type_array))
		return RAP_OK;
	n = json_object_array_length(columns);
	if (n == 0)
		return RAP_OK;
	s = rap_calloc(1, sizeof(*s));
	s->cols = rap_calloc(n, sizeof(*s->cols));
	for (i = 0; i < n && result == RAP_OK; i++) {
		s->n++;
		result = compile_column(&s->cols[i], json_object_array_get_idx(columns, i), err);
		unique += get_bool(json_object_array_get_idx(columns, i), "unique");
	}
	if (result != RAP_OK) {
		csv_schema_free(s);
		return result;
	}
	s->unique_limit = max_unique > 0 ? max_unique : DEFAULT_UNIQUE;
	if (unique && s->unique_limit > CSV_UNIQUE_BUDGET / (long long)unique)
		s->unique_limit = CSV_UNIQUE_BUDGET / (long long)unique;
	for (i = 0; i < n; i++)
		if (get_bool(json_object_array_get_idx(columns, i), "unique"))
			s->cols[i].uniq = uniq_new((size_t)s->unique_limit);
	s->mctx = pcre2_match_context_create(NULL);
	pcre2_set_match_limit(s->mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(s->mctx, MATCH_DEPTH);
	pcre2_set_heap_limit(s->mctx, MATCH_HEAP_KIB);
	s->md = pcre2_match_data_create(1, NULL);
	*out = s;
	return RAP_OK;
}

void csv_schema_free(struct csv_schema *s)
{
	size_t i, j;

	if (!s)
		return;
	for (i = 0; i < s->n; i++) {
		struct csv_column *col = &s->cols[i];

		free(col->name);
		pcre2_code_free(col->re);
		for (j = 0; j < col->n_values; j++)
			free(col->values[j]);
		free(col->values);
		free(col->lens);
		uniq_free(col->uniq);
	}
	free(s->cols);
	pcre2_match_context_free(s->mctx);
	pcre2_match_data_free(s->md);
	free(s);
}

/* --- checking ------------------------------------------------------------ */

static size_t utf8_chars(const char *v, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		c += ((unsigned char)v[i] & 0xC0) != 0x80;
	return c;
}

static bool in_enum(const struct csv_column *col, const char *v, size_t n)
{
	size_t lo = 0, hi = col->n_values;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_value(col->values[mid], col->lens[mid], v, n);

		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* A decimal's value (checked already) through a NUL-terminated copy. */
static double decimal_value(const char *v, size_t n)
{
	char small[64], *copy = n < sizeof(small) ? small : rap_malloc(n + 1);
	double d;

	memcpy(copy, v, n);
	copy[n] = '\0';
	d = strtod(copy, NULL);
	if (copy != small)
		free(copy);
	return d;
}

static const char *check_bounds(const struct csv_column *col, long double x, bool length, char *msg)
{
	if (col->has_min && x < (long double)col->min) {
		snprintf(msg, CSV_MSGLEN,
			 length ? "shorter than %.15g characters" : "less than %.15g", col->min);
		return length ? "too_short" : "too_small";
	}
	if (col->has_max && x > (long double)col->max) {
		snprintf(msg, CSV_MSGLEN,
			 length ? "longer than %.15g characters" : "more than %.15g", col->max);
		return length ? "too_long" : "too_large";
	}
	return NULL;
}

/* The type and its bounds. */
static const char *check_type(const struct csv_column *col, const char *v, size_t n, char *msg)
{
	long long i;
	bool b;

	switch (col->type) {
	case CSV_INTEGER:
		if (!csv_parse_integer(v, n, &i)) {
			snprintf(msg, CSV_MSGLEN, "not a whole number within 64 bits");
			return "invalid_integer";
		}
		return check_bounds(col, (long double)i, false, msg);
	case CSV_DECIMAL:
		if (!csv_is_decimal(v, n)) {
			snprintf(msg, CSV_MSGLEN, "not a decimal number");
			return "invalid_decimal";
		}
		if (!col->has_min && !col->has_max)
			return NULL;
		return check_bounds(col, (long double)decimal_value(v, n), false, msg);
	case CSV_BOOLEAN:
		if (!csv_parse_boolean(v, n, &b)) {
			snprintf(msg, CSV_MSGLEN, "not true/false, 1/0 or yes/no");
			return "invalid_boolean";
		}
		return NULL;
	case CSV_DATE:
		if (!csv_is_date(v, n)) {
			snprintf(msg, CSV_MSGLEN, "not a calendar date YYYY-MM-DD");
			return "invalid_date";
		}
		return NULL;
	case CSV_DATETIME:
		if (!csv_is_datetime(v, n)) {
			snprintf(msg, CSV_MSGLEN, "not an ISO 8601 date and time");
			return "invalid_datetime";
		}
		return NULL;
	case CSV_EMAIL:
		if (!csv_is_email(v, n)) {
			snprintf(msg, CSV_MSGLEN, "not an e-mail address");
			return "invalid_email";
		}
		break;
	case CSV_ENUM:
		if (!in_enum(col, v, n)) {
			snprintf(msg, CSV_MSGLEN, "not one of the %zu allowed values",
				 col->n_values);
			return "not_in_enum";
		}
		break;
	case CSV_STRING:
		break;
	}
	if (!col->has_min && !col->has_max)
		return NULL;
	return check_bounds(col, (long double)utf8_chars(v, n), true, msg);
}

static const char *check_pattern(struct csv_schema *s, const struct csv_column *col, const char *v,
				 size_t n, char *msg)
{
	int rc = pcre2_match(col->re, (PCRE2_SPTR)v, n, 0, PCRE2_NO_UTF_CHECK, s->md, s->mctx);

	if (rc >= 0)
		return NULL;
	if (rc == PCRE2_ERROR_NOMATCH)
		snprintf(msg, CSV_MSGLEN, "does not match the pattern");
	else
		snprintf(msg, CSV_MSGLEN, "could not be matched within the match limits (%d)", rc);
	return "pattern_mismatch";
}

const char *csv_schema_check(struct csv_schema *s, struct csv_column *col, const char *v, size_t n,
			     char *msg)
{
	const char *code;

	if (n == 0) {
		if (!col->required)
			return NULL;
		snprintf(msg, CSV_MSGLEN, "a value is required");
		return "required";
	}
	code = check_type(col, v, n, msg);
	if (code)
		return code;
	if (col->re) {
		code = check_pattern(s, col, v, n, msg);
		if (code)
			return code;
	}
	if (col->uniq && !col->unique_full) {
		int r = uniq_add(col->uniq, csv_hash64(v, n));

		if (r == 1) {
			snprintf(msg, CSV_MSGLEN, "the value occurs in an earlier row");
			return "duplicate";
		}
		if (r < 0) {
			col->unique_full = true;
		}
	}
	return NULL;
}
