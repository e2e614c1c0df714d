/* Tests of image.thumbnail (services/worker/processors/image.c) on images
 * that libvips writes at test time: real dimensions, EXIF orientation,
 * formats, stripped metadata, and the hostile ones (a header that claims a
 * bomb, a truncated JPEG, not an image). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vips/vips.h>

#include "fake_proc.h"
#include "procs.h"
#include "rap/err.h"

/* A w x h colour gradient (so that the JPEG is not trivially small), with
 * an EXIF orientation when orientation > 1, saved as suffix (".jpg",
 * ".png", ".webp") into path. */
static void make_image(int w, int h, int orientation, const char *suffix, char path[64])
{
	VipsImage *xyz, *img, *tagged;
	int fd;

	snprintf(path, 64, "/tmp/rap-image-XXXXXX%s", suffix);
	fd = mkstemps(path, (int)strlen(suffix));
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(VIPS_INIT("test"), 0);
	cr_assert_eq(vips_xyz(&xyz, w, h, NULL), 0);
	cr_assert_eq(vips_cast_uchar(xyz, &img, NULL), 0);
	g_object_unref(xyz);
	cr_assert_eq(vips_copy(img, &tagged, "interpretation", VIPS_INTERPRETATION_MULTIBAND, NULL),
		     0);
	g_object_unref(img);
	if (orientation > 1)
		vips_image_set_int(tagged, VIPS_META_ORIENTATION, orientation);
	cr_assert_eq(vips_image_write_to_file(tagged, path, NULL), 0, "%s", vips_error_buffer());
	g_object_unref(tagged);
}

static struct proc_ctx *run_file(const char *path, const char *params)
{
	struct proc_ctx *c = fake_proc_new(NULL, 0, 0, params);

	cr_assert_eq(proc_image_thumbnail.prepare(), RAP_OK);
	c->input_fd = open(path, O_RDONLY);
	cr_assert_geq(c->input_fd, 0);
	c->len = (size_t)lseek(c->input_fd, 0, SEEK_END);
	lseek(c->input_fd, 0, SEEK_SET);
	cr_assert_eq(proc_image_thumbnail.run(c), RAP_OK);
	cr_assert(c->result || c->fail_code, "one outcome");
	close(c->input_fd);
	unlink(path);
	return c;
}

/* The i-th thumbnail of the result. */
static struct json_object *thumb(const struct proc_ctx *c, size_t i)
{
	struct json_object *list;

	cr_assert(json_object_object_get_ex(c->result, "thumbnails", &list));
	cr_assert_gt(json_object_array_length(list), i);
	return json_object_array_get_idx(list, i);
}

static long long tint(struct json_object *o, const char *key)
{
	struct json_object *v;

	cr_assert(json_object_object_get_ex(o, key, &v), "%s", key);
	return json_object_get_int64(v);
}

static const char *tstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	cr_assert(json_object_object_get_ex(o, key, &v), "%s", key);
	return json_object_get_string(v);
}

static bool contains(const struct rap_buf *b, const char *what)
{
	return memmem(b->data, b->len, what, strlen(what)) != NULL;
}

Test(image_thumbnail, a_jpeg_with_exif_orientation_6_is_turned_upright_and_stripped)
{
	char path[64];
	struct proc_ctx *c;
	struct json_object *t;

	make_image(400, 200, 6, ".jpg", path);
	c = run_file(path, "{\"sizes\":[{\"width\":100,\"height\":100}]}");
	cr_assert_null(c->fail_code, "%s", c->fail_message);
	cr_assert_eq(fake_proc_result_int(c, "width"), 400);
	cr_assert_eq(fake_proc_result_int(c, "height"), 200);
	cr_assert_eq(fake_proc_result_int(c, "orientation"), 6);
	cr_assert_str_eq(fake_proc_result_str(c, "format"), "jpeg");
	t = thumb(c, 0);
	/* 400 x 200 on its side is 200 x 400 upright: 50 x 100 in the box. */
	cr_assert_eq(tint(t, "width"), 50);
	cr_assert_eq(tint(t, "height"), 100);
	cr_assert_str_eq(tstr(t, "name"), "thumb-100x100.jpg");
	cr_assert_str_eq(tstr(t, "key"),
			 "processed/00000000-0000-4000-8000-000000000000/thumb-100x100.jpg");
	cr_assert_str_eq(tstr(t, "content_type"), "image/jpeg");
	cr_assert_eq(tint(t, "bytes"), (long long)c->output.len);
	cr_assert_eq(c->outputs_ended, 1);
	cr_assert_eq(memcmp(c->output.data, "\xFF\xD8\xFF", 3), 0);
	cr_assert_not(contains(&c->output, "Exif"), "the EXIF block is stripped");
	fake_proc_free(c);
}

Test(image_thumbnail, strip_false_keeps_the_exif_block)
{
	char path[64];
	struct proc_ctx *c;

	make_image(400, 200, 6, ".jpg", path);
	c = run_file(path, "{\"strip\":false}");
	cr_assert_null(c->fail_code, "%s", c->fail_message);
	cr_assert(contains(&c->output, "Exif"));
	/* The default box, 256 x 256: upright 200 x 400 becomes 128 x 256. */
	cr_assert_eq(tint(thumb(c, 0), "width"), 128);
	cr_assert_eq(tint(thumb(c, 0), "height"), 256);
	fake_proc_free(c);
}

Test(image_thumbnail, a_png_in_two_sizes_as_webp_never_enlarged)
{
	char path[64];
	struct proc_ctx *c;

	make_image(300, 120, 1, ".png", path);
	c = run_file(path, "{\"format\":\"webp\",\"quality\":60,\"sizes\":[{\"width\":150,"
			   "\"height\":150},{\"width\":1000,\"height\":1000}]}");
	cr_assert_null(c->fail_code, "%s", c->fail_message);
	cr_assert_str_eq(fake_proc_result_str(c, "format"), "png");
	cr_assert_eq(tint(thumb(c, 0), "width"), 150);
	cr_assert_eq(tint(thumb(c, 0), "height"), 60);
	cr_assert_eq(tint(thumb(c, 1), "width"), 300, "never enlarged");
	cr_assert_eq(tint(thumb(c, 1), "height"), 120);
	cr_assert_str_eq(tstr(thumb(c, 1), "name"), "thumb-1000x1000.webp");
	cr_assert_eq(c->outputs_ended, 2);
	cr_assert_eq(memcmp(c->output.data, "RIFF", 4), 0);
	/* libvips 8.14.1's webpsave writes an EXIF chunk even with strip:
	 * image.c takes it out. */
	cr_assert_not(contains(&c->output, "EXIF"), "no EXIF chunk in the WebP");
	cr_assert_not(contains(&c->output, "ICCP"));
	cr_assert_eq(tint(thumb(c, 0), "bytes") + tint(thumb(c, 1), "bytes"),
		     (long long)c->output.len);
	fake_proc_free(c);
}

Test(image_thumbnail, a_webp_as_png)
{
	char path[64];
	struct proc_ctx *c;

	make_image(64, 64, 1, ".webp", path);
	c = run_file(path, "{\"format\":\"png\",\"sizes\":[{\"width\":32,\"height\":16}]}");
	cr_assert_null(c->fail_code, "%s", c->fail_message);
	cr_assert_str_eq(fake_proc_result_str(c, "format"), "webp");
	cr_assert_eq(tint(thumb(c, 0), "width"), 16);
	cr_assert_eq(tint(thumb(c, 0), "height"), 16);
	cr_assert_eq(memcmp(c->output.data, "\x89PNG", 4), 0);
	fake_proc_free(c);
}

/* A PNG whose header claims 30000 x 30000 and whose pixels are 64 bytes:
 * refused by the pixel limit from the header, never decoded (a decode
 * would fail on the missing rows instead). */
Test(image_thumbnail, a_header_over_the_pixel_limit_is_refused_before_decoding)
{
	/* IHDR 30000 x 30000 grey, then an IDAT of 64 bytes and IEND. */
	static const unsigned char png[] = {
		0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
		0x44, 0x52, 0x00, 0x00, 0x75, 0x30, 0x00, 0x00, 0x75, 0x30, 0x08, 0x00, 0x00, 0x00,
		0x00, 0x43, 0x4c, 0xa7, 0x66, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78,
		0x9c, 0x63, 0x60, 0xa0, 0x0c, 0x00, 0x00, 0x00, 0x40, 0x00, 0x01, 0xb7, 0x34, 0x7c,
		0xef, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
	};
	char path[] = "/tmp/rap-image-bomb-XXXXXX";
	int fd = mkstemp(path);
	struct proc_ctx *c;

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, png, sizeof(png)), (ssize_t)sizeof(png));
	close(fd);
	c = run_file(path, NULL);
	cr_assert_str_eq(c->fail_code, "too_large", "%s", c->fail_message);
	cr_assert(strstr(c->fail_message, "30000x30000, 900000000 pixels, over the limit of "
					  "100000000 pixels"),
		  "%s", c->fail_message);
	cr_assert_eq(c->outputs_ended, 0);
	fake_proc_free(c);
}

Test(image_thumbnail, a_truncated_jpeg_fails_with_the_reason)
{
	char path[64];
	struct proc_ctx *c;
	off_t size;
	int fd;

	make_image(800, 600, 1, ".jpg", path);
	fd = open(path, O_WRONLY);
	size = lseek(fd, 0, SEEK_END);
	cr_assert_eq(ftruncate(fd, size / 2), 0);
	close(fd);
	c = run_file(path, NULL);
	cr_assert_str_eq(c->fail_code, "invalid_input");
	cr_assert(strstr(c->fail_message, "the image is truncated or damaged: "), "%s",
		  c->fail_message);
	cr_assert_eq(c->outputs_ended, 0);
	fake_proc_free(c);
}

Test(image_thumbnail, what_is_not_an_image_fails_as_such)
{
	char path[] = "/tmp/rap-image-text-XXXXXX";
	int fd = mkstemp(path);
	struct proc_ctx *c;

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "id,name\n1,a\n", 12), 12);
	close(fd);
	c = run_file(path, NULL);
	cr_assert_str_eq(c->fail_code, "invalid_input");
	cr_assert(strstr(c->fail_message, "not a JPEG, PNG or WebP image"), "%s", c->fail_message);
	fake_proc_free(c);
}

Test(image_thumbnail, a_box_given_twice_is_invalid_params)
{
	char path[64];
	struct proc_ctx *c;

	make_image(40, 40, 1, ".png", path);
	c = run_file(path, "{\"sizes\":[{\"width\":10,\"height\":10},{\"width\":10,"
			   "\"height\":10}]}");
	cr_assert_str_eq(c->fail_code, "invalid_params");
	cr_assert_str_eq(c->fail_message, "sizes[1]: the box 10x10 is given twice");
	fake_proc_free(c);
}
