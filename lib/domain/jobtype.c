/*
 * jobtype.c: the registry of job types (rap/jobtype.h), declared once
 * here, and the settings that refine it: which types are enabled
 * (RAP_JOB_TYPES), their content allow-lists (RAP_JOB_CONTENT_TYPES), their
 * limits (RAP_JOB_LIMITS) and attempts (RAP_JOB_MAX_ATTEMPTS).
 *
 * The model: the table below is the truth; a setting may only replace a
 * value of a type the table has.  Every setting is checked whole at start
 * (rap_jobtype_settings_check, which names the bad entry), so the effective
 * values read later never meet a malformed entry.  The RabbitMQ definitions,
 * AsyncAPI's work queues and docs/job-types.md are printed from this table
 * (tools/registry/), and a contract test fails when they drift.
 *
 * Content: the types libmagic 5.44 detects in the first 64 KiB of a file,
 * as upload-api and the worker call it (MAGIC_MIME_TYPE).  Measured on
 * real files (tests/fixtures/magic/, tests/unit/domain/test_jobtype.c):
 * a CSV is text/csv only when libmagic's CSV heuristic fires (commas, a
 * steady field count over a few lines); one separated by semicolons or
 * tabs, or of a line or two, is text/plain.  An xlsx is application/vnd.openxmlformats-...sheet when
 * [Content_Types].xml comes first in the zip, application/zip otherwise.
 * An xls is application/vnd.ms-excel only when the whole compound file is
 * in the bytes looked at: the first 64 KiB of a larger workbook are
 * application/x-ole-storage.
 *
 * Limits: stream types read the object front to back, so their input may
 * be as large as an upload (RAP_UPLOAD_MAX_BYTES's default, 10 GiB); file
 * types need a scratch copy, so theirs is smaller.  A type that runs in
 * the worker (RAP_RUN_IN_WORKER) is not held to its limits: they describe
 * it.  Each entry says why its numbers are what they are.
 */
#include "rap/jobtype.h"
#include "rap/buf.h"
#include "rap/err.h"
#include "rap/job.h"
#include "rap/list.h"
#include "rap/mem.h"
#include "rap/str.h"

#include <stdio.h>
#include <string.h>

#define UPLOAD_MAX_MB 10240LL /* RAP_UPLOAD_MAX_BYTES's default: 10 GiB */
#define HOURS(n) ((n)*3600LL)

const struct rap_jobtype rap_jobtypes[] = {
	{
		.name = "noop",
		.summary = "Reads nothing and completes at once: the durable no-op of "
			   "benchmarks and smoke checks.",
		.content = "",
		.params_schema = NULL,
		/* Reads nothing, writes nothing: claimed and completed in batches. */
		.limits = { .wall_s = 60,
			    .cpu_s = 10,
			    .memory_mb = 64,
			    .output_mb = 1,
			    .input_mb = 0 },
		.max_attempts = 5,
		.pool = "quick",
		.input = RAP_INPUT_NONE,
		.runner = RAP_RUN_IN_WORKER,
		.quick = true,
	},
	{
		.name = "file.inspect",
		.summary = "Reads the object once and reports its size, SHA-256 and the "
			   "content type libmagic detects.",
		.content = "",
		.params_schema = NULL,
		/* 10 GiB from S3 at ~100 MiB/s is under 2 minutes and SHA-256 costs
		 * less; 30 min leaves room for a slow store.  libmagic's database
		 * is most of its memory; its output is one small JSON object. */
		.limits = { .wall_s = 1800,
			    .cpu_s = 900,
			    .memory_mb = 128,
			    .output_mb = 1,
			    .input_mb = UPLOAD_MAX_MB },
		.max_attempts = 5,
		.pool = "light",
		.input = RAP_INPUT_STREAM,
		.runner = RAP_RUN_SANDBOX,
	},
	{
		.name = "csv.validate",
		.summary = "Checks a CSV file: its structure (RFC 4180 quoting, UTF-8, one "
			   "field count) and, with columns, every value; reports row errors and "
			   "writes the valid rows.",
		.content = "text/csv|text/plain",
		.params_schema = "csv.validate.json",
		/* One pass over up to an upload's size, with a pattern or a date
		 * check per value: hours for the largest files.  It streams, so its
		 * memory is a row buffer and the unique-value sets; the valid rows
		 * it writes back stay under twice the input. */
		.limits = { .wall_s = HOURS(6),
			    .cpu_s = HOURS(6),
			    .memory_mb = 128,
			    .output_mb = 2 * UPLOAD_MAX_MB,
			    .input_mb = UPLOAD_MAX_MB },
		.max_attempts = 3,
		.pool = "data",
		.input = RAP_INPUT_STREAM,
		.runner = RAP_RUN_SANDBOX,
	},
	{
		.name = "xlsx.validate",
		.summary = "Checks one sheet of an xlsx workbook (Office Open XML) with the "
			   "column schema of csv.validate; reports row errors and writes the "
			   "valid rows as CSV.",
		.content = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
			   "|application/zip",
		.params_schema = "xlsx.validate.json",
		/* A zip needs its central directory, at the end: a scratch copy on
		 * the worker's disk, capped at 1 GiB.  The shared-strings table is
		 * held in memory; sheets inflate several times over, so the CSV it
		 * writes may be 4x the input. */
		.limits = { .wall_s = HOURS(2),
			    .cpu_s = HOURS(2),
			    .memory_mb = 512,
			    .output_mb = 4096,
			    .input_mb = 1024 },
		.max_attempts = 3,
		.pool = "data",
		.input = RAP_INPUT_FILE,
		.runner = RAP_RUN_SANDBOX,
	},
	{
		.name = "xls.validate",
		.summary = "Checks one sheet of an xls workbook (BIFF, Excel 97-2003) with the "
			   "column schema of csv.validate; reports row errors and writes the "
			   "valid rows as CSV.",
		.content = "application/vnd.ms-excel|application/x-ole-storage",
		.params_schema = "xls.validate.json",
		/* freexl reads a whole BIFF workbook into memory (a few times its
		 * size), and a sheet stops at 65,536 rows: 256 MiB of input is far
		 * past real files; its CSV output stays under twice that. */
		.limits = { .wall_s = HOURS(1),
			    .cpu_s = HOURS(1),
			    .memory_mb = 1024,
			    .output_mb = 512,
			    .input_mb = 256 },
		.max_attempts = 3,
		.pool = "data",
		.input = RAP_INPUT_FILE,
		.runner = RAP_RUN_SANDBOX,
	},
	{
		.name = "image.thumbnail",
		.summary = "Thumbnails of a JPEG, PNG or WebP image at the sizes and in the format "
			   "of the params (JPEG, WebP, PNG): shrunk on load, turned upright by "
			   "its EXIF orientation, metadata stripped.",
		.content = "image/jpeg|image/png|image/webp",
		.params_schema = "image.thumbnail.json",
		/* libvips shrinks on load and streams, so memory follows the
		 * thumbnails (8 boxes of at most 4096 x 4096), not the image: a
		 * grey 10000 x 10000 PNG (the pixel limit, image.c) into 8 boxes
		 * up to 4096 took 4.8 s of CPU and 86 MiB of peak RSS here;
		 * 512 MiB leaves room for colour, libvips's two threads and a
		 * WebP input, which is decoded from memory.  Each box decodes
		 * the image again, so the CPU grows with the boxes: 10 minutes
		 * stops only a pathological file.  The largest real photographs
		 * are tens of MiB: 256 MiB of scratch copy.  Thumbnails are small;
		 * 256 MiB of outputs holds 8 PNGs of 4096 x 4096 of any content
		 * but noise. */
		.limits = { .wall_s = 600,
			    .cpu_s = 600,
			    .memory_mb = 512,
			    .output_mb = 256,
			    .input_mb = 256 },
		.max_attempts = 3,
		.pool = "image",
		.input = RAP_INPUT_FILE,
		.runner = RAP_RUN_SANDBOX,
	},
	{
		.name = "pdf.text",
		.summary = "The text of a PDF, page by page (text.txt, pages separated by a form "
			   "feed; each page on its own if asked), its page count and metadata.",
		.content = "application/pdf",
		.params_schema = "pdf.text.json",
		/* poppler reads the file with pread and keeps the cross-reference
		 * table and one page's objects at a time: a 500-page cairo PDF
		 * of 60 dense lines a page (2.1 MB of text) took 0.45 s of CPU
		 * and 40 MiB of peak RSS here (test binary included), about 1 ms
		 * a page.  256 MiB holds a large document's xref and a page with
		 * big content streams and embedded fonts; past it a hostile
		 * stream (a Flate bomb) fails the child, never the worker.
		 * 10000 pages (the params' bound) are ~10 s of CPU at that rate:
		 * 5 minutes of CPU leaves 30 times that for heavy pages and stops
		 * a file built to loop or to expand; 10 of wall for a busy node.
		 * Outputs: text.txt and the pages again when per_page, a few KiB
		 * a page: 128 MiB.  Scanned books are the largest real PDFs:
		 * 256 MiB of scratch copy. */
		.limits = { .wall_s = 600,
			    .cpu_s = 300,
			    .memory_mb = 256,
			    .output_mb = 128,
			    .input_mb = 256 },
		.max_attempts = 3,
		.pool = "pdf",
		.input = RAP_INPUT_FILE,
		.runner = RAP_RUN_SANDBOX,
	},
	{
		.name = "video.probe",
		.summary =
			"What a video holds (container, duration, bit rate, each stream's codec; "
			"a video's size and frame rate, an audio's sample rate and channels) "
			"and a poster frame as a JPEG (poster.jpg) at a position of the video.",
		.content = "video/mp4|video/quicktime|video/x-matroska|video/webm|video/x-msvideo|"
			   "video/mpeg",
		.params_schema = "video.probe.json",
		/* libavformat reads the scratch copy through a 64 KiB buffer and
		 * keeps the index (an MP4's moov: a few MiB for hours of video);
		 * the poster decodes one stream from the keyframe before the
		 * position, one thread: a decoder holds its reference frames,
		 * 16 at most for H.264, 12 MiB each at 4K (a poster at 10 % of
		 * a 30 s 1280x720 H.264 clip took 0.55 s of CPU and 59 MiB of
		 * peak RSS here, every library the child links included;
		 * docs/benchmarks.md).  512 MiB
		 * holds 4K with room; an 8K stream with many references fails
		 * memory_limit, never the worker.  CPU: the decode from the
		 * keyframe is one GOP (seconds at most); without an index to
		 * seek by (a stream cut of its index) the decode runs from the
		 * start, a minute of CPU for an hour of 720p: 10 minutes of CPU,
		 * 15 of wall for a busy node.  Videos are large: 2 GiB of scratch
		 * copy, the most of any type (an hour of 1080p H.264; the Helm
		 * chart's scratch volume, worker.scratch.sizeLimit, holds it);
		 * the only output is one JPEG at most 4096 pixels wide: 32 MiB. */
		.limits = { .wall_s = 900,
			    .cpu_s = 600,
			    .memory_mb = 512,
			    .output_mb = 32,
			    .input_mb = 2048 },
		.max_attempts = 3,
		.pool = "video",
		.input = RAP_INPUT_FILE,
		.runner = RAP_RUN_SANDBOX,
	},
	{
		.name = "virus.scan",
		.summary = "Scans a file with ClamAV (libclamav 1.4): clean, or infected with the "
			   "signature's name; archives are opened (EICAR inside a zip is found).",
		.content = "",
		.params_schema = "virus.scan.json",
		/* The engine (signatures) is loaded once per worker by a fork
		 * server (docs/sandbox.md) and each scan is a child forked from
		 * it: the child's address space holds the whole engine, so
		 * RLIMIT_AS must exceed it.  With the test database the server
		 * is 128 MiB of address space and 34 MiB resident (libclamav,
		 * OpenSSL and their libraries) and loads in 25 ms; ClamAV's full main+daily+bytecode databases make an
		 * engine of ~1.1-1.5 GiB.  2560 MiB leaves ~1 GiB above a real
		 * engine for the scan itself (ClamAV keeps at most a few of its
		 * 100 MiB file limit in memory at a time).  ClamAV scans at
		 * tens of MB/s with a real database: 512 MiB is ~30 s; 5 min of
		 * CPU stops an archive built to loop, 10 of wall a busy node.
		 * No outputs (the verdict is the result). */
		.limits = { .wall_s = 600,
			    .cpu_s = 300,
			    .memory_mb = 2560,
			    .output_mb = 1,
			    .input_mb = 512 },
		.max_attempts = 3,
		.pool = "virus",
		.input = RAP_INPUT_FILE,
		.runner = RAP_RUN_SANDBOX,
		.fork_server = true,
		.opt_in = true,
	},
	{
		.name = "test.fault",
		.summary = "Drives the platform's failure paths on purpose (transient, "
			   "permanent, crash, hang, ...): for tests only.",
		.content = "",
		.params_schema = "test.fault.json",
		/* Runs in the worker: these describe its sleep and hang modes. */
		.limits = { .wall_s = HOURS(1),
			    .cpu_s = 60,
			    .memory_mb = 64,
			    .output_mb = 1,
			    .input_mb = 0 },
		.max_attempts = 5,
		.pool = "light",
		.input = RAP_INPUT_NONE,
		.runner = RAP_RUN_IN_WORKER,
		.test_only = true,
	},
	{
		.name = "test.sandbox",
		.summary = "Drives the sandbox's limits and walls from inside the child (CPU, "
			   "wall time, memory, output, seccomp): for tests only.",
		.content = "",
		.params_schema = "test.sandbox.json",
		/* Small, so that a test sees each limit stop a child in seconds
		 * (tests/integration/sandbox.test.mjs measures them).  Its input
		 * is a scratch file, so the tests cover that way in too. */
		.limits = { .wall_s = 15,
			    .cpu_s = 3,
			    .memory_mb = 128,
			    .output_mb = 8,
			    .input_mb = 16 },
		.max_attempts = 3,
		.pool = "light",
		.input = RAP_INPUT_FILE,
		.runner = RAP_RUN_SANDBOX,
		.test_only = true,
	},
};

const size_t rap_jobtypes_count = sizeof(rap_jobtypes) / sizeof(rap_jobtypes[0]);

const struct rap_jobtype *rap_jobtype_find(const char *name)
{
	for (size_t i = 0; i < rap_jobtypes_count; i++)
		if (strcmp(rap_jobtypes[i].name, name) == 0)
			return &rap_jobtypes[i];
	return NULL;
}

void rap_jobtype_queue(const char *pool, char *out, size_t len)
{
	snprintf(out, len, "jobs.work.%s", pool);
}

size_t rap_jobtype_pools(const char **out, size_t max)
{
	size_t n = 0, i, k;

	for (i = 0; i < rap_jobtypes_count && n < max; i++) {
		/* A pool is listed at its first type. */
		for (k = 0; k < i; k++)
			if (strcmp(rap_jobtypes[k].pool, rap_jobtypes[i].pool) == 0)
				break;
		if (k == i)
			out[n++] = rap_jobtypes[i].pool;
	}
	return n;
}

const struct rap_jobpool rap_jobpools[] = {
	{ "quick", 64,
	  "quick jobs that run in the worker itself (noop): a worker holds up to 64 and claims, "
	  "runs and records them in batches (RAP_WORKER_BATCH), so its window empties in "
	  "milliseconds and a killed worker's window is redelivered once, not again and again" },
	{ "light", 8,
	  "short jobs (file.inspect): a worker holds up to 8, so a new one starts without a "
	  "round trip to the broker; not more, since they wait in the window while one runs, "
	  "and a killed worker's window is redelivered, each redelivery counting against the "
	  "queue's delivery limit" },
	{ "data", 1,
	  "long jobs, each in a sandboxed child: a worker takes one at a time, so none waits "
	  "behind a long one on a busy worker while another worker is idle" },
	{ "image", 4,
	  "image jobs (image.thumbnail), each in a sandboxed child, a tenth of a second to a "
	  "few seconds: a worker holds up to 4, so the next starts without a round trip to the "
	  "broker, and a burst of large images is spread over the workers instead of waiting "
	  "in one window; its own queue, so no data or other heavy job ever delays a "
	  "thumbnail" },
	{ "pdf", 2,
	  "PDF jobs (pdf.text), each in a sandboxed child, a second to minutes by the pages: "
	  "a worker holds up to 2, so the next starts without a round trip while a long "
	  "document is spread over the workers; its own queue, so a burst of PDFs never "
	  "delays thumbnails or data jobs" },
	{ "video", 1,
	  "video jobs (video.probe), each in a sandboxed child, a second to minutes by the "
	  "file and where the poster is: a worker takes one at a time, so a long one never "
	  "holds others in its window while another worker is idle; its own queue, so a burst "
	  "of videos never delays thumbnails, PDFs or data jobs" },
	{ "virus", 2,
	  "virus scans (virus.scan), each a child forked from the worker's ClamAV fork server, "
	  "which loaded the signatures once: a worker holds up to 2, so the next starts without "
	  "a round trip; its own queue, because a scan worker carries the engine's memory "
	  "(over 1 GiB with a real database), which only the nodes sized for it should pay" },
};
const size_t rap_jobpools_count = sizeof(rap_jobpools) / sizeof(rap_jobpools[0]);

int rap_jobtype_pool_prefetch(const char *pool)
{
	for (size_t i = 0; i < rap_jobpools_count; i++)
		if (strcmp(rap_jobpools[i].name, pool) == 0)
			return rap_jobpools[i].prefetch;
	return 1;
}

bool rap_jobtype_pool_exists(const char *pool)
{
	for (size_t i = 0; i < rap_jobtypes_count; i++)
		if (strcmp(rap_jobtypes[i].pool, pool) == 0)
			return true;
	return false;
}

const char *rap_jobtype_input_name(enum rap_jobtype_input input)
{
	switch (input) {
	case RAP_INPUT_NONE:
		return "none";
	case RAP_INPUT_STREAM:
		return "stream";
	case RAP_INPUT_FILE:
		return "file";
	}
	return "none";
}

const struct rap_params_schema *rap_params_schema_find(const char *name)
{
	for (size_t i = 0; i < rap_params_schemas_count; i++)
		if (strcmp(rap_params_schemas[i].name, name) == 0)
			return &rap_params_schemas[i];
	return NULL;
}

/* ---- the settings' lists ---- */

/* A piece of a setting: n bytes at p, not NUL-terminated. */
struct span {
	const char *p;
	size_t n;
};

/* Splits the next item off the rest (*s, *n bytes) at sep; false when
 * nothing is left. */
static bool split(const char **s, size_t *n, char sep, struct span *item)
{
	const char *end;

	if (!*s)
		return false;
	end = memchr(*s, sep, *n);
	item->p = *s;
	item->n = end ? (size_t)(end - *s) : *n;
	if (end) {
		*n -= item->n + 1;
		*s = end + 1;
	} else {
		*s = NULL;
		*n = 0;
	}
	return true;
}

/* Starts splitting a setting (NULL or "": nothing to split). */
static void split_start(const char *setting, const char **s, size_t *n)
{
	*s = setting && *setting ? setting : NULL;
	*n = *s ? strlen(*s) : 0;
}

static bool span_is(struct span sp, const char *word)
{
	return sp.n == strlen(word) && memcmp(sp.p, word, sp.n) == 0;
}

/* Splits "type=value" into its type and value; false without '='. */
static bool split_entry(struct span e, struct span *type, struct span *value)
{
	const char *eq = memchr(e.p, '=', e.n);

	if (!eq)
		return false;
	type->p = e.p;
	type->n = (size_t)(eq - e.p);
	value->p = eq + 1;
	value->n = e.n - type->n - 1;
	return true;
}

/* The registry's type named by sp, or NULL. */
static const struct rap_jobtype *find_span(struct span sp)
{
	for (size_t i = 0; i < rap_jobtypes_count; i++)
		if (span_is(sp, rap_jobtypes[i].name))
			return &rap_jobtypes[i];
	return NULL;
}

/* "noop, file.inspect, ..." for messages. */
static void known_types(char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < rap_jobtypes_count && used < len; i++) {
		snprintf(out + used, len - used, "%s%s", i ? ", " : "", rap_jobtypes[i].name);
		used += strlen(out + used);
	}
}

/* Fills err: "VAR: \"entry\": why" (the entry cut to fit). */
static int bad_entry(char *err, const char *var, struct span e, const char *why)
{
	snprintf(err, RAP_ERRLEN, "%s: \"%.*s\": %.200s", var, (int)(e.n > 60 ? 60 : e.n), e.p,
		 why);
	return RAP_EINVAL;
}

/* The type of an entry "type=...", checked: known, and not seen before (a
 * bit per registry index in *seen). */
static int entry_type(const char *var, struct span e, struct span *value, unsigned long long *seen,
		      const struct rap_jobtype **out, char *err)
{
	struct span type;
	char why[RAP_ERRLEN], known[200];
	size_t idx;

	if (!split_entry(e, &type, value))
		return bad_entry(err, var, e, "expected type=...");
	*out = find_span(type);
	if (!*out) {
		known_types(known, sizeof(known));
		snprintf(why, sizeof(why), "'%.*s' is not a job type (known: %s)",
			 (int)(type.n > 64 ? 64 : type.n), type.p, known);
		return bad_entry(err, var, e, why);
	}
	idx = (size_t)(*out - rap_jobtypes);
	if (*seen & (1ULL << idx))
		return bad_entry(err, var, e, "the type has an entry already");
	*seen |= 1ULL << idx;
	return RAP_OK;
}

/* RAP_JOB_SCAN_FIRST: a type whose input may be scanned before it runs:
 * NULL when t may, else why not. */
static const char *scan_first_refusal(const struct rap_jobtype *t)
{
	if (t->runner != RAP_RUN_SANDBOX || t->input == RAP_INPUT_NONE)
		return "it reads no file: there is nothing to scan first";
	if (t->fork_server)
		return "it is the scan itself";
	return NULL;
}

/* RAP_JOB_TYPES (and RAP_JOB_SCAN_FIRST, var): known names, each once,
 * no empty entry. */
static int check_names(const char *var, const char *list, char *err)
{
	unsigned long long seen = 0;
	const struct rap_jobtype *t;
	char known[200], why[RAP_ERRLEN];
	struct span e;
	const char *s;
	size_t n;

	split_start(list, &s, &n);
	while (split(&s, &n, ',', &e)) {
		t = find_span(e);
		if (!t) {
			known_types(known, sizeof(known));
			snprintf(why, sizeof(why), "not a job type (known: %s)", known);
			return bad_entry(err, var, e, why);
		}
		if (seen & (1ULL << (t - rap_jobtypes)))
			return bad_entry(err, var, e, "named twice");
		if (strcmp(var, "RAP_JOB_SCAN_FIRST") == 0 && scan_first_refusal(t))
			return bad_entry(err, var, e, scan_first_refusal(t));
		seen |= 1ULL << (t - rap_jobtypes);
	}
	return RAP_OK;
}

/* One alternative of an allow-list: "major/minor" or "major/ *". */
static bool mime_alternative(struct span a)
{
	const char *slash = memchr(a.p, '/', a.n);
	size_t i;

	if (!slash || slash == a.p || slash == a.p + a.n - 1)
		return false;
	for (i = 0; i < a.n; i++) {
		char c = a.p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '+' || c == '-' || c == '_' || a.p + i == slash))
			break;
	}
	if (i == a.n)
		return true;
	/* Only a whole subtype may be a wildcard: "video/ *". */
	return a.p + i == slash + 1 && a.n == i + 1 && a.p[i] == '*';
}

/* RAP_JOB_CONTENT_TYPES: type=alt|alt... or type=*. */
static int check_content(const char *list, char *err)
{
	unsigned long long seen = 0;
	const struct rap_jobtype *t;
	struct span e, value, alt;
	const char *s, *as;
	size_t n, an;
	int result;

	split_start(list, &s, &n);
	while (split(&s, &n, ',', &e)) {
		result = entry_type("RAP_JOB_CONTENT_TYPES", e, &value, &seen, &t, err);
		if (result != RAP_OK)
			return result;
		if (span_is(value, "*"))
			continue;
		if (value.n == 0)
			return bad_entry(
				err, "RAP_JOB_CONTENT_TYPES", e,
				"give the detected types it takes, a|b|major/*, or * for any");
		as = value.p;
		an = value.n;
		while (split(&as, &an, '|', &alt))
			if (!mime_alternative(alt))
				return bad_entry(err, "RAP_JOB_CONTENT_TYPES", e,
						 "each alternative is a MIME type major/minor or "
						 "major/* (* alone: any content)");
	}
	return RAP_OK;
}

/* The limits a setting may name, their units and bounds. */
static const struct limit_key {
	const char *name;
	size_t offset;
	bool time;          /* seconds (s, m, h) rather than MiB (M, G) */
	long long min, max; /* in seconds or MiB */
} limit_keys[] = {
	{ "wall", offsetof(struct rap_jobtype_limits, wall_s), true, 1, 30 * 86400LL },
	{ "cpu", offsetof(struct rap_jobtype_limits, cpu_s), true, 1, 30 * 86400LL },
	{ "memory", offsetof(struct rap_jobtype_limits, memory_mb), false, 16, 1048576 },
	{ "output", offsetof(struct rap_jobtype_limits, output_mb), false, 1, 4194304 },
	{ "input", offsetof(struct rap_jobtype_limits, input_mb), false, 1, 5242880 },
};

#define N_LIMIT_KEYS (sizeof(limit_keys) / sizeof(limit_keys[0]))

/* A value "N" or "N<unit>" of a limit into *out (seconds or MiB). */
static int limit_value(const struct limit_key *k, struct span v, long long *out, char *why,
		       size_t len)
{
	char num[24];
	long long factor = 1, n;
	size_t digits = 0;
	struct span unit;

	while (digits < v.n && v.p[digits] >= '0' && v.p[digits] <= '9')
		digits++;
	unit.p = v.p + digits;
	unit.n = v.n - digits;
	if (digits == 0 || digits >= sizeof(num)) {
		snprintf(why, len, "%s takes a whole number%s", k->name,
			 k->time ? " of seconds (or with s, m or h)" : " of MiB (or with M or G)");
		return RAP_EINVAL;
	}
	if (unit.n && k->time)
		factor = span_is(unit, "s")   ? 1
			 : span_is(unit, "m") ? 60
			 : span_is(unit, "h") ? 3600
					      : 0;
	else if (unit.n)
		factor = span_is(unit, "M") ? 1 : span_is(unit, "G") ? 1024 : 0;
	if (!factor) {
		snprintf(why, len, "%s takes the units %s", k->name,
			 k->time ? "s, m or h" : "M or G (MiB, GiB)");
		return RAP_EINVAL;
	}
	memcpy(num, v.p, digits);
	num[digits] = '\0';
	if (rap_strtonum(num, 0, k->max, &n) != RAP_OK || n * factor < k->min ||
	    n * factor > k->max) {
		snprintf(why, len, "%s must be from %lld to %lld %s", k->name, k->min, k->max,
			 k->time ? "seconds" : "MiB");
		return RAP_EINVAL;
	}
	*out = n * factor;
	return RAP_OK;
}

/* Reads the fields "key:value;key:value" of one RAP_JOB_LIMITS entry into
 * lim (which may be NULL: only check). */
static int limit_fields(struct span e, struct span fields, struct rap_jobtype_limits *lim,
			char *err)
{
	unsigned seen = 0;
	char why[RAP_ERRLEN];
	struct span f, key, value;
	const char *s = fields.p;
	size_t n = fields.n, k;
	long long v;

	if (fields.n == 0)
		return bad_entry(err, "RAP_JOB_LIMITS", e, "give key:value[;key:value...]");
	while (split(&s, &n, ';', &f)) {
		const char *colon = memchr(f.p, ':', f.n);

		if (!colon)
			return bad_entry(err, "RAP_JOB_LIMITS", e, "each limit is key:value");
		key = (struct span){ f.p, (size_t)(colon - f.p) };
		value = (struct span){ colon + 1, f.n - key.n - 1 };
		for (k = 0; k < N_LIMIT_KEYS; k++)
			if (span_is(key, limit_keys[k].name))
				break;
		if (k == N_LIMIT_KEYS) {
			snprintf(why, sizeof(why),
				 "unknown limit '%.*s' (wall, cpu, memory, output or input)",
				 (int)(key.n > 32 ? 32 : key.n), key.p);
			return bad_entry(err, "RAP_JOB_LIMITS", e, why);
		}
		if (seen & (1u << k))
			return bad_entry(err, "RAP_JOB_LIMITS", e, "a limit is named twice");
		seen |= 1u << k;
		if (limit_value(&limit_keys[k], value, &v, why, sizeof(why)) != RAP_OK)
			return bad_entry(err, "RAP_JOB_LIMITS", e, why);
		if (lim)
			*(long long *)(void *)((char *)lim + limit_keys[k].offset) = v;
	}
	return RAP_OK;
}

/* Walks RAP_JOB_LIMITS, checking every entry; the fields of only's entry
 * (when only is not NULL) go into lim. */
static int walk_limits(const char *list, const struct rap_jobtype *only,
		       struct rap_jobtype_limits *lim, char *err)
{
	unsigned long long seen = 0;
	const struct rap_jobtype *t;
	struct span e, value;
	const char *s;
	size_t n;
	int result;

	split_start(list, &s, &n);
	while (split(&s, &n, ',', &e)) {
		result = entry_type("RAP_JOB_LIMITS", e, &value, &seen, &t, err);
		if (result == RAP_OK)
			result = limit_fields(e, value, t == only ? lim : NULL, err);
		if (result != RAP_OK)
			return result;
	}
	return RAP_OK;
}

/* RAP_JOB_MAX_ATTEMPTS: type=N, N from 1 to 100. */
static int check_attempts(const char *list, char *err)
{
	unsigned long long seen = 0;
	const struct rap_jobtype *t;
	struct span e, value;
	char num[8];
	long long v;
	const char *s;
	size_t n;
	int result;

	split_start(list, &s, &n);
	while (split(&s, &n, ',', &e)) {
		result = entry_type("RAP_JOB_MAX_ATTEMPTS", e, &value, &seen, &t, err);
		if (result != RAP_OK)
			return result;
		snprintf(num, sizeof(num), "%.*s", (int)(value.n > 7 ? 7 : value.n), value.p);
		if (value.n > 7 || rap_strtonum(num, 1, 100, &v) != RAP_OK)
			return bad_entry(err, "RAP_JOB_MAX_ATTEMPTS", e,
					 "attempts are a whole number from 1 to 100");
	}
	return RAP_OK;
}

_Static_assert(sizeof(rap_jobtypes) / sizeof(rap_jobtypes[0]) <= 64,
	       "the settings checks keep a bit per type");

int rap_jobtype_settings_check(const struct rap_jobtype_settings *s, char *err)
{
	int result = check_names("RAP_JOB_TYPES", s->types, err);

	if (result == RAP_OK)
		result = check_content(s->content, err);
	if (result == RAP_OK)
		result = walk_limits(s->limits, NULL, NULL, err);
	if (result == RAP_OK)
		result = check_attempts(s->attempts, err);
	if (result == RAP_OK && s->scan_first && s->scan_first[0])
		result = check_names("RAP_JOB_SCAN_FIRST", s->scan_first, err);
	return result;
}

int rap_jobtype_effective_limits(const struct rap_jobtype *type, const char *overrides,
				 struct rap_jobtype_limits *out)
{
	struct rap_jobtype_limits lim = type->limits;
	char err[RAP_ERRLEN];

	*out = type->limits;
	if (walk_limits(overrides, type, &lim, err) != RAP_OK)
		return RAP_EINVAL;
	*out = lim;
	return RAP_OK;
}

void rap_jobtype_effective_content(const struct rap_jobtype *type, const char *overrides, char *out,
				   size_t len)
{
	struct span e, t, value;
	const char *s;
	size_t n;

	split_start(overrides, &s, &n);
	while (split(&s, &n, ',', &e)) {
		if (!split_entry(e, &t, &value) || !span_is(t, type->name))
			continue;
		if (span_is(value, "*"))
			snprintf(out, len, "%s", "");
		else
			snprintf(out, len, "%.*s", (int)value.n, value.p);
		return;
	}
	snprintf(out, len, "%s", type->content);
}

char *rap_jobtype_content_list(const char *overrides)
{
	struct rap_buf b;
	char content[1024];

	rap_buf_init(&b, rap_jobtypes_count * (sizeof(content) + RAP_MAX_JOB_TYPE + 2) + 1);
	for (size_t i = 0; i < rap_jobtypes_count; i++) {
		rap_jobtype_effective_content(&rap_jobtypes[i], overrides, content,
					      sizeof(content));
		if (content[0])
			rap_buf_appendf(&b, "%s%s=%s", b.len ? "," : "", rap_jobtypes[i].name,
					content);
	}
	return rap_buf_take(&b);
}

int rap_jobtype_effective_attempts(const struct rap_jobtype *type, const char *overrides)
{
	return (int)rap_list_number(overrides ? overrides : "", type->name, 1, 100,
				    type->max_attempts);
}

int rap_jobtype_pools_select(const char *list, const char **out, size_t max, size_t *n, char *err)
{
	const char *all[RAP_JOBTYPE_POOLS_MAX], *s;
	size_t count = rap_jobtype_pools(all, RAP_JOBTYPE_POOLS_MAX), left, i, k;
	struct span e;

	*n = 0;
	if (!list || !*list) {
		for (i = 0; i < count && i < max; i++)
			out[(*n)++] = all[i];
		return RAP_OK;
	}
	s = list;
	left = strlen(list);
	while (split(&s, &left, ',', &e)) {
		for (i = 0; i < count && !span_is(e, all[i]); i++)
			;
		if (i == count) {
			char known[128] = "";

			for (k = 0; k < count; k++)
				snprintf(known + strlen(known), sizeof(known) - strlen(known),
					 "%s%s", k ? ", " : "", all[k]);
			snprintf(err, RAP_ERRLEN,
				 "RAP_WORKER_POOLS: \"%.*s\" is not a pool of the registry "
				 "(pools: %s)",
				 (int)(e.n > 40 ? 40 : e.n), e.p, known);
			return RAP_EINVAL;
		}
		for (k = 0; k < *n; k++)
			if (out[k] == all[i]) {
				snprintf(err, RAP_ERRLEN, "RAP_WORKER_POOLS: \"%s\" is named twice",
					 all[i]);
				return RAP_EINVAL;
			}
		if (*n < max)
			out[(*n)++] = all[i];
	}
	return RAP_OK;
}
