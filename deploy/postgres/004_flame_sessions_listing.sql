-- 004_flame_sessions_listing.sql: what lists and prunes sessions without reading them all (issue 20), on PostgreSQL 15+.
--
-- Sessions are listed oldest first, a page at a time after the last one seen (creation_time, id); closed sessions
-- are pruned by completion time. Both indexes are on flame_sessions, whose rows change only when a session is
-- created, closed or deleted: the task rows, written thousands of times a second, gain no index.
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

CREATE INDEX IF NOT EXISTS flame_sessions_listing ON flame_sessions (creation_time, id COLLATE "C");

CREATE INDEX IF NOT EXISTS flame_sessions_closed ON flame_sessions (completion_time) WHERE NOT open;

INSERT INTO flame_schema_migrations (version, name)
VALUES (4, '004_flame_sessions_listing')
ON CONFLICT (version) DO NOTHING;

COMMIT;
