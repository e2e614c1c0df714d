#ifndef RAP_ASSERT_H
#define RAP_ASSERT_H

/*
 * Invariants of buffers, pools and state machines (curl's DEBUGASSERT,
 * libuv's assert on every work state).  Unlike assert(3) they stay on in
 * every build, release included: each is a comparison or two, and a broken
 * invariant in an upload path is better an abort with the place than a
 * corrupt object.  Use them for what can only fail through a bug here,
 * never for input, which gets an error.
 */
#define RAP_ASSERT(cond) ((cond) ? (void)0 : rap__assert_fail(#cond, __FILE__, __LINE__, __func__))

/** Writes the failed condition and its place to stderr and aborts. */
_Noreturn void rap__assert_fail(const char *cond, const char *file, int line, const char *func);

#endif
