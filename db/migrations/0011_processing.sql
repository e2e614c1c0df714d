-- Processing (issue 11): row-level errors with their column, code and an
-- excerpt of the value, and where a running job stands (stage, rows, ETA).
ALTER TABLE job_errors
	ADD COLUMN column_name text,
	ADD COLUMN code        text NOT NULL DEFAULT 'invalid',
	ADD COLUMN value       text,
	ADD COLUMN attempt     integer NOT NULL DEFAULT 0;
-- Keyset pagination by (job_id, row_no, id), with filters by column or code.
CREATE INDEX job_errors_job_row ON job_errors (job_id, row_no, id);

ALTER TABLE jobs
	ADD COLUMN stage                 text,
	ADD COLUMN rows_done             bigint,
	ADD COLUMN estimated_completion  timestamptz;
