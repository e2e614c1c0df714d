/* Tests of services/worker/outcome.c (what became of a sandboxed child,
 * from its wait status) and of progress.c's estimate and message. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "sandbox.h"
#include "rap/frame.h"
#include "rap/jobstore.h"

#define EXITED(code) ((code) << 8)
#define KILLED(sig) (sig)

static struct sandbox_end base(void)
{
	return (struct sandbox_end){ .wall_s = 15,
				     .cpu_limit_s = 3,
				     .memory_mb = 128,
				     .output_mb = 8,
				     .violation = -1,
				     .input_result = RAP_OK };
}

Test(sandbox_outcome, wait_status_macros_match_the_kernels)
{
	cr_assert(WIFEXITED(EXITED(3)) && WEXITSTATUS(EXITED(3)) == 3);
	cr_assert(WIFSIGNALED(KILLED(SIGSEGV)) && WTERMSIG(KILLED(SIGSEGV)) == SIGSEGV);
}

Test(sandbox_outcome, a_result_and_exit_0_completes)
{
	struct sandbox_end e = base();
	char err[RAP_ERRLEN] = "";

	e.status = EXITED(0);
	e.result = true;
	cr_assert_eq(sandbox_classify(&e, err), SBX_COMPLETED);
}

Test(sandbox_outcome, a_fail_frame_fails_with_its_code)
{
	struct sandbox_end e = base();
	char err[RAP_ERRLEN];

	e.status = EXITED(0);
	e.fail_code = "invalid_input";
	e.fail_message = "row 3 has 4 fields, not 3";
	cr_assert_eq(sandbox_classify(&e, err), SBX_FAILED);
	cr_assert_str_eq(err, "invalid_input: row 3 has 4 fields, not 3");
}

Test(sandbox_outcome, the_workers_kills_say_why)
{
	static const struct {
		enum sandbox_kill kill;
		enum worker_sandbox_outcome out;
		const char *err;
	} cases[] = {
		{ KILL_WALL, SBX_TIME_LIMIT,
		  "time_limit: wall time over 15 s; the processor was killed" },
		{ KILL_MEMORY, SBX_MEMORY_LIMIT,
		  "memory_limit: resident memory over 128 MiB; the processor was killed" },
		{ KILL_OUTPUT, SBX_OUTPUT_LIMIT,
		  "output_limit: outputs over 8 MiB; the processor was killed" },
		{ KILL_PROTOCOL, SBX_CRASHED,
		  "processor_crashed: it broke the frame protocol (bad frame)" },
		{ KILL_CANCEL, SBX_CANCELLED, NULL },
		{ KILL_STOP, SBX_CANCELLED, NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sandbox_end e = base();
		char err[RAP_ERRLEN] = "";

		/* Killed by the worker: SIGKILL, whatever it sent before. */
		e.status = KILLED(SIGKILL);
		e.kill = cases[i].kill;
		e.result = true;
		cr_assert_eq(sandbox_classify(&e, err), cases[i].out, "case %zu", i);
		if (cases[i].err)
			cr_assert_str_eq(err, cases[i].err);
	}
}

Test(sandbox_outcome, cpu_limit_is_time_limit_whether_sigxcpu_or_the_hard_sigkill)
{
	struct sandbox_end e = base();
	char err[RAP_ERRLEN];

	e.status = KILLED(SIGXCPU);
	cr_assert_eq(sandbox_classify(&e, err), SBX_TIME_LIMIT);
	cr_assert_str_eq(err, "time_limit: CPU time over 3 s (SIGXCPU)");
	e.status = KILLED(SIGKILL);
	e.cpu_s = 4.01;
	cr_assert_eq(sandbox_classify(&e, err), SBX_TIME_LIMIT);
	cr_assert_str_eq(err, "time_limit: CPU time over 3 s (SIGKILL)");
	/* A SIGKILL the worker did not send, well under the CPU limit. */
	e.cpu_s = 0.2;
	cr_assert_eq(sandbox_classify(&e, err), SBX_CRASHED);
	cr_assert(strstr(err, "not by the worker"));
}

Test(sandbox_outcome, sigsys_is_a_sandbox_violation_with_the_call_named)
{
	struct sandbox_end e = base();
	char err[RAP_ERRLEN];

	e.status = KILLED(SIGSYS);
	e.violation = 41;
	e.violation_name = "socket";
	cr_assert_eq(sandbox_classify(&e, err), SBX_VIOLATION);
	cr_assert_str_eq(
		err, "sandbox_violation: the processor made a forbidden system call, socket (41)");
	e.violation = -1;
	cr_assert_eq(sandbox_classify(&e, err), SBX_VIOLATION);
}

Test(sandbox_outcome, other_signals_and_exits_without_an_outcome_are_crashes)
{
	struct sandbox_end e = base();
	char err[RAP_ERRLEN];

	e.status = KILLED(SIGSEGV);
	cr_assert_eq(sandbox_classify(&e, err), SBX_CRASHED);
	cr_assert_str_eq(err, "processor_crashed: killed by SIGSEGV");
	e.status = KILLED(SIGABRT);
	cr_assert_eq(sandbox_classify(&e, err), SBX_CRASHED);
	cr_assert_str_eq(err, "processor_crashed: killed by SIGABRT");
	e.status = EXITED(RAP_CHILD_EXIT_NO_OUTCOME);
	cr_assert_eq(sandbox_classify(&e, err), SBX_CRASHED);
	e.status = EXITED(0); /* exit 0, but neither RESULT nor FAIL */
	cr_assert_eq(sandbox_classify(&e, err), SBX_CRASHED);
	cr_assert_str_eq(err, "processor_crashed: it exited with status 0 without a result");
}

Test(sandbox_outcome, out_of_memory_is_memory_limit_not_a_crash)
{
	struct sandbox_end e = base();
	char err[RAP_ERRLEN];

	e.status = EXITED(RAP_CHILD_EXIT_OOM);
	e.fail_message = "out of memory allocating 1048576 bytes (limit 128 MiB)";
	cr_assert_eq(sandbox_classify(&e, err), SBX_MEMORY_LIMIT);
	cr_assert_str_eq(err,
			 "memory_limit: out of memory allocating 1048576 bytes (limit 128 MiB)");
}

Test(sandbox_outcome, a_child_that_cannot_start_and_s3_trouble_are_transient)
{
	struct sandbox_end e = base();
	char err[RAP_ERRLEN];

	e.status = EXITED(RAP_CHILD_EXIT_PREPARE);
	cr_assert_eq(sandbox_classify(&e, err), SBX_TRANSIENT);
	/* The input broke off: even a RESULT came from part of it. */
	e.status = EXITED(0);
	e.result = true;
	e.input_result = RAP_ES3;
	e.input_err = "uploads/x: HTTP 503";
	cr_assert_eq(sandbox_classify(&e, err), SBX_TRANSIENT);
	cr_assert_str_eq(err, "reading the input: uploads/x: HTTP 503");
	/* The child closing its input early is no failure. */
	e.input_result = RAP_ECANCELED;
	cr_assert_eq(sandbox_classify(&e, err), SBX_COMPLETED);
	/* A missing object is the input's own fault. */
	e.input_result = RAP_ENOENT;
	cr_assert_eq(sandbox_classify(&e, err), SBX_FAILED);
}

Test(sandbox_outcome, signal_names)
{
	char buf[32];

	cr_assert_str_eq(sandbox_signal_name(SIGSEGV, buf, sizeof(buf)), "SIGSEGV");
	cr_assert_str_eq(sandbox_signal_name(SIGSYS, buf, sizeof(buf)), "SIGSYS");
	cr_assert_str_eq(sandbox_signal_name(200, buf, sizeof(buf)), "signal 200");
}

Test(progress, eta_from_the_rate_so_far)
{
	cr_assert_eq(worker_eta_ms(10000, 25, 100), 30000, "a quarter in 10 s: 30 s left");
	cr_assert_eq(worker_eta_ms(10000, 100, 100), 0);
	cr_assert_eq(worker_eta_ms(10000, 0, 100), -1, "nothing done yet");
	cr_assert_eq(worker_eta_ms(10000, 5, 0), -1, "size unknown");
	cr_assert_eq(worker_eta_ms(500, 50, 100), -1, "under a second of data");
	cr_assert_eq(worker_eta_ms(60000, 1, 1000000000), -1, "beyond a month");
}

Test(progress, the_message_carries_owner_stage_rows_and_eta)
{
	struct rap_jobmsg jm = { .v = 1,
				 .job_id = "9b2e4c1a-7d3f-4e8b-a5c6-1f0e2d3c4b5a",
				 .type = "test.sandbox",
				 .owner = "dev" };
	struct rap_job_progress pr = { .fraction = 0.25, .stage = "parse", .rows = 1200 };
	char *m = worker_progress_message(&jm, &pr, "2026-12-05T12:00:00.000Z");

	cr_assert_str_eq(m, "{\"v\":1,\"type\":\"job.progress\","
			    "\"job_id\":\"9b2e4c1a-7d3f-4e8b-a5c6-1f0e2d3c4b5a\",\"owner\":\"dev\","
			    "\"job_type\":\"test.sandbox\",\"progress\":0.2500,\"stage\":\"parse\","
			    "\"rows\":1200,\"estimated_completion\":\"2026-12-05T12:00:00.000Z\"}");
	free(m);
	pr.stage = NULL;
	pr.rows = -1;
	m = worker_progress_message(&jm, &pr, "");
	cr_assert(strstr(m, "\"stage\":null,\"rows\":null,\"estimated_completion\":null}"));
	free(m);
}
