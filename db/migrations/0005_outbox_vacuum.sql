-- 0005: the outbox is a queue table: every row is inserted, published and
-- deleted within moments, so it is mostly dead rows unless vacuumed often.
-- Left to the defaults (20% of a table that is nearly empty, with cost
-- delays), 60,000 jobs left 300,000 dead rows and a 126 MB heap that the
-- relay's index scans walked through.  Vacuum it after every 5,000 dead
-- rows, at full speed (it is small once vacuumed).
ALTER TABLE outbox SET (autovacuum_vacuum_scale_factor = 0,
	autovacuum_vacuum_threshold = 5000, autovacuum_vacuum_cost_delay = 0);
