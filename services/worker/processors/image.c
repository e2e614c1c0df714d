/*
 * image.c: image.thumbnail, thumbnails of a JPEG, PNG or WebP image through
 * libvips 8.14 (docs/sandbox.md, "image.thumbnail").
 *
 * The input is the job's scratch copy (RAP_INPUT_FILE): libvips reads it
 * through a VipsSource over a dup(2) of fd 0, so nothing is opened by name.
 * First the header alone (a sequential load decodes no pixel): an image of
 * more than IMAGE_MAX_PIXELS pixels is refused there, before a byte of
 * its pixels is decoded, so a decompression bomb (a 30000 x 30000 PNG of
 * one colour is under 1 MiB on disk, 900 MB of pixels) costs nothing.  Then each box of the
 * params is one vips_thumbnail_source over the same source: shrink-on-load
 * (JPEG's DCT scaling, WebP's scaled decode; PNG streams line by line), so
 * memory follows the thumbnail, not the image; the EXIF orientation turns
 * the thumbnail upright; never enlarged.  Metadata is stripped on save
 * unless params.strip is false.  A truncated or damaged image fails
 * "invalid_input" with libvips's reason (loads use fail_on=error).
 *
 * libvips is set up in prepare, before the sandbox closes: vips_init loads
 * its modules (the file system), the operation cache is off (one job per
 * process), only the JPEG, PNG and WebP loaders may run (every other loader
 * is blocked, the untrusted ones first of all: content is checked by
 * libmagic already, this keeps a disguised file away from the rest), its
 * run-time SIMD compiler (liborc, which maps code executable) is off, GLib
 * logs through a writer of our own, and it runs IMAGE_THREADS worker
 * threads, which the filter allows this processor alone (.threads;
 * confine.c).  One malloc arena: a thread's own
 * arena would reserve 64 MiB of the address space RLIMIT_AS counts.
 */
#include "glib_log.h"
#include "processor.h"
#include "procs.h"

#include "rap/err.h"

#include <json-c/json.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <vips/vips.h>
/* After vips.h, which it needs: vips_vector_set_enabled. */
#include <vips/vector.h>

/* 100 megapixels: a 12,000 x 8,000 camera image fits, a bomb does not.
 * Past it the image is refused from its header alone. */
#define IMAGE_MAX_PIXELS 100000000LL
/* libvips's worker threads: thumbnails are small; two keep a core busy
 * while the other decodes, and each thread costs a stack. */
#define IMAGE_THREADS 2
#define IMAGE_MAX_SIZES 8
#define IMAGE_DEFAULT_BOX 256
#define IMAGE_DEFAULT_QUALITY 80
#define IMAGE_NAME_LEN 64

/* The loaders that may run: the content allow-list's three formats. */
static const char *const allowed_loaders[] = { "VipsForeignLoadJpeg", "VipsForeignLoadPng",
					       "VipsForeignLoadWebp" };

enum image_format {
	IMAGE_JPEG,
	IMAGE_WEBP,
	IMAGE_PNG
};

static const struct {
	const char *name, *ext, *content_type;
} formats[] = {
	[IMAGE_JPEG] = { "jpeg", "jpg", "image/jpeg" },
	[IMAGE_WEBP] = { "webp", "webp", "image/webp" },
	[IMAGE_PNG] = { "png", "png", "image/png" },
};

struct image_opts {
	int width[IMAGE_MAX_SIZES], height[IMAGE_MAX_SIZES];
	size_t n;
	enum image_format format;
	int quality;
	bool strip;
};

static int image_thumbnail_prepare(void)
{
	size_t i;

	glib_log_plain();
	if (VIPS_INIT("rap-processor") != 0)
		return RAP_EIO;
	vips_concurrency_set(IMAGE_THREADS);
	/* No run-time code generation: liborc compiles SIMD code into a
	 * temporary file mapped executable, which the filter refuses (no
	 * file, no PROT_EXEC).  libvips's C paths do the same work. */
	vips_vector_set_enabled(FALSE);
	vips_cache_set_max(0);
	vips_cache_set_max_mem(0);
	vips_cache_set_max_files(0);
	vips_block_untrusted_set(TRUE);
	vips_operation_block_set("VipsForeignLoad", TRUE);
	for (i = 0; i < sizeof(allowed_loaders) / sizeof(allowed_loaders[0]); i++)
		vips_operation_block_set(allowed_loaders[i], FALSE);
	mallopt(M_ARENA_MAX, 1);
	return RAP_OK;
}

static int jint(struct json_object *o, const char *key, int def)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int)
		       ? json_object_get_int(v)
		       : def;
}

/* The params (validated by the schema already) into o; RAP_EINVAL with
 * err when a box is given twice (the schema cannot say so), since two
 * thumbnails would have one name. */
static int opts_parse(struct json_object *params, struct image_opts *o, char *err)
{
	struct json_object *sizes = NULL, *v;
	size_t i, k;

	memset(o, 0, sizeof(*o));
	o->quality = IMAGE_DEFAULT_QUALITY;
	o->strip = true;
	o->format = IMAGE_JPEG;
	if (json_object_is_type(params, json_type_object)) {
		o->quality = jint(params, "quality", IMAGE_DEFAULT_QUALITY);
		if (json_object_object_get_ex(params, "strip", &v) &&
		    json_object_is_type(v, json_type_boolean))
			o->strip = json_object_get_boolean(v);
		if (json_object_object_get_ex(params, "format", &v))
			for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
				if (strcmp(json_object_get_string(v), formats[i].name) == 0)
					o->format = (enum image_format)i;
		json_object_object_get_ex(params, "sizes", &sizes);
	}
	for (i = 0; json_object_is_type(sizes, json_type_array) &&
		    i < json_object_array_length(sizes) && o->n < IMAGE_MAX_SIZES;
	     i++) {
		v = json_object_array_get_idx(sizes, i);
		o->width[o->n] = jint(v, "width", IMAGE_DEFAULT_BOX);
		o->height[o->n] = jint(v, "height", IMAGE_DEFAULT_BOX);
		for (k = 0; k < o->n; k++)
			if (o->width[k] == o->width[o->n] && o->height[k] == o->height[o->n]) {
				snprintf(err, RAP_ERRLEN,
					 "sizes[%zu]: the box %dx%d is given twice", i, o->width[k],
					 o->height[k]);
				return RAP_EINVAL;
			}
		o->n++;
	}
	if (o->n == 0) {
		o->width[0] = o->height[0] = IMAGE_DEFAULT_BOX;
		o->n = 1;
	}
	return RAP_OK;
}

/* libvips's last error as one line into out (its buffer is cleared). */
static void vips_reason(char *out, size_t len)
{
	const char *e = vips_error_buffer();
	size_t n;

	snprintf(out, len, "%s", e && *e ? e : "libvips gave no reason");
	n = strlen(out);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
	for (char *p = out; *p; p++)
		if (*p == '\n')
			*p = ';';
	vips_error_clear();
}

/* The loader's format from "jpegload_source": "jpeg", "png", "webp". */
static void loader_format(VipsImage *im, char *out, size_t len)
{
	const char *loader = NULL, *cut;

	if (vips_image_get_typeof(im, VIPS_META_LOADER) &&
	    vips_image_get_string(im, VIPS_META_LOADER, &loader) == 0 && loader) {
		cut = strstr(loader, "load");
		snprintf(out, len, "%.*s", cut ? (int)(cut - loader) : (int)strlen(loader), loader);
	} else {
		snprintf(out, len, "unknown");
	}
}

/* Reads the header alone and refuses what is not an image or is over the
 * pixel limit: RAP_OK with the image's facts in res, or the job already
 * failed (*failed). */
static int read_header(struct proc_ctx *c, VipsSource *src, struct json_object *res, bool *failed)
{
	VipsImage *head;
	char why[RAP_ERRLEN], format[32];
	long long w, h;
	int orientation = 1;

	*failed = true;
	head = vips_image_new_from_source(src, "", "access", VIPS_ACCESS_SEQUENTIAL, NULL);
	if (!head) {
		vips_reason(why, sizeof(why));
		return proc_fail(c, "invalid_input",
				 "not a JPEG, PNG or WebP image, or its header is damaged (%s)",
				 why);
	}
	w = vips_image_get_width(head);
	h = vips_image_get_height(head);
	if (vips_image_get_typeof(head, VIPS_META_ORIENTATION))
		vips_image_get_int(head, VIPS_META_ORIENTATION, &orientation);
	loader_format(head, format, sizeof(format));
	g_object_unref(head);
	if (w * h > IMAGE_MAX_PIXELS)
		return proc_fail(
			c, "too_large",
			"the image is %lldx%lld, %lld pixels, over the limit of %lld pixels "
			"(refused from its header, before decoding)",
			w, h, w * h, IMAGE_MAX_PIXELS);
	json_object_object_add(res, "width", json_object_new_int64(w));
	json_object_object_add(res, "height", json_object_new_int64(h));
	json_object_object_add(res, "format", json_object_new_string(format));
	json_object_object_add(res, "orientation", json_object_new_int(orientation));
	*failed = false;
	return RAP_OK;
}

/* A copy of in without any metadata (EXIF, XMP, IPTC, ICC, PNG text...)
 * into *out: the savers' strip option is not enough, since libvips 8.14's
 * webpsave writes the EXIF block all the same. */
static int strip_metadata(VipsImage *in, VipsImage **out)
{
	gchar **fields;

	if (vips_copy(in, out, NULL) != 0)
		return RAP_EINVAL;
	fields = vips_image_get_fields(*out);
	/* Header fields (width, bands...) are not metadata: removing them
	 * does nothing. */
	for (size_t i = 0; fields[i]; i++)
		vips_image_remove(*out, fields[i]);
	g_strfreev(fields);
	return RAP_OK;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/* Drops the EXIF, XMP and ICCP chunks of a WebP file in place (*len
 * shrinks) and clears their flags in VP8X: libvips 8.14.1's webpsave
 * writes an EXIF chunk even with strip.  RAP_EINVAL when the RIFF
 * structure is not what an encoder writes. */
static int webp_strip(unsigned char *b, size_t *len)
{
	size_t in = 12, out = 12, n;

	if (*len < 12 || memcmp(b, "RIFF", 4) != 0 || memcmp(b + 8, "WEBP", 4) != 0)
		return RAP_EINVAL;
	while (in + 8 <= *len) {
		n = 8 + (size_t)le32(b + in + 4);
		n += n & 1;
		if (n > *len - in)
			return RAP_EINVAL;
		if (memcmp(b + in, "EXIF", 4) != 0 && memcmp(b + in, "XMP ", 4) != 0 &&
		    memcmp(b + in, "ICCP", 4) != 0) {
			memmove(b + out, b + in, n);
			/* VP8X flags: ICC 0x20, EXIF 0x08, XMP 0x04. */
			if (memcmp(b + out, "VP8X", 4) == 0 && n > 8)
				b[out + 8] &= (unsigned char)~(0x20 | 0x08 | 0x04);
			out += n;
		}
		in += n;
	}
	if (in != *len)
		return RAP_EINVAL;
	put_le32(b + 4, (uint32_t)(out - 8));
	*len = out;
	return RAP_OK;
}

/* Encodes im in the params' format into *buf (g_free) and *len. */
static int encode(VipsImage *im, const struct image_opts *o, void **buf, size_t *len)
{
	VipsImage *flat = NULL, *bare = NULL;
	VipsArrayDouble *white;
	int rc;

	*buf = NULL;
	if (o->strip) {
		if (strip_metadata(im, &bare) != RAP_OK)
			return RAP_EINVAL;
		im = bare;
	}
	if (o->format == IMAGE_JPEG && vips_image_hasalpha(im)) {
		/* JPEG has no alpha: transparent parts go on white. */
		white = vips_array_double_newv(1, 255.0);
		rc = vips_flatten(im, &flat, "background", white, NULL);
		vips_area_unref(VIPS_AREA(white));
		if (rc != 0)
			goto out_unref;
		im = flat;
	}
	switch (o->format) {
	case IMAGE_JPEG:
		rc = vips_jpegsave_buffer(im, buf, len, "Q", o->quality, "strip", o->strip,
					  "optimize_coding", TRUE, NULL);
		break;
	case IMAGE_WEBP:
		rc = vips_webpsave_buffer(im, buf, len, "Q", o->quality, "strip", o->strip, NULL);
		if (rc == 0 && o->strip && webp_strip(*buf, len) != RAP_OK) {
			vips_error("image.thumbnail", "the WebP encoder wrote no RIFF file");
			rc = -1;
		}
		break;
	default:
		rc = vips_pngsave_buffer(im, buf, len, "compression", 6, "strip", o->strip, NULL);
		break;
	}
out_unref:
	VIPS_UNREF(flat);
	VIPS_UNREF(bare);
	return rc == 0 ? RAP_OK : RAP_EINVAL;
}

/* Writes the buffer as the output name. */
static int write_output(struct proc_ctx *c, const char *name, const char *content_type,
			const void *buf, size_t len)
{
	int result = proc_output_begin(c, name, content_type);

	if (result == RAP_OK)
		result = proc_output_write(c, buf, len);
	if (result == RAP_OK)
		result = proc_output_end(c);
	return result;
}

/* The thumbnail of box i: written as an output and described in list.
 * RAP_EINVAL with why when libvips could not decode or encode it. */
static int thumbnail(struct proc_ctx *c, VipsSource *src, const struct image_opts *o, size_t i,
		     struct json_object *list, char *why)
{
	VipsImage *t = NULL;
	struct json_object *d;
	char name[IMAGE_NAME_LEN], box[32], key[IMAGE_NAME_LEN + 128];
	void *buf = NULL;
	size_t len = 0;
	int result;

	if (vips_thumbnail_source(src, &t, o->width[i], "option_string", "fail_on=error", "height",
				  o->height[i], "size", VIPS_SIZE_DOWN, "fail_on",
				  VIPS_FAIL_ON_ERROR, NULL) != 0 ||
	    encode(t, o, &buf, &len) != RAP_OK) {
		vips_reason(why, RAP_ERRLEN);
		result = RAP_EINVAL;
		goto out_unref;
	}
	snprintf(name, sizeof(name), "thumb-%dx%d.%s", o->width[i], o->height[i],
		 formats[o->format].ext);
	result = write_output(c, name, formats[o->format].content_type, buf, len);
	if (result != RAP_OK)
		goto out_unref;
	snprintf(key, sizeof(key), "processed/%s/%s", proc_job_id(c), name);
	snprintf(box, sizeof(box), "%dx%d", o->width[i], o->height[i]);
	d = json_object_new_object();
	json_object_object_add(d, "name", json_object_new_string(name));
	json_object_object_add(d, "key", json_object_new_string(key));
	json_object_object_add(d, "box", json_object_new_string(box));
	json_object_object_add(d, "width", json_object_new_int(vips_image_get_width(t)));
	json_object_object_add(d, "height", json_object_new_int(vips_image_get_height(t)));
	json_object_object_add(d, "format", json_object_new_string(formats[o->format].name));
	json_object_object_add(d, "content_type",
			       json_object_new_string(formats[o->format].content_type));
	json_object_object_add(d, "bytes", json_object_new_int64((int64_t)len));
	json_object_array_add(list, d);
out_unref:
	g_free(buf);
	if (t)
		g_object_unref(t);
	return result;
}

static int image_thumbnail_run(struct proc_ctx *c)
{
	struct json_object *res, *list;
	struct image_opts o;
	VipsSource *src;
	char err[RAP_ERRLEN];
	long long size = proc_input_size(c);
	bool failed;
	size_t i;
	int result, fd = proc_input_fd(c);

	if (opts_parse(proc_params(c), &o, err) != RAP_OK)
		return proc_fail(c, "invalid_params", "%s", err);
	if (fd < 0)
		return proc_fail(c, "unsupported", "image.thumbnail needs its input as a file");
	src = vips_source_new_from_descriptor(fd);
	if (!src) {
		vips_reason(err, sizeof(err));
		return proc_fail(c, "unsupported", "the input cannot be read (%s)", err);
	}
	res = json_object_new_object();
	result = read_header(c, src, res, &failed);
	if (failed)
		goto out_put;
	list = json_object_new_array();
	json_object_object_add(res, "thumbnails", list);
	json_object_object_add(res, "stripped", json_object_new_boolean(o.strip));
	for (i = 0; i < o.n && result == RAP_OK; i++) {
		/* The fraction of the boxes done, as bytes of the input. */
		result = proc_progress(c, "thumbnail",
				       size > 0 ? size * (long long)i / (long long)o.n : -1, -1);
		if (result == RAP_OK)
			result = thumbnail(c, src, &o, i, list, err);
	}
	if (result == RAP_EINVAL) {
		result =
			proc_fail(c, "invalid_input", "the image is truncated or damaged: %s", err);
		goto out_put;
	}
	if (result == RAP_OK) {
		result = proc_succeed(c, res);
		res = NULL;
	}
out_put:
	json_object_put(res);
	VIPS_UNREF(src);
	return result;
}

const struct processor proc_image_thumbnail = {
	.type = "image.thumbnail",
	.prepare = image_thumbnail_prepare,
	.run = image_thumbnail_run,
	.threads = true,
};
