#ifndef RAP_JOBSTATE_H
#define RAP_JOBSTATE_H

#include <stdbool.h>

/*
 * The job state machine: the one C table of allowed transitions.  The
 * database holds the same table (db/migrations/0001_init.sql) and refuses
 * any other change; tests/unit/test_jobstate.c proves the two agree.
 */
enum rap_job_state {
	RAP_JOB_CREATED,
	RAP_JOB_QUEUED,
	RAP_JOB_PROCESSING,
	RAP_JOB_RETRYING,
	RAP_JOB_FAILED,
	RAP_JOB_COMPLETED,
	RAP_JOB_DEAD,
	RAP_JOB_CANCELLED,
	RAP_JOB_NSTATES
};

struct rap_job_transition {
	enum rap_job_state from;
	enum rap_job_state to;
};

extern const struct rap_job_transition rap_job_transitions[];
extern const unsigned rap_job_transitions_count;

/** The state's name, e.g. "PROCESSING". */
const char *rap_jobstate_name(enum rap_job_state s);
/** Parses a name; RAP_EINVAL for an unknown one. */
int rap_jobstate_parse(const char *name, enum rap_job_state *out);
/** True for FAILED, COMPLETED, DEAD and CANCELLED. */
bool rap_jobstate_terminal(enum rap_job_state s);
/** True when from -> to is in the table. */
bool rap_jobstate_allowed(enum rap_job_state from, enum rap_job_state to);

#endif
