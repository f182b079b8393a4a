-- 002_flame_store.sql: Flame's own task store (Flame.Storage.Postgres.PostgresTaskStore) on PostgreSQL 15+:
-- applications, sessions, their tasks, and the large task inputs/outputs kept apart.
--
-- Written by the store's group-commit writer: each batch is one implicit transaction of set-based upserts
-- (INSERT ... SELECT FROM unnest(arrays) ON CONFLICT DO UPDATE). Times are milliseconds since the Unix epoch;
-- states are flame.v1 TaskState integers; json columns are opaque text serialised by the session manager.
--
-- Idempotent (IF NOT EXISTS): safe to run again, and concurrent deploys serialise on the advisory lock.
-- Plain SQL (no psql meta-commands), so it can also be run through Npgsql.
BEGIN;

SELECT pg_advisory_xact_lock(hashtext('flame_schema_migrations'));

CREATE TABLE IF NOT EXISTS flame_schema_migrations
(
    version     integer     PRIMARY KEY,
    name        text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS flame_applications
(
    name text PRIMARY KEY,
    json text NOT NULL
);

CREATE TABLE IF NOT EXISTS flame_sessions
(
    id              text    PRIMARY KEY,
    application     text    NOT NULL,
    open            boolean NOT NULL,
    creation_time   bigint  NOT NULL,
    completion_time bigint  NULL,
    json            text    NOT NULL
);

-- A restarting session manager lists the open sessions only; they are few among many closed ones.
CREATE INDEX IF NOT EXISTS flame_sessions_open ON flame_sessions (id) WHERE open;

-- The hot rows: a task is inserted once and updated a few times (running, finished, retried). Inputs and outputs
-- above the store's threshold (2048 bytes by default) live in flame_task_payloads, flagged in `payloads`
-- (bit 1 input, bit 2 output), so an update rewrites a small row. No foreign key to flame_sessions: the store
-- deletes a session's tasks itself, in the same transaction as the session.
-- fillfactor 85 leaves room on each page for HOT updates (no indexed column ever changes).
CREATE TABLE IF NOT EXISTS flame_tasks
(
    session_id      text     NOT NULL,
    task_id         bigint   NOT NULL,
    state           smallint NOT NULL,
    attempts        integer  NOT NULL,
    creation_time   bigint   NOT NULL,
    start_time      bigint   NOT NULL,
    completion_time bigint   NOT NULL,
    payloads        smallint NOT NULL DEFAULT 0,
    message         text     NULL,
    history         text     NULL,
    input           bytea    NULL,
    output          bytea    NULL,
    PRIMARY KEY (session_id, task_id)
) WITH (fillfactor = 85);

CREATE TABLE IF NOT EXISTS flame_task_payloads
(
    session_id text   NOT NULL,
    task_id    bigint NOT NULL,
    kind       text   NOT NULL CHECK (kind IN ('i', 'o')),  -- input or output
    data       bytea  NOT NULL,
    PRIMARY KEY (session_id, task_id, kind)
);

INSERT INTO flame_schema_migrations (version, name)
VALUES (2, '002_flame_store')
ON CONFLICT (version) DO NOTHING;

COMMIT;
