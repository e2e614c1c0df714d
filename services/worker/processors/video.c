/*
 * video.c: video.probe, what a video holds and a poster frame, through
 * FFmpeg 5.1's libavformat, libavcodec and libswscale (docs/sandbox.md,
 * "video.probe").
 *
 * The input is the job's scratch copy (RAP_INPUT_FILE): libavformat reads
 * it through an AVIOContext of our own over fd 0 (pread at a position we
 * keep, seek answered from it and the size, a 64 KiB buffer), so nothing
 * is opened by name and the file is never in memory whole; an MP4 whose
 * index (moov) is at its end, and the seek to the poster, need the seeks.
 * The result gives the container, duration, bit rate and each stream (its
 * codec; a video's size, frame rate and pixel format; an audio's sample
 * rate and channels).  The poster is the first frame at or after the
 * position asked (params.position_s, or params.position percent of the
 * duration, 10 by default; the first frame when the duration is unknown),
 * scaled down to params.poster_width at most, keeping its aspect, encoded
 * by FFmpeg's MJPEG encoder as processed/{job_id}/poster.jpg.  A file with
 * no video stream (audio alone) completes with poster null.
 *
 * What fails, permanently, with its reason: a file libavformat cannot open
 * or read the streams of (truncated: an MP4 cut before its moov; a damaged
 * header), one whose index points past the end of the file (an MP4 cut
 * after its moov), a frame over VIDEO_MAX_SIDE or VIDEO_MAX_PIXELS (refused
 * from the header, before decoding: too_large; the decoder holds to the
 * same bound, so a bitstream that lies about its size fails too), a poster
 * position past the end (invalid_params), a video stream of which no frame
 * decodes.  What the library does not stop, the limits do.
 *
 * FFmpeg is set up in prepare, before the sandbox closes: its log goes to
 * fd 2 through a callback of our own, warnings and worse, at most
 * VIDEO_LOG_LINES lines a process (a damaged stream can warn for every
 * packet); the CPU's features are read once.  Every codec context runs
 * one thread (threads = 1, also for the decoders avformat_find_stream_info
 * opens): the processor has no .threads.
 */
#include "processor.h"
#include "procs.h"

#include "rap/err.h"

#include <json-c/json.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avstring.h>
#include <libavutil/avutil.h>
#include <libavutil/cpu.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The AVIOContext's buffer: libavformat reads the file in these. */
#define VIDEO_IO_BUF (64 * 1024)
/* The largest frame: 8K (7680 x 4320, and its portrait) fits; a side over
 * 8192 or more pixels than 8192 x 4320 is refused before decoding. */
#define VIDEO_MAX_SIDE 8192
#define VIDEO_MAX_PIXELS (8192LL * 4320LL)
/* Streams a file may declare (libavformat's own default is 1000). */
#define VIDEO_MAX_STREAMS 64
/* Packets read after the seek before the poster is given up: 10 minutes
 * of 60 fps; the CPU limit stops a file built to cost more. */
#define VIDEO_MAX_PACKETS 36000
#define VIDEO_DEFAULT_POSITION 10.0
#define VIDEO_DEFAULT_POSTER_WIDTH 640
#define VIDEO_LOG_LINES 200
#define VIDEO_POSTER "poster.jpg"
/* The demuxers of the content the registry takes (video/mp4, quicktime,
 * x-matroska, webm, x-msvideo, mpeg): MP4 and QuickTime, Matroska and
 * WebM, AVI, MPEG program and transport streams, MPEG elementary video. */
#define VIDEO_DEMUXERS "mov,mp4,matroska,webm,avi,mpeg,mpegts,mpegvideo"

struct video_opts {
	double position;   /* percent of the duration */
	double position_s; /* seconds; < 0: use position */
	int poster_width;
	bool poster;
};

struct video_io {
	int fd;
	int64_t pos, size;
};

/* --- FFmpeg's log ---------------------------------------------------------- */

/* FFmpeg's last error line (a demuxer's "moov atom not found"): a reason
 * clearer than the error code it returns.  The callback takes no context,
 * and the child runs one job. */
static char last_error[160];

static void log_line(void *avcl, int level, const char *fmt, va_list vl)
{
	static int lines, print_prefix = 1;
	char line[512];
	size_t n;
	ssize_t w;

	if (level > av_log_get_level())
		return;
	if (level <= AV_LOG_ERROR) {
		va_list copy;

		va_copy(copy, vl);
		vsnprintf(last_error, sizeof(last_error), fmt, copy);
		va_end(copy);
		n = strlen(last_error);
		while (n > 0 && (last_error[n - 1] == '\n' || last_error[n - 1] == ' '))
			last_error[--n] = '\0';
	}
	if (lines >= VIDEO_LOG_LINES)
		return;
	av_log_format_line2(avcl, level, fmt, vl, line, sizeof(line), &print_prefix);
	n = strlen(line);
	if (n == 0)
		return;
	if (print_prefix)
		lines++;
	w = write(STDERR_FILENO, line, n);
	(void)w;
}

static int video_probe_prepare(void)
{
	/* Before anything logs: FFmpeg's own callback asks whether fd 2 is
	 * a terminal and reads the environment. */
	av_log_set_callback(log_line);
	av_log_set_level(AV_LOG_WARNING);
	/* CPU features (cpuid, no system call) settled once here. */
	(void)av_get_cpu_flags();
	return RAP_OK;
}

/* --- input: fd 0 through pread ---------------------------------------------- */

static int io_read(void *opaque, uint8_t *buf, int n)
{
	struct video_io *io = opaque;
	ssize_t got = pread(io->fd, buf, (size_t)n, (off_t)io->pos);

	if (got < 0)
		return AVERROR(EIO);
	if (got == 0)
		return AVERROR_EOF;
	io->pos += got;
	return (int)got;
}

static int64_t io_seek(void *opaque, int64_t off, int whence)
{
	struct video_io *io = opaque;
	int64_t to;

	switch (whence & ~AVSEEK_FORCE) {
	case AVSEEK_SIZE:
		return io->size;
	case SEEK_SET:
		to = off;
		break;
	case SEEK_CUR:
		to = io->pos + off;
		break;
	case SEEK_END:
		to = io->size + off;
		break;
	default:
		return AVERROR(EINVAL);
	}
	if (to < 0)
		return AVERROR(EINVAL);
	io->pos = to;
	return to;
}

/* --- params ---------------------------------------------------------------- */

static double jnum(struct json_object *o, const char *key, double def)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return def;
	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
		return json_object_get_double(v);
	return def;
}

/* The params (validated by the schema already) into o. */
static void opts_parse(struct json_object *params, struct video_opts *o)
{
	struct json_object *v;

	o->position = VIDEO_DEFAULT_POSITION;
	o->position_s = -1;
	o->poster_width = VIDEO_DEFAULT_POSTER_WIDTH;
	o->poster = true;
	if (!json_object_is_type(params, json_type_object))
		return;
	o->position = jnum(params, "position", VIDEO_DEFAULT_POSITION);
	o->position_s = jnum(params, "position_s", -1);
	o->poster_width = (int)jnum(params, "poster_width", VIDEO_DEFAULT_POSTER_WIDTH);
	if (json_object_object_get_ex(params, "poster", &v) &&
	    json_object_is_type(v, json_type_boolean))
		o->poster = json_object_get_boolean(v);
	if (o->position < 0 || o->position > 100)
		o->position = VIDEO_DEFAULT_POSITION;
	if (o->poster_width < 16 || o->poster_width > 4096)
		o->poster_width = VIDEO_DEFAULT_POSTER_WIDTH;
}

/* --- the streams ------------------------------------------------------------ */

static struct json_object *num_or_null(double v, bool known)
{
	return known ? json_object_new_double(v) : NULL;
}

static struct json_object *int_or_null(int64_t v, bool known)
{
	return known ? json_object_new_int64(v) : NULL;
}

static const char *media_type(enum AVMediaType t)
{
	switch (t) {
	case AVMEDIA_TYPE_VIDEO:
		return "video";
	case AVMEDIA_TYPE_AUDIO:
		return "audio";
	case AVMEDIA_TYPE_SUBTITLE:
		return "subtitle";
	case AVMEDIA_TYPE_ATTACHMENT:
		return "attachment";
	default:
		return "data";
	}
}

static double seconds(int64_t ts, AVRational tb)
{
	return (double)ts * av_q2d(tb);
}

/* A video stream's frame rate: the average, or the guess from the
 * timestamps (ffprobe's r_frame_rate) when the container gives none; 0/1
 * (unknown) for a picture attached to audio (cover art: one frame). */
static AVRational frame_rate(const AVStream *st)
{
	if (st->disposition & AV_DISPOSITION_ATTACHED_PIC)
		return (AVRational){ 0, 1 };
	return st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
}

/* One stream's description. */
static struct json_object *stream_json(const AVStream *st)
{
	const AVCodecParameters *p = st->codecpar;
	const AVCodecDescriptor *d = avcodec_descriptor_get(p->codec_id);
	struct json_object *s = json_object_new_object();
	AVRational rate = frame_rate(st);
	const char *pix;

	json_object_object_add(s, "index", json_object_new_int(st->index));
	json_object_object_add(s, "type", json_object_new_string(media_type(p->codec_type)));
	json_object_object_add(s, "codec", json_object_new_string(d ? d->name : "unknown"));
	json_object_object_add(s, "codec_long",
			       d && d->long_name ? json_object_new_string(d->long_name) : NULL);
	json_object_object_add(s, "bit_rate", int_or_null(p->bit_rate, p->bit_rate > 0));
	json_object_object_add(s, "duration_s",
			       num_or_null(seconds(st->duration, st->time_base),
					   st->duration != AV_NOPTS_VALUE && st->duration > 0));
	if (p->codec_type == AVMEDIA_TYPE_VIDEO) {
		pix = av_get_pix_fmt_name((enum AVPixelFormat)p->format);
		json_object_object_add(s, "width", json_object_new_int(p->width));
		json_object_object_add(s, "height", json_object_new_int(p->height));
		json_object_object_add(s, "frame_rate",
				       num_or_null(av_q2d(rate), rate.num > 0 && rate.den > 0));
		json_object_object_add(s, "pix_fmt", pix ? json_object_new_string(pix) : NULL);
		json_object_object_add(s, "frames", int_or_null(st->nb_frames, st->nb_frames > 0));
	} else if (p->codec_type == AVMEDIA_TYPE_AUDIO) {
		json_object_object_add(s, "sample_rate", json_object_new_int(p->sample_rate));
		json_object_object_add(s, "channels",
				       json_object_new_int(p->ch_layout.nb_channels));
	}
	return s;
}

/* Whether a stream's index (an MP4's sample table) points past the end of
 * the file: the file was cut after its header. */
static bool index_past_end(const AVStream *st, int64_t size, int64_t *end)
{
	int n = avformat_index_get_entries_count(st);
	const AVIndexEntry *e;

	for (int i = n - 1; i >= 0 && i >= n - 16; i--) {
		e = avformat_index_get_entry((AVStream *)st, i);
		if (e && e->pos >= 0 && e->pos + e->size > size) {
			*end = e->pos + e->size;
			return true;
		}
	}
	return false;
}

/* Refuses a video stream whose frames are over the bound: RAP_OK, or the
 * job already failed (*failed).  Called on the header's values before a
 * decoder opens (a decoder refuses such a size and leaves it unknown),
 * and on what the decoders found. */
static int frames_bounded(struct proc_ctx *c, const AVFormatContext *fmt, bool *failed)
{
	*failed = false;
	for (unsigned i = 0; i < fmt->nb_streams; i++) {
		const AVCodecParameters *p = fmt->streams[i]->codecpar;

		if (p->codec_type != AVMEDIA_TYPE_VIDEO)
			continue;
		if (p->width > VIDEO_MAX_SIDE || p->height > VIDEO_MAX_SIDE ||
		    (long long)p->width * p->height > VIDEO_MAX_PIXELS) {
			*failed = true;
			return proc_fail(
				c, "too_large",
				"stream %u's frames are %dx%d, over the limit of %d a side "
				"and %lld pixels (refused from the header, before decoding)",
				i, p->width, p->height, VIDEO_MAX_SIDE, VIDEO_MAX_PIXELS);
		}
	}
	return RAP_OK;
}

/* Checks every stream's index against the file's size and describes the
 * streams in res: RAP_OK, or the job already failed (*failed). */
static int streams(struct proc_ctx *c, AVFormatContext *fmt, int64_t size, struct json_object *res,
		   bool *failed)
{
	struct json_object *list = json_object_new_array();
	int64_t end;
	int result;

	json_object_object_add(res, "streams", list);
	result = frames_bounded(c, fmt, failed);
	if (result != RAP_OK || *failed)
		return result;
	*failed = true;
	for (unsigned i = 0; i < fmt->nb_streams; i++) {
		if (index_past_end(fmt->streams[i], size, &end))
			return proc_fail(c, "invalid_input",
					 "the file is truncated: stream %u's index reaches byte "
					 "%lld of a file of %lld bytes",
					 i, (long long)end, (long long)size);
		json_object_array_add(list, stream_json(fmt->streams[i]));
	}
	*failed = false;
	return RAP_OK;
}

/* --- the poster ------------------------------------------------------------- */

struct poster {
	AVFormatContext *fmt;
	AVStream *st;
	AVCodecContext *dec;
	AVFrame *frame; /* the poster frame, once found */
	int64_t target; /* in the stream's time base */
	char why[RAP_ERRLEN];
};

/* err's text, after FFmpeg's last error line when there is one. */
static void av_reason(int err, char *out, size_t len)
{
	char e[AV_ERROR_MAX_STRING_SIZE];

	av_strerror(err, e, sizeof(e));
	if (last_error[0])
		snprintf(out, len, "%s (%s)", last_error, e);
	else
		snprintf(out, len, "%s", e);
}

/* Opens the stream's decoder, one thread, held to the frame bound. */
static int decoder_open(struct poster *p)
{
	const AVCodec *codec = avcodec_find_decoder(p->st->codecpar->codec_id);
	int err;

	if (!codec) {
		snprintf(p->why, sizeof(p->why), "no decoder for %s",
			 avcodec_get_name(p->st->codecpar->codec_id));
		return RAP_EINVAL;
	}
	p->dec = avcodec_alloc_context3(codec);
	if (!p->dec || avcodec_parameters_to_context(p->dec, p->st->codecpar) < 0) {
		snprintf(p->why, sizeof(p->why), "the decoder cannot be set up");
		return RAP_EINVAL;
	}
	p->dec->thread_count = 1;
	p->dec->max_pixels = VIDEO_MAX_PIXELS;
	p->dec->pkt_timebase = p->st->time_base;
	err = avcodec_open2(p->dec, codec, NULL);
	if (err < 0) {
		av_reason(err, p->why, sizeof(p->why));
		return RAP_EINVAL;
	}
	return RAP_OK;
}

/* Takes the frames the decoder has: *done once one at or after the target
 * is in p->frame (or, at the end of the stream, the last one). */
static int drain(struct poster *p, AVFrame *f, bool *done)
{
	int64_t ts;
	int err;

	for (;;) {
		err = avcodec_receive_frame(p->dec, f);
		if (err == AVERROR(EAGAIN))
			return RAP_OK;
		if (err == AVERROR_EOF) {
			*done = p->frame != NULL;
			return RAP_OK;
		}
		if (err < 0) {
			av_reason(err, p->why, sizeof(p->why));
			return RAP_OK; /* a damaged frame: the next may do */
		}
		if (!p->frame)
			p->frame = av_frame_alloc();
		av_frame_unref(p->frame);
		av_frame_move_ref(p->frame, f);
		ts = p->frame->best_effort_timestamp;
		if (ts == AV_NOPTS_VALUE || ts >= p->target) {
			*done = true;
			return RAP_OK;
		}
	}
}

/* Seeks near the target and decodes up to the first frame at or after it:
 * RAP_OK with p->frame, or RAP_EINVAL with p->why. */
static int decode_at(struct proc_ctx *c, struct poster *p)
{
	AVPacket *pkt = av_packet_alloc();
	AVFrame *f = av_frame_alloc();
	bool done = false, eof = false;
	int result = RAP_OK, err;
	long n = 0;

	if (p->target > 0 &&
	    av_seek_frame(p->fmt, p->st->index, p->target, AVSEEK_FLAG_BACKWARD) < 0)
		/* No index to seek by: decode from the start. */
		av_seek_frame(p->fmt, p->st->index, 0, AVSEEK_FLAG_BACKWARD);
	result = proc_progress(c, "decode", -1, -1);
	while (result == RAP_OK && !done && n++ < VIDEO_MAX_PACKETS) {
		if (!eof) {
			err = av_read_frame(p->fmt, pkt);
			if (err < 0) {
				eof = true;
				avcodec_send_packet(p->dec, NULL);
			} else if (pkt->stream_index != p->st->index) {
				av_packet_unref(pkt);
				continue;
			} else {
				/* Never EAGAIN: drain takes every frame after each
				 * packet.  A packet the decoder refuses (damaged) is
				 * skipped; its reason stays for the failure. */
				err = avcodec_send_packet(p->dec, pkt);
				av_packet_unref(pkt);
				if (err < 0)
					av_reason(err, p->why, sizeof(p->why));
			}
		}
		result = drain(p, f, &done);
		if (eof && !done)
			break;
	}
	av_frame_free(&f);
	av_packet_free(&pkt);
	if (result == RAP_OK && !p->frame) {
		if (!p->why[0])
			snprintf(p->why, sizeof(p->why), "the stream ends first");
		return RAP_EINVAL;
	}
	return result;
}

/* Decodes an attached picture (cover art), the demuxer's one packet of
 * its stream: RAP_OK with p->frame, or RAP_EINVAL with p->why. */
static int decode_attached(struct poster *p)
{
	AVFrame *f = av_frame_alloc();
	bool done = false;
	int err = avcodec_send_packet(p->dec, &p->st->attached_pic);

	if (err >= 0)
		err = avcodec_send_packet(p->dec, NULL);
	if (err < 0)
		av_reason(err, p->why, sizeof(p->why));
	else
		drain(p, f, &done);
	av_frame_free(&f);
	if (!p->frame) {
		if (!p->why[0])
			snprintf(p->why, sizeof(p->why), "the attached picture is empty");
		return RAP_EINVAL;
	}
	return RAP_OK;
}

/* The poster's size: the frame's display width (its sample aspect ratio
 * applied) down to max_w, never enlarged, the height by the aspect. */
static void poster_size(const AVFrame *f, int max_w, int *w, int *h)
{
	AVRational sar = f->sample_aspect_ratio;
	double dw = (double)f->width, dh = (double)f->height;

	if (sar.num > 0 && sar.den > 0)
		dw = dw * sar.num / sar.den;
	*w = dw > max_w ? max_w : (int)(dw + 0.5);
	if (*w < 1)
		*w = 1;
	*h = (int)(dh * *w / dw + 0.5);
	if (*h < 1)
		*h = 1;
}

/* The frame scaled to w x h, full-range YUV 4:2:0 for the JPEG encoder;
 * NULL when it cannot be. */
static AVFrame *scale(const AVFrame *f, int w, int h)
{
	struct SwsContext *sws;
	AVFrame *out = av_frame_alloc();
	const int *coef = sws_getCoefficients(SWS_CS_DEFAULT);

	out->format = AV_PIX_FMT_YUV420P;
	out->color_range = AVCOL_RANGE_JPEG;
	out->width = w;
	out->height = h;
	if (av_frame_get_buffer(out, 0) < 0)
		goto out_free;
	sws = sws_getContext(f->width, f->height, (enum AVPixelFormat)f->format, w, h,
			     AV_PIX_FMT_YUV420P, SWS_BICUBIC, NULL, NULL, NULL);
	if (!sws)
		goto out_free;
	sws_setColorspaceDetails(sws, coef, f->color_range == AVCOL_RANGE_JPEG, coef, 1, 0, 1 << 16,
				 1 << 16);
	sws_scale(sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, out->data,
		  out->linesize);
	sws_freeContext(sws);
	return out;
out_free:
	av_frame_free(&out);
	return NULL;
}

/* Encodes the frame as one JPEG into *pkt. */
static int encode_jpeg(AVFrame *f, AVPacket *pkt, char *why)
{
	const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
	AVCodecContext *enc;
	int err = AVERROR_ENCODER_NOT_FOUND;

	if (!codec)
		goto out_reason;
	enc = avcodec_alloc_context3(codec);
	enc->width = f->width;
	enc->height = f->height;
	/* Plain 4:2:0 marked full range: what the encoder takes for JPEG's
	 * range without the deprecated YUVJ formats (and swscale's warning
	 * about them in every job's log). */
	enc->pix_fmt = AV_PIX_FMT_YUV420P;
	enc->color_range = AVCOL_RANGE_JPEG;
	enc->time_base = (AVRational){ 1, 25 };
	enc->thread_count = 1;
	/* A fixed quantiser: about what `ffmpeg -q:v 3` writes. */
	enc->flags |= AV_CODEC_FLAG_QSCALE;
	f->quality = FF_QP2LAMBDA * 3;
	f->pts = 0;
	err = avcodec_open2(enc, codec, NULL);
	if (err >= 0)
		err = avcodec_send_frame(enc, f);
	if (err >= 0)
		err = avcodec_send_frame(enc, NULL);
	if (err >= 0)
		err = avcodec_receive_packet(enc, pkt);
	avcodec_free_context(&enc);
out_reason:
	if (err < 0)
		av_reason(err, why, RAP_ERRLEN);
	return err < 0 ? RAP_EINVAL : RAP_OK;
}

static int write_output(struct proc_ctx *c, const void *buf, size_t len)
{
	int result = proc_output_begin(c, VIDEO_POSTER, "image/jpeg");

	if (result == RAP_OK)
		result = proc_output_write(c, buf, len);
	if (result == RAP_OK)
		result = proc_output_end(c);
	return result;
}

/* Scales and encodes p->frame, writes poster.jpg and describes it in res. */
static int poster_write(struct proc_ctx *c, struct poster *p, const struct video_opts *o,
			struct json_object *res, bool *failed)
{
	AVPacket *pkt = av_packet_alloc();
	AVFrame *small = NULL;
	struct json_object *d;
	char key[128];
	int w, h, result;
	int64_t ts = p->frame->best_effort_timestamp;

	*failed = false;
	result = proc_progress(c, "encode", -1, -1);
	if (result != RAP_OK)
		goto out_free;
	poster_size(p->frame, o->poster_width, &w, &h);
	small = scale(p->frame, w, h);
	if (!small || encode_jpeg(small, pkt, p->why) != RAP_OK) {
		*failed = true;
		result = proc_fail(c, "invalid_input", "the poster frame cannot be encoded: %s",
				   small ? p->why : "it cannot be scaled");
		goto out_free;
	}
	result = write_output(c, pkt->data, (size_t)pkt->size);
	if (result != RAP_OK)
		goto out_free;
	snprintf(key, sizeof(key), "processed/%s/%s", proc_job_id(c), VIDEO_POSTER);
	d = json_object_new_object();
	json_object_object_add(d, "name", json_object_new_string(VIDEO_POSTER));
	json_object_object_add(d, "key", json_object_new_string(key));
	json_object_object_add(d, "width", json_object_new_int(w));
	json_object_object_add(d, "height", json_object_new_int(h));
	json_object_object_add(
		d, "position_s",
		json_object_new_double(ts == AV_NOPTS_VALUE
					       ? 0.0
					       : seconds(ts - (p->st->start_time == AV_NOPTS_VALUE
								       ? 0
								       : p->st->start_time),
							 p->st->time_base)));
	json_object_object_add(d, "content_type", json_object_new_string("image/jpeg"));
	json_object_object_add(d, "bytes", json_object_new_int(pkt->size));
	json_object_object_add(res, "poster", d);
out_free:
	av_frame_free(&small);
	av_packet_free(&pkt);
	return result;
}

/* The target position in seconds from the start, or RAP_EINVAL (the job
 * failed) when position_s is past the end. */
static int target_seconds(struct proc_ctx *c, AVFormatContext *fmt, const struct video_opts *o,
			  double *t, bool *failed)
{
	double dur = fmt->duration > 0 ? (double)fmt->duration / AV_TIME_BASE : 0;

	*failed = false;
	if (o->position_s >= 0) {
		if (dur > 0 && o->position_s >= dur) {
			*failed = true;
			return proc_fail(c, "invalid_params",
					 "position_s %.3f is past the end of the video (%.3f s)",
					 o->position_s, dur);
		}
		*t = o->position_s;
	} else {
		*t = dur * o->position / 100.0;
	}
	return RAP_OK;
}

/* The poster of the best video stream into res ("poster", null when the
 * file has no video stream). */
static int poster(struct proc_ctx *c, AVFormatContext *fmt, const struct video_opts *o,
		  struct json_object *res, bool *failed)
{
	struct poster p = { .fmt = fmt };
	int idx = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
	double t = 0;
	int result;

	*failed = false;
	json_object_object_add(res, "poster", NULL);
	if (!o->poster || idx < 0)
		return RAP_OK;
	result = target_seconds(c, fmt, o, &t, failed);
	if (result != RAP_OK || *failed)
		return result;
	p.st = fmt->streams[idx];
	p.target = (int64_t)(t / av_q2d(p.st->time_base)) +
		   (p.st->start_time == AV_NOPTS_VALUE ? 0 : p.st->start_time);
	result = proc_progress(c, "seek", -1, -1);
	if (result == RAP_OK && decoder_open(&p) != RAP_OK) {
		*failed = true;
		result = proc_fail(c, "invalid_input", "stream %d cannot be decoded: %s", idx,
				   p.why);
	}
	if (result == RAP_OK && !*failed) {
		/* Cover art (audio with a picture) is one packet the demuxer
		 * holds, never met at a position. */
		if (p.st->disposition & AV_DISPOSITION_ATTACHED_PIC)
			result = decode_attached(&p);
		else
			result = decode_at(c, &p);
		if (result == RAP_EINVAL) {
			*failed = true;
			result =
				proc_fail(c, "invalid_input",
					  "the file is truncated or damaged: no frame of stream %d "
					  "decodes at or after %.3f s (%s)",
					  idx, t, p.why);
		}
	}
	if (result == RAP_OK && !*failed)
		result = poster_write(c, &p, o, res, failed);
	av_frame_free(&p.frame);
	avcodec_free_context(&p.dec);
	return result;
}

/* --- the job ---------------------------------------------------------------- */

static void close_input(AVFormatContext *fmt, AVIOContext **pb)
{
	avformat_close_input(&fmt);
	if (*pb) {
		av_freep(&(*pb)->buffer);
		avio_context_free(pb);
	}
}

/* Whether the demuxer is one of the containers the type takes: a file
 * whose header is damaged may still be read as something else (a raw
 * MPEG-4 elementary stream found in a Matroska file's clusters). */
static bool container_taken(const AVInputFormat *f)
{
	return av_match_list(f->name, VIDEO_DEMUXERS, ',') > 0;
}

/* Opens the container over io: RAP_OK with *out and its reader *pb
 * (close_input frees both), or RAP_EINVAL with why. */
static int open_input(struct video_io *io, AVFormatContext **out, AVIOContext **pb, char *why)
{
	AVFormatContext *fmt = avformat_alloc_context();
	unsigned char *buf = av_malloc(VIDEO_IO_BUF);
	int err;

	*out = NULL;
	*pb = avio_alloc_context(buf, VIDEO_IO_BUF, 0, io, io_read, NULL, io_seek);
	fmt->pb = *pb;
	fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
	fmt->max_streams = VIDEO_MAX_STREAMS;
	/* A failed open frees fmt (never our reader) and sets it NULL. */
	err = avformat_open_input(&fmt, NULL, NULL, NULL);
	if (err < 0) {
		av_reason(err, why, RAP_ERRLEN);
		goto out_close;
	}
	if (!container_taken(fmt->iformat)) {
		snprintf(why, RAP_ERRLEN,
			 "its header is damaged or it is not a container this type takes "
			 "(FFmpeg reads it as %s)",
			 fmt->iformat->name);
		goto out_close;
	}
	*out = fmt;
	return RAP_OK;
out_close:
	close_input(fmt, pb);
	return RAP_EINVAL;
}

/* Reads the streams' parameters (the decoders it opens, one thread each):
 * RAP_OK, or RAP_EINVAL with why. */
static int stream_info(AVFormatContext *fmt, char *why)
{
	AVDictionary **opts = av_calloc(fmt->nb_streams ? fmt->nb_streams : 1, sizeof(*opts));
	int err;

	for (unsigned i = 0; i < fmt->nb_streams; i++)
		av_dict_set(&opts[i], "threads", "1", 0);
	err = avformat_find_stream_info(fmt, opts);
	for (unsigned i = 0; i < fmt->nb_streams; i++)
		av_dict_free(&opts[i]);
	av_free(opts);
	if (err < 0) {
		av_reason(err, why, RAP_ERRLEN);
		return RAP_EINVAL;
	}
	/* Checked here, not at the open: an MPEG program stream declares
	 * its streams only as its packets come. */
	if (fmt->nb_streams == 0) {
		snprintf(why, RAP_ERRLEN,
			 "the container declares no stream (its header is damaged)");
		return RAP_EINVAL;
	}
	return RAP_OK;
}

static void container(AVFormatContext *fmt, struct json_object *res, int64_t size)
{
	json_object_object_add(res, "container", json_object_new_string(fmt->iformat->name));
	json_object_object_add(
		res, "container_long",
		fmt->iformat->long_name ? json_object_new_string(fmt->iformat->long_name) : NULL);
	json_object_object_add(res, "duration_s",
			       num_or_null((double)fmt->duration / AV_TIME_BASE,
					   fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0));
	json_object_object_add(res, "bit_rate", int_or_null(fmt->bit_rate, fmt->bit_rate > 0));
	json_object_object_add(res, "size", json_object_new_int64(size));
}

static int video_probe_run(struct proc_ctx *c)
{
	struct video_io io = { .fd = proc_input_fd(c), .size = proc_input_size(c) };
	struct json_object *res = NULL;
	struct video_opts o;
	AVFormatContext *fmt = NULL;
	AVIOContext *pb = NULL;
	char why[RAP_ERRLEN];
	bool failed = false;
	int result;

	opts_parse(proc_params(c), &o);
	last_error[0] = '\0';
	if (io.fd < 0)
		return proc_fail(c, "unsupported", "video.probe needs its input as a file");
	result = proc_progress(c, "probe", 0, -1);
	if (result != RAP_OK)
		return result;
	if (open_input(&io, &fmt, &pb, why) != RAP_OK)
		return proc_fail(c, "invalid_input", "truncated or not a video: %s", why);
	result = frames_bounded(c, fmt, &failed);
	if (result != RAP_OK || failed)
		goto out_close;
	if (stream_info(fmt, why) != RAP_OK) {
		result = proc_fail(c, "invalid_input", "truncated or not a video: %s", why);
		goto out_close;
	}
	res = json_object_new_object();
	container(fmt, res, io.size);
	result = streams(c, fmt, io.size, res, &failed);
	if (result == RAP_OK && !failed)
		result = poster(c, fmt, &o, res, &failed);
	if (result == RAP_OK && !failed) {
		result = proc_succeed(c, res);
		res = NULL;
	}
	json_object_put(res);
out_close:
	close_input(fmt, &pb);
	return result;
}

const struct processor proc_video_probe = {
	.type = "video.probe",
	.prepare = video_probe_prepare,
	.run = video_probe_run,
};
