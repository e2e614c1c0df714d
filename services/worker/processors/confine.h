#ifndef PROC_CONFINE_H
#define PROC_CONFINE_H

#include <stdbool.h>

/*
 * confine.c: the sandbox the child closes around itself before it reads
 * any input (docs/sandbox.md): resource limits, no new privileges, and a
 * seccomp allow-list whose every other system call traps, names itself on
 * fd 2 and kills the process with SIGSYS.
 */
struct confine_limits {
	long long memory_mb; /* RLIMIT_AS (not under ASan: see rap/sanitize.h) */
	long long cpu_s;     /* RLIMIT_CPU: SIGXCPU, then SIGKILL a second later */
	bool threads;        /* the processor starts threads: RLIMIT_NPROC is left as it is */
	bool scratch;        /* it writes temporary files (in its Landlock folder) */
};

/** Sets the rlimits; err (RAP_ERRLEN) says which failed. */
int confine_rlimits(const struct confine_limits *l, char *err);

/** PR_SET_NO_NEW_PRIVS, then the seccomp filter (libseccomp); from here on
 *  only the allowed calls work.  threads: new threads may be started too
 *  (clone with CLONE_THREAD, and what a new thread's start-up calls);
 *  a new process never.  err says what failed. */
int confine_seccomp(bool threads, char *err);

/** As confine_seccomp; scratch: the calls of temporary files as well
 *  (openat, mkdir, unlink, rmdir, write on any descriptor...), for a
 *  child that confine_landlock confined to its folder first. */
int confine_seccomp_opts(bool threads, bool scratch, char *err);

/** Landlock: from here on the process may touch files only beneath dir
 *  (read, write, create, remove), and remove empty folders beneath base
 *  (its own dir, at the end).  RAP_EIO when the kernel has no Landlock
 *  (err says so): a scratch processor never runs unconfined. */
int confine_landlock(const char *dir, const char *base, char *err);

/** The fork server's own filter, a deny-list (it must fork, wait and
 *  remove its children's folders): no socket of any kind, no exec, no
 *  ptrace, no mount; each refused with EPERM.  Its children inherit it
 *  under their own allow-list. */
int confine_server(char *err);

/** Installs the out-of-memory handler: a FAIL memory_limit frame on fd,
 *  then exit RAP_CHILD_EXIT_OOM. */
void confine_oom_report(int fd, long long memory_mb);

#endif
