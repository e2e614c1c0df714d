#ifndef RAP_S3_XML_H
#define RAP_S3_XML_H

#include <stddef.h>

/*
 * The readers of S3's XML answers (internal to lib/adapters/s3/): just
 * enough of XML for the elements the client needs, over text that an S3
 * server (or whatever answers in its place) sent, so any bytes at all.
 * The fuzz target fuzz/fuzz_s3_xml.c calls them directly.
 */

/* The text between <tag> and the next '<' of xml (NULL: none), a copy the
 * caller frees; NULL when xml has no <tag>. */
char *rap__s3_xml_value(const char *xml, const char *tag);

/* Writes "METHOD WHAT: HTTP STATUS <Code> <Message>" of an S3 error
 * document xml (NULL: none) into out (outlen bytes, always terminated). */
void rap__s3_xml_error(const char *xml, const char *method, const char *what, long status,
		       char *out, size_t outlen);

#endif
