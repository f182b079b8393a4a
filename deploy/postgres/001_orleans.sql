-- 001_orleans.sql: tables and query catalog for the Orleans 10.4.2 ADO.NET providers
-- (clustering, grain persistence, reminders) on PostgreSQL 15+.
--
-- Contract: shared/spec/orleans-adonet-contract.md. The providers contain no SQL of their own:
-- at start-up they read `SELECT QueryKey, QueryText FROM OrleansQuery` and afterwards run only
-- the texts stored here, each in autocommit. So every text below is ONE statement (atomic
-- under READ COMMITTED), uses timestamptz/bytea/text, and returns booleans as one row with
-- one integer column.
--
-- Idempotent: safe to run again (IF NOT EXISTS, catalog upserts). Query texts are read
-- once per process: restart silos and clients after changing them.
-- Everything lives in schema public (unquoted lower-case names), because the providers look
-- up the catalog unqualified through the connection's search_path.

-- Plain SQL (no psql meta-commands), so it can also be run through Npgsql.
BEGIN;

-- Two concurrent deploys must not race on CREATE TABLE IF NOT EXISTS (it is not
-- race-free); the lock is released at COMMIT.
SELECT pg_advisory_xact_lock(hashtext('flame_schema_migrations'));

CREATE TABLE IF NOT EXISTS flame_schema_migrations
(
    version     integer     PRIMARY KEY,
    name        text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS orleansquery
(
    querykey  text PRIMARY KEY,   -- matched case-sensitively by the providers
    querytext text NOT NULL
);

------------------------------------------------------------------------------------------
-- Membership (Microsoft.Orleans.Clustering.AdoNet)
------------------------------------------------------------------------------------------

-- One row per cluster (deploymentid = ClusterOptions.ClusterId). version is the table ETag:
-- +1 on every successful insert/update of a member, nothing else touches it.
CREATE TABLE IF NOT EXISTS orleansmembershipversiontable
(
    deploymentid text        PRIMARY KEY,
    modifiedon   timestamptz NOT NULL DEFAULT now(),
    version      integer     NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS orleansmembershiptable
(
    deploymentid text        NOT NULL
        REFERENCES orleansmembershipversiontable (deploymentid) ON DELETE CASCADE,
    address      text        NOT NULL,
    port         integer     NOT NULL,
    generation   integer     NOT NULL,
    siloname     text        NOT NULL,
    hostname     text        NOT NULL,
    status       integer     NOT NULL,  -- 3 Active, 6 Dead (Orleans SiloStatus)
    proxyport    integer     NOT NULL,  -- 0 = no gateway
    suspecttimes text        NULL,      -- opaque to us: Orleans writes and parses it
    starttime    timestamptz NOT NULL,
    iamalivetime timestamptz NOT NULL,
    PRIMARY KEY (deploymentid, address, port, generation)
);

------------------------------------------------------------------------------------------
-- Grain storage (Microsoft.Orleans.Persistence.AdoNet)
------------------------------------------------------------------------------------------

-- Identity = (serviceid, graintypestring, grainidn0, grainidn1, grainidextensionstring),
-- exact and with NULL extension distinct from ''. NULLS NOT DISTINCT makes the unique
-- constraint cover NULL extensions too, so concurrent first writes create one row only.
-- The hashes are stored for diagnostics but never queried: they are not unique and depend
-- on the configured hasher.
CREATE TABLE IF NOT EXISTS orleansstorage
(
    serviceid              text        NOT NULL,
    graintypestring        text        NOT NULL,  -- the state name, e.g. "counter"
    grainidn0              bigint      NOT NULL,
    grainidn1              bigint      NOT NULL,
    grainidextensionstring text        NULL,
    grainidhash            integer     NOT NULL,
    graintypehash          integer     NOT NULL,
    payloadbinary          bytea       NULL,      -- NULL after a clear; bytes kept verbatim
    version                integer     NOT NULL,
    modifiedon             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT orleansstorage_identity UNIQUE NULLS NOT DISTINCT
        (serviceid, graintypestring, grainidn0, grainidn1, grainidextensionstring)
);

------------------------------------------------------------------------------------------
-- Reminders (Microsoft.Orleans.Reminders.AdoNet)
------------------------------------------------------------------------------------------

-- Reminder versions come from a sequence so that a re-created reminder never reuses the
-- version (ETag) of a deleted one. CYCLE: after 2^31-1 versions it restarts at 1 instead
-- of failing.
CREATE SEQUENCE IF NOT EXISTS orleansreminders_version_seq AS integer CYCLE;

CREATE TABLE IF NOT EXISTS orleansreminderstable
(
    serviceid    text        NOT NULL,
    grainid      text        NOT NULL,  -- Orleans "type/key" string, stored verbatim
    remindername text        NOT NULL,
    starttime    timestamptz NOT NULL,
    period       bigint      NOT NULL,  -- milliseconds
    grainhash    integer     NOT NULL,  -- uint32 ring hash as signed int32, compared signed
    version      integer     NOT NULL,
    PRIMARY KEY (serviceid, grainid, remindername)
);

-- Each silo loads the reminders of its slice of the hash ring.
CREATE INDEX IF NOT EXISTS orleansreminderstable_grainhash
    ON orleansreminderstable (serviceid, grainhash);

------------------------------------------------------------------------------------------
-- Query catalog. Parameters are @Name (Npgsql rewrites them); result columns are matched
-- by name case-insensitively, so lower-case aliases are fine.
------------------------------------------------------------------------------------------

INSERT INTO orleansquery (querykey, querytext) VALUES

-- Membership ------------------------------------------------------------------------------

('InsertMembershipVersionKey', $q$
WITH created AS (
    INSERT INTO orleansmembershipversiontable (deploymentid, version)
    VALUES (@DeploymentId, 0)
    ON CONFLICT (deploymentid) DO NOTHING
    RETURNING 1
)
SELECT count(*)::integer FROM created
$q$),

-- One statement, so version and members form one snapshot; a cluster without members
-- still yields its version row (member columns NULL).
('MembershipReadAllKey', $q$
SELECT v.version, m.address, m.port, m.generation, m.siloname, m.hostname, m.status,
       m.proxyport, m.suspecttimes, m.starttime, m.iamalivetime
FROM orleansmembershipversiontable v
LEFT JOIN orleansmembershiptable m ON m.deploymentid = v.deploymentid
WHERE v.deploymentid = @DeploymentId
$q$),

('MembershipReadRowKey', $q$
SELECT v.version, m.address, m.port, m.generation, m.siloname, m.hostname, m.status,
       m.proxyport, m.suspecttimes, m.starttime, m.iamalivetime
FROM orleansmembershipversiontable v
LEFT JOIN orleansmembershiptable m
       ON m.deploymentid = v.deploymentid
      AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
WHERE v.deploymentid = @DeploymentId
$q$),

-- The version bump is the gate: it succeeds only for the caller holding the current
-- version (READ COMMITTED re-checks the WHERE after waiting for the row lock), and the
-- member row is inserted only from its RETURNING. A duplicate member is excluded up front;
-- should one appear anyway the unique violation aborts the whole statement, so nothing
-- half-done is ever committed.
('InsertMembershipKey', $q$
WITH bumped AS (
    UPDATE orleansmembershipversiontable
    SET version = version + 1, modifiedon = now()
    WHERE deploymentid = @DeploymentId
      AND version = @Version
      AND NOT EXISTS (
          SELECT 1 FROM orleansmembershiptable
          WHERE deploymentid = @DeploymentId
            AND address = @Address AND port = @Port AND generation = @Generation)
    RETURNING deploymentid
), inserted AS (
    INSERT INTO orleansmembershiptable
        (deploymentid, address, port, generation, siloname, hostname, status, proxyport,
         suspecttimes, starttime, iamalivetime)
    SELECT deploymentid, @Address, @Port, @Generation, @SiloName, @HostName, @Status,
           @ProxyPort, NULL, @StartTime, @IAmAliveTime
    FROM bumped
    RETURNING 1
)
SELECT count(*)::integer FROM inserted
$q$),

-- The member row is locked first (MATERIALIZED keeps the lock from being optimised away),
-- so it cannot be deleted between the version bump and its own update.
('UpdateMembershipKey', $q$
WITH member AS MATERIALIZED (
    SELECT 1 FROM orleansmembershiptable
    WHERE deploymentid = @DeploymentId
      AND address = @Address AND port = @Port AND generation = @Generation
    FOR UPDATE
), bumped AS (
    UPDATE orleansmembershipversiontable
    SET version = version + 1, modifiedon = now()
    WHERE deploymentid = @DeploymentId
      AND version = @Version
      AND EXISTS (SELECT 1 FROM member)
    RETURNING deploymentid
), updated AS (
    UPDATE orleansmembershiptable m
    SET status = @Status, suspecttimes = @SuspectTimes, iamalivetime = @IAmAliveTime
    FROM bumped
    WHERE m.deploymentid = bumped.deploymentid
      AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
    RETURNING 1
)
SELECT count(*)::integer FROM updated
$q$),

-- Heartbeat: must not change the version, or every heartbeat would invalidate ETags.
('UpdateIAmAlivetimeKey', $q$
UPDATE orleansmembershiptable
SET iamalivetime = @IAmAliveTime
WHERE deploymentid = @DeploymentId
  AND address = @Address AND port = @Port AND generation = @Generation
$q$),

('GatewaysQueryKey', $q$
SELECT address, proxyport, generation
FROM orleansmembershiptable
WHERE deploymentid = @DeploymentId AND status = @Status AND proxyport > 0
$q$),

-- Used only when CleanupDefunctSiloEntryKey is absent; kept for completeness.
('CleanupDefunctSiloEntriesKey', $q$
DELETE FROM orleansmembershiptable
WHERE deploymentid = @DeploymentId AND status <> 3 AND iamalivetime < @IAmAliveTime
$q$),

('DeleteMembershipTableEntriesKey', $q$
WITH members AS (
    DELETE FROM orleansmembershiptable WHERE deploymentid = @DeploymentId
)
DELETE FROM orleansmembershipversiontable WHERE deploymentid = @DeploymentId
$q$),

-- Orleans picks the candidates; delete only if the row is still exactly what it saw
-- (NULL and '' suspect times count as equal).
('CleanupDefunctSiloEntryKey', $q$
DELETE FROM orleansmembershiptable
WHERE deploymentid = @DeploymentId
  AND address = @Address AND port = @Port AND generation = @Generation
  AND status = 6
  AND starttime = @StartTime
  AND iamalivetime = @IAmAliveTime
  AND coalesce(suspecttimes, '') = coalesce(@SuspectTimes, '')
$q$),

-- Grain storage ---------------------------------------------------------------------------
-- The extension test is written as "= OR both NULL" rather than IS NOT DISTINCT FROM so
-- that the planner can use the identity index for it.

('ReadFromStorageKey', $q$
SELECT payloadbinary, version
FROM orleansstorage
WHERE serviceid = @ServiceId
  AND graintypestring = @GrainTypeString
  AND grainidn0 = @GrainIdN0
  AND grainidn1 = @GrainIdN1
  AND (grainidextensionstring = @GrainIdExtensionString
       OR (grainidextensionstring IS NULL AND @GrainIdExtensionString IS NULL))
$q$),

-- First write (@GrainStateVersion NULL): insert version 1 unless the identity exists.
-- Later writes: update only where the stored version is the one the grain holds.
-- At most one of the two branches can produce a row; a conflict returns no row
-- (never the stored version, which Orleans would accept as success).
-- The version wraps to 1 instead of overflowing int32.
('WriteToStorageKey', $q$
WITH inserted AS (
    INSERT INTO orleansstorage
        (serviceid, graintypestring, grainidn0, grainidn1, grainidextensionstring,
         grainidhash, graintypehash, payloadbinary, version)
    SELECT @ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1, @GrainIdExtensionString,
           @GrainIdHash, @GrainTypeHash, @PayloadBinary, 1
    WHERE @GrainStateVersion IS NULL
    ON CONFLICT ON CONSTRAINT orleansstorage_identity DO NOTHING
    RETURNING version
), updated AS (
    UPDATE orleansstorage
    SET payloadbinary = @PayloadBinary,
        version = CASE WHEN version = 2147483647 THEN 1 ELSE version + 1 END,
        modifiedon = now()
    WHERE serviceid = @ServiceId
      AND graintypestring = @GrainTypeString
      AND grainidn0 = @GrainIdN0
      AND grainidn1 = @GrainIdN1
      AND (grainidextensionstring = @GrainIdExtensionString
           OR (grainidextensionstring IS NULL AND @GrainIdExtensionString IS NULL))
      AND version = @GrainStateVersion
    RETURNING version
)
SELECT version AS newgrainstateversion FROM inserted
UNION ALL
SELECT version FROM updated
$q$),

-- Keeps the row (payload NULL) so the next write takes the update path with its version.
('ClearStorageKey', $q$
UPDATE orleansstorage
SET payloadbinary = NULL,
    version = CASE WHEN version = 2147483647 THEN 1 ELSE version + 1 END,
    modifiedon = now()
WHERE serviceid = @ServiceId
  AND graintypestring = @GrainTypeString
  AND grainidn0 = @GrainIdN0
  AND grainidn1 = @GrainIdN1
  AND (grainidextensionstring = @GrainIdExtensionString
       OR (grainidextensionstring IS NULL AND @GrainIdExtensionString IS NULL))
  AND version = @GrainStateVersion
RETURNING version AS newgrainstateversion
$q$),

-- Used with DeleteStateOnClear=true. Success must return something other than the old
-- version; bigint avoids overflow at int32 max.
('DeleteStorageKey', $q$
DELETE FROM orleansstorage
WHERE serviceid = @ServiceId
  AND graintypestring = @GrainTypeString
  AND grainidn0 = @GrainIdN0
  AND grainidn1 = @GrainIdN1
  AND (grainidextensionstring = @GrainIdExtensionString
       OR (grainidextensionstring IS NULL AND @GrainIdExtensionString IS NULL))
  AND version = @GrainStateVersion
RETURNING version::bigint + 1 AS newgrainstateversion
$q$),

-- Reminders -------------------------------------------------------------------------------

-- Atomic insert-or-replace; every call takes a fresh version from the sequence, so
-- concurrent upserts get distinct versions.
('UpsertReminderRowKey', $q$
INSERT INTO orleansreminderstable
    (serviceid, grainid, remindername, starttime, period, grainhash, version)
VALUES
    (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash,
     nextval('orleansreminders_version_seq'))
ON CONFLICT (serviceid, grainid, remindername) DO UPDATE
SET starttime = EXCLUDED.starttime,
    period    = EXCLUDED.period,
    grainhash = EXCLUDED.grainhash,
    version   = EXCLUDED.version
RETURNING version
$q$),

('ReadReminderRowsKey', $q$
SELECT grainid, remindername, starttime, period, version
FROM orleansreminderstable
WHERE serviceid = @ServiceId AND grainid = @GrainId
$q$),

('ReadReminderRowKey', $q$
SELECT grainid, remindername, starttime, period, version
FROM orleansreminderstable
WHERE serviceid = @ServiceId AND grainid = @GrainId AND remindername = @ReminderName
$q$),

('ReadRangeRows1Key', $q$
SELECT grainid, remindername, starttime, period, version
FROM orleansreminderstable
WHERE serviceid = @ServiceId AND grainhash > @BeginHash AND grainhash <= @EndHash
$q$),

-- Wrapping range (begin >= end); begin = end selects the whole ring.
('ReadRangeRows2Key', $q$
SELECT grainid, remindername, starttime, period, version
FROM orleansreminderstable
WHERE serviceid = @ServiceId AND (grainhash > @BeginHash OR grainhash <= @EndHash)
$q$),

('DeleteReminderRowKey', $q$
WITH deleted AS (
    DELETE FROM orleansreminderstable
    WHERE serviceid = @ServiceId AND grainid = @GrainId AND remindername = @ReminderName
      AND version = @Version
    RETURNING 1
)
SELECT count(*)::integer FROM deleted
$q$),

('DeleteReminderRowsKey', $q$
DELETE FROM orleansreminderstable WHERE serviceid = @ServiceId
$q$)

ON CONFLICT (querykey) DO UPDATE SET querytext = EXCLUDED.querytext;

INSERT INTO flame_schema_migrations (version, name)
VALUES (1, '001_orleans')
ON CONFLICT (version) DO NOTHING;

COMMIT;
