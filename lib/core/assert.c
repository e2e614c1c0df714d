/* assert.c: what a broken invariant does (rap/assert.h). */
#include "rap/assert.h"

#include <stdio.h>
#include <stdlib.h>

_Noreturn void rap__assert_fail(const char *cond, const char *file, int line, const char *func)
{
	fprintf(stderr,
		"{\"level\":\"fatal\",\"msg\":\"invariant broken: %s\",\"at\":\"%s:%d %s\"}\n",
		cond, file, line, func);
	abort();
}
