/* json.c: writing JSON text into a rap_buf (reading it is json-c's, in the
 * domain layer). */
#include "rap/json.h"
#include "rap/buf.h"
#include "rap/err.h"
#include "rap/str.h"

#include <string.h>

int rap_json_quote(struct rap_buf *b, const char *s)
{
	const char *run = s, *end = s + strlen(s);
	int result = rap_buf_append(b, "\"", 1);
	size_t len;

	/* Bytes that need no escape go in runs, not one call each; a byte
	 * that is not part of valid UTF-8 becomes the text \xNN, so that
	 * what comes out is always valid JSON whatever came in. */
	for (; result == RAP_OK && *s; s += len) {
		unsigned char c = (unsigned char)*s;

		len = 1;
		if (c >= 0x80) {
			len = rap_utf8_char(s, (size_t)(end - s));
			if (len > 0)
				continue;
			len = 1;
		} else if (c != '"' && c != '\\' && c >= 0x20 && c != 0x7f) {
			continue;
		}
		result = rap_buf_append(b, run, (size_t)(s - run));
		run = s + 1;
		if (result != RAP_OK)
			break;
		if (c >= 0x80)
			result = rap_buf_appendf(b, "\\\\x%02x", c);
		else if (c == '"' || c == '\\')
			result = rap_buf_appendf(b, "\\%c", c);
		else if (c == '\n')
			result = rap_buf_append(b, "\\n", 2);
		else
			result = rap_buf_appendf(b, "\\u%04x", c);
	}
	if (result == RAP_OK)
		result = rap_buf_append(b, run, (size_t)(s - run));
	if (result == RAP_OK)
		result = rap_buf_append(b, "\"", 1);
	return result;
}

int rap_json_timestamp(struct rap_buf *b, const char *t)
{
	char out[32];
	size_t n = strlen(t);
	int i;

	/* "YYYY-MM-DD HH:MM:SS" then an optional fraction, nothing else. */
	if (n < 19 || t[4] != '-' || t[7] != '-' || t[10] != ' ' || t[13] != ':' || t[16] != ':' ||
	    (n > 19 && (t[19] != '.' || n > 26)))
		return rap_json_quote(b, t);
	memcpy(out, "\"", 1);
	memcpy(out + 1, t, 19);
	out[11] = 'T';
	out[20] = '.';
	for (i = 0; i < 3; i++)
		out[21 + i] = 20 + i < (int)n ? t[20 + i] : '0';
	memcpy(out + 24, "Z\"", 2);
	return rap_buf_append(b, out, 26);
}
