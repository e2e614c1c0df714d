/*
 * multipart.c: a streaming multipart/form-data parser (RFC 7578, RFC 2046).
 *
 * The body is scanned for the delimiter "\r\n--boundary".  Its first byte,
 * CR, cannot occur anywhere else in it (boundaries have no CR), so a partial
 * match that fails can be emitted as data and scanning goes on at the failing
 * byte: no back-tracking and no buffer.  A match cut by the end of a chunk is
 * carried over as a count; the carried bytes are the delimiter's prefix, so
 * they can be re-emitted from the delimiter itself if the match fails.  The
 * stream is parsed as if it began with CRLF, so the first delimiter may open
 * the body directly.
 *
 * A part's header block (at most 8 KiB, no NUL) is parsed once whole.  Its
 * Content-Disposition must be form-data with a name; its parameters are
 * read as RFC 7578 (section 4.2) and RFC 2183 say, the way browsers and the
 * common server parsers read them: split at ';' only outside a
 * quoted-string, names case-insensitive, a backslash escaping the tspecial
 * after it (and kept before anything else: Windows paths come unescaped),
 * so `filename="a;name=file;"; name="other"` is the field "other".  A
 * repeated name or filename parameter, or a second Content-Disposition, is
 * refused rather than resolved: parsers that disagree on which one wins
 * would see different fields.
 */
#include "rap/multipart.h"
#include "rap/err.h"
#include "rap/mem.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_BOUNDARY 70
#define MAX_HEADERS 8192
#define MAX_PADDING 64

enum mp_state {
	MP_PREAMBLE,
	MP_AFTER_DELIM, /* "--" (close) or padding + CRLF (a part follows) */
	MP_HEADERS,
	MP_BODY,
	MP_DONE, /* after the closing delimiter: epilogue */
	MP_ERROR
};

struct rap_multipart {
	struct rap_multipart_cb cb;
	void *ctx;
	enum mp_state state;
	char delim[MAX_BOUNDARY + 5]; /* "\r\n--" boundary */
	size_t dlen;
	size_t match; /* delimiter bytes matched so far */
	int after;    /* MP_AFTER_DELIM: 0 start, 1 '-', 2 padding, 3 CR */
	unsigned padding;
	char hdr[MAX_HEADERS + 1];
	size_t hlen;
	char name[256];
	char filename[1024];
	char content_type[256];
	int error;
	char errmsg[RAP_ERRLEN];
};

static int fail(struct rap_multipart *mp, int code, const char *msg)
{
	if (mp->state != MP_ERROR) {
		mp->state = MP_ERROR;
		mp->error = code;
		snprintf(mp->errmsg, sizeof(mp->errmsg), "%s", msg);
	}
	return mp->error;
}

static bool bchar(char c)
{
	return isalnum((unsigned char)c) || strchr("'()+_,-./:=? ", c);
}

int rap_multipart_boundary(const char *content_type, char *out, size_t outlen)
{
	const char *p = content_type, *semi;
	size_t n;

	while (*p == ' ' || *p == '\t')
		p++;
	semi = strchr(p, ';');
	n = semi ? (size_t)(semi - p) : strlen(p);
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n != 19 || strncasecmp(p, "multipart/form-data", 19) != 0 || !semi)
		return RAP_EINVAL;
	for (p = semi + 1; *p; p = semi ? semi + 1 : p + strlen(p)) {
		const char *v;
		size_t len;

		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, "boundary=", 9) != 0) {
			semi = strchr(p, ';');
			continue;
		}
		v = p + 9;
		if (*v == '"') {
			const char *end = strchr(v + 1, '"');

			if (!end)
				return RAP_EINVAL;
			v++;
			len = (size_t)(end - v);
		} else {
			len = strcspn(v, "; \t");
		}
		if (len == 0 || len > MAX_BOUNDARY || len + 1 > outlen || v[len - 1] == ' ')
			return RAP_EINVAL;
		for (size_t i = 0; i < len; i++)
			if (!bchar(v[i]))
				return RAP_EINVAL;
		memcpy(out, v, len);
		out[len] = '\0';
		return RAP_OK;
	}
	return RAP_EINVAL;
}

struct rap_multipart *rap_multipart_new(const char *boundary, const struct rap_multipart_cb *cb,
					void *ctx)
{
	struct rap_multipart *mp;
	size_t blen = strlen(boundary);

	if (blen == 0 || blen > MAX_BOUNDARY)
		return NULL;
	mp = rap_calloc(1, sizeof(*mp));
	mp->cb = *cb;
	mp->ctx = ctx;
	mp->dlen = (size_t)snprintf(mp->delim, sizeof(mp->delim), "\r\n--%s", boundary);
	mp->state = MP_PREAMBLE;
	mp->match = 2; /* as if the body began with CRLF */
	return mp;
}

void rap_multipart_free(struct rap_multipart *mp)
{
	free(mp);
}

/* Emits data of the current part (discarded outside a part body). */
static int emit(struct rap_multipart *mp, const char *p, size_t n)
{
	int result;

	if (n == 0 || mp->state != MP_BODY || !mp->cb.part_data)
		return RAP_OK;
	result = mp->cb.part_data(mp->ctx, p, n);
	return result < 0 ? fail(mp, result, "stopped by the consumer") : RAP_OK;
}

/* RFC 2045's tspecials: what a token may not hold, and what a backslash
 * escapes inside a quoted-string. */
static bool tspecial(char c)
{
	return c != '\0' && strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

static bool token_char(char c)
{
	unsigned char u = (unsigned char)c;

	return u > 0x20 && u < 0x7f && !tspecial(c);
}

/* One parameter of a Content-Disposition: its name (a token) and value
 * (a token or a quoted-string, unquoted into the caller's buffer). */
struct mp_param {
	const char *name;
	size_t name_len;
	char *value;
	size_t value_len;
	bool too_long;
};

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/*
 * Reads the parameter at p (after its ';' and any white space) into *pm,
 * its value into out (outlen bytes; too_long set when it did not fit).  A
 * quoted-string ends at the first unescaped '"'; a backslash escapes the
 * tspecial that follows it and is kept before any other byte, as browsers
 * send Windows paths unescaped (C:\dir\a.txt).  Returns where the next
 * ';' or the end is, or NULL when the parameter is malformed.
 */
static const char *read_param(const char *p, struct mp_param *pm, char *out, size_t outlen)
{
	size_t n = 0;

	pm->name = p;
	while (token_char(*p))
		p++;
	pm->name_len = (size_t)(p - pm->name);
	p = skip_ws(p);
	if (pm->name_len == 0 || *p != '=')
		return NULL;
	p = skip_ws(p + 1);
	pm->too_long = false;
	if (*p == '"') {
		for (p++; *p != '"'; p++) {
			if (*p == '\0' || *p == '\r' || *p == '\n')
				return NULL; /* no closing quote; a bare CR or LF */
			if (*p == '\\' && tspecial(p[1]))
				p++;
			if (n + 1 < outlen)
				out[n++] = *p;
			else
				pm->too_long = true;
		}
		p++;
	} else {
		const char *v = p;

		/* Tokens, leniently: any byte but white space, ';', '"' and
		 * controls (UTF-8 names sent unquoted pass). */
		while (*p && *p != ';' && *p != '"' && (unsigned char)*p > 0x20 && *p != 0x7f)
			p++;
		if (p == v)
			return NULL;
		n = (size_t)(p - v);
		if (n + 1 > outlen) {
			pm->too_long = true;
			n = outlen - 1;
		}
		memcpy(out, v, n);
	}
	out[n] = '\0';
	pm->value = out;
	pm->value_len = n;
	p = skip_ws(p);
	return *p == ';' || *p == '\0' ? p : NULL;
}

static bool param_is(const struct mp_param *pm, const char *name)
{
	return pm->name_len == strlen(name) && strncasecmp(pm->name, name, pm->name_len) == 0;
}

/*
 * Reads the parameters of a Content-Disposition value v that begins with
 * "form-data" (RFC 7578 section 4.2, RFC 2183): name into mp->name and
 * filename into mp->filename (*has_filename).  Parameters are split at
 * ';' outside quoted-strings only, names compare case-insensitively, and
 * a parameter given twice is refused (no first-wins or last-wins for a
 * smuggled second name).  Unknown parameters (filename*, size, ...) are
 * skipped.  Returns RAP_OK or fails the parser.
 */
static int parse_disposition(struct rap_multipart *mp, const char *v, bool *has_filename)
{
	char other[1024];
	const char *p = skip_ws(v + 9); /* after "form-data" */
	bool has_name = false;

	*has_filename = false;
	while (*p == ';') {
		struct mp_param pm;
		char *out = other;
		size_t outlen = sizeof(other);
		bool name, filename;

		p = skip_ws(p + 1);
		if (*p == '\0' || *p == ';')
			continue; /* an empty parameter: "form-data; name=a;" */
		/* Which buffer: decided by the name, read before the value. */
		pm.name = p;
		while (token_char(*p))
			p++;
		pm.name_len = (size_t)(p - pm.name);
		name = param_is(&pm, "name");
		filename = param_is(&pm, "filename");
		if ((name && has_name) || (filename && *has_filename))
			return fail(mp, RAP_EPROTO,
				    "a part's Content-Disposition repeats a parameter");
		if (name) {
			out = mp->name;
			outlen = sizeof(mp->name);
		} else if (filename) {
			out = mp->filename;
			outlen = sizeof(mp->filename);
		}
		p = read_param(pm.name, &pm, out, outlen);
		if (!p)
			return fail(mp, RAP_EPROTO,
				    "a part's Content-Disposition has a malformed parameter");
		if ((name || filename) && pm.too_long)
			return fail(mp, RAP_EPROTO,
				    name ? "a part's name is longer than 255 bytes"
					 : "a part's filename is longer than 1023 bytes");
		has_name |= name;
		*has_filename |= filename;
	}
	if (*p != '\0')
		return fail(mp, RAP_EPROTO,
			    "a part's Content-Disposition has a malformed parameter");
	if (!has_name)
		return fail(mp, RAP_EPROTO, "a part's Content-Disposition has no name");
	return RAP_OK;
}

/* Parses the header block of a part and announces the part. */
static int parse_headers(struct rap_multipart *mp)
{
	char *line = mp->hdr, *next;
	bool disposition = false;
	bool has_filename = false;
	int result;

	mp->name[0] = mp->filename[0] = mp->content_type[0] = '\0';
	mp->hdr[mp->hlen] = '\0';
	for (; *line; line = next) {
		char *end = strstr(line, "\r\n");
		char *colon, *v;

		if (!end)
			break;
		*end = '\0';
		next = end + 2;
		if (*line == '\0')
			break; /* the blank line */
		if (*line == ' ' || *line == '\t')
			return fail(mp, RAP_EPROTO, "folded part header lines are not supported");
		colon = strchr(line, ':');
		if (!colon)
			return fail(mp, RAP_EPROTO, "a part header line has no ':'");
		*colon = '\0';
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		if (strcasecmp(line, "Content-Disposition") == 0) {
			if (strncasecmp(v, "form-data", 9) != 0 ||
			    (v[9] && v[9] != ';' && v[9] != ' ' && v[9] != '\t'))
				return fail(mp, RAP_EPROTO,
					    "a part's Content-Disposition is not form-data");
			if (disposition)
				return fail(mp, RAP_EPROTO,
					    "a part has two Content-Disposition headers");
			result = parse_disposition(mp, v, &has_filename);
			if (result != RAP_OK)
				return result;
			disposition = true;
		} else if (strcasecmp(line, "Content-Type") == 0) {
			snprintf(mp->content_type, sizeof(mp->content_type), "%s", v);
		}
	}
	if (!disposition)
		return fail(mp, RAP_EPROTO, "a part has no Content-Disposition header");
	mp->state = MP_BODY;
	if (!mp->cb.part_begin)
		return RAP_OK;
	result = mp->cb.part_begin(mp->ctx, mp->name, has_filename ? mp->filename : NULL,
				   mp->content_type[0] ? mp->content_type : NULL);
	return result < 0 ? fail(mp, result, "stopped by the consumer") : RAP_OK;
}

/* The delimiter was found: close the part (if any) and read what follows. */
static int on_delimiter(struct rap_multipart *mp)
{
	int result;

	if (mp->state == MP_BODY && mp->cb.part_end) {
		result = mp->cb.part_end(mp->ctx);
		if (result < 0)
			return fail(mp, result, "stopped by the consumer");
	}
	mp->state = MP_AFTER_DELIM;
	mp->after = 0;
	mp->padding = 0;
	mp->match = 0;
	return RAP_OK;
}

/* Scans for the delimiter; returns how many bytes of p were consumed. */
static size_t scan(struct rap_multipart *mp, const char *p, size_t len, int *result)
{
	size_t i = 0, from = 0;     /* bytes [from, i) are pending data */
	size_t carried = mp->match; /* delimiter bytes held from before */
	size_t mb = 0;              /* where the current match began here */

	*result = RAP_OK;
	while (i < len) {
		if (mp->match == 0) {
			const char *cr = memchr(p + i, '\r', len - i);

			if (!cr)
				break; /* no delimiter starts in the rest */
			i = (size_t)(cr - p);
			mb = i;
			mp->match = 1;
			i++;
			continue;
		}
		if (p[i] != mp->delim[mp->match]) {
			/* Not a delimiter: what was held back is data. */
			if (carried) {
				*result = emit(mp, mp->delim, carried);
				carried = 0;
				if (*result != RAP_OK)
					return i;
			}
			mp->match = 0;
			continue; /* p[i] may start a new match */
		}
		mp->match++;
		i++;
		if (mp->match == mp->dlen) {
			*result = emit(mp, p + from, carried ? 0 : mb - from);
			if (*result == RAP_OK)
				*result = on_delimiter(mp);
			return i;
		}
	}
	/* End of chunk: emit up to a partial match and hold that back. */
	if (mp->match > 0 && carried == 0)
		*result = emit(mp, p + from, mb - from);
	else if (mp->match == 0)
		*result = emit(mp, p + from, len - from);
	return len;
}

/* Reads the bytes after a delimiter; returns how many were consumed. */
static size_t after_delim(struct rap_multipart *mp, const char *p, size_t len, int *result)
{
	size_t i;

	*result = RAP_OK;
	for (i = 0; i < len; i++) {
		char c = p[i];

		if (mp->after == 0 && c == '-') {
			mp->after = 1;
		} else if (mp->after == 1) {
			if (c != '-') {
				*result = fail(mp, RAP_EPROTO, "malformed closing boundary");
				return i;
			}
			mp->state = MP_DONE;
			return i + 1;
		} else if ((mp->after == 0 || mp->after == 2) && (c == ' ' || c == '\t')) {
			mp->after = 2;
			if (++mp->padding > MAX_PADDING) {
				*result = fail(mp, RAP_EPROTO, "too much padding after a boundary");
				return i;
			}
		} else if ((mp->after == 0 || mp->after == 2) && c == '\r') {
			mp->after = 3;
		} else if (mp->after == 3 && c == '\n') {
			mp->state = MP_HEADERS;
			mp->hlen = 0;
			return i + 1;
		} else {
			*result = fail(mp, RAP_EPROTO, "malformed boundary line");
			return i;
		}
	}
	return len;
}

/* Collects a part's header block; returns how many bytes were consumed. */
static size_t headers(struct rap_multipart *mp, const char *p, size_t len, int *result)
{
	size_t i;

	*result = RAP_OK;
	for (i = 0; i < len; i++) {
		if (mp->hlen >= MAX_HEADERS) {
			*result = fail(mp, RAP_EPROTO, "a part's headers are larger than 8 KiB");
			return i;
		}
		if (p[i] == '\0') {
			*result = fail(mp, RAP_EPROTO, "a part's headers hold a NUL byte");
			return i;
		}
		mp->hdr[mp->hlen++] = p[i];
		if ((mp->hlen == 2 && memcmp(mp->hdr, "\r\n", 2) == 0) ||
		    (mp->hlen >= 4 && memcmp(mp->hdr + mp->hlen - 4, "\r\n\r\n", 4) == 0)) {
			*result = parse_headers(mp);
			mp->match = 0;
			return i + 1;
		}
	}
	return len;
}

int rap_multipart_feed(struct rap_multipart *mp, const char *data, size_t len)
{
	int result = RAP_OK;

	while (len > 0 && result == RAP_OK) {
		size_t used;

		switch (mp->state) {
		case MP_PREAMBLE:
		case MP_BODY:
			used = scan(mp, data, len, &result);
			break;
		case MP_AFTER_DELIM:
			used = after_delim(mp, data, len, &result);
			break;
		case MP_HEADERS:
			used = headers(mp, data, len, &result);
			break;
		case MP_DONE:
			return RAP_OK; /* the epilogue is ignored */
		default:
			return mp->error;
		}
		data += used;
		len -= used;
	}
	return mp->state == MP_ERROR ? mp->error : result;
}

int rap_multipart_finish(struct rap_multipart *mp)
{
	if (mp->state == MP_ERROR)
		return mp->error;
	if (mp->state != MP_DONE)
		return fail(mp, RAP_EPROTO,
			    mp->state == MP_PREAMBLE
				    ? "no multipart boundary found in the body"
				    : "the body ended before the closing boundary");
	return RAP_OK;
}

bool rap_multipart_done(const struct rap_multipart *mp)
{
	return mp->state == MP_DONE;
}

const char *rap_multipart_errmsg(const struct rap_multipart *mp)
{
	return mp->errmsg;
}
