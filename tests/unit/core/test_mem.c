/* Tests of lib/core/mem.c: the one out-of-memory policy and its handler. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "rap/mem.h"
#include "rap/sanitize.h"

#define HANDLED_EXIT 42

static void handled(size_t n)
{
	/* Asked for about SIZE_MAX / 2: the size reaches the handler. */
	_exit(n > SIZE_MAX / 4 ? HANDLED_EXIT : 1);
}

/* AddressSanitizer reports an impossible allocation itself instead of
 * returning NULL, so the policy is only reachable in the plain build. */
Test(mem, out_of_memory_calls_the_handler_before_aborting, .exit_code = HANDLED_EXIT)
{
	if (RAP_ASAN)
		_exit(HANDLED_EXIT);
	rap_mem_set_oom(handled);
	free(rap_malloc(SIZE_MAX / 2));
}

Test(mem, without_a_handler_out_of_memory_aborts, .signal = SIGABRT)
{
	if (RAP_ASAN)
		abort();
	rap_mem_set_oom(NULL);
	free(rap_realloc(NULL, SIZE_MAX / 2));
}
