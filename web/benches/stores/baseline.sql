-- The baseline the store benchmark (web/benches/stores.rs) runs beside Sightline: the least a
-- hash-chained log in PostgreSQL can do. One table; a trigger gives each row its index, the
-- previous row's hash and SHA-256(previous hash || body) with pgcrypto's digest(); rows are
-- inserted by one writer in batches of 1,000, one transaction each, synchronous_commit on.
-- No signatures, no Merkle tree, no checkpoint, no personal part sealed, no lookups: what it
-- costs is the floor under what Sightline does per record.
CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE TABLE baseline_log (
    idx BIGINT PRIMARY KEY,
    body BYTEA NOT NULL,
    prev BYTEA NOT NULL,
    hash BYTEA NOT NULL
);

CREATE FUNCTION baseline_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last_idx BIGINT;
    last_hash BYTEA;
BEGIN
    -- A row-level BEFORE trigger sees the rows its own statement inserted before this one.
    SELECT idx, hash INTO last_idx, last_hash FROM baseline_log ORDER BY idx DESC LIMIT 1;
    NEW.idx := coalesce(last_idx + 1, 0);
    NEW.prev := coalesce(last_hash, decode(repeat('00', 32), 'hex'));
    NEW.hash := digest(NEW.prev || NEW.body, 'sha256');
    RETURN NEW;
END
$$;

CREATE TRIGGER baseline_chain BEFORE INSERT ON baseline_log FOR EACH ROW EXECUTE FUNCTION baseline_chain();
