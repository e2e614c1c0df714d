/* Tests of video.probe (services/worker/processors/video.c) on clips that
 * FFmpeg's own encoders and muxers write here, into temporary files: the
 * container, duration, streams and a poster of a known size at a known
 * position; MPEG program and elementary streams (no duration: the first
 * frame); an audio-only file (no poster); and the hostile ones (an MP4
 * cut before its index, one cut after it, a damaged header, a frame size
 * far over the limit, a poster position past the end). */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake_proc.h"
#include "procs.h"
#include "rap/err.h"

#define CLIP_FPS 25

struct clip {
	const char *muxer;
	enum AVCodecID codec; /* AV_CODEC_ID_NONE: no video stream */
	enum AVPixelFormat pix_fmt;
	int width, height, frames;
	bool audio; /* a PCM stream, beside or alone */
	const char *movflags;
};

/* Sends one frame (NULL: the end) through enc and writes its packets. */
static void encode_write(AVFormatContext *o, AVCodecContext *enc, AVStream *st, AVFrame *f)
{
	AVPacket *pkt = av_packet_alloc();

	cr_assert_geq(avcodec_send_frame(enc, f), 0);
	while (avcodec_receive_packet(enc, pkt) == 0) {
		av_packet_rescale_ts(pkt, enc->time_base, st->time_base);
		pkt->stream_index = st->index;
		cr_assert_geq(av_interleaved_write_frame(o, pkt), 0);
	}
	av_packet_free(&pkt);
}

/* A frame of a moving gradient: frame i differs from the others. */
static void paint(AVFrame *f, int i)
{
	cr_assert_geq(av_frame_make_writable(f), 0);
	for (int p = 0; p < 4 && f->data[p]; p++) {
		int rows = p == 0 || f->format != AV_PIX_FMT_YUV420P ? f->height : f->height / 2;

		for (int y = 0; y < rows; y++)
			for (int x = 0; x < f->linesize[p]; x++)
				f->data[p][y * f->linesize[p] + x] =
					(uint8_t)(x * 3 + y * 2 + i * 5);
	}
}

static AVCodecContext *video_encoder(const struct clip *k, AVFormatContext *o, AVStream **st)
{
	const AVCodec *codec = avcodec_find_encoder(k->codec);
	AVCodecContext *enc = avcodec_alloc_context3(codec);

	cr_assert_not_null(codec);
	enc->width = k->width;
	enc->height = k->height;
	enc->pix_fmt = k->pix_fmt;
	enc->time_base = (AVRational){ 1, CLIP_FPS };
	enc->framerate = (AVRational){ CLIP_FPS, 1 };
	enc->gop_size = 10;
	enc->thread_count = 1;
	if (o->oformat->flags & AVFMT_GLOBALHEADER)
		enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	cr_assert_geq(avcodec_open2(enc, codec, NULL), 0);
	*st = avformat_new_stream(o, NULL);
	(*st)->time_base = enc->time_base;
	(*st)->avg_frame_rate = enc->framerate;
	cr_assert_geq(avcodec_parameters_from_context((*st)->codecpar, enc), 0);
	return enc;
}

/* One second of silence as one PCM stream. */
static AVStream *audio_stream(AVFormatContext *o)
{
	AVStream *st = avformat_new_stream(o, NULL);

	st->codecpar->codec_type = AVMEDIA_TYPE_AUDIO;
	st->codecpar->codec_id = AV_CODEC_ID_PCM_S16LE;
	st->codecpar->sample_rate = 8000;
	av_channel_layout_default(&st->codecpar->ch_layout, 1);
	st->time_base = (AVRational){ 1, 8000 };
	return st;
}

static void write_audio(AVFormatContext *o, AVStream *st)
{
	AVPacket *pkt = av_packet_alloc();

	for (int i = 0; i < 10; i++) {
		cr_assert_geq(av_new_packet(pkt, 1600), 0);
		memset(pkt->data, 0, 1600);
		/* 800 samples a packet, in the stream's time base (the muxer's). */
		pkt->pts = pkt->dts = av_rescale_q(i * 800, (AVRational){ 1, 8000 }, st->time_base);
		pkt->duration = av_rescale_q(800, (AVRational){ 1, 8000 }, st->time_base);
		pkt->stream_index = st->index;
		cr_assert_geq(av_interleaved_write_frame(o, pkt), 0);
	}
	av_packet_free(&pkt);
}

/* Writes the clip to a new temporary file; its path into path. */
static void make_clip(const struct clip *k, char *path, size_t len)
{
	AVFormatContext *o = NULL;
	AVCodecContext *enc = NULL;
	AVStream *vst = NULL, *ast = NULL;
	AVDictionary *opts = NULL;
	AVFrame *f;
	int fd;

	snprintf(path, len, "/tmp/rap-video-XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_geq(avformat_alloc_output_context2(&o, NULL, k->muxer, path), 0);
	if (k->codec != AV_CODEC_ID_NONE)
		enc = video_encoder(k, o, &vst);
	if (k->audio)
		ast = audio_stream(o);
	cr_assert_geq(avio_open(&o->pb, path, AVIO_FLAG_WRITE), 0);
	if (k->movflags)
		av_dict_set(&opts, "movflags", k->movflags, 0);
	cr_assert_geq(avformat_write_header(o, &opts), 0);
	av_dict_free(&opts);
	if (ast)
		write_audio(o, ast);
	if (enc) {
		f = av_frame_alloc();
		f->format = k->pix_fmt;
		f->width = k->width;
		f->height = k->height;
		cr_assert_geq(av_frame_get_buffer(f, 0), 0);
		for (int i = 0; i < k->frames; i++) {
			paint(f, i);
			f->pts = i;
			encode_write(o, enc, vst, f);
		}
		encode_write(o, enc, vst, NULL);
		av_frame_free(&f);
		avcodec_free_context(&enc);
	}
	cr_assert_geq(av_write_trailer(o), 0);
	avio_closep(&o->pb);
	avformat_free_context(o);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat sb;
	char *b;

	cr_assert_not_null(f);
	cr_assert_eq(fstat(fileno(f), &sb), 0);
	b = malloc((size_t)sb.st_size + 1);
	*len = fread(b, 1, (size_t)sb.st_size, f);
	fclose(f);
	return b;
}

/* Runs video.probe over the bytes (a scratch file, as the worker gives). */
static struct proc_ctx *run_bytes(const char *bytes, size_t len, const char *params)
{
	char path[] = "/tmp/rap-video-in-XXXXXX";
	int fd = mkstemp(path);
	struct proc_ctx *c = fake_proc_new(NULL, 0, 0, params);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, bytes, len), (ssize_t)len);
	unlink(path);
	cr_assert_eq(proc_video_probe.prepare(), RAP_OK);
	c->input_fd = fd;
	c->len = len;
	cr_assert_eq(proc_video_probe.run(c), RAP_OK);
	cr_assert(c->result || c->fail_code, "one outcome");
	close(fd);
	return c;
}

static struct proc_ctx *run_clip(const struct clip *k, const char *params)
{
	char path[64], *bytes;
	size_t len;
	struct proc_ctx *c;

	make_clip(k, path, sizeof(path));
	bytes = slurp(path, &len);
	unlink(path);
	c = run_bytes(bytes, len, params);
	free(bytes);
	return c;
}

static struct json_object *field(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	cr_assert(json_object_object_get_ex(o, key, &v), "%s", key);
	return v;
}

static const struct clip mkv = {
	"matroska", AV_CODEC_ID_MPEG4, AV_PIX_FMT_YUV420P, 64, 48, 50, true, NULL
};

Test(video_probe, a_clip_its_container_duration_streams_and_a_poster_at_ten_percent)
{
	struct proc_ctx *c = run_clip(&mkv, NULL);
	struct json_object *streams, *v, *a, *p;

	cr_assert_null(c->fail_code, "%s", c->fail_message);
	cr_assert_str_eq(fake_proc_result_str(c, "container"), "matroska,webm");
	cr_assert_float_eq(json_object_get_double(field(c->result, "duration_s")), 2.0, 0.1, "%s",
			   json_object_to_json_string(c->result));
	streams = field(c->result, "streams");
	cr_assert_eq(json_object_array_length(streams), 2);
	v = json_object_array_get_idx(streams, 0);
	a = json_object_array_get_idx(streams, 1);
	cr_assert_str_eq(json_object_get_string(field(v, "type")), "video");
	cr_assert_str_eq(json_object_get_string(field(v, "codec")), "mpeg4");
	cr_assert_eq(json_object_get_int(field(v, "width")), 64);
	cr_assert_eq(json_object_get_int(field(v, "height")), 48);
	cr_assert_float_eq(json_object_get_double(field(v, "frame_rate")), 25.0, 0.01);
	cr_assert_str_eq(json_object_get_string(field(v, "pix_fmt")), "yuv420p");
	cr_assert_str_eq(json_object_get_string(field(a, "type")), "audio");
	cr_assert_str_eq(json_object_get_string(field(a, "codec")), "pcm_s16le");
	cr_assert_eq(json_object_get_int(field(a, "sample_rate")), 8000);
	cr_assert_eq(json_object_get_int(field(a, "channels")), 1);
	p = field(c->result, "poster");
	cr_assert_not_null(p);
	cr_assert_str_eq(json_object_get_string(field(p, "name")), "poster.jpg");
	cr_assert_eq(json_object_get_int(field(p, "width")), 64, "never enlarged");
	cr_assert_eq(json_object_get_int(field(p, "height")), 48);
	/* 10 % of 2 s: the frame at 0.2 s (the fifth, at 25 fps). */
	cr_assert_float_eq(json_object_get_double(field(p, "position_s")), 0.2, 0.05);
	cr_assert_str_eq(c->output_name, "poster.jpg");
	cr_assert_eq(c->outputs_ended, 1);
	cr_assert_gt(c->output.len, 100);
	cr_assert_eq(memcmp(c->output.data, "\xff\xd8\xff", 3), 0, "a JPEG");
	cr_assert_eq(json_object_get_int(field(p, "bytes")), (int)c->output.len);
	cr_assert_geq(c->progress_calls, 3);
	fake_proc_free(c);
}

Test(video_probe, the_position_in_seconds_and_the_width_are_honoured)
{
	struct clip big = mkv;
	struct proc_ctx *c;
	struct json_object *p;

	big.width = 320;
	big.height = 240;
	c = run_clip(&big, "{\"position_s\":1.5,\"poster_width\":160}");
	cr_assert_null(c->fail_code, "%s", c->fail_message);
	p = field(c->result, "poster");
	cr_assert_float_eq(json_object_get_double(field(p, "position_s")), 1.5, 0.05);
	cr_assert_eq(json_object_get_int(field(p, "width")), 160);
	cr_assert_eq(json_object_get_int(field(p, "height")), 120);
	fake_proc_free(c);
}

Test(video_probe, an_mp4_with_its_index_at_the_end_is_read_by_seeking)
{
	struct clip k = { "mp4", AV_CODEC_ID_MPEG4, AV_PIX_FMT_YUV420P, 64, 48, 50, false, NULL };
	struct proc_ctx *c = run_clip(&k, "{\"position\":50}");

	cr_assert_null(c->fail_code, "%s", c->fail_message);
	cr_assert(strstr(fake_proc_result_str(c, "container"), "mp4"), "%s",
		  fake_proc_result_str(c, "container"));
	cr_assert_float_eq(json_object_get_double(field(field(c->result, "poster"), "position_s")),
			   1.0, 0.05);
	fake_proc_free(c);
}

Test(video_probe, no_poster_when_asked_for_none_or_when_there_is_no_video)
{
	struct clip audio = { "matroska", AV_CODEC_ID_NONE, AV_PIX_FMT_NONE, 0, 0, 0, true, NULL };
	struct proc_ctx *c = run_clip(&mkv, "{\"poster\":false}");

	cr_assert_null(c->fail_code, "%s", c->fail_message);
	cr_assert_null(field(c->result, "poster"));
	cr_assert_eq(c->outputs_ended, 0);
	fake_proc_free(c);
	c = run_clip(&audio, NULL);
	cr_assert_null(c->fail_code, "%s", c->fail_message);
	cr_assert_null(field(c->result, "poster"));
	cr_assert_eq(json_object_array_length(field(c->result, "streams")), 1);
	cr_assert_eq(c->outputs_ended, 0);
	fake_proc_free(c);
}

Test(video_probe, a_position_past_the_end_fails_invalid_params)
{
	struct proc_ctx *c = run_clip(&mkv, "{\"position_s\":30}");

	cr_assert_str_eq(c->fail_code, "invalid_params");
	cr_assert(strstr(c->fail_message, "past the end"), "%s", c->fail_message);
	fake_proc_free(c);
}

Test(video_probe, an_mpeg_program_stream_declares_its_streams_as_they_come)
{
	struct clip k = {
		"vob", AV_CODEC_ID_MPEG2VIDEO, AV_PIX_FMT_YUV420P, 64, 48, 25, false, NULL
	};
	struct proc_ctx *c = run_clip(&k, NULL);

	cr_assert_null(c->fail_code, "%s", c->fail_message);
	cr_assert_str_eq(fake_proc_result_str(c, "container"), "mpeg");
	cr_assert_str_eq(
		json_object_get_string(
			field(json_object_array_get_idx(field(c->result, "streams"), 0), "codec")),
		"mpeg2video");
	cr_assert_not_null(field(c->result, "poster"));
	fake_proc_free(c);
}

/* A raw MPEG-2 elementary stream says no duration: the first frame. */
Test(video_probe, an_unknown_duration_gives_the_first_frame)
{
	struct clip k = {
		"mpeg2video", AV_CODEC_ID_MPEG2VIDEO, AV_PIX_FMT_YUV420P, 64, 48, 25, false, NULL
	};
	struct proc_ctx *c = run_clip(&k, NULL);

	cr_assert_null(c->fail_code, "%s", c->fail_message);
	cr_assert_str_eq(fake_proc_result_str(c, "container"), "mpegvideo");
	cr_assert_null(field(c->result, "duration_s"));
	/* The first frame: an elementary stream's timestamps are guessed,
	 * and the first may say one frame (1/25 s) after its start. */
	cr_assert_leq(json_object_get_double(field(field(c->result, "poster"), "position_s")),
		      0.041);
	fake_proc_free(c);
}

/* The hostile files. */

Test(video_probe, an_mp4_cut_before_its_index_fails_truncated)
{
	struct clip k = { "mp4", AV_CODEC_ID_MPEG4, AV_PIX_FMT_YUV420P, 64, 48, 50, false, NULL };
	char path[64], *bytes;
	size_t len;
	struct proc_ctx *c;

	make_clip(&k, path, sizeof(path));
	bytes = slurp(path, &len);
	unlink(path);
	c = run_bytes(bytes, len / 2, NULL);
	cr_assert_str_eq(c->fail_code, "invalid_input");
	cr_assert(strstr(c->fail_message, "truncated or not a video"), "%s", c->fail_message);
	cr_assert_eq(c->outputs_ended, 0);
	fake_proc_free(c);
	free(bytes);
}

Test(video_probe, an_mp4_cut_after_its_index_fails_truncated)
{
	struct clip k = { "mp4", AV_CODEC_ID_MPEG4, AV_PIX_FMT_YUV420P, 64, 48, 50,
			  false, "faststart" };
	char path[64], *bytes;
	size_t len;
	struct proc_ctx *c;

	make_clip(&k, path, sizeof(path));
	bytes = slurp(path, &len);
	unlink(path);
	c = run_bytes(bytes, len / 2, NULL);
	cr_assert_str_eq(c->fail_code, "invalid_input");
	cr_assert(strstr(c->fail_message, "the file is truncated"), "%s", c->fail_message);
	fake_proc_free(c);
	free(bytes);
}

Test(video_probe, a_damaged_header_fails_with_the_reason)
{
	char path[64], *bytes;
	size_t len;
	struct proc_ctx *c;

	make_clip(&mkv, path, sizeof(path));
	bytes = slurp(path, &len);
	unlink(path);
	srand(14);
	for (size_t i = 0; i < 256 && i < len; i++)
		bytes[i] = (char)(rand() & 0xff);
	c = run_bytes(bytes, len, NULL);
	cr_assert_str_eq(c->fail_code, "invalid_input");
	/* FFmpeg finds a raw MPEG-4 stream in the clusters: not a container
	 * the type takes. */
	cr_assert(strstr(c->fail_message,
			 "truncated or not a video: its header is damaged or it is "
			 "not a container this type takes"),
		  "%s", c->fail_message);
	fake_proc_free(c);
	free(bytes);
}

static void put_le32(char *p, unsigned v)
{
	p[0] = (char)(v & 0xff);
	p[1] = (char)((v >> 8) & 0xff);
	p[2] = (char)((v >> 16) & 0xff);
	p[3] = (char)((v >> 24) & 0xff);
}

Test(video_probe, a_frame_size_over_the_limit_is_refused_from_the_header)
{
	struct clip k = { "avi", AV_CODEC_ID_RAWVIDEO, AV_PIX_FMT_BGR24, 16, 16, 2, false, NULL };
	char path[64], *bytes, *strf;
	size_t len;
	struct proc_ctx *c;

	make_clip(&k, path, sizeof(path));
	bytes = slurp(path, &len);
	unlink(path);
	/* The BITMAPINFOHEADER after "strf" and its size: biSize, biWidth,
	 * biHeight; the AVI demuxer takes the frame size from there. */
	strf = memmem(bytes, len, "strf", 4);
	cr_assert_not_null(strf);
	put_le32(strf + 12, 16384);
	put_le32(strf + 16, 16384);
	c = run_bytes(bytes, len, NULL);
	cr_assert_str_eq(c->fail_code, "too_large", "%s", c->fail_message);
	cr_assert(strstr(c->fail_message, "16384x16384"), "%s", c->fail_message);
	cr_assert_eq(c->outputs_ended, 0);
	fake_proc_free(c);
	free(bytes);
}

Test(video_probe, not_a_video_fails_invalid_input)
{
	const char text[] = "just some text, not a video at all\n";
	struct proc_ctx *c = run_bytes(text, sizeof(text) - 1, NULL);

	cr_assert_str_eq(c->fail_code, "invalid_input");
	fake_proc_free(c);
}
