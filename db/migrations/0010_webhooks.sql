-- 0010: webhooks.  A job created with a webhook_url gets a delivery row each
-- time it reaches a final state (COMPLETED, FAILED, DEAD, CANCELLED), in the
-- transaction that put it there, so a delivery is never lost; job-api's
-- webhook thread POSTs it (at least once, signed), retrying with backoff.
ALTER TABLE jobs ADD COLUMN webhook_url text;

CREATE TABLE webhook_deliveries (
	id           bigserial PRIMARY KEY,
	job_id       uuid NOT NULL REFERENCES jobs ON DELETE CASCADE,
	url          text NOT NULL,
	body         text NOT NULL,
	attempts     int NOT NULL DEFAULT 0,
	next_at      timestamptz NOT NULL DEFAULT now(),   -- due, or leased until
	delivered_at timestamptz,
	failed_at    timestamptz,                          -- gave up: attempts used
	last_error   text,
	created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at)
	WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX webhook_deliveries_job ON webhook_deliveries (job_id, id);

CREATE FUNCTION jobs_webhook() RETURNS trigger AS $$
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
			'finished_at', rap_ts(coalesce(NEW.finished_at, now())))::text);
	PERFORM pg_notify('rap_webhooks', '');
	RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER jobs_webhook AFTER UPDATE ON jobs
	FOR EACH ROW EXECUTE FUNCTION jobs_webhook();
