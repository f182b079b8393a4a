-- 003_flame_tokens.sql: the gateway's access tokens (Flame.Grains.Security.TokenRegistryGrain) on PostgreSQL 15+.
--
-- One row per token, by its unique name. json is opaque text serialised by the session manager: the token's role,
-- the node it is bound to, and the SHA-256 of its secret; the secret itself is never stored.
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

CREATE TABLE IF NOT EXISTS flame_tokens
(
    name text PRIMARY KEY,
    json text NOT NULL
);

INSERT INTO flame_schema_migrations (version, name)
VALUES (3, '003_flame_tokens')
ON CONFLICT (version) DO NOTHING;

COMMIT;
