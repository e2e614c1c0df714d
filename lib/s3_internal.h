#ifndef RAP_S3_INTERNAL_H
#define RAP_S3_INTERNAL_H

#include <stdbool.h>

#include "rap/mem.h"

/* Appends s URI-encoded the way SigV4 wants it (RFC 3986 unreserved kept,
 * upper-case hex), keeping '/' when keep_slash (object key paths). */
void rap__s3_uri_encode(struct rap_buf *out, const char *s, bool keep_slash);

#endif
