#ifndef RAP_MULTIPART_H
#define RAP_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A streaming multipart/form-data parser (RFC 7578).  Feed it the body in
 * chunks of any size, however the boundary falls across them; it calls back
 * with each part's headers and then its data in pieces, never buffering more
 * than a boundary's length plus a bounded header block.  Memory is constant
 * whatever the body size.
 */
struct rap_multipart_cb {
	/** A part begins: name and filename (NULL if absent) from its
	 *  Content-Disposition, content_type (NULL if absent).  Returns 0 or
	 *  a negative rap_err to stop the parser. */
	int (*part_begin)(void *ctx, const char *name, const char *filename,
			  const char *content_type);
	/** A piece of the current part's data. */
	int (*part_data)(void *ctx, const char *data, size_t len);
	/** The current part ended (its closing boundary was seen). */
	int (*part_end)(void *ctx);
};

struct rap_multipart;

/**
 * Extracts the boundary from a Content-Type header value into out (size
 * outlen).  RAP_EINVAL when the type is not multipart/form-data or has no
 * valid boundary (1 to 70 characters, RFC 2046).
 */
int rap_multipart_boundary(const char *content_type, char *out, size_t outlen);

/** Creates a parser for boundary; callbacks receive ctx. */
struct rap_multipart *rap_multipart_new(const char *boundary, const struct rap_multipart_cb *cb,
					void *ctx);
/** Frees a parser; accepts NULL. */
void rap_multipart_free(struct rap_multipart *mp);

/**
 * Feeds len bytes.  Returns 0, a callback's negative code, or RAP_EPROTO for
 * a malformed body (message in rap_multipart_errmsg).  After an error every
 * call fails the same way.
 */
int rap_multipart_feed(struct rap_multipart *mp, const char *data, size_t len);

/**
 * Ends the body: RAP_OK when the closing boundary ("--boundary--") was seen,
 * RAP_EPROTO when the body was cut short.
 */
int rap_multipart_finish(struct rap_multipart *mp);

/** True once the closing boundary has been parsed. */
bool rap_multipart_done(const struct rap_multipart *mp);

/** A description of the last error ("" if none). */
const char *rap_multipart_errmsg(const struct rap_multipart *mp);

#endif
