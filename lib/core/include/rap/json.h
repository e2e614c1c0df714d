#include "rap/buf.h"
#ifndef RAP_JSON_H
#define RAP_JSON_H

struct rap_buf;

/** Appends s to b as a JSON string literal (with quotes); RAP_ETOOBIG when
 *  b is full. */
int rap_json_quote(struct rap_buf *b, const char *s);

#endif
