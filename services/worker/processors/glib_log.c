/* glib_log.c: see glib_log.h. */
#include "glib_log.h"

#include <glib.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Poppler's error callback (poppler-glib) logs each syntax error of the
 * document at the info level in the domain "Poppler": counted, the first
 * kept for the job's error, the first few relayed. */
#define LIBRARY_ERRORS_RELAYED 3

static unsigned long library_errors;
static char first_library_error[160];

static GLogWriterOutput log_writer(GLogLevelFlags level, const GLogField *fields, gsize n,
				   gpointer data)
{
	const char *msg = "", *domain = "glib";
	char line[512];
	int len;
	ssize_t w;

	(void)data;
	for (gsize i = 0; i < n; i++) {
		if (fields[i].length != -1)
			continue;
		if (strcmp(fields[i].key, "MESSAGE") == 0)
			msg = fields[i].value;
		else if (strcmp(fields[i].key, "GLIB_DOMAIN") == 0)
			domain = fields[i].value;
	}
	if ((level & G_LOG_LEVEL_INFO) && strcmp(domain, "Poppler") == 0) {
		if (library_errors++ == 0)
			snprintf(first_library_error, sizeof(first_library_error), "%s", msg);
		if (library_errors > LIBRARY_ERRORS_RELAYED)
			return G_LOG_WRITER_HANDLED;
	} else if (!(level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))) {
		return G_LOG_WRITER_HANDLED;
	}
	len = snprintf(line, sizeof(line), "%s: %s\n", domain, msg);
	if (len > (int)sizeof(line) - 1) {
		len = (int)sizeof(line) - 1;
		line[len - 1] = '\n';
	}
	w = write(STDERR_FILENO, line, (size_t)len);
	(void)w;
	return G_LOG_WRITER_HANDLED;
}

void glib_log_plain(void)
{
	static bool set;

	if (!set)
		g_log_set_writer_func(log_writer, NULL, NULL);
	set = true;
}

unsigned long glib_log_library_errors(const char **first)
{
	if (first)
		*first = first_library_error;
	return library_errors;
}

void glib_log_library_errors_reset(void)
{
	library_errors = 0;
	first_library_error[0] = '\0';
}
