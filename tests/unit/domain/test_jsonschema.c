/* Tests of lib/domain/jsonschema.c: the params schemas' subset of JSON
 * Schema, each keyword valid and invalid, and the paths errors name. */
#include <criterion/criterion.h>
#include <string.h>

#include "rap/err.h"
#include "rap/jsonschema.h"

static struct rap_jsonschema *load(const char *schema)
{
	struct rap_jsonschema *s;
	char err[RAP_ERRLEN];

	cr_assert_eq(rap_jsonschema_new(schema, strlen(schema), &s, err), RAP_OK, "%s: %s", schema,
		     err);
	return s;
}

/* Checks instance against schema: RAP_OK, or the error text in err. */
static int check(const char *schema, const char *instance, char *err)
{
	struct rap_jsonschema *s = load(schema);
	int result;

	err[0] = '\0';
	result = rap_jsonschema_check(s, instance, strlen(instance), "params", err);
	rap_jsonschema_free(s);
	return result;
}

static void valid(const char *schema, const char *instance)
{
	char err[RAP_ERRLEN];

	cr_assert_eq(check(schema, instance, err), RAP_OK, "%s against %s: %s", instance, schema,
		     err);
}

static void invalid(const char *schema, const char *instance, const char *message)
{
	char err[RAP_ERRLEN];

	cr_assert_eq(check(schema, instance, err), RAP_EINVAL, "%s should fail %s", instance,
		     schema);
	cr_assert_str_eq(err, message);
}

static void refused(const char *schema, const char *message)
{
	struct rap_jsonschema *s = NULL;
	char err[RAP_ERRLEN];

	cr_assert_eq(rap_jsonschema_new(schema, strlen(schema), &s, err), RAP_EINVAL,
		     "%s should not load", schema);
	cr_assert_null(s);
	cr_assert_str_eq(err, message);
}

Test(jsonschema, type_names_one_kind)
{
	valid("{\"properties\":{\"a\":{\"type\":\"string\"}}}", "{\"a\":\"x\"}");
	invalid("{\"properties\":{\"a\":{\"type\":\"string\"}}}", "{\"a\":1}",
		"params.a: must be a string");
	valid("{\"properties\":{\"a\":{\"type\":\"boolean\"}}}", "{\"a\":false}");
	invalid("{\"properties\":{\"a\":{\"type\":\"boolean\"}}}", "{\"a\":0}",
		"params.a: must be a boolean");
	valid("{\"properties\":{\"a\":{\"type\":\"null\"}}}", "{\"a\":null}");
	invalid("{\"properties\":{\"a\":{\"type\":\"null\"}}}", "{\"a\":\"\"}",
		"params.a: must be null");
	valid("{\"properties\":{\"a\":{\"type\":\"array\"}}}", "{\"a\":[]}");
	invalid("{\"properties\":{\"a\":{\"type\":\"array\"}}}", "{\"a\":{}}",
		"params.a: must be an array");
	valid("{\"type\":\"object\"}", "{}");
	invalid("{\"type\":\"object\"}", "[]", "params: must be an object");
}

Test(jsonschema, integer_takes_whole_numbers_and_number_any)
{
	const char *integer = "{\"properties\":{\"n\":{\"type\":\"integer\"}}}";
	const char *number = "{\"properties\":{\"n\":{\"type\":\"number\"}}}";

	valid(integer, "{\"n\":3}");
	valid(integer, "{\"n\":3.0}"); /* 2020-12: a number with no fraction */
	valid(integer, "{\"n\":-9007199254740993}");
	invalid(integer, "{\"n\":3.5}", "params.n: must be an integer");
	invalid(integer, "{\"n\":\"3\"}", "params.n: must be an integer");
	valid(number, "{\"n\":3}");
	valid(number, "{\"n\":-0.25e3}");
	invalid(number, "{\"n\":true}", "params.n: must be a number");
}

Test(jsonschema, type_may_be_an_array_of_kinds)
{
	const char *s = "{\"properties\":{\"sheet\":{\"type\":[\"string\",\"integer\"]}}}";

	valid(s, "{\"sheet\":\"Data\"}");
	valid(s, "{\"sheet\":2}");
	invalid(s, "{\"sheet\":1.5}", "params.sheet: must be an integer or a string");
	invalid("{\"properties\":{\"x\":{\"type\":[\"null\",\"string\",\"array\"]}}}", "{\"x\":1}",
		"params.x: must be null, a string or an array");
}

Test(jsonschema, properties_check_only_the_fields_they_name)
{
	const char *s = "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},"
			"\"b\":{\"type\":\"string\"}}}";

	valid(s, "{\"a\":1,\"b\":\"x\",\"other\":[1]}");
	invalid(s, "{\"b\":2}", "params.b: must be a string");
}

Test(jsonschema, required_names_the_missing_field)
{
	const char *s = "{\"type\":\"object\",\"required\":[\"name\",\"size\"],"
			"\"properties\":{\"name\":{\"type\":\"string\"}}}";

	valid(s, "{\"name\":\"x\",\"size\":1}");
	invalid(s, "{\"size\":1}", "params.name: is required");
	invalid(s, "{\"name\":\"x\"}", "params.size: is required");
}

Test(jsonschema, additional_properties_false_refuses_unknown_fields)
{
	const char *s = "{\"type\":\"object\",\"additionalProperties\":false,"
			"\"properties\":{\"header\":{\"type\":\"boolean\"},\"output\":{}}}";

	valid(s, "{\"header\":true}");
	valid("{\"additionalProperties\":true}", "{\"anything\":1}");
	invalid(s, "{\"header\":true,\"colour\":\"red\"}",
		"params.colour: is not a known field (known: header, output)");
	invalid("{\"additionalProperties\":false}", "{\"a\":1}",
		"params.a: is not a known field (none are)");
}

Test(jsonschema, items_check_every_element_by_index)
{
	const char *s = "{\"properties\":{\"columns\":{\"type\":\"array\",\"items\":{"
			"\"type\":\"object\",\"properties\":{\"type\":{\"enum\":[\"string\","
			"\"integer\",\"date\"]}}}}}}";

	valid(s, "{\"columns\":[{\"type\":\"date\"},{}]}");
	invalid(s, "{\"columns\":[{},{\"type\":\"date\"},{\"type\":\"float\"}]}",
		"params.columns[2].type: must be one of string, integer, date");
	invalid(s, "{\"columns\":[1]}", "params.columns[0]: must be an object");
}

Test(jsonschema, enum_lists_values_and_quotes_odd_ones)
{
	const char *s = "{\"properties\":{\"delimiter\":{\"type\":\"string\","
			"\"enum\":[\",\",\";\",\"\\t\",\"|\"]}}}";

	valid(s, "{\"delimiter\":\";\"}");
	valid(s, "{\"delimiter\":\"\\t\"}");
	invalid(s, "{\"delimiter\":\":\"}",
		"params.delimiter: must be one of \",\", \";\", \"\\t\", \"|\"");
	valid("{\"properties\":{\"n\":{\"enum\":[1,2,null]}}}", "{\"n\":2.0}");
	valid("{\"properties\":{\"n\":{\"enum\":[1,2,null]}}}", "{\"n\":null}");
	invalid("{\"properties\":{\"n\":{\"enum\":[1,2,null]}}}", "{\"n\":\"1\"}",
		"params.n: must be one of 1, 2, null");
}

Test(jsonschema, const_takes_one_value)
{
	valid("{\"properties\":{\"v\":{\"const\":1}}}", "{\"v\":1}");
	invalid("{\"properties\":{\"v\":{\"const\":1}}}", "{\"v\":2}", "params.v: must be 1");
	valid("{\"properties\":{\"m\":{\"const\":{\"a\":[1]}}}}", "{\"m\":{\"a\":[1]}}");
	invalid("{\"properties\":{\"m\":{\"const\":\"x y\"}}}", "{\"m\":\"x\"}",
		"params.m: must be \"x y\"");
}

Test(jsonschema, minimum_and_maximum_are_inclusive)
{
	const char *s = "{\"properties\":{\"n\":{\"type\":\"integer\",\"minimum\":64,"
			"\"maximum\":16777216}}}";

	valid(s, "{\"n\":64}");
	valid(s, "{\"n\":16777216}");
	invalid(s, "{\"n\":63}", "params.n: must be at least 64");
	invalid(s, "{\"n\":16777217}", "params.n: must be at most 16777216");
	valid("{\"properties\":{\"x\":{\"minimum\":0.5}}}", "{\"x\":0.5}");
	invalid("{\"properties\":{\"x\":{\"minimum\":0.5}}}", "{\"x\":0.25}",
		"params.x: must be at least 0.5");
	/* Exact for integers past a double's precision. */
	invalid("{\"properties\":{\"x\":{\"maximum\":9007199254740992}}}",
		"{\"x\":9007199254740993}", "params.x: must be at most 9007199254740992");
	/* Bounds apply to numbers only: a string sheet name has no minimum. */
	valid("{\"properties\":{\"sheet\":{\"type\":[\"string\",\"integer\"],\"minimum\":1}}}",
	      "{\"sheet\":\"0\"}");
}

Test(jsonschema, lengths_count_utf8_characters_not_bytes)
{
	const char *s = "{\"properties\":{\"name\":{\"type\":\"string\",\"minLength\":1,"
			"\"maxLength\":3}}}";

	valid(s, "{\"name\":\"a\"}");
	valid(s, "{\"name\":\"\xc3\xa9\xc3\xa9\xe2\x82\xac\"}"); /* 3 characters, 7 bytes */
	invalid(s, "{\"name\":\"\"}", "params.name: must be at least 1 character long");
	invalid(s, "{\"name\":\"abcd\"}", "params.name: must be at most 3 characters long");
	invalid(s, "{\"name\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}",
		"params.name: must be at most 3 characters long");
	invalid("{\"properties\":{\"p\":{\"minLength\":2}}}", "{\"p\":\"a\"}",
		"params.p: must be at least 2 characters long");
}

Test(jsonschema, min_and_max_items_count_elements)
{
	const char *s = "{\"properties\":{\"values\":{\"type\":\"array\",\"minItems\":1,"
			"\"maxItems\":2}}}";

	valid(s, "{\"values\":[\"a\"]}");
	valid(s, "{\"values\":[\"a\",\"b\"]}");
	invalid(s, "{\"values\":[]}", "params.values: must hold at least 1 item");
	invalid(s, "{\"values\":[1,2,3]}", "params.values: must hold at most 2 items");
}

Test(jsonschema, odd_field_names_are_quoted_in_the_path)
{
	invalid("{\"additionalProperties\":false}", "{\"a b\":1}",
		"params[\"a b\"]: is not a known field (none are)");
	invalid("{\"required\":[\"x\\\"y\"]}", "{}", "params[\"x\\\"y\"]: is required");
}

Test(jsonschema, documentation_keywords_are_ignored)
{
	valid("{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"$id\":\"x\","
	      "\"title\":\"T\",\"description\":\"d\",\"$comment\":\"c\",\"examples\":[1],"
	      "\"properties\":{\"a\":{\"default\":3,\"type\":\"integer\"}}}",
	      "{}");
}

Test(jsonschema, keywords_outside_the_subset_are_refused_with_where)
{
	refused("{\"properties\":{\"name\":{\"type\":\"string\",\"pattern\":\"^a\"}}}",
		"keyword 'pattern' is not supported at #/properties/name");
	refused("{\"oneOf\":[{}]}", "keyword 'oneOf' is not supported at #");
	refused("{\"items\":{\"$ref\":\"#/x\"}}", "keyword '$ref' is not supported at #/items");
	refused("{\"additionalProperties\":{\"type\":\"string\"}}",
		"'additionalProperties' must be true or false (schemas are not supported there) "
		"at #");
	refused("{\"properties\":{\"a/b~\":{\"format\":\"email\"}}}",
		"keyword 'format' is not supported at #/properties/a~1b~0");
}

Test(jsonschema, malformed_keyword_values_are_refused)
{
	refused("{\"type\":\"float\"}", "'type' names an unknown type 'float' at #");
	refused("{\"type\":[]}", "'type' must not be an empty array at #");
	refused("{\"type\":[\"string\",\"string\"]}", "'type' names 'string' twice at #");
	refused("{\"enum\":[]}", "'enum' must be a non-empty array at #");
	refused("{\"required\":\"a\"}", "'required' must be an array of names at #");
	refused("{\"minLength\":-1}", "'minLength' must be a whole number, 0 or more at #");
	refused("{\"maxItems\":1.5}", "'maxItems' must be a whole number, 0 or more at #");
	refused("{\"minimum\":\"1\"}", "'minimum' must be a number at #");
	refused("{\"properties\":{\"a\":true}}",
		"a schema must be a JSON object at #/properties/a");
	refused("[1]", "a schema must be a JSON object at #");
	refused("{\"type\":", "the schema is not one JSON value");
}

Test(jsonschema, one_compiled_schema_validates_json_objects_again_and_again)
{
	struct rap_jsonschema *s = load("{\"properties\":{\"a\":{\"enum\":[\"x\"]}}}");
	char err[RAP_ERRLEN];

	for (int i = 0; i < 3; i++) {
		cr_assert_eq(rap_jsonschema_check(s, "{\"a\":\"x\"}", 9, "params", err), RAP_OK);
		cr_assert_eq(rap_jsonschema_check(s, "{\"a\":\"y\"}", 9, "jobs[3].params", err),
			     RAP_EINVAL);
		cr_assert_str_eq(err, "jobs[3].params.a: must be one of x");
	}
	cr_assert_eq(rap_jsonschema_check(s, "{\"a\":", 5, "params", err), RAP_EINVAL);
	cr_assert_str_eq(err, "params: is not one JSON value");
	rap_jsonschema_free(s);
	rap_jsonschema_free(NULL);
}
