-- 0006: presigned uploads.  upload-api hands the client a presigned S3 PUT
-- URL and records the upload as UPLOADING with the size the client
-- declared; the bytes never pass through the platform.  The first job
-- created for the object checks that it is in S3 with that size, and only
-- then is the upload COMPLETE (it has no sha256: the platform never saw
-- the bytes; file.inspect computes one).
ALTER TABLE uploads ADD COLUMN expected_size bigint CHECK (expected_size >= 0);
ALTER TABLE uploads ADD COLUMN presigned_until timestamptz;
