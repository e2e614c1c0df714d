-- 0008: tus 1.0 resumable uploads.  An upload's row in `uploads` (state
-- UPLOADING until the last byte, then COMPLETE like a streamed upload) has
-- one row here with everything a PATCH needs to go on where the last one
-- stopped, in whichever upload-api instance it lands:
--   offset       bytes received and stored so far (HEAD's Upload-Offset);
--   s3_upload_id the S3 multipart upload, NULL until the first full part;
--   etags        the ETags of the parts stored so far, one per line, in order;
--   tail_len     bytes after the last full part, kept in S3 as their own
--                object (tus/<id>/tail-<start>) until a PATCH completes a part;
--   hash_state   the SHA-256 state after the stored parts (lib/hash.c); a
--                PATCH hashes the tail again when it reads it back;
--   part_size    fixed at creation, so a configuration change never breaks
--                an upload in progress.
-- A PATCH holds a PostgreSQL advisory lock on the upload for its duration
-- (services/upload-api/tus.c); the sweeper takes the same lock.
CREATE TABLE tus_uploads (
	upload_id     uuid PRIMARY KEY REFERENCES uploads ON DELETE CASCADE,
	length        bigint CHECK (length >= 0),         -- NULL: deferred
	"offset"      bigint NOT NULL DEFAULT 0 CHECK ("offset" >= 0),
	part_size     bigint NOT NULL CHECK (part_size > 0),
	s3_upload_id  text,
	etags         text NOT NULL DEFAULT '',
	tail_len      bigint NOT NULL DEFAULT 0 CHECK (tail_len >= 0),
	hash_state    bytea,
	metadata      text NOT NULL DEFAULT '',
	concat        text,                               -- 'partial', 'final;...'
	expires_at    timestamptz NOT NULL,
	CHECK (length IS NULL OR "offset" <= length)
);
CREATE INDEX tus_uploads_expiry ON tus_uploads (expires_at);
