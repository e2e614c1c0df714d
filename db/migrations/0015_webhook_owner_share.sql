-- 0015: webhooks are sent concurrently with a share per owner (issue 15,
-- point 1): one tenant's hanging receivers must not hold back another's.
-- The lease query counts each owner's deliveries in flight (leased_until in
-- the future, across every job-api instance) and leases no more than the
-- owner's free share; for that a delivery carries its job's owner, and a
-- lease is told apart from a backoff wait (both move next_at).
ALTER TABLE webhook_deliveries ADD COLUMN owner text;
ALTER TABLE webhook_deliveries ADD COLUMN leased_until timestamptz;
UPDATE webhook_deliveries d SET owner = j.owner FROM jobs j WHERE j.id = d.job_id;

-- The owner is the job's, written with the delivery by jobs_webhook (0012)
-- through this trigger, so that function is left as it is.
CREATE FUNCTION webhook_deliveries_owner() RETURNS trigger AS $$
BEGIN
	NEW.owner := (SELECT owner FROM jobs WHERE id = NEW.job_id);
	RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER webhook_deliveries_owner BEFORE INSERT ON webhook_deliveries
	FOR EACH ROW EXECUTE FUNCTION webhook_deliveries_owner();

-- The open deliveries by owner: the due ones of an owner in order, and its
-- leases in flight.
CREATE INDEX webhook_deliveries_owner_due ON webhook_deliveries (owner, next_at)
	WHERE delivered_at IS NULL AND failed_at IS NULL;
ALTER TABLE webhook_deliveries ALTER COLUMN owner SET NOT NULL;
