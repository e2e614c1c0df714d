-- 0009: finished jobs by the time they ended, for RAP_JOB_RETENTION_DAYS:
-- job-api removes those past the retention (their job_events and
-- job_errors go with them, ON DELETE CASCADE) in small batches.  DEAD jobs
-- are not in the index: they wait for an operator, whatever their age.
CREATE INDEX jobs_finished ON jobs (finished_at)
	WHERE status IN ('COMPLETED', 'FAILED', 'CANCELLED');
