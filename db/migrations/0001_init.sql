-- 0001: the first schema: uploads, jobs with an enforced state machine,
-- their event history, row-level errors and the outbox.

-- ISO 8601 UTC with milliseconds, the one time format of the API.
CREATE FUNCTION rap_ts(t timestamptz) RETURNS text AS $$
	SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$ LANGUAGE sql IMMUTABLE;

CREATE TABLE uploads (
	id            uuid PRIMARY KEY,
	owner         text NOT NULL,
	object_key    text NOT NULL UNIQUE,
	filename      text,
	content_type  text,
	size          bigint NOT NULL DEFAULT 0,
	sha256        text,
	state         text NOT NULL DEFAULT 'COMPLETE'
	              CHECK (state IN ('UPLOADING', 'COMPLETE', 'ABORTED')),
	created_at    timestamptz NOT NULL DEFAULT now(),
	completed_at  timestamptz
);
CREATE INDEX uploads_owner ON uploads (owner, created_at DESC);

-- The job state machine.  lib/jobstate.c holds the same table; a unit test
-- and rap_jobstate_check_db() prove that the two agree.
CREATE TABLE job_states (
	name      text PRIMARY KEY,
	terminal  boolean NOT NULL
);
INSERT INTO job_states VALUES
	('CREATED', false), ('QUEUED', false), ('PROCESSING', false),
	('RETRYING', false), ('FAILED', true), ('COMPLETED', true),
	('DEAD', true), ('CANCELLED', true);

CREATE TABLE job_transitions (
	from_state  text NOT NULL REFERENCES job_states,
	to_state    text NOT NULL REFERENCES job_states,
	PRIMARY KEY (from_state, to_state)
);
INSERT INTO job_transitions VALUES
	('CREATED', 'QUEUED'), ('CREATED', 'PROCESSING'), ('CREATED', 'CANCELLED'),
	('QUEUED', 'PROCESSING'), ('QUEUED', 'CANCELLED'), ('QUEUED', 'DEAD'),
	('PROCESSING', 'COMPLETED'), ('PROCESSING', 'RETRYING'),
	('PROCESSING', 'FAILED'), ('PROCESSING', 'DEAD'),
	('PROCESSING', 'CANCELLED'), ('PROCESSING', 'PROCESSING'),
	('PROCESSING', 'QUEUED'),
	('RETRYING', 'PROCESSING'), ('RETRYING', 'CANCELLED'), ('RETRYING', 'DEAD'),
	('DEAD', 'QUEUED');

CREATE TABLE jobs (
	id               uuid PRIMARY KEY,
	owner            text NOT NULL,
	type             text NOT NULL,
	object_key       text NOT NULL,
	params           jsonb NOT NULL DEFAULT '{}',
	status           text NOT NULL DEFAULT 'CREATED' REFERENCES job_states,
	attempt          integer NOT NULL DEFAULT 0,
	max_attempts     integer NOT NULL DEFAULT 5 CHECK (max_attempts > 0),
	idempotency_key  text,
	request_hash     text,
	progress         real NOT NULL DEFAULT 0,
	result           jsonb,
	error            text,
	lease_owner      text,
	lease_until      timestamptz,
	created_at       timestamptz NOT NULL DEFAULT now(),
	updated_at       timestamptz NOT NULL DEFAULT now(),
	started_at       timestamptz,
	finished_at      timestamptz,
	UNIQUE (owner, idempotency_key)
);
CREATE INDEX jobs_owner ON jobs (owner, created_at DESC);
CREATE INDEX jobs_status ON jobs (status) WHERE status NOT IN ('COMPLETED', 'FAILED', 'CANCELLED');

CREATE TABLE job_events (
	id          bigserial PRIMARY KEY,
	job_id      uuid NOT NULL REFERENCES jobs ON DELETE CASCADE,
	from_state  text,
	to_state    text NOT NULL,
	at          timestamptz NOT NULL DEFAULT clock_timestamp(),
	attempt     integer NOT NULL,
	detail      text
);
CREATE INDEX job_events_job ON job_events (job_id, id);

CREATE TABLE job_errors (
	id       bigserial PRIMARY KEY,
	job_id   uuid NOT NULL REFERENCES jobs ON DELETE CASCADE,
	row_no   bigint,
	message  text NOT NULL,
	at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_errors_job ON job_errors (job_id, id);

-- Messages to publish, written in the same transaction as the change they
-- announce.  kind 'job' is a work message (the relay moves its job to
-- QUEUED once the broker confirms it); kind 'event' is a status event.
CREATE TABLE outbox (
	id           bigserial PRIMARY KEY,
	kind         text NOT NULL CHECK (kind IN ('job', 'event')),
	job_id       uuid,
	exchange     text NOT NULL,
	routing_key  text NOT NULL,
	body         text NOT NULL,
	headers      jsonb NOT NULL DEFAULT '{}',
	created_at   timestamptz NOT NULL DEFAULT now()
);

-- Every status change must be in job_transitions; each change (and the
-- creation) is recorded in job_events and announced through the outbox.
-- A transaction may set rap.event_detail to explain the transition.
CREATE FUNCTION jobs_guard_transition() RETURNS trigger AS $$
BEGIN
	IF NEW.status IS DISTINCT FROM OLD.status
	   OR (NEW.status = 'PROCESSING' AND NEW.attempt <> OLD.attempt) THEN
		IF NOT EXISTS (SELECT 1 FROM job_transitions
			       WHERE from_state = OLD.status AND to_state = NEW.status) THEN
			RAISE EXCEPTION 'job % cannot go from % to %', OLD.id, OLD.status, NEW.status
				USING ERRCODE = 'RAP01';
		END IF;
	END IF;
	NEW.updated_at := now();
	RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER jobs_guard BEFORE UPDATE ON jobs
	FOR EACH ROW EXECUTE FUNCTION jobs_guard_transition();

CREATE FUNCTION jobs_record_event() RETURNS trigger AS $$
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
	INSERT INTO outbox (kind, job_id, exchange, routing_key, body)
	VALUES ('event', NEW.id, 'jobs.status', 'job.' || lower(NEW.status),
		json_build_object('v', 1, 'type', 'job.status', 'event_id', ev_id,
			'job_id', NEW.id, 'owner', NEW.owner, 'job_type', NEW.type,
			'from', prev, 'to', NEW.status, 'attempt', NEW.attempt,
			'at', rap_ts(ev_at),
			'detail', coalesce(detail, NEW.error))::text);
	RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER jobs_events AFTER INSERT OR UPDATE ON jobs
	FOR EACH ROW EXECUTE FUNCTION jobs_record_event();

CREATE FUNCTION outbox_notify() RETURNS trigger AS $$
BEGIN
	PERFORM pg_notify('rap_outbox', '');
	RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
	FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
