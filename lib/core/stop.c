/*
 * stop.c: the stop flag (rap/stop.h).  An atomic int, which C11 lets a
 * signal handler write when it is lock-free, plus an eventfd that the
 * handler makes readable so that sleepers wake at once instead of polling.
 */
#include "rap/stop.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the stop flag must be lock-free");

static atomic_int stop_flag;
static int stop_fd = -1;

static void on_signal(int sig)
{
	(void)sig;
	rap_stop_request();
}

void rap_stop_install(bool once)
{
	struct sigaction sa;

	if (stop_fd < 0)
		stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocking call returns EINTR and its loop looks. */
	sa.sa_flags = once ? SA_RESETHAND : 0;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void rap_stop_request(void)
{
	uint64_t one = 1;
	int saved = errno; /* a handler must leave errno as it found it */

	atomic_store(&stop_flag, 1);
	if (stop_fd >= 0 && write(stop_fd, &one, sizeof(one)) < 0)
		(void)0; /* full or closed: the flag alone still stops every loop */
	errno = saved;
}

bool rap_stopping(void)
{
	return atomic_load(&stop_flag) != 0;
}

void rap_stop_wait(void)
{
	while (!rap_stopping()) {
		struct pollfd p = { .fd = stop_fd, .events = POLLIN };

		/* Without the descriptor (never installed), a look a second. */
		poll(stop_fd >= 0 ? &p : NULL, stop_fd >= 0 ? 1 : 0, stop_fd >= 0 ? -1 : 1000);
	}
}

int rap_stop_fd(void)
{
	return stop_fd;
}
