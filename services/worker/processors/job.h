#ifndef PROC_JOB_H
#define PROC_JOB_H

#include <sys/types.h>

/*
 * job.c: one job in this process, on fds 0 (input), 1 (frames), 2 (log)
 * and 3 (START): START, prepare, the sandbox, the run.
 */
struct child_job {
	const char *type;
	long long memory_mb, cpu_s;
	/* A child forked by the fork server: the worker that must be its
	 * parent once START has come (0: started by exec). */
	pid_t worker;
	/* A processor with a scratch folder: the child's own (Landlock
	 * confines its files to it) and the server's folder of them (where
	 * it may remove its own at the end). */
	const char *scratch, *scratch_base;
};

/** The child's exit status (enum rap_child_exit). */
int child_job_run(const struct child_job *j);

#endif
