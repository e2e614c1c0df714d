/*
 * signal.c: SIGINT and SIGTERM become a flag.  Transfers (libcurl's
 * progress callback), waits (rap_sleep_ms) and the WebSocket loop check it,
 * so an interrupted command stops at a clean point, keeps its state file and
 * says how to resume.  The handler resets itself: a second signal kills.
 */
#include "cli.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

void cli_signal_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocking poll() returns EINTR and the loop looks. */
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A peer that closes while we write must not kill us: libcurl and
	 * libwebsockets see EPIPE and report it. */
	signal(SIGPIPE, SIG_IGN);
}

bool cli_signal_interrupted(void)
{
	return interrupted != 0;
}

const volatile sig_atomic_t *cli_signal_flag(void)
{
	return &interrupted;
}
