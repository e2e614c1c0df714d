/* json.c: reading the members of the platform's JSON answers. */
#include "cli.h"

#include <json-c/json.h>

const char *cli_json_string(struct json_object *o, const char *name)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}
