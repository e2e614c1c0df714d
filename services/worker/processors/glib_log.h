/* glib_log.h: GLib's logging made safe under the sandbox's filter, for the
 * processors whose libraries log through GLib (libvips, poppler-glib). */
#ifndef RAP_PROC_GLIB_LOG_H
#define RAP_PROC_GLIB_LOG_H

/* Installs, once per process, a GLib log writer that writes warnings and
 * errors to fd 2 as one plain line each and drops the rest.  GLib's own
 * writer asks whether fd 2 is the journal (getpeername) and a terminal
 * (ioctl), which the filter refuses; GLib allows one writer per process
 * (a second call aborts), so every processor calls this, never GLib. */
void glib_log_plain(void);

/* The errors a library reports about its input through GLib's info level
 * (poppler's syntax errors, domain "Poppler") since the last reset; *first
 * (if first) the first of them, "" when none.  The first three are
 * relayed to fd 2 as well. */
unsigned long glib_log_library_errors(const char **first);
void glib_log_library_errors_reset(void);

#endif
