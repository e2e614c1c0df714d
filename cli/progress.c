/*
 * progress.c: how an upload shows its progress on stderr.  On a terminal,
 * one line redrawn at most 10 times a second: a bar, bytes sent of the
 * total, percent, rate and time left.  Otherwise (a log, a pipe, a test)
 * plain lines that a program can parse, at most one a second or one per
 * 5 % step:
 *     progress 12582912/26214400 48% 10.2 MiB/s eta 1s
 * The rate is smoothed (an exponential average with a 3 s time constant)
 * so the time left does not jump with every packet.
 */
#include "cli.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define TTY_REDRAW_MS 100
#define LINE_EVERY_MS 1000
#define LINE_STEP_PCT 5
#define RATE_SAMPLE_MS 100
#define RATE_TAU_S 3.0
#define BAR_WIDTH 24

void cli_progress_init(struct cli_progress *p, FILE *out, bool tty, bool quiet, long long total,
		       int64_t now_ms)
{
	memset(p, 0, sizeof(*p));
	p->out = out;
	p->tty = tty;
	p->quiet = quiet;
	p->total = total;
	p->base_ms = now_ms;
	p->rate = -1;
	p->last_draw_ms = now_ms - LINE_EVERY_MS;
	p->last_step = -1;
}

void cli_progress_sample(struct cli_progress *p, long long bytes, int64_t now_ms)
{
	int64_t dt_ms = now_ms - p->base_ms;
	double inst, w;

	if (bytes < p->base) {
		/* A retry went back to the server's offset: measure from there. */
		p->base = bytes;
		p->base_ms = now_ms;
		return;
	}
	if (dt_ms < RATE_SAMPLE_MS)
		return;
	inst = (double)(bytes - p->base) * 1000.0 / (double)dt_ms;
	if (p->rate < 0) {
		p->rate = inst;
	} else {
		w = 1.0 - exp(-(double)dt_ms / 1000.0 / RATE_TAU_S);
		p->rate += (inst - p->rate) * w;
	}
	p->base = bytes;
	p->base_ms = now_ms;
}

static int percent(long long bytes, long long total)
{
	if (total <= 0)
		return 100;
	return (int)(bytes * 100 / total);
}

/* "10.2 MiB/s" and "eta 1s" of the current state. */
static void rate_and_eta(const struct cli_progress *p, char *rate, size_t rlen, char *eta,
			 size_t elen)
{
	char n[24];

	if (p->rate < 0) {
		snprintf(rate, rlen, "? B/s");
		snprintf(eta, elen, "?");
		return;
	}
	cli_units_bytes(p->rate, n, sizeof(n));
	snprintf(rate, rlen, "%s/s", n);
	if (p->bytes >= p->total)
		snprintf(eta, elen, "0s");
	else
		cli_units_duration(p->rate > 0 ? (double)(p->total - p->bytes) / p->rate : -1, eta,
				   elen);
}

void cli_progress_line(const struct cli_progress *p, char *out, size_t len)
{
	char rate[32], eta[32];

	rate_and_eta(p, rate, sizeof(rate), eta, sizeof(eta));
	snprintf(out, len, "progress %lld/%lld %d%% %s eta %s", p->bytes, p->total,
		 percent(p->bytes, p->total), rate, eta);
}

bool cli_progress_line_due(const struct cli_progress *p, long long bytes, int64_t now_ms)
{
	if (bytes >= p->total)
		return p->last_step < 100;
	return now_ms - p->last_draw_ms >= LINE_EVERY_MS ||
	       percent(bytes, p->total) / LINE_STEP_PCT > p->last_step / LINE_STEP_PCT;
}

static void draw_tty(struct cli_progress *p)
{
	char bar[BAR_WIDTH + 1], sent[32], total[32], rate[32], eta[32];
	int pct = percent(p->bytes, p->total), fill = pct * BAR_WIDTH / 100;

	for (int i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : '-';
	bar[BAR_WIDTH] = '\0';
	cli_units_bytes((double)p->bytes, sent, sizeof(sent));
	cli_units_bytes((double)p->total, total, sizeof(total));
	rate_and_eta(p, rate, sizeof(rate), eta, sizeof(eta));
	fprintf(p->out, "\r\033[K[%s] %3d%%  %s / %s  %s  eta %s", bar, pct, sent, total, rate,
		eta);
	fflush(p->out);
	p->drawn = true;
}

void cli_progress_update(struct cli_progress *p, long long bytes, int64_t now_ms)
{
	char line[160];

	cli_progress_sample(p, bytes, now_ms);
	p->bytes = bytes;
	if (p->quiet)
		return;
	if (p->tty) {
		/* The end once, without waiting: the server's answer may take a while. */
		if (now_ms - p->last_draw_ms >= TTY_REDRAW_MS ||
		    (bytes >= p->total && p->last_step < 100)) {
			draw_tty(p);
			p->last_draw_ms = now_ms;
			p->last_step = percent(bytes, p->total);
		}
		return;
	}
	if (!cli_progress_line_due(p, bytes, now_ms))
		return;
	cli_progress_line(p, line, sizeof(line));
	fprintf(p->out, "%s\n", line);
	fflush(p->out);
	p->last_draw_ms = now_ms;
	p->last_step = percent(bytes, p->total);
}

void cli_progress_at(struct cli_progress *p, long long bytes, int64_t now_ms)
{
	p->base = bytes;
	p->base_ms = now_ms;
	cli_progress_update(p, bytes, now_ms);
}

void cli_progress_done(struct cli_progress *p, int64_t now_ms)
{
	cli_progress_update(p, p->total, now_ms);
	if (p->tty && p->drawn && !p->quiet) {
		fputc('\n', p->out);
		p->drawn = false;
	}
}

void cli_progress_note(struct cli_progress *p, const char *fmt, ...)
{
	va_list ap;

	if (p && p->tty && p->drawn) {
		fputs("\r\033[K", p->out);
		p->drawn = false;
		/* Redraw at the next update, whatever the time. */
		p->last_draw_ms -= TTY_REDRAW_MS;
	}
	va_start(ap, fmt);
	vfprintf(p ? p->out : stderr, fmt, ap);
	va_end(ap);
	fputc('\n', p ? p->out : stderr);
	fflush(p ? p->out : stderr);
}
