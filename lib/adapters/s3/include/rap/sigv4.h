#ifndef RAP_SIGV4_H
#define RAP_SIGV4_H

#include <stddef.h>

#include "rap/hash.h"

/*
 * Signature V4 building blocks, public so that presigned URLs (rap_s3_presign)
 * and the unit tests with AWS's published test vectors use the same code.
 */
struct rap_sigv4_req {
	const char *method;         /* GET, PUT, ... */
	const char *host;           /* host[:port] as sent in the Host header */
	const char *path;           /* URI-encoded absolute path */
	const char *query;          /* canonical (sorted, encoded) query or "" */
	const char *const *headers; /* "name:value" pairs, lower-case names,
				      sorted by name, NULL-terminated; must
				      include host and x-amz-date */
	const char *payload_hash;   /* hex sha256 or "UNSIGNED-PAYLOAD" */
	const char *amz_date;       /* YYYYMMDDTHHMMSSZ */
	const char *region;
	const char *service; /* "s3" */
	const char *secret_key;
};

/**
 * Computes the hex signature (RAP_SHA256_HEXLEN bytes) and the signed-headers list
 * (e.g. "host;x-amz-date", caller's buffer of signed_len bytes).
 */
int rap_sigv4_sign(const struct rap_sigv4_req *req, char signature[RAP_SHA256_HEXLEN],
		   char *signed_headers, size_t signed_len);

#endif
