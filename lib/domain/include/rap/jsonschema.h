#ifndef RAP_JSONSCHEMA_H
#define RAP_JSONSCHEMA_H

#include <stddef.h>

struct json_object;

/*
 * A JSON Schema validator for the subset that the params schemas of the job
 * types use (proto/schemas/params/), no more: type (a name or an array of
 * names), properties, required, additionalProperties (a boolean), items (one
 * schema), enum, const, minimum, maximum, minLength, maxLength (characters
 * of UTF-8), minItems, maxItems; default, description, title, examples,
 * $schema, $id and $comment are read and ignored.  Loading a schema with
 * any other keyword fails, so a schema can never ask for a check that is
 * silently skipped.
 *
 * A compiled schema is immutable: any number of threads may validate
 * against it at once.  Validation stops at the first error and names the
 * offending value by its path from a root the caller chooses:
 *   params.columns[2].type: must be one of string, integer, decimal, ...
 */
struct rap_jsonschema;

/** Compiles the schema text (len bytes).  RAP_EINVAL, with err (RAP_ERRLEN)
 *  naming the keyword and where it sits as a JSON pointer, when the text is
 *  not JSON, a keyword is outside the subset, or a keyword's value is not
 *  what it must be.  *out is the caller's: free it with
 *  rap_jsonschema_free. */
int rap_jsonschema_new(const char *text, size_t len, struct rap_jsonschema **out, char *err);

/** Frees a compiled schema; accepts NULL. */
void rap_jsonschema_free(struct rap_jsonschema *s);

/** Validates v (the caller keeps it).  RAP_OK, or RAP_EINVAL with err
 *  (RAP_ERRLEN) "<root><path>: <what is wrong>". */
int rap_jsonschema_validate(const struct rap_jsonschema *s, struct json_object *v, const char *root,
			    char *err);

/** As rap_jsonschema_validate, for JSON text (len bytes); text that is not
 *  one JSON value is RAP_EINVAL too. */
int rap_jsonschema_check(const struct rap_jsonschema *s, const char *text, size_t len,
			 const char *root, char *err);

#endif
