-- 0017: rate limits per API key, shared by every instance of a service
-- (issue 16, point 5).  One token bucket per (key, class): tokens left at
-- updated_at, refilled at the limit's rate when it is next drawn from.
-- An instance reserves a few tokens at a time in one UPSERT (lib/domain/
-- keylimit.c); `granted` is what that UPSERT gave, returned to it.
-- Unlogged: after a crash the buckets start full, which is what a limit
-- that nobody has drawn from looks like anyway.
CREATE UNLOGGED TABLE rate_buckets (
	key_id text NOT NULL,       -- 16 hex digits of the key's SHA-256, never the key
	class text NOT NULL,        -- create, status, upload
	tokens float8 NOT NULL,
	granted float8 NOT NULL,
	updated_at timestamptz NOT NULL,
	PRIMARY KEY (key_id, class)
);

-- A bucket's tokens now: what it had plus rate a second since `at`, at
-- most burst (a transaction that started before the last update adds
-- nothing rather than taking back).
CREATE FUNCTION rap_bucket_level(tokens float8, at timestamptz, rate float8, burst float8)
RETURNS float8 LANGUAGE sql STABLE AS $$
	SELECT least(burst, tokens + rate * greatest(0, extract(epoch FROM now() - at)::float8))
$$;

-- What a bucket at `level` gives to a request of `need` that would take
-- up to `want`: nothing when it has less than need.
CREATE FUNCTION rap_bucket_grant(level float8, need float8, want float8)
RETURNS float8 LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN level >= need THEN least(want, level) ELSE 0 END
$$;
