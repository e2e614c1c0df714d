-- 0007: the type of an upload's content as libmagic detects it from the
-- first bytes (upload-api), whatever the client claimed.  Job types with a
-- content allow-list (RAP_JOB_CONTENT_TYPES) accept only matching uploads.
-- NULL for uploads the platform never saw (presigned) and older ones.
ALTER TABLE uploads ADD COLUMN detected_type text;
