-- 001_orleans_storage.sql: grain storage for Microsoft.Orleans.Persistence.AdoNet 10.4.2 on
-- SQLite (invariant "System.Data.SQLite", served by Microsoft.Data.Sqlite). SQLite serves
-- grain persistence only: clustering and reminders need PostgreSQL (../postgres).
--
-- Contract: shared/spec/orleans-adonet-contract.md, sections 2 and 4. SQLite runs each
-- statement of a query text as its own autocommit transaction, so every DML statement is
-- self-contained and the outcome is reported by a following `SELECT ... WHERE changes() = 1`
-- (changes() is per connection, hence race-free). No RETURNING: Microsoft.Data.Sqlite only
-- retries SQLITE_BUSY on a statement's first step, and RETURNING commits on a later one.
-- No BEGIN/COMMIT in query texts: a failure half-way would leave a pooled connection inside
-- a transaction.
--
-- Idempotent: safe to run again (IF NOT EXISTS, INSERT OR REPLACE into the catalog).
-- Query texts are read once per process: restart silos after changing them.

BEGIN;

CREATE TABLE IF NOT EXISTS flame_schema_migrations
(
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Identifiers are case-insensitive in SQLite: this is the providers' "OrleansQuery".
CREATE TABLE IF NOT EXISTS orleansquery
(
    querykey  TEXT NOT NULL PRIMARY KEY,
    querytext TEXT NOT NULL
);

-- TEXT columns keep the default BINARY (case-sensitive) collation: identities are exact.
CREATE TABLE IF NOT EXISTS orleansstorage
(
    serviceid              TEXT    NOT NULL,
    graintypestring        TEXT    NOT NULL,  -- the state name, e.g. "counter"
    grainidn0              INTEGER NOT NULL,
    grainidn1              INTEGER NOT NULL,
    grainidextensionstring TEXT    NULL,
    grainidhash            INTEGER NOT NULL,  -- stored for diagnostics, never queried
    graintypehash          INTEGER NOT NULL,
    payloadbinary          BLOB    NULL,      -- NULL after a clear
    version                INTEGER NOT NULL,
    modifiedon             TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- One row per identity. A plain UNIQUE index would let NULL extensions repeat; x'00' is a
-- BLOB, which never equals TEXT, so a NULL extension stays distinct from ''. Queries compare
-- with the same expression so that they use this index.
CREATE UNIQUE INDEX IF NOT EXISTS orleansstorage_identity
    ON orleansstorage (serviceid, graintypestring, grainidn0, grainidn1,
                       ifnull(grainidextensionstring, x'00'));

-- The version wraps to 1 instead of leaving int32 (Orleans parses the ETag as int32).
INSERT OR REPLACE INTO orleansquery (querykey, querytext) VALUES

('ReadFromStorageKey', '
SELECT payloadbinary AS PayloadBinary, version AS Version
FROM orleansstorage
WHERE serviceid = @ServiceId
  AND graintypestring = @GrainTypeString
  AND grainidn0 = @GrainIdN0
  AND grainidn1 = @GrainIdN1
  AND ifnull(grainidextensionstring, x''00'') = ifnull(@GrainIdExtensionString, x''00'');
'),

-- Exactly one branch can change a row: the insert only for a first write (NULL version,
-- and ON CONFLICT DO NOTHING leaves an existing row alone), the update only for the holder
-- of the stored version. Each branch reports itself right after its statement.
('WriteToStorageKey', '
INSERT INTO orleansstorage
    (serviceid, graintypestring, grainidn0, grainidn1, grainidextensionstring,
     grainidhash, graintypehash, payloadbinary, version)
SELECT @ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1, @GrainIdExtensionString,
       @GrainIdHash, @GrainTypeHash, @PayloadBinary, 1
WHERE @GrainStateVersion IS NULL
ON CONFLICT DO NOTHING;
SELECT 1 AS NewGrainStateVersion
WHERE @GrainStateVersion IS NULL AND changes() = 1;
UPDATE orleansstorage
SET payloadbinary = @PayloadBinary,
    version = CASE WHEN version = 2147483647 THEN 1 ELSE version + 1 END,
    modifiedon = strftime(''%Y-%m-%dT%H:%M:%fZ'', ''now'')
WHERE serviceid = @ServiceId
  AND graintypestring = @GrainTypeString
  AND grainidn0 = @GrainIdN0
  AND grainidn1 = @GrainIdN1
  AND ifnull(grainidextensionstring, x''00'') = ifnull(@GrainIdExtensionString, x''00'')
  AND version = @GrainStateVersion;
SELECT CASE WHEN @GrainStateVersion = 2147483647 THEN 1 ELSE @GrainStateVersion + 1 END
       AS NewGrainStateVersion
WHERE @GrainStateVersion IS NOT NULL AND changes() = 1;
'),

-- Keeps the row (payload NULL) so the next write takes the update path with its version.
('ClearStorageKey', '
UPDATE orleansstorage
SET payloadbinary = NULL,
    version = CASE WHEN version = 2147483647 THEN 1 ELSE version + 1 END,
    modifiedon = strftime(''%Y-%m-%dT%H:%M:%fZ'', ''now'')
WHERE serviceid = @ServiceId
  AND graintypestring = @GrainTypeString
  AND grainidn0 = @GrainIdN0
  AND grainidn1 = @GrainIdN1
  AND ifnull(grainidextensionstring, x''00'') = ifnull(@GrainIdExtensionString, x''00'')
  AND version = @GrainStateVersion;
SELECT CASE WHEN @GrainStateVersion = 2147483647 THEN 1 ELSE @GrainStateVersion + 1 END
       AS NewGrainStateVersion
WHERE changes() = 1;
'),

-- Used with DeleteStateOnClear=true: success must return something other than the old
-- version.
('DeleteStorageKey', '
DELETE FROM orleansstorage
WHERE serviceid = @ServiceId
  AND graintypestring = @GrainTypeString
  AND grainidn0 = @GrainIdN0
  AND grainidn1 = @GrainIdN1
  AND ifnull(grainidextensionstring, x''00'') = ifnull(@GrainIdExtensionString, x''00'')
  AND version = @GrainStateVersion;
SELECT @GrainStateVersion + 1 AS NewGrainStateVersion
WHERE changes() = 1;
');

INSERT OR IGNORE INTO flame_schema_migrations (version, name) VALUES (1, '001_orleans_storage');

COMMIT;
