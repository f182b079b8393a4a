-- 005_flame_objects.sql: the object cache (src/Flame.ObjectCache, Storage/SqlObjectStore.cs) on PostgreSQL 15+.
--
-- flame_objects holds one small row per object key, rewritten by every put and patch; the payloads (the base at
-- base_version and one row per patch at its version) live in flame_object_pieces, so that rewrite never carries them.
-- Their data is stored uncompressed out of line (STORAGE EXTERNAL): payloads are mostly pickles and Arrow buffers
-- that compress poorly, and reads then stream them without decompressing.
--
-- Idempotent (IF NOT EXISTS): safe to run again, and concurrent deploys serialise on the advisory lock.
BEGIN;

SELECT pg_advisory_xact_lock(hashtext('flame_schema_migrations'));

CREATE TABLE IF NOT EXISTS flame_schema_migrations
(
    version     integer     PRIMARY KEY,
    name        text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS flame_objects
(
    key          text    PRIMARY KEY,
    version      bigint  NOT NULL,
    base_version bigint  NOT NULL,
    native       integer NOT NULL,
    bytes        bigint  NOT NULL,
    tag          text    NOT NULL,
    updated      bigint  NOT NULL
) WITH (fillfactor = 85);

CREATE TABLE IF NOT EXISTS flame_object_pieces
(
    key     text   NOT NULL,
    version bigint NOT NULL,
    data    bytea  NOT NULL,
    PRIMARY KEY (key, version)
);

ALTER TABLE flame_object_pieces ALTER COLUMN data SET STORAGE EXTERNAL;

INSERT INTO flame_schema_migrations (version, name)
VALUES (5, '005_flame_objects')
ON CONFLICT (version) DO NOTHING;

COMMIT;
