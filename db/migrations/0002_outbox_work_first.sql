-- 0002: the relay publishes work messages before status events, so that a
-- backlog of events (a burst of jobs leaves four per job) never delays the
-- start of a new job.  One partial index per kind lets it read each kind in
-- id order without reading past the other, and keeps the planner off a
-- scan-and-sort of the whole table (which it chose for the events, on a
-- queue table whose statistics are always stale).
CREATE INDEX outbox_work ON outbox (id) WHERE kind = 'job';
CREATE INDEX outbox_events ON outbox (id) WHERE kind = 'event';
