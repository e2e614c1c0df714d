-- 0003: the body of a work message (proto/schemas/job-message.json, decoded
-- by lib/codec.c rap_jobmsg_decode) is built in one place, for every path
-- that puts a job's work message in the outbox: creation (single and
-- batch), the sweeper's re-queue and the operator's replay.
CREATE FUNCTION rap_work_message(id uuid, type text, object_key text, owner text)
RETURNS text AS $$
	SELECT json_build_object('v', 1, 'job_id', id, 'type', type,
		'object_key', object_key, 'owner', owner)::text
$$ LANGUAGE sql IMMUTABLE;
