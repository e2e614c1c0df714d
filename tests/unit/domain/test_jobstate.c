/* Tests of lib/domain/jobstate.c: the transition table and its copy in SQL. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "rap/err.h"
#include "rap/jobstate.h"
#include "rap/schema.h"

Test(jobstate, names_round_trip_for_every_state)
{
	for (int s = 0; s < RAP_JOB_NSTATES; s++) {
		enum rap_job_state back;

		cr_assert_eq(rap_jobstate_parse(rap_jobstate_name(s), &back), RAP_OK);
		cr_assert_eq(back, s);
	}
	enum rap_job_state x;
	cr_assert_eq(rap_jobstate_parse("DONE", &x), RAP_EINVAL);
	cr_assert_eq(rap_jobstate_parse("completed", &x), RAP_EINVAL);
}

Test(jobstate, terminal_states_are_the_four_of_the_design)
{
	cr_assert(rap_jobstate_terminal(RAP_JOB_FAILED));
	cr_assert(rap_jobstate_terminal(RAP_JOB_COMPLETED));
	cr_assert(rap_jobstate_terminal(RAP_JOB_DEAD));
	cr_assert(rap_jobstate_terminal(RAP_JOB_CANCELLED));
	cr_assert_not(rap_jobstate_terminal(RAP_JOB_CREATED));
	cr_assert_not(rap_jobstate_terminal(RAP_JOB_QUEUED));
	cr_assert_not(rap_jobstate_terminal(RAP_JOB_PROCESSING));
	cr_assert_not(rap_jobstate_terminal(RAP_JOB_RETRYING));
}

Test(jobstate, only_dead_leaves_a_terminal_state_and_only_to_queued)
{
	for (int from = 0; from < RAP_JOB_NSTATES; from++) {
		if (!rap_jobstate_terminal(from))
			continue;
		for (int to = 0; to < RAP_JOB_NSTATES; to++) {
			bool want = from == RAP_JOB_DEAD && to == RAP_JOB_QUEUED;

			cr_assert_eq(rap_jobstate_allowed(from, to), want, "%s -> %s",
				     rap_jobstate_name(from), rap_jobstate_name(to));
		}
	}
}

Test(jobstate, design_transitions_are_allowed)
{
	cr_assert(rap_jobstate_allowed(RAP_JOB_CREATED, RAP_JOB_QUEUED));
	cr_assert(rap_jobstate_allowed(RAP_JOB_CREATED, RAP_JOB_PROCESSING));
	cr_assert(rap_jobstate_allowed(RAP_JOB_QUEUED, RAP_JOB_PROCESSING));
	cr_assert(rap_jobstate_allowed(RAP_JOB_PROCESSING, RAP_JOB_COMPLETED));
	cr_assert(rap_jobstate_allowed(RAP_JOB_PROCESSING, RAP_JOB_PROCESSING));
	cr_assert(rap_jobstate_allowed(RAP_JOB_RETRYING, RAP_JOB_PROCESSING));
	cr_assert_not(rap_jobstate_allowed(RAP_JOB_CREATED, RAP_JOB_COMPLETED));
	cr_assert_not(rap_jobstate_allowed(RAP_JOB_QUEUED, RAP_JOB_RETRYING));
	cr_assert_not(rap_jobstate_allowed(RAP_JOB_CREATED, RAP_JOB_DEAD));
}

/* Collects ('FROM', 'TO') pairs of the job_transitions INSERT in SQL. */
static unsigned sql_transitions(const char *sql, int pairs[][2], unsigned max)
{
	const char *p = strstr(sql, "INSERT INTO job_transitions VALUES");
	const char *end;
	unsigned n = 0;

	cr_assert_not_null(p, "the migration has no job_transitions INSERT");
	end = strchr(p, ';');
	while ((p = strchr(p, '(')) && p < end && n < max) {
		char a[16], b[16];
		enum rap_job_state sa, sb;

		cr_assert_eq(sscanf(p, "('%15[A-Z]', '%15[A-Z]')", a, b), 2);
		cr_assert_eq(rap_jobstate_parse(a, &sa), RAP_OK, "%s", a);
		cr_assert_eq(rap_jobstate_parse(b, &sb), RAP_OK, "%s", b);
		pairs[n][0] = sa;
		pairs[n][1] = sb;
		n++;
		p++;
	}
	return n;
}

Test(jobstate, database_table_equals_the_c_table)
{
	int pairs[64][2];
	unsigned n, i;

	cr_assert_geq(rap_schema_migrations_count, 1);
	cr_assert_str_eq(rap_schema_migrations[0].name, "0001_init");
	n = sql_transitions(rap_schema_migrations[0].sql, pairs, 64);
	cr_assert_eq(n, rap_job_transitions_count, "SQL has %u transitions, C has %u", n,
		     rap_job_transitions_count);
	for (i = 0; i < n; i++)
		cr_assert(rap_jobstate_allowed(pairs[i][0], pairs[i][1]),
			  "SQL allows %s -> %s but C does not", rap_jobstate_name(pairs[i][0]),
			  rap_jobstate_name(pairs[i][1]));
}

Test(jobstate, migrations_are_ordered_by_version)
{
	for (unsigned i = 1; i < rap_schema_migrations_count; i++)
		cr_assert_gt(rap_schema_migrations[i].version,
			     rap_schema_migrations[i - 1].version);
}
