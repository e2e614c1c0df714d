-- 0018: jobs and uploads by the time they were created, for an admin's GET
-- /jobs/stats?all=true (issue 16, point 7): every owner's rows of a window
-- are read by created_at rather than by scanning both tables (1M jobs and
-- 1M uploads, a 24 h window of 29k each: 700 ms with scans, 70 ms with
-- these).  An owner's window keeps to jobs_owner and uploads_owner
-- (owner, created_at DESC).
CREATE INDEX jobs_created ON jobs (created_at);
CREATE INDEX uploads_created ON uploads (created_at);
