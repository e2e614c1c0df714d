/* jobstate.c: the states of a job and the transitions between them. */
#include "rap/jobstate.h"
#include "rap/err.h"

#include <string.h>

static const char *const state_names[RAP_JOB_NSTATES] = {
	"CREATED", "QUEUED", "PROCESSING", "RETRYING", "FAILED", "COMPLETED", "DEAD", "CANCELLED",
};

const struct rap_job_transition rap_job_transitions[] = {
	{ RAP_JOB_CREATED, RAP_JOB_QUEUED },
	/* A worker may claim before the relay records QUEUED. */
	{ RAP_JOB_CREATED, RAP_JOB_PROCESSING },
	{ RAP_JOB_CREATED, RAP_JOB_CANCELLED },
	{ RAP_JOB_QUEUED, RAP_JOB_PROCESSING },
	{ RAP_JOB_QUEUED, RAP_JOB_CANCELLED },
	{ RAP_JOB_QUEUED, RAP_JOB_DEAD },
	{ RAP_JOB_PROCESSING, RAP_JOB_COMPLETED },
	{ RAP_JOB_PROCESSING, RAP_JOB_RETRYING },
	{ RAP_JOB_PROCESSING, RAP_JOB_FAILED },
	{ RAP_JOB_PROCESSING, RAP_JOB_DEAD },
	{ RAP_JOB_PROCESSING, RAP_JOB_CANCELLED },
	/* Another worker takes over an expired lease: a new attempt. */
	{ RAP_JOB_PROCESSING, RAP_JOB_PROCESSING },
	/* Handed back on shutdown. */
	{ RAP_JOB_PROCESSING, RAP_JOB_QUEUED },
	{ RAP_JOB_RETRYING, RAP_JOB_PROCESSING },
	{ RAP_JOB_RETRYING, RAP_JOB_CANCELLED },
	{ RAP_JOB_RETRYING, RAP_JOB_DEAD },
	/* Operator replay. */
	{ RAP_JOB_DEAD, RAP_JOB_QUEUED },
};

const unsigned rap_job_transitions_count =
	sizeof(rap_job_transitions) / sizeof(rap_job_transitions[0]);

const char *rap_jobstate_name(enum rap_job_state s)
{
	return (unsigned)s < RAP_JOB_NSTATES ? state_names[s] : "UNKNOWN";
}

int rap_jobstate_parse(const char *name, enum rap_job_state *out)
{
	unsigned i;

	for (i = 0; i < RAP_JOB_NSTATES; i++) {
		if (strcmp(name, state_names[i]) == 0) {
			*out = (enum rap_job_state)i;
			return RAP_OK;
		}
	}
	return RAP_EINVAL;
}

bool rap_jobstate_terminal(enum rap_job_state s)
{
	return s == RAP_JOB_FAILED || s == RAP_JOB_COMPLETED || s == RAP_JOB_DEAD ||
	       s == RAP_JOB_CANCELLED;
}

bool rap_jobstate_allowed(enum rap_job_state from, enum rap_job_state to)
{
	unsigned i;

	for (i = 0; i < rap_job_transitions_count; i++)
		if (rap_job_transitions[i].from == from && rap_job_transitions[i].to == to)
			return true;
	return false;
}
