#include "rap/buf.h"
#ifndef RAP_JSON_H
#define RAP_JSON_H

struct rap_buf;

/** Appends s to b as a JSON string literal (with quotes); RAP_ETOOBIG when
 *  b is full.  Whatever the bytes of s, the literal is valid JSON: control
 *  characters (and DEL) are escaped, and a byte that is not part of valid
 *  UTF-8 becomes the four characters \xNN (so a client's hostile bytes
 *  echoed in an error, or logged, never break the JSON around them). */
int rap_json_quote(struct rap_buf *b, const char *s);

/** Appends PostgreSQL's text of a timestamp in UTC ("2026-12-06
 *  06:14:14.473685", from `t AT TIME ZONE 'UTC'` with DateStyle ISO) as the
 *  platform's JSON timestamp, "2026-12-06T06:14:14.473Z" (milliseconds,
 *  truncated); text of any other shape is quoted as it is. */
int rap_json_timestamp(struct rap_buf *b, const char *t);

#endif
