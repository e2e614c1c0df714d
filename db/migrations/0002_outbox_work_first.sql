-- 0002: the relay publishes work messages before status events, so that a
-- backlog of events (a burst of jobs leaves four per job) never delays the
-- start of a new job.  This index finds the work rows without reading past
-- the events.
CREATE INDEX outbox_work ON outbox (id) WHERE kind = 'job';
