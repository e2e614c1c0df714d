-- 0013: a session may write the outbox without NOTIFY (issue 12).
-- PostgreSQL 15 serialises the commits of every transaction that sent a
-- NOTIFY (a database-wide lock held through the commit's WAL flush), so
-- job creations on several connections could not share a flush: under 32
-- concurrent POST /jobs most backends waited on that lock.  job-api wakes
-- its own relay in-process after each commit that wrote the outbox, so its
-- connections set rap.outbox_notify = off; every other writer (workers,
-- the dead-letter follower, psql) still notifies, and the relay still
-- LISTENs for them.
CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger AS $$
BEGIN
	IF current_setting('rap.outbox_notify', true) IS DISTINCT FROM 'off' THEN
		PERFORM pg_notify('rap_outbox', '');
	END IF;
	RETURN NULL;
END $$ LANGUAGE plpgsql;
