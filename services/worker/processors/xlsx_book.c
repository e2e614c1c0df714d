/*
 * xlsx_book.c: an xlsx workbook opened for streaming one sheet
 * (xlsx_book.h).
 *
 * The zip: libzip over a dup of the input's descriptor (libzip closes what
 * it is given; the input's descriptor is the runtime's), with consistency
 * checks, so a truncated or foreign file fails at open.  Before an entry
 * is inflated its declared size and its ratio to the compressed size are
 * checked (zip bomb); while it inflates the bytes are counted and may not
 * pass the declared size, so a lying header gains nothing.
 *
 * XML: expat, namespace-aware (names come as "URI local"; handlers see
 * local names only, so prefixed and strict OOXML read alike).  A DOCTYPE
 * stops the parse before its internal subset is read: xlsx never needs
 * one, and without it no entity can be declared, which disarms billion
 * laughs and external entities alike; expat's amplification guard stays
 * on as a second wall.
 *
 * The parts read, in order: xl/workbook.xml (sheet names, their relation
 * ids, the 1904 date system), xl/_rels/workbook.xml.rels (the chosen
 * sheet's part, the styles and shared strings parts), the styles
 * (cellXfs: which formats show dates), the shared strings (one buffer of
 * at most XLSX_SST_MAX_BYTES, with an end offset per string).  The sheet
 * itself is streamed by xlsx.c.
 */
#include "xlsx_book.h"

#include "rap/buf.h"
#include "rap/mem.h"

#define XML_DTD 1
#include <expat.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <zip.h>

#define XML_CHUNK (64 * 1024)
#define NS_SEP ' '

/* --- XML ------------------------------------------------------------------ */

const char *xlsx_local(const char *name)
{
	const char *s = strrchr(name, NS_SEP);

	return s ? s + 1 : name;
}

const char *xlsx_attr(const char **attrs, const char *local)
{
	for (; attrs && attrs[0]; attrs += 2)
		if (strcmp(xlsx_local(attrs[0]), local) == 0)
			return attrs[1];
	return NULL;
}

void xlsx_xml_fail(struct xlsx_xml *x, int result, const char *fmt, ...)
{
	va_list ap;

	if (x->result != RAP_OK)
		return;
	x->result = result;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(x->book->err, sizeof(x->book->err), fmt, ap);
		va_end(ap);
	}
	XML_StopParser(x->parser, XML_FALSE);
}

struct handlers {
	void *st;
	xlsx_start_fn start;
	xlsx_end_fn end;
	xlsx_text_fn text;
};

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct handlers *h = ud;
	struct xlsx_xml *x = h->st;

	x->depth++;
	if (h->start && x->result == RAP_OK)
		h->start(h->st, xlsx_local(name), attrs);
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	struct handlers *h = ud;
	struct xlsx_xml *x = h->st;

	x->depth--;
	if (h->end && x->result == RAP_OK)
		h->end(h->st, xlsx_local(name));
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	struct handlers *h = ud;
	struct xlsx_xml *x = h->st;

	if (h->text && x->result == RAP_OK)
		h->text(h->st, s, len);
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
			       const XML_Char *pubid, int has_internal_subset)
{
	struct handlers *h = ud;

	xlsx_xml_fail(h->st, RAP_EINVAL,
		      "the workbook's XML has a DOCTYPE, which xlsx never uses (refused: entity "
		      "declarations could expand without bound)");
}

/* Checks entry's sizes before it is inflated; its index, or a negative
 * rap_err (RAP_ENOENT: no such entry). */
static long long check_entry(struct xlsx_book *b, const char *entry, long long max, zip_stat_t *st)
{
	zip_int64_t i = zip_name_locate(b->zip, entry, 0);

	if (i < 0)
		return RAP_ENOENT;
	if (zip_stat_index(b->zip, (zip_uint64_t)i, 0, st) != 0 || !(st->valid & ZIP_STAT_SIZE) ||
	    !(st->valid & ZIP_STAT_COMP_SIZE)) {
		snprintf(b->err, sizeof(b->err), "the zip entry %s cannot be read", entry);
		return RAP_EINVAL;
	}
	if (st->size > (zip_uint64_t)max) {
		snprintf(b->err, sizeof(b->err),
			 "%s inflates to %llu bytes, more than the %lld allowed", entry,
			 (unsigned long long)st->size, max);
		return RAP_ETOOBIG;
	}
	if (st->size > (zip_uint64_t)XLSX_RATIO_FLOOR &&
	    st->size / (st->comp_size ? st->comp_size : 1) > XLSX_MAX_RATIO) {
		snprintf(b->err, sizeof(b->err),
			 "%s inflates %llu times (%llu bytes from %llu): a zip bomb, refused "
			 "(at most %d times)",
			 entry,
			 (unsigned long long)(st->size / (st->comp_size ? st->comp_size : 1)),
			 (unsigned long long)st->size, (unsigned long long)st->comp_size,
			 XLSX_MAX_RATIO);
		return RAP_ETOOBIG;
	}
	return i;
}

static XML_Parser new_parser(struct handlers *h)
{
	XML_Parser p = XML_ParserCreateNS("UTF-8", NS_SEP);

	XML_SetUserData(p, h);
	XML_SetElementHandler(p, on_start, on_end);
	XML_SetCharacterDataHandler(p, on_text);
	XML_SetStartDoctypeDeclHandler(p, on_doctype);
	XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
	XML_SetBillionLaughsAttackProtectionMaximumAmplification(p, 20.0f);
	XML_SetBillionLaughsAttackProtectionActivationThreshold(p, 1024 * 1024);
	return p;
}

/* Feeds the entry's bytes to the parser, counting them. */
static int pump(struct xlsx_book *b, zip_file_t *f, XML_Parser p, struct xlsx_xml *x,
		const char *entry, zip_uint64_t declared, int (*progress)(void *st))
{
	char *buf = rap_malloc(XML_CHUNK);
	zip_int64_t n;
	int result = RAP_OK;

	b->inflated = 0;
	do {
		n = zip_fread(f, buf, XML_CHUNK);
		if (n < 0) {
			snprintf(b->err, sizeof(b->err), "%s cannot be inflated: %s", entry,
				 zip_file_strerror(f));
			result = RAP_EINVAL;
			break;
		}
		b->inflated += n;
		if ((zip_uint64_t)b->inflated > declared) {
			snprintf(b->err, sizeof(b->err),
				 "%s inflates past the size its header declares (%llu bytes)",
				 entry, (unsigned long long)declared);
			result = RAP_ETOOBIG;
			break;
		}
		if (XML_Parse(p, buf, (int)n, n == 0) == XML_STATUS_ERROR) {
			result = x->result != RAP_OK ? x->result : RAP_EINVAL;
			if (x->result == RAP_OK)
				snprintf(b->err, sizeof(b->err),
					 "%s is not well-formed XML: %s (line %lu)", entry,
					 XML_ErrorString(XML_GetErrorCode(p)),
					 (unsigned long)XML_GetCurrentLineNumber(p));
			break;
		}
		if (x->result == RAP_OK && progress)
			x->result = progress(x);
		result = x->result;
	} while (n > 0 && result == RAP_OK);
	free(buf);
	return result;
}

int xlsx_xml_parse(struct xlsx_book *b, const char *entry, long long max, void *st,
		   xlsx_start_fn start, xlsx_end_fn end, xlsx_text_fn text,
		   int (*progress)(void *st))
{
	struct handlers h = { .st = st, .start = start, .end = end, .text = text };
	struct xlsx_xml *x = st;
	zip_stat_t zs;
	zip_file_t *f;
	long long i = check_entry(b, entry, max, &zs);
	int result;

	if (i < 0)
		return (int)i;
	f = zip_fopen_index(b->zip, (zip_uint64_t)i, 0);
	if (!f) {
		snprintf(b->err, sizeof(b->err), "%s cannot be opened: %s", entry,
			 zip_strerror(b->zip));
		return RAP_EINVAL;
	}
	x->book = b;
	x->result = RAP_OK;
	x->depth = 0;
	x->parser = new_parser(&h);
	result = pump(b, f, x->parser, x, entry, zs.size, progress);
	XML_ParserFree(x->parser);
	x->parser = NULL;
	zip_fclose(f);
	return result;
}

/* --- the workbook and its relationships ------------------------------------ */

struct workbook_st {
	struct xlsx_xml x;
	const char *want_name;
	int want_index, seen;
	char *rid;
	struct rap_buf names; /* for the message when the sheet is not found */
};

static void workbook_start(void *ud, const char *name, const char **attrs)
{
	struct workbook_st *w = ud;
	struct xlsx_book *b = w->x.book;
	const char *v;

	if (strcmp(name, "workbookPr") == 0) {
		v = xlsx_attr(attrs, "date1904");
		b->date1904 = v && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0);
		return;
	}
	if (strcmp(name, "sheet") != 0)
		return;
	if (++w->seen > XLSX_MAX_SHEETS) {
		xlsx_xml_fail(&w->x, RAP_ETOOBIG, "the workbook has more than %d sheets",
			      XLSX_MAX_SHEETS);
		return;
	}
	v = xlsx_attr(attrs, "name");
	if (v && w->names.len < 512)
		rap_buf_appendf(&w->names, "%s'%s'", w->names.len ? ", " : "", v);
	if (w->rid)
		return;
	if ((w->want_name && v && strcmp(v, w->want_name) == 0) ||
	    (!w->want_name && w->seen == w->want_index)) {
		const char *rid = xlsx_attr(attrs, "id");

		if (!rid) {
			xlsx_xml_fail(&w->x, RAP_EINVAL, "a sheet of the workbook has no r:id");
			return;
		}
		w->rid = rap_strdup(rid);
		b->sheet_name = rap_strdup(v ? v : "");
		b->sheet_index = w->seen;
	}
}

struct rels_st {
	struct xlsx_xml x;
	const char *rid;
	char *sheet, *sst, *styles;
};

/* A relationship's target as a zip entry: relative to xl/, or absolute. */
static char *entry_of(const char *target)
{
	if (target[0] == '/')
		return rap_strdup(target + 1);
	if (strncmp(target, "../", 3) == 0)
		return rap_strdup(target + 3);
	return rap_asprintf("xl/%s", target);
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), k = strlen(tail);

	return n >= k && strcmp(s + n - k, tail) == 0;
}

static void rels_start(void *ud, const char *name, const char **attrs)
{
	struct rels_st *r = ud;
	const char *id = xlsx_attr(attrs, "Id"), *type = xlsx_attr(attrs, "Type"),
		   *target = xlsx_attr(attrs, "Target");

	if (r->x.result != RAP_OK || strcmp(name, "Relationship") != 0 || !id || !type || !target)
		return;
	if (!r->sheet && strcmp(id, r->rid) == 0)
		r->sheet = entry_of(target);
	else if (!r->sst && ends_with(type, "/sharedStrings"))
		r->sst = entry_of(target);
	else if (!r->styles && ends_with(type, "/styles"))
		r->styles = entry_of(target);
}

static int find_sheet(struct xlsx_book *b, const char *sheet_name, int sheet_index, char **sst,
		      char **styles)
{
	struct workbook_st w = { .want_name = sheet_name, .want_index = sheet_index };
	struct rels_st r = { 0 };
	int result;

	rap_buf_init(&w.names, 4096);
	result = xlsx_xml_parse(b, "xl/workbook.xml", XLSX_MAX_PART, &w, workbook_start, NULL, NULL,
				NULL);
	if (result == RAP_ENOENT) {
		snprintf(b->err, sizeof(b->err), "not an xlsx workbook: it has no xl/workbook.xml");
		result = RAP_EINVAL;
	}
	if (result == RAP_OK && !w.rid) {
		if (sheet_name)
			snprintf(b->err, sizeof(b->err),
				 "the workbook has no sheet '%s' (it has %s)", sheet_name,
				 w.names.data ? w.names.data : "none");
		else
			snprintf(b->err, sizeof(b->err), "the workbook has no sheet %d (it has %d)",
				 sheet_index, w.seen);
		result = RAP_ENOENT;
	}
	if (result == RAP_OK) {
		r.rid = w.rid;
		result = xlsx_xml_parse(b, "xl/_rels/workbook.xml.rels", XLSX_MAX_PART, &r,
					rels_start, NULL, NULL, NULL);
		if (result == RAP_OK && !r.sheet) {
			snprintf(b->err, sizeof(b->err), "the sheet's part is not in the workbook");
			result = RAP_EINVAL;
		} else if (result == RAP_ENOENT) {
			snprintf(b->err, sizeof(b->err), "the workbook has no relationships part");
			result = RAP_EINVAL;
		}
	}
	b->sheet_entry = r.sheet;
	*sst = r.sst;
	*styles = r.styles;
	free(w.rid);
	rap_buf_cleanup(&w.names);
	return result;
}

/* --- styles: which cell formats show dates ---------------------------------- */

enum xlsx_kind xlsx_book_format_kind(const char *code)
{
	bool date = false, time = false, m = false;
	const char *s;

	/* The first section only; text in quotes, [colours], escapes, AM/PM. */
	for (s = code; *s && *s != ';'; s++) {
		char c = (char)(*s | 0x20);

		if (*s == '"') {
			s = strchr(s + 1, '"');
			if (!s)
				break;
		} else if (*s == '[') {
			/* [h], [mm], [ss]: elapsed time; [Red], [$-409]: not. */
			c = (char)(s[1] | 0x20);
			time = time || c == 'h' || c == 'm' || c == 's';
			s = strchr(s, ']');
			if (!s)
				break;
		} else if (*s == '\\' || *s == '_' || *s == '*') {
			if (!*++s)
				break;
		} else if (strncasecmp(s, "am/pm", 5) == 0 || strncasecmp(s, "a/p", 3) == 0) {
			time = true;
			s += s[1] == '/' ? 2 : 4;
		} else if (c == 'y' || c == 'd') {
			date = true;
		} else if (c == 'h' || c == 's') {
			time = true;
		} else if (c == 'm') {
			m = true;
		}
	}
	if (m && !time)
		date = true;
	if (date && time)
		return XLSX_DATETIME;
	return date ? XLSX_DATE : time ? XLSX_TIME : XLSX_NUMBER;
}

/* The built-in formats that show dates and times (ECMA-376, 18.8.30,
 * and the East Asian ones Excel adds). */
static enum xlsx_kind builtin_kind(long id)
{
	if ((id >= 14 && id <= 17) || (id >= 27 && id <= 31) || (id >= 34 && id <= 36) ||
	    (id >= 50 && id <= 58))
		return XLSX_DATE;
	if ((id >= 18 && id <= 21) || (id >= 32 && id <= 33) || (id >= 45 && id <= 47))
		return XLSX_TIME;
	return id == 22 ? XLSX_DATETIME : XLSX_NUMBER;
}

struct styles_st {
	struct xlsx_xml x;
	long fmt_id[XLSX_MAX_NUMFMTS];
	unsigned char fmt_kind[XLSX_MAX_NUMFMTS];
	unsigned n_fmt;
	bool in_xfs;
};

static enum xlsx_kind kind_of(const struct styles_st *s, long id)
{
	unsigned i;

	for (i = 0; i < s->n_fmt; i++)
		if (s->fmt_id[i] == id)
			return (enum xlsx_kind)s->fmt_kind[i];
	return builtin_kind(id);
}

static void styles_start(void *ud, const char *name, const char **attrs)
{
	struct styles_st *s = ud;
	struct xlsx_book *b = s->x.book;
	const char *id = xlsx_attr(attrs, "numFmtId"), *code;

	if (strcmp(name, "cellXfs") == 0) {
		s->in_xfs = true;
	} else if (strcmp(name, "numFmt") == 0 && id) {
		code = xlsx_attr(attrs, "formatCode");
		if (s->n_fmt == XLSX_MAX_NUMFMTS) {
			xlsx_xml_fail(&s->x, RAP_ETOOBIG,
				      "the workbook has more than %d number formats",
				      XLSX_MAX_NUMFMTS);
			return;
		}
		s->fmt_id[s->n_fmt] = strtol(id, NULL, 10);
		s->fmt_kind[s->n_fmt++] = (unsigned char)xlsx_book_format_kind(code ? code : "");
	} else if (strcmp(name, "xf") == 0 && s->in_xfs) {
		if (b->n_xf == XLSX_MAX_XFS) {
			xlsx_xml_fail(&s->x, RAP_ETOOBIG,
				      "the workbook has more than %d cell formats", XLSX_MAX_XFS);
			return;
		}
		b->xf_kind[b->n_xf++] = (unsigned char)kind_of(s, id ? strtol(id, NULL, 10) : 0);
	}
}

static void styles_end(void *ud, const char *name)
{
	struct styles_st *s = ud;

	if (strcmp(name, "cellXfs") == 0)
		s->in_xfs = false;
}

/* --- shared strings ------------------------------------------------------- */

struct sst_st {
	struct xlsx_xml x;
	size_t len, cap;
	unsigned ends_cap;
	int in_t, in_rph;
};

static void sst_start(void *ud, const char *name, const char **attrs)
{
	struct sst_st *s = ud;

	if (strcmp(name, "t") == 0)
		s->in_t++;
	else if (strcmp(name, "rPh") == 0)
		s->in_rph++;
}

static void sst_text(void *ud, const char *text, int len)
{
	struct sst_st *s = ud;
	struct xlsx_book *b = s->x.book;

	if (!s->in_t || s->in_rph)
		return;
	if (s->len + (size_t)len > XLSX_SST_MAX_BYTES) {
		xlsx_xml_fail(&s->x, RAP_ETOOBIG,
			      "the shared strings pass %d MiB, the most this reader holds",
			      XLSX_SST_MAX_BYTES / (1024 * 1024));
		return;
	}
	if (s->len + (size_t)len > s->cap) {
		while (s->len + (size_t)len > s->cap)
			s->cap = s->cap ? s->cap * 2 : 64 * 1024;
		if (s->cap > XLSX_SST_MAX_BYTES)
			s->cap = XLSX_SST_MAX_BYTES;
		b->sst = rap_realloc(b->sst, s->cap);
	}
	memcpy(b->sst + s->len, text, (size_t)len);
	s->len += (size_t)len;
}

static void sst_end(void *ud, const char *name)
{
	struct sst_st *s = ud;
	struct xlsx_book *b = s->x.book;

	if (strcmp(name, "t") == 0) {
		s->in_t--;
	} else if (strcmp(name, "rPh") == 0) {
		s->in_rph--;
	} else if (strcmp(name, "si") == 0) {
		if (b->n_sst == XLSX_SST_MAX_STRINGS) {
			xlsx_xml_fail(
				&s->x, RAP_ETOOBIG,
				"the shared strings pass %d entries, the most this reader holds",
				XLSX_SST_MAX_STRINGS);
			return;
		}
		if (b->n_sst == s->ends_cap) {
			s->ends_cap = s->ends_cap ? s->ends_cap * 2 : 1024;
			b->sst_end = rap_realloc(b->sst_end, s->ends_cap * sizeof(*b->sst_end));
		}
		b->sst_end[b->n_sst++] = (uint32_t)s->len;
	}
}

const char *xlsx_book_string(const struct xlsx_book *b, unsigned long i, size_t *len)
{
	uint32_t start;

	if (i >= b->n_sst)
		return NULL;
	start = i ? b->sst_end[i - 1] : 0;
	*len = b->sst_end[i] - start;
	return b->sst ? b->sst + start : "";
}

/* --- dates ---------------------------------------------------------------- */

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm). */
static void civil(long long z, int *y, int *m, int *d)
{
	long long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

size_t xlsx_book_date(const struct xlsx_book *b, const char *v, enum xlsx_kind kind, char *out)
{
	char *endp;
	double x = strtod(v, &endp);
	long long days, ms;
	int y, m, d, n = 0;

	if (endp == v || *endp || !(x >= 0 && x < 2958466.0)) /* up to 9999-12-31 */
		return (size_t)snprintf(out, 32, "%.31s", v);
	days = (long long)floor(x);
	ms = llround((x - (double)days) * 86400000.0);
	if (ms >= 86400000) {
		days++;
		ms -= 86400000;
	}
	if (b->date1904) {
		civil(days - 24107, &y, &m, &d);
	} else if (days == 60) {
		y = 1900, m = 2, d = 29; /* Excel's 1900-02-29, which never was */
	} else {
		civil(days - 25569 + (days < 60), &y, &m, &d);
	}
	if (kind != XLSX_TIME)
		n = snprintf(out, 32, "%04d-%02d-%02d", y, m, d);
	if (kind == XLSX_DATE)
		return (size_t)n;
	if (kind == XLSX_DATETIME)
		out[n++] = 'T';
	n += snprintf(out + n, 32 - (size_t)n, "%02lld:%02lld:%02lld", ms / 3600000,
		      ms / 60000 % 60, ms / 1000 % 60);
	if (ms % 1000)
		n += snprintf(out + n, 32 - (size_t)n, ".%03lld", ms % 1000);
	return (size_t)n;
}

/* --- open and close --------------------------------------------------------- */

static int open_zip(struct xlsx_book *b, int fd)
{
	int dfd = dup(fd), ze = 0;
	zip_error_t e;

	if (dfd < 0) {
		snprintf(b->err, sizeof(b->err), "the input cannot be read");
		return RAP_EIO;
	}
	lseek(dfd, 0, SEEK_SET);
	b->zip = zip_fdopen(dfd, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
	if (!b->zip) {
		close(dfd);
		zip_error_init_with_code(&e, ze);
		snprintf(b->err, sizeof(b->err),
			 "not an xlsx file (xlsx is a zip archive; this one cannot be read: %s)",
			 zip_error_strerror(&e));
		zip_error_fini(&e);
		return RAP_EINVAL;
	}
	return RAP_OK;
}

int xlsx_book_open(struct xlsx_book *b, int fd, const char *sheet_name, int sheet_index)
{
	struct styles_st *styles_st;
	struct sst_st sst = { 0 };
	char *sst_entry = NULL, *styles_entry = NULL;
	int result;

	memset(b, 0, sizeof(*b));
	result = open_zip(b, fd);
	if (result == RAP_OK)
		result = find_sheet(b, sheet_name, sheet_index, &sst_entry, &styles_entry);
	if (result == RAP_OK && styles_entry) {
		styles_st = rap_calloc(1, sizeof(*styles_st));
		b->xf_kind = rap_calloc(XLSX_MAX_XFS, 1);
		result = xlsx_xml_parse(b, styles_entry, XLSX_MAX_PART, styles_st, styles_start,
					styles_end, NULL, NULL);
		free(styles_st);
		if (result == RAP_ENOENT)
			result = RAP_OK; /* no styles: every number is a number */
	}
	if (result == RAP_OK && sst_entry) {
		result = xlsx_xml_parse(b, sst_entry, XLSX_MAX_ENTRY, &sst, sst_start, sst_end,
					sst_text, NULL);
		if (result == RAP_ENOENT)
			result = RAP_OK;
	}
	free(sst_entry);
	free(styles_entry);
	return result;
}

void xlsx_book_close(struct xlsx_book *b)
{
	if (b->zip)
		zip_discard(b->zip);
	free(b->sheet_name);
	free(b->sheet_entry);
	free(b->xf_kind);
	free(b->sst);
	free(b->sst_end);
	memset(b, 0, sizeof(*b));
}
