-- 0004: the idempotency index holds only the jobs that have a key.  Most
-- jobs have none, and every status change of a job is a non-HOT update (the
-- status is indexed), so each of its three or four transitions added a
-- dead-weight entry to this index too.
ALTER TABLE jobs DROP CONSTRAINT jobs_owner_idempotency_key_key;
CREATE UNIQUE INDEX jobs_idempotency ON jobs (owner, idempotency_key)
	WHERE idempotency_key IS NOT NULL;
