#ifndef RAP_CSV_SCHEMA_H
#define RAP_CSV_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

/*
 * csv_schema: the columns of a validate job's params (proto/schemas/params/
 * csv.validate.json, "columns"), compiled once, and the check of one value
 * against one column.  Shared by csv.validate, xlsx.validate and
 * xls.validate.  Patterns are PCRE2 (8-bit, UTF, no JIT), anchored at both
 * ends, with match and heap limits so no value can make a match run away.
 *
 * unique: a set of 64-bit hashes of the values seen, open addressing at a
 * load of at most one half, so about 16 bytes per distinct value; it stops
 * growing at the column's limit (csv_column.unique_full).  Two different
 * values share a hash with probability 2^-64 per pair: with the most
 * values allowed (4,194,304 in all) a false "duplicate" somewhere in a job
 * has a probability of about 5e-7, which is accepted.
 */

enum csv_type {
	CSV_STRING,
	CSV_INTEGER,
	CSV_DECIMAL,
	CSV_BOOLEAN,
	CSV_DATE,
	CSV_DATETIME,
	CSV_EMAIL,
	CSV_ENUM
};

/** The most distinct values all unique columns of a job remember
 *  together: 4 Mi values, 64 MiB of hash set; split evenly among them. */
#define CSV_UNIQUE_BUDGET (4LL * 1024 * 1024)

struct csv_uniq;

struct csv_column {
	char *name;
	enum csv_type type;
	bool required;
	bool has_min, has_max;
	double min, max;
	void *re;      /* pcre2_code_8, or NULL */
	char **values; /* enum: sorted by length then bytes */
	size_t *lens;
	size_t n_values;
	struct csv_uniq *uniq; /* unique: the values seen, or NULL */
	bool unique_full;      /* the set reached its limit */
};

struct csv_schema {
	struct csv_column *cols;
	size_t n;
	long long unique_limit; /* values remembered per unique column */
	void *mctx;             /* pcre2_match_context_8 */
	void *md;               /* pcre2_match_data_8, shared */
};

/**
 * Compiles a columns array (json-c; NULL or not an array: *out NULL, no
 * schema).  max_unique is the params' max_unique_values (<= 0: the
 * default, 1,000,000); CSV_UNIQUE_BUDGET caps it.  RAP_EINVAL with a
 * message in err (RAP_ERRLEN bytes) when a column is malformed: a bad
 * type, a pattern PCRE2 refuses, an enum without values.  The caller
 * frees *out with csv_schema_free.
 */
int csv_schema_compile(struct json_object *columns, long long max_unique, struct csv_schema **out,
		       char *err);
void csv_schema_free(struct csv_schema *s);

/** The longest message csv_schema_check writes, NUL included. */
#define CSV_MSGLEN 160

/**
 * Checks value v (n bytes of valid UTF-8) against column col of s: NULL
 * when it passes (a unique value is then remembered), else the error code
 * ("required", "invalid_integer", "too_small", "pattern_mismatch",
 * "duplicate", ...) with a message in msg (CSV_MSGLEN bytes).  An empty
 * value passes every check but required.
 */
const char *csv_schema_check(struct csv_schema *s, struct csv_column *col, const char *v, size_t n,
			     char *msg);

/** The type's name as the params spell it. */
const char *csv_type_name(enum csv_type t);

/* The value checks on their own (for the tests and the spreadsheets). */
bool csv_parse_integer(const char *v, size_t n, long long *out);
bool csv_is_decimal(const char *v, size_t n);
bool csv_parse_boolean(const char *v, size_t n, bool *out);
bool csv_is_date(const char *v, size_t n);
bool csv_is_datetime(const char *v, size_t n);
bool csv_is_email(const char *v, size_t n);
/** 64-bit hash of n bytes (the unique sets'). */
uint64_t csv_hash64(const void *p, size_t n);

#endif
