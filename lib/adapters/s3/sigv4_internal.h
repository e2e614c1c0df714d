#ifndef RAP_SIGV4_INTERNAL_H
#define RAP_SIGV4_INTERNAL_H

#include <stdbool.h>

#include "rap/buf.h"

/* Appends s URI-encoded the way SigV4 wants it (RFC 3986 unreserved kept,
 * upper-case hex), keeping '/' when keep_slash (object key paths); s3.c
 * builds its request paths with it too. */
void rap__sigv4_uri_encode(struct rap_buf *out, const char *s, bool keep_slash);

#endif
