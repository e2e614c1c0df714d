/* json.c: writing JSON text into a rap_buf (reading it is json-c's, in the
 * domain layer). */
#include "rap/json.h"
#include "rap/buf.h"
#include "rap/err.h"

int rap_json_quote(struct rap_buf *b, const char *s)
{
	int result = rap_buf_append(b, "\"", 1);

	for (; result == RAP_OK && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			result = rap_buf_appendf(b, "\\%c", c);
		else if (c == '\n')
			result = rap_buf_append(b, "\\n", 2);
		else if (c < 0x20)
			result = rap_buf_appendf(b, "\\u%04x", c);
		else
			result = rap_buf_append(b, s, 1);
	}
	if (result == RAP_OK)
		result = rap_buf_append(b, "\"", 1);
	return result;
}
