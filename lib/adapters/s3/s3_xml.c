/* s3_xml.c: the readers of S3's XML answers (an UploadId, an error's
 * <Code> and <Message>); see s3_xml.h. */
#include "s3_xml.h"
#include "rap/mem.h"

#include <stdio.h>
#include <string.h>

char *rap__s3_xml_value(const char *xml, const char *tag)
{
	char open[64];
	const char *p;

	snprintf(open, sizeof(open), "<%s>", tag);
	p = xml ? strstr(xml, open) : NULL;
	if (!p)
		return NULL;
	p += strlen(open);
	return rap_strndup(p, strcspn(p, "<"));
}

void rap__s3_xml_error(const char *xml, const char *method, const char *what, long status,
		       char *out, size_t outlen)
{
	const char *body = xml ? xml : "";
	const char *c = strstr(body, "<Code>"), *m = strstr(body, "<Message>");
	int clen = 0, mlen = 0;

	if (c) {
		c += 6;
		clen = (int)strcspn(c, "<");
	}
	if (m) {
		m += 9;
		mlen = (int)strcspn(m, "<");
	}
	snprintf(out, outlen, "%s %s: HTTP %ld %.*s %.*s", method, what, status, clen, c ? c : "",
		 mlen, m ? m : "");
}
