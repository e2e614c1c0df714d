-- 0018: jobs by the time they were created, for an admin's GET
-- /jobs/stats?all=true (issue 16, point 7): every owner's jobs of a window
-- are read by created_at rather than by scanning the table.  An owner's
-- window keeps to jobs_owner (owner, created_at DESC).
CREATE INDEX jobs_created ON jobs (created_at);
