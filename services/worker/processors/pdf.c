/*
 * pdf.c: pdf.text, the text of a PDF page by page through poppler-glib
 * 22.12 (docs/sandbox.md, "pdf.text").
 *
 * The input is the job's scratch copy (RAP_INPUT_FILE): poppler reads it
 * through poppler_document_new_from_fd over a dup(2) of fd 0 (it takes the
 * copy and reads it with pread), so nothing is opened by name.  The text
 * of the pages asked for (params first_page, max_pages) goes to text.txt,
 * pages separated by a form feed, and to page-NNNNN.txt each when
 * params.per_page; the result gives the page count, the pages extracted
 * and the document's metadata.  Progress is reported after each page.
 *
 * What fails, permanently, with its reason: a PDF that needs a password
 * (invalid_input, encrypted), a file that does not end with %%EOF in its
 * last 1024 bytes (truncated: poppler would rebuild its cross-reference
 * table and give part of the text without a word), one poppler cannot
 * open (damaged), one whose page tree does not lead to its pages (a Kids
 * that loops on itself: poppler detects the loop and finds no page).  What the library does not
 * stop, the limits do: a deep or huge stream costs memory (RLIMIT_AS) or
 * CPU (RLIMIT_CPU), never the worker.
 *
 * poppler is set up in prepare, before the sandbox closes: a small PDF
 * of our own is opened from memory once and kept open, which creates
 * poppler's global parameters (they read its data directory,
 * /usr/share/poppler) and keeps them (poppler-glib destroys them with the
 * last open document and makes them again, from the files, for the next),
 * and GLib's types; the time zone is read once (TZ set when unset: glibc
 * would open /etc/localtime again at each localtime); GLib logs through
 * a writer of our own.  poppler starts no
 * thread for text: the processor has no .threads.
 */
#include "glib_log.h"
#include "processor.h"
#include "procs.h"

#include "rap/err.h"

#include <json-c/json.h>
#include <poppler.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* Defaults and bounds of the params (proto/schemas/params/pdf.text.json). */
#define PDF_DEFAULT_MAX_PAGES 10000
#define PDF_MAX_PAGES 10000
#define PDF_NAME_LEN 32
/* Where %%EOF must be: Acrobat's own tolerance of trailing bytes. */
#define PDF_EOF_WINDOW 1024
/* Where the trailer dictionary (or the cross-reference stream's) that
 * names /Encrypt is looked for: the start (a linearized file's first
 * trailer) and the end of the file. */
#define PDF_TRAILER_WINDOW 65536

struct pdf_opts {
	int first_page, max_pages;
	bool per_page;
};

/* One empty page: opened in prepare so that poppler reads what it reads
 * from the file system (its global parameters) before the filter. */
static const char warm_pdf[] = "%PDF-1.4\n"
			       "1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
			       "2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
			       "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 10 10]>>endobj\n"
			       "trailer<</Root 1 0 R>>\n"
			       "%%EOF\n";

static PopplerDocument *warm_doc;

static int pdf_text_prepare(void)
{
	static bool warm;
	PopplerDocument *doc;
	PopplerPage *page;
	GBytes *bytes;
	char *text;

	glib_log_plain();
	if (warm)
		return RAP_OK;
	/* glibc's localtime (poppler calls it) reads /etc/localtime again
	 * each time TZ is unset, and the filter has no openat: TZ names the
	 * same file, read once here, and then stays as it was.  GLib keeps
	 * the local zone it reads here too (PDF dates without an offset). */
	if (!getenv("TZ"))
		setenv("TZ", ":/etc/localtime", 1);
	tzset();
	g_time_zone_unref(g_time_zone_new_local());
	bytes = g_bytes_new_static(warm_pdf, sizeof(warm_pdf) - 1);
	doc = poppler_document_new_from_bytes(bytes, NULL, NULL);
	g_bytes_unref(bytes);
	if (!doc)
		return RAP_EIO;
	page = poppler_document_get_page(doc, 0);
	if (page) {
		text = poppler_page_get_text(page);
		g_free(text);
		g_object_unref(page);
	}
	/* Kept for the life of the process: each document holds poppler's
	 * global parameters (GlobalParamsIniter), which are destroyed with
	 * the last one and made again, from the file system, by the next. */
	warm_doc = doc;
	warm = true;
	return RAP_OK;
}

static int jint(struct json_object *o, const char *key, int def)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int)
		       ? json_object_get_int(v)
		       : def;
}

/* The params (validated by the schema already) into o. */
static void opts_parse(struct json_object *params, struct pdf_opts *o)
{
	struct json_object *v;

	o->first_page = 1;
	o->max_pages = PDF_DEFAULT_MAX_PAGES;
	o->per_page = false;
	if (!json_object_is_type(params, json_type_object))
		return;
	o->first_page = jint(params, "first_page", 1);
	o->max_pages = jint(params, "max_pages", PDF_DEFAULT_MAX_PAGES);
	if (json_object_object_get_ex(params, "per_page", &v) &&
	    json_object_is_type(v, json_type_boolean))
		o->per_page = json_object_get_boolean(v);
	if (o->first_page < 1)
		o->first_page = 1;
	if (o->max_pages < 1 || o->max_pages > PDF_MAX_PAGES)
		o->max_pages = PDF_MAX_PAGES;
}

/* Whether needle is in the n bytes at off of fd (pread: the offset of fd
 * is poppler's business). */
static bool fd_has(int fd, off_t off, size_t n, const char *needle)
{
	char buf[PDF_TRAILER_WINDOW + 1];
	size_t k = strlen(needle);
	ssize_t got;

	if (n > PDF_TRAILER_WINDOW)
		n = PDF_TRAILER_WINDOW;
	got = pread(fd, buf, n, off);
	if (got < (ssize_t)k)
		return false;
	for (ssize_t i = 0; i + (ssize_t)k <= got; i++)
		if (memcmp(buf + i, needle, k) == 0)
			return true;
	return false;
}

static off_t tail(long long size, size_t window)
{
	return size > (long long)window ? (off_t)(size - (long long)window) : 0;
}

static void add_str(struct json_object *o, const char *key, gchar *v)
{
	json_object_object_add(o, key, v ? json_object_new_string(v) : NULL);
	g_free(v);
}

/* t as ISO 8601 with its offset ("Z" for UTC): by hand, since
 * g_date_time_format asks for the locale's charset, which GLib reads
 * from a file the filter refuses. */
static void iso_date(GDateTime *t, char *out, size_t len)
{
	long long off = (long long)(g_date_time_get_utc_offset(t) / G_TIME_SPAN_MINUTE);
	int n = snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d", g_date_time_get_year(t),
			 g_date_time_get_month(t), g_date_time_get_day_of_month(t),
			 g_date_time_get_hour(t), g_date_time_get_minute(t),
			 g_date_time_get_second(t));

	if (n < 0 || (size_t)n >= len)
		return;
	if (off == 0)
		snprintf(out + n, len - (size_t)n, "Z");
	else
		snprintf(out + n, len - (size_t)n, "%c%02lld:%02lld", off < 0 ? '-' : '+',
			 (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60);
}

/* The document's metadata into res. */
static void metadata(PopplerDocument *doc, bool encrypted, struct json_object *res)
{
	struct json_object *m = json_object_new_object();
	GDateTime *t = poppler_document_get_creation_date_time(doc);
	char iso[40];

	add_str(m, "title", poppler_document_get_title(doc));
	add_str(m, "author", poppler_document_get_author(doc));
	add_str(m, "producer", poppler_document_get_producer(doc));
	if (t) {
		iso_date(t, iso, sizeof(iso));
		json_object_object_add(m, "creation_date", json_object_new_string(iso));
		g_date_time_unref(t);
	} else {
		json_object_object_add(m, "creation_date", NULL);
	}
	json_object_object_add(m, "encrypted", json_object_new_boolean(encrypted));
	json_object_object_add(res, "metadata", m);
}

static int write_all(struct proc_ctx *c, const char *s, size_t n)
{
	return n ? proc_output_write(c, s, n) : RAP_OK;
}

/* Poppler reads past what it cannot parse and says so, a syntax error
 * each time (glib_log counts them): a real document has a few, a hostile
 * or ruined one thousands (arrays nested 200,000 deep are 200,000 of them,
 * each costing CPU).  Past this bound the job fails: what poppler would
 * return then is a guess from a file that is not the PDF it claims. */
#define PDF_MAX_SYNTAX_ERRORS 1000

/* True, with the job failed, when poppler reported too many errors. */
static bool too_broken(struct proc_ctx *c)
{
	const char *first;
	unsigned long n = glib_log_library_errors(&first);

	if (n <= PDF_MAX_SYNTAX_ERRORS)
		return false;
	proc_fail(c, "invalid_input",
		  "the PDF is damaged or hostile: poppler reported %lu syntax errors, over %d "
		  "(the first: %s)",
		  n, PDF_MAX_SYNTAX_ERRORS, first);
	return true;
}

/* The text of pages first..last (0-based, inclusive) as text.txt, pages
 * separated by a form feed, then each as page-NNNNN.txt when per_page:
 * the outputs are written one after the other, so the pages' text is kept
 * (one string each) until text.txt is done. */
static int extract(struct proc_ctx *c, PopplerDocument *doc, int first, int last,
		   const struct pdf_opts *o, struct json_object *res)
{
	int n = last - first + 1, result, i;
	long long size = proc_input_size(c), chars = 0;
	gchar **texts = g_new0(gchar *, (gsize)n + 1);
	struct json_object *pages = json_object_new_array();
	char name[PDF_NAME_LEN];

	result = proc_output_begin(c, "text.txt", "text/plain; charset=utf-8");
	for (i = 0; i < n && result == RAP_OK; i++) {
		PopplerPage *page = poppler_document_get_page(doc, first + i);
		struct json_object *d;

		texts[i] = page ? poppler_page_get_text(page) : NULL;
		if (page)
			g_object_unref(page);
		if (!texts[i])
			texts[i] = g_strdup("");
		if (too_broken(c)) {
			result = RAP_ECANCELED;
			break;
		}
		if (i > 0)
			result = write_all(c, "\f", 1);
		if (result == RAP_OK)
			result = write_all(c, texts[i], strlen(texts[i]));
		d = json_object_new_object();
		json_object_object_add(d, "page", json_object_new_int(first + i + 1));
		json_object_object_add(d, "chars",
				       json_object_new_int64(g_utf8_strlen(texts[i], -1)));
		json_object_array_add(pages, d);
		chars += g_utf8_strlen(texts[i], -1);
		if (!o->per_page) {
			g_free(texts[i]);
			texts[i] = NULL;
		}
		/* The pages done, as a fraction of the input's bytes. */
		if (result == RAP_OK)
			result = proc_progress(c, "extract", size > 0 ? size * (i + 1) / n : -1,
					       i + 1);
	}
	if (result == RAP_OK)
		result = proc_output_end(c);
	for (i = 0; o->per_page && i < n && result == RAP_OK; i++) {
		snprintf(name, sizeof(name), "page-%05d.txt", first + i + 1);
		result = proc_output_begin(c, name, "text/plain; charset=utf-8");
		if (result == RAP_OK)
			result = write_all(c, texts[i], strlen(texts[i]));
		if (result == RAP_OK)
			result = proc_output_end(c);
		if (result == RAP_OK)
			json_object_object_add(json_object_array_get_idx(pages, (size_t)i), "name",
					       json_object_new_string(name));
	}
	g_strfreev(texts);
	json_object_object_add(res, "pages", pages);
	json_object_object_add(res, "chars", json_object_new_int64(chars));
	return result;
}

/* The first page of first..last (0-based) that the page tree does not
 * lead to, from 1; 0 when there is none. */
static int page_missing(PopplerDocument *doc, int first, int last)
{
	for (int i = first; i <= last; i++) {
		PopplerPage *page = poppler_document_get_page(doc, i);

		if (!page)
			return i + 1;
		g_object_unref(page);
	}
	return 0;
}

static int pdf_text_run(struct proc_ctx *c)
{
	struct json_object *res = NULL;
	struct pdf_opts o;
	PopplerDocument *doc;
	GError *error = NULL;
	long long size = proc_input_size(c);
	int result, fd = proc_input_fd(c), copy, n, first, last, unreachable = 0;
	bool encrypted;

	opts_parse(proc_params(c), &o);
	glib_log_library_errors_reset();
	if (fd < 0)
		return proc_fail(c, "unsupported", "pdf.text needs its input as a file");
	if (size < 0)
		size = (long long)lseek(fd, 0, SEEK_END);
	if (!fd_has(fd, tail(size, PDF_EOF_WINDOW), PDF_EOF_WINDOW, "%%EOF"))
		return proc_fail(c, "invalid_input",
				 "the PDF is truncated: no %%%%EOF in its last %d bytes",
				 PDF_EOF_WINDOW);
	encrypted = fd_has(fd, 0, PDF_TRAILER_WINDOW, "/Encrypt") ||
		    fd_has(fd, tail(size, PDF_TRAILER_WINDOW), PDF_TRAILER_WINDOW, "/Encrypt");
	copy = dup(fd);
	if (copy < 0)
		return proc_fail(c, "unsupported", "the input cannot be read (dup)");
	/* poppler owns copy from here, and closes it with the document. */
	doc = poppler_document_new_from_fd(copy, NULL, &error);
	if (!doc) {
		if (error && g_error_matches(error, POPPLER_ERROR, POPPLER_ERROR_ENCRYPTED))
			result = proc_fail(c, "invalid_input",
					   "the PDF is encrypted and needs a password (%s)",
					   error->message);
		else
			result = proc_fail(c, "invalid_input",
					   "not a PDF, or damaged beyond repair (%s)",
					   error ? error->message : "poppler gave no reason");
		g_clear_error(&error);
		return result;
	}
	n = poppler_document_get_n_pages(doc);
	if (n <= 0) {
		result = proc_fail(c, "invalid_input",
				   "the PDF has no page poppler can reach (its page tree is "
				   "empty, damaged or loops on itself)");
		goto out_unref;
	}
	if (o.first_page > n) {
		result = proc_fail(c, "invalid_params", "first_page %d: the PDF has %d pages",
				   o.first_page, n);
		goto out_unref;
	}
	first = o.first_page - 1;
	last = n - 1 - first >= o.max_pages ? first + o.max_pages - 1 : n - 1;
	/* The count (/Count of the root) may say pages that the tree does not
	 * lead to (a Kids that loops on itself: poppler finds the loop and
	 * no page): each page of the range is looked up before any output. */
	unreachable = page_missing(doc, first, last);
	if (too_broken(c)) {
		result = RAP_OK;
		goto out_unref;
	}
	if (unreachable > 0) {
		result = proc_fail(c, "invalid_input",
				   "the PDF's page tree does not lead to page %d of the %d it "
				   "counts (it is damaged or loops on itself)",
				   unreachable, n);
		goto out_unref;
	}
	res = json_object_new_object();
	json_object_object_add(res, "page_count", json_object_new_int(n));
	json_object_object_add(res, "first_page", json_object_new_int(first + 1));
	json_object_object_add(res, "last_page", json_object_new_int(last + 1));
	json_object_object_add(res, "per_page", json_object_new_boolean(o.per_page));
	metadata(doc, encrypted, res);
	result = extract(c, doc, first, last, &o, res);
	if (result == RAP_ECANCELED) { /* failed as too broken, and said so */
		result = RAP_OK;
	} else if (result == RAP_OK) {
		result = proc_succeed(c, res);
		res = NULL;
	}
out_unref:
	json_object_put(res);
	g_object_unref(doc);
	return result;
}

const struct processor proc_pdf_text = {
	.type = "pdf.text",
	.prepare = pdf_text_prepare,
	.run = pdf_text_run,
};
