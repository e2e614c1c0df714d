/*
 * csv_parse.c: the streaming RFC 4180 reader (csv_parse.h).
 *
 * A state machine over the bytes that never looks back: the state (where
 * in a record it is) lives in the parser between chunks, so a record may
 * be split anywhere, even between the two bytes of a CRLF or of a doubled
 * quote.  Work is done per run of bytes, not per byte: outside quotes a
 * tight loop over a 256-entry class table skips to the next delimiter,
 * quote, CR or LF; inside quotes memchr finds the next quote; each run is
 * copied once into the record buffer.  No call through a pointer happens
 * below the record.
 *
 * States: a record starts (a CR or LF here is a blank line), a field
 * starts (a '"' here opens a quoted field), inside an unquoted field,
 * inside a quoted field, a quote seen inside a quoted field (another '"'
 * is a literal quote; a delimiter or line end closes the field), and a CR
 * seen (a following LF belongs to it).
 *
 * Memory: the record buffer grows by doubling to at most max_row bytes and
 * the field ends to at most CSV_MAX_FIELDS; past either the record is
 * still read to its end, only flagged, and nothing more is kept.  Both are
 * kept for the next record, so a file of even records allocates once.
 *
 * UTF-8 is not checked here, only by csv_utf8_valid for whom it matters
 * (the fields of a record are checked one by one by the caller): a
 * multi-byte character never contains an ASCII byte, so the scan cannot
 * cut one.
 */
#include "csv_parse.h"

#include "rap/err.h"
#include "rap/mem.h"

#include <stdlib.h>
#include <string.h>

enum state {
	S_RECORD,     /* a record starts */
	S_FIELD,      /* a field starts (after a delimiter) */
	S_UNQUOTED,   /* inside an unquoted field */
	S_QUOTED,     /* inside a quoted field */
	S_QUOTE_SEEN, /* a '"' inside a quoted field: its end or a doubled quote */
	S_CR          /* a record ended at a CR: skip an LF that follows */
};

static const unsigned char utf8_bom[3] = { 0xEF, 0xBB, 0xBF };

void csv_parse_init(struct csv_parser *p, char delim, size_t max_row)
{
	memset(p, 0, sizeof(*p));
	p->delim = delim;
	p->max_row = max_row ? max_row : 1;
	p->state = S_RECORD;
	p->cls[(unsigned char)delim] = 1;
	p->cls['"'] = 1;
	p->cls['\r'] = 1;
	p->cls['\n'] = 1;
}

void csv_parse_cleanup(struct csv_parser *p)
{
	free(p->buf);
	free(p->ends);
	p->buf = NULL;
	p->ends = NULL;
}

/* Keeps n more bytes of the current field, up to max_row in all. */
static void keep(struct csv_parser *p, const char *s, size_t n)
{
	size_t want;

	if (p->len + n > p->max_row) {
		p->flags |= CSV_ROW_TOO_LONG;
		n = p->max_row - p->len;
	}
	if (n == 0)
		return;
	want = p->len + n;
	if (want > p->cap) {
		size_t cap = p->cap ? p->cap : 4096;

		while (cap < want)
			cap *= 2;
		if (cap > p->max_row)
			cap = p->max_row;
		p->buf = rap_realloc(p->buf, cap);
		p->cap = cap;
	}
	memcpy(p->buf + p->len, s, n);
	p->len = want;
}

static void end_field(struct csv_parser *p)
{
	if (p->n == p->ends_cap) {
		if (p->ends_cap == CSV_MAX_FIELDS) {
			p->flags |= CSV_ROW_TOO_MANY_FIELDS;
			return;
		}
		p->ends_cap = p->ends_cap ? p->ends_cap * 2 : 64;
		if (p->ends_cap > CSV_MAX_FIELDS)
			p->ends_cap = CSV_MAX_FIELDS;
		p->ends = rap_realloc(p->ends, p->ends_cap * sizeof(*p->ends));
	}
	p->ends[p->n++] = (uint32_t)p->len;
}

/* Ends the record whose last byte is at input offset end (exclusive). */
static int end_record(struct csv_parser *p, long long end, csv_row_fn fn, void *ctx)
{
	struct csv_row row;
	int result;

	end_field(p);
	row.no = p->rows;
	row.n = p->n;
	row.flags = p->flags;
	row.data = p->buf ? p->buf : "";
	row.ends = p->ends;
	row.offset = p->row_start;
	row.bytes = end - p->row_start;
	result = fn(ctx, &row);
	p->len = 0;
	p->n = 0;
	p->flags = 0;
	return result;
}

/* The unquoted scan: the index of the first byte of s[i..n) of class 1. */
static inline size_t scan(const unsigned char *cls, const unsigned char *s, size_t i, size_t n)
{
	while (i + 4 <= n) {
		if (cls[s[i]])
			return i;
		if (cls[s[i + 1]])
			return i + 1;
		if (cls[s[i + 2]])
			return i + 2;
		if (cls[s[i + 3]])
			return i + 3;
		i += 4;
	}
	while (i < n && !cls[s[i]])
		i++;
	return i;
}

/* The machine itself, over bytes that follow any BOM. */
static int feed(struct csv_parser *p, const char *s, size_t n, csv_row_fn fn, void *ctx)
{
	const unsigned char *u = (const unsigned char *)s;
	const char *q;
	size_t i = 0, j;
	int result = RAP_OK;
	char c;

	while (i < n && result == RAP_OK) {
		switch (p->state) {
		case S_CR:
			if (s[i] == '\n')
				i++;
			p->state = S_RECORD;
			break;
		case S_RECORD:
			c = s[i];
			p->rows++;
			if (c == '\n' || c == '\r') {
				p->blank++;
				p->state = c == '\r' ? S_CR : S_RECORD;
				i++;
				break;
			}
			p->row_start = p->offset + (long long)i;
			p->state = S_FIELD;
			break;
		case S_FIELD:
			if (s[i] == '"') {
				p->state = S_QUOTED;
				i++;
				break;
			}
			p->state = S_UNQUOTED;
			/* fall through */
		case S_UNQUOTED:
			j = scan(p->cls, u, i, n);
			keep(p, s + i, j - i);
			if (j == n) {
				i = n;
				break;
			}
			c = s[j];
			i = j + 1;
			if (c == p->delim) {
				end_field(p);
				p->state = S_FIELD;
			} else if (c == '"') {
				p->flags |= CSV_ROW_BAD_QUOTE;
				keep(p, "\"", 1);
			} else {
				result = end_record(p, p->offset + (long long)i, fn, ctx);
				p->state = c == '\r' ? S_CR : S_RECORD;
			}
			break;
		case S_QUOTED:
			q = memchr(s + i, '"', n - i);
			if (!q) {
				keep(p, s + i, n - i);
				i = n;
				break;
			}
			keep(p, s + i, (size_t)(q - (s + i)));
			i = (size_t)(q - s) + 1;
			p->state = S_QUOTE_SEEN;
			break;
		case S_QUOTE_SEEN:
			c = s[i];
			if (c == '"') {
				keep(p, "\"", 1);
				p->state = S_QUOTED;
				i++;
			} else if (c == p->delim) {
				end_field(p);
				p->state = S_FIELD;
				i++;
			} else if (c == '\n' || c == '\r') {
				i++;
				result = end_record(p, p->offset + (long long)i, fn, ctx);
				p->state = c == '\r' ? S_CR : S_RECORD;
			} else {
				/* "ab"c: keep the text, flag the record. */
				p->flags |= CSV_ROW_BAD_QUOTE;
				p->state = S_UNQUOTED;
			}
			break;
		}
	}
	p->offset += (long long)i;
	return result;
}

int csv_parse_feed(struct csv_parser *p, const char *s, size_t n, csv_row_fn fn, void *ctx)
{
	int result;

	while (!p->started && n > 0) {
		if ((unsigned char)*s == utf8_bom[p->bom_have]) {
			s++;
			n--;
			if (++p->bom_have == sizeof(utf8_bom)) {
				p->bom = true;
				p->started = true;
			}
			continue;
		}
		/* Not a BOM after all: what looked like its start is data. */
		p->started = true;
		if (p->bom_have) {
			result = feed(p, (const char *)utf8_bom, p->bom_have, fn, ctx);
			if (result != RAP_OK)
				return result;
		}
	}
	return feed(p, s, n, fn, ctx);
}

int csv_parse_finish(struct csv_parser *p, csv_row_fn fn, void *ctx)
{
	int result;

	if (!p->started) {
		p->started = true;
		if (p->bom_have && p->bom_have < sizeof(utf8_bom)) {
			result = feed(p, (const char *)utf8_bom, p->bom_have, fn, ctx);
			if (result != RAP_OK)
				return result;
		}
	}
	switch (p->state) {
	case S_RECORD:
	case S_CR:
		return RAP_OK;
	case S_QUOTED:
		p->flags |= CSV_ROW_UNTERMINATED;
		break;
	default:
		break;
	}
	p->state = S_RECORD;
	return end_record(p, p->offset, fn, ctx);
}

/* Detection: how often each candidate occurs outside quotes per record. */
#define DETECT_RECORDS 20
static const char candidates[] = { ',', ';', '\t', '|' };
#define N_CANDIDATES (sizeof(candidates))

/* Fills counts[r][k] for the first records of s; returns how many. */
static unsigned detect_count(const char *s, size_t n, bool eof,
			     unsigned counts[DETECT_RECORDS][N_CANDIDATES])
{
	unsigned r = 0, k, line[N_CANDIDATES] = { 0 };
	bool quoted = false, empty = true;
	size_t i;

	for (i = 0; i < n && r < DETECT_RECORDS; i++) {
		char c = s[i];

		if (c == '"') {
			quoted = !quoted;
			empty = false;
		} else if (!quoted && (c == '\n' || c == '\r')) {
			if (!empty)
				memcpy(counts[r++], line, sizeof(line));
			memset(line, 0, sizeof(line));
			empty = true;
		} else if (!quoted) {
			empty = false;
			for (k = 0; k < N_CANDIDATES; k++)
				line[k] += c == candidates[k];
		}
	}
	if (eof && i == n && !empty && r < DETECT_RECORDS)
		memcpy(counts[r++], line, sizeof(line));
	return r;
}

char csv_parse_detect(const char *s, size_t n, bool eof)
{
	unsigned counts[DETECT_RECORDS][N_CANDIDATES];
	unsigned records = detect_count(s, n, eof, counts);
	unsigned best_freq = 0, best_mode = 0, r, t, k;
	char best = ',';

	for (k = 0; k < N_CANDIDATES; k++) {
		unsigned mode = 0, freq = 0;

		/* The count most records share (ties: the larger count). */
		for (r = 0; r < records; r++) {
			unsigned f = 0;

			for (t = 0; t < records; t++)
				f += counts[t][k] == counts[r][k];
			if (f > freq || (f == freq && counts[r][k] > mode)) {
				freq = f;
				mode = counts[r][k];
			}
		}
		if (mode == 0)
			continue;
		if (freq > best_freq || (freq == best_freq && mode > best_mode)) {
			best = candidates[k];
			best_freq = freq;
			best_mode = mode;
		}
	}
	return best;
}

bool csv_utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		uint64_t w;
		unsigned char c;

		/* Eight ASCII bytes at a time. */
		if (i + 8 <= n) {
			memcpy(&w, s + i, 8);
			if (!(w & 0x8080808080808080ull)) {
				i += 8;
				continue;
			}
		}
		c = s[i];
		if (c < 0x80) {
			i++;
		} else if (c >= 0xC2 && c <= 0xDF) {
			if (i + 1 >= n || (s[i + 1] & 0xC0) != 0x80)
				return false;
			i += 2;
		} else if (c >= 0xE0 && c <= 0xEF) {
			if (i + 2 >= n || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80)
				return false;
			if (c == 0xE0 && s[i + 1] < 0xA0) /* overlong */
				return false;
			if (c == 0xED && s[i + 1] > 0x9F) /* surrogate */
				return false;
			i += 3;
		} else if (c >= 0xF0 && c <= 0xF4) {
			if (i + 3 >= n || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80 ||
			    (s[i + 3] & 0xC0) != 0x80)
				return false;
			if (c == 0xF0 && s[i + 1] < 0x90) /* overlong */
				return false;
			if (c == 0xF4 && s[i + 1] > 0x8F) /* past U+10FFFF */
				return false;
			i += 4;
		} else {
			return false;
		}
	}
	return true;
}
