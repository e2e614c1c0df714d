-- 0012: a webhook's body says how many rows the job processed and how many
-- failed, and when it completed (issue 11).  rows_processed and
-- rows_failed come from the job's result (the validating processors set
-- them; null for a type that counts no rows, or a job without a result);
-- completed_at is the moment a COMPLETED job finished, null for the other
-- final states.  Only the body changes: the trigger of 0010 stays.
CREATE OR REPLACE FUNCTION jobs_webhook() RETURNS trigger AS $$
DECLARE
	processed jsonb := NEW.result -> 'rows_processed';
	failed    jsonb := NEW.result -> 'rows_failed';
BEGIN
	IF NEW.webhook_url IS NULL OR NEW.status = OLD.status
	   OR NEW.status NOT IN ('COMPLETED', 'FAILED', 'DEAD', 'CANCELLED') THEN
		RETURN NULL;
	END IF;
	INSERT INTO webhook_deliveries (job_id, url, body)
	VALUES (NEW.id, NEW.webhook_url,
		json_build_object('v', 1, 'type', 'job.finished', 'job_id', NEW.id,
			'job_type', NEW.type, 'object_key', NEW.object_key,
			'status', NEW.status, 'attempt', NEW.attempt,
			'result', NEW.result, 'error', NEW.error,
			'finished_at', rap_ts(coalesce(NEW.finished_at, now())),
			'rows_processed', CASE WHEN jsonb_typeof(processed) = 'number'
				THEN processed END,
			'rows_failed', CASE WHEN jsonb_typeof(failed) = 'number'
				THEN failed END,
			'completed_at', CASE WHEN NEW.status = 'COMPLETED'
				THEN rap_ts(coalesce(NEW.finished_at, now())) END)::text);
	PERFORM pg_notify('rap_webhooks', '');
	RETURN NULL;
END $$ LANGUAGE plpgsql;
