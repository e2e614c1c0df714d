/* Tests of cli/progress.c: the lines, the smoothed rate, the redraw limits. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MiB (1024LL * 1024)

Test(cli_progress, the_plain_line_has_bytes_percent_rate_and_eta)
{
	struct cli_progress p;
	char line[160];

	cli_progress_init(&p, stderr, false, true, 26214400, 0);
	cli_progress_line(&p, line, sizeof(line));
	cr_assert_str_eq(line, "progress 0/26214400 0% ? B/s eta ?");
	/* 12 MiB in 1.2 s: 10 MiB/s, 13.6 MiB left. */
	cli_progress_update(&p, 12582912, 1200);
	cli_progress_line(&p, line, sizeof(line));
	cr_assert_str_eq(line, "progress 12582912/26214400 48% 10.0 MiB/s eta 1s");
	cli_progress_update(&p, 26214400, 2400);
	cli_progress_line(&p, line, sizeof(line));
	cr_assert_str_eq(line, "progress 26214400/26214400 100% 10.3 MiB/s eta 0s");
}

Test(cli_progress, the_rate_is_smoothed_and_converges)
{
	struct cli_progress p;
	long long bytes = 0;

	cli_progress_init(&p, stderr, false, true, 1000 * MiB, 0);
	cli_progress_sample(&p, 10 * MiB, 1000);
	cr_assert_float_eq(p.rate, 10.0 * MiB, 1);
	/* A burst twice as fast moves the rate part of the way only. */
	cli_progress_sample(&p, 10 * MiB + 2 * MiB, 1100);
	cr_assert(p.rate > 10.0 * MiB && p.rate < 11.0 * MiB, "rate %f", p.rate);
	/* A steady 20 MiB/s for 20 s: the rate gets there. */
	bytes = 12 * MiB;
	for (int t = 1200; t <= 21100; t += 100) {
		bytes += 2 * MiB;
		cli_progress_sample(&p, bytes, t);
	}
	cr_assert_float_eq(p.rate, 20.0 * MiB, 0.05 * MiB);
}

Test(cli_progress, samples_closer_than_100_ms_wait_and_a_step_back_restarts_the_base)
{
	struct cli_progress p;

	cli_progress_init(&p, stderr, false, true, 100 * MiB, 0);
	cli_progress_sample(&p, 1 * MiB, 50);
	cr_assert(p.rate < 0, "no rate from 50 ms");
	cli_progress_sample(&p, 2 * MiB, 200);
	cr_assert_float_eq(p.rate, 10.0 * MiB, 1);
	/* A retry went back to the server's offset: no negative rate. */
	cli_progress_sample(&p, 1 * MiB, 300);
	cr_assert_float_eq(p.rate, 10.0 * MiB, 1);
	cr_assert_eq(p.base, 1 * MiB);
	cli_progress_at(&p, 50 * MiB, 400);
	cli_progress_sample(&p, 51 * MiB, 500);
	cr_assert(p.rate < 11.0 * MiB, "a resume's jump is not counted as speed");
}

Test(cli_progress, plain_lines_come_once_a_second_or_per_5_percent_and_at_the_end)
{
	struct cli_progress p;

	cli_progress_init(&p, stderr, false, true, 1000, 0);
	cr_assert(cli_progress_line_due(&p, 0, 0), "the first line at once");
	p.last_draw_ms = 0;
	p.last_step = 0;
	cr_assert_not(cli_progress_line_due(&p, 40, 500));
	cr_assert(cli_progress_line_due(&p, 50, 500), "5 % reached");
	cr_assert(cli_progress_line_due(&p, 10, 1000), "a second passed");
	p.last_step = 95;
	cr_assert(cli_progress_line_due(&p, 1000, 100), "the end is always printed");
	p.last_step = 100;
	cr_assert_not(cli_progress_line_due(&p, 1000, 100), "once");
}

/* Counts how often s occurs in text. */
static int count(const char *text, const char *s)
{
	int n = 0;

	for (const char *p = strstr(text, s); p; p = strstr(p + 1, s))
		n++;
	return n;
}

Test(cli_progress, a_terminal_is_redrawn_at_most_10_times_a_second)
{
	struct cli_progress p;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	cli_progress_init(&p, out, true, false, 1000 * MiB, 0);
	for (int t = 0; t < 1000; t += 5)
		cli_progress_update(&p, (long long)t * MiB / 2, t);
	/* All sent, the answer awaited: the 100 % line is drawn once. */
	for (int t = 1000; t < 1050; t++)
		cli_progress_update(&p, 1000 * MiB, t);
	fflush(out);
	cr_assert_eq(count(text, "100%"), 1, "%d times 100 %%", count(text, "100%"));
	cli_progress_note(&p, "retry: something");
	cli_progress_done(&p, 1100);
	fclose(out);
	cr_assert(count(text, "\r\033[K[") <= 13, "%d redraws", count(text, "\r\033[K["));
	cr_assert(count(text, "\r\033[K[") >= 10);
	cr_assert(strstr(text, "\r\033[Kretry: something\n"), "a note clears the bar first");
	cr_assert(strstr(text, "100%  1000.0 MiB / 1000.0 MiB"));
	cr_assert_eq(text[len - 1], '\n', "done ends the line");
	free(text);
}

Test(cli_progress, quiet_prints_nothing_but_notes)
{
	struct cli_progress p;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	cli_progress_init(&p, out, false, true, 100, 0);
	cli_progress_update(&p, 50, 2000);
	cli_progress_done(&p, 4000);
	cli_progress_note(&p, "resuming x at offset %d", 5);
	fclose(out);
	cr_assert_str_eq(text, "resuming x at offset 5\n");
	free(text);
}
