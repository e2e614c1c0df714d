#ifndef RAP_STOP_H
#define RAP_STOP_H

#include <stdbool.h>

/*
 * The process's one stop flag.  SIGTERM and SIGINT request the stop (a
 * signal handler can only reach a global: this is the one piece of global
 * mutable state the library keeps); every loop asks rap_stopping(), every
 * wait is rap_sleep_ms (rap/clock.h) or polls rap_stop_fd(), so a stop
 * request ends them at once.  The flag is an atomic: threads read it
 * without a data race.
 */

/**
 * Installs the handlers of SIGTERM and SIGINT (and ignores SIGPIPE: a peer
 * that closes while we write is an error to report, not a death).  With
 * once, the handlers reset themselves: a second signal kills the process
 * (the CLI: a user who presses Ctrl-C twice means it).  Call it once, at
 * start, before threads.
 */
void rap_stop_install(bool once);

/** Requests the stop (async-signal-safe). */
void rap_stop_request(void);

/** True once the stop was requested. */
bool rap_stopping(void);

/** Waits until the stop is requested (a main thread whose work runs on
 *  other threads). */
void rap_stop_wait(void);

/** A descriptor that polls readable once the stop was requested, or -1
 *  before rap_stop_install. */
int rap_stop_fd(void);

#endif
