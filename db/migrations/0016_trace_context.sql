-- 0016: a job keeps the W3C trace context of the request that created it
-- (issue 16, point 3; docs/observability.md, "Traces").  jobs.traceparent
-- is "00-<trace id>-<span id of the creating request>-<flags>", NULL for
-- jobs made before this migration.  Every message about the job carries
-- it as the AMQP header `traceparent`: the work message (written by the
-- creation, the sweeper and the replay with headers->>'traceparent') and
-- the status events written below, so the worker and the notifier log
-- with the same trace id.  Nullable without a default: adding it does not
-- rewrite the table.
ALTER TABLE jobs ADD COLUMN traceparent text;

CREATE OR REPLACE FUNCTION jobs_record_event() RETURNS trigger AS $$
DECLARE
	prev     text;
	detail   text := nullif(current_setting('rap.event_detail', true), '');
	ev_id    bigint;
	ev_at    timestamptz;
BEGIN
	IF TG_OP = 'UPDATE' THEN
		prev := OLD.status;
		IF NEW.status = OLD.status AND NEW.attempt = OLD.attempt THEN
			RETURN NULL;
		END IF;
	END IF;
	INSERT INTO job_events (job_id, from_state, to_state, attempt, detail)
	VALUES (NEW.id, prev, NEW.status, NEW.attempt, coalesce(detail, NEW.error))
	RETURNING id, at INTO ev_id, ev_at;
	INSERT INTO outbox (kind, job_id, exchange, routing_key, body, headers)
	VALUES ('event', NEW.id, 'jobs.status', 'job.' || lower(NEW.status),
		json_build_object('v', 1, 'type', 'job.status', 'event_id', ev_id,
			'job_id', NEW.id, 'owner', NEW.owner, 'job_type', NEW.type,
			'from', prev, 'to', NEW.status, 'attempt', NEW.attempt,
			'at', rap_ts(ev_at),
			'detail', coalesce(detail, NEW.error))::text,
		CASE WHEN NEW.traceparent IS NULL THEN '{}'::jsonb
		     ELSE jsonb_build_object('traceparent', NEW.traceparent) END);
	RETURN NULL;
END $$ LANGUAGE plpgsql;
