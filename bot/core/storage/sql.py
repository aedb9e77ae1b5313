"""Every statement, written once for SQLite and PostgreSQL.

Parameters are named (`:name`), as SQLite takes them; the PostgreSQL dialect numbers them. Before use, `render`
fills in the `{fields}`: a table's columns (`{jobs.columns}`, `{jobs.params}`, `{jobs.updates}`) from the record
type whose fields they are, and these from the dialect:

    {is}                 equal, NULL to NULL included
    {in_ids}             is one of the ids in the parameter :ids
    {for_update}         lock the rows read until the transaction ends (SQLite: its writers exclude each other)
    {utc_day}            the UTC calendar day of `created_at`
    {taken_reservations} a `WITH taken AS (…)` of the reservations of :ids; PostgreSQL deletes them in it

Times compare as times in both: timestamptz in PostgreSQL, fixed-width ISO text in SQLite. Sums are cast to BIGINT,
as PostgreSQL sums BIGINT to NUMERIC.
"""

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Self

from bot.core.storage.records import Block, JobRecord, LimitChange, Reservation, UsageRecord
from bot.core.storage.rows import Stored


@dataclass(frozen=True, slots=True)
class Table:
    """A table's columns as statements list them: one per field of its record type, of the same name."""

    names: tuple[str, ...]

    @classmethod
    def of(cls, record: type[Stored]) -> Self:
        """The table of this record type."""
        return cls(tuple(field.name for field in fields(record)))

    @property
    def columns(self) -> str:
        """The column names, comma-separated."""
        return ", ".join(self.names)

    @property
    def params(self) -> str:
        """A named parameter per column, of the column's name."""
        return ", ".join(f":{name}" for name in self.names)

    @property
    def updates(self) -> str:
        """Every column but the first (the key) set from the row an upsert proposed."""
        return ", ".join(f"{name} = excluded.{name}" for name in self.names[1:])


TABLES = {
    "jobs": Table.of(JobRecord),  # and `owner`, the instance that runs the job
    "ledger": Table.of(UsageRecord),
    "reservations": Table.of(Reservation),
    "changes": Table.of(LimitChange),
    "blocks": Table.of(Block),
}


def render(statement: str, dialect: Mapping[str, str]) -> str:
    """The statement with its `{fields}` filled in: the tables' columns and the dialect's fragments."""
    return statement.format_map({**TABLES, **dialect})


SAVE_JOB = """
INSERT INTO jobs ({jobs.columns}, owner) VALUES ({jobs.params}, :owner)
ON CONFLICT (id) DO UPDATE SET {jobs.updates}, owner = excluded.owner
"""

LOAD_JOB = "SELECT {jobs.columns} FROM jobs WHERE id = :id"

# A message id of NULL keeps the one on record.
FINISH_JOB = """
UPDATE jobs SET status = :status, finished_at = :finished_at,
                message_id = COALESCE(CAST(:message_id AS BIGINT), message_id)
WHERE id = :id
"""

# All counts in one statement, so in one snapshot.
BOOKED = """
SELECT
    (SELECT count(*) FROM reservations WHERE guild_id {is} :guild AND user_id = :user) AS user_jobs,
    (SELECT max(created_at) FROM (
        SELECT max(created_at) AS created_at FROM reservations WHERE guild_id {is} :guild AND user_id = :user
        UNION ALL
        SELECT max(created_at) FROM usage_ledger
        WHERE guild_id {is} :guild AND user_id = :user AND outcome = 'delivered'
    ) AS latest) AS last_start,
    CAST((SELECT COALESCE(sum(images), 0) FROM usage_ledger
          WHERE guild_id {is} :guild AND user_id = :user AND outcome = 'delivered'
            AND created_at >= :day AND created_at < :next_day)
         + (SELECT COALESCE(sum(images), 0) FROM reservations WHERE guild_id {is} :guild AND user_id = :user)
    AS BIGINT) AS user_images,
    CAST((SELECT COALESCE(sum(images), 0) FROM usage_ledger
          WHERE guild_id = :guild AND outcome = 'delivered' AND created_at >= :day AND created_at < :next_day)
         + (SELECT COALESCE(sum(images), 0) FROM reservations WHERE guild_id = :guild)
    AS BIGINT) AS server_images,
    CAST((SELECT COALESCE(sum(cost), 0) FROM usage_ledger
          WHERE guild_id = :guild AND created_at >= :month AND created_at < :next_month)
         + (SELECT COALESCE(sum(cost), 0) FROM reservations WHERE guild_id = :guild)
    AS BIGINT) AS server_cost
"""

# The whole deployment's counts (every server and direct message), counted as BOOKED counts a server's.
GLOBAL_BOOKED = """
SELECT
    CAST((SELECT COALESCE(sum(images), 0) FROM usage_ledger
          WHERE outcome = 'delivered' AND created_at >= :day AND created_at < :next_day)
         + (SELECT COALESCE(sum(images), 0) FROM reservations) AS BIGINT) AS images,
    CAST((SELECT COALESCE(sum(cost), 0) FROM usage_ledger WHERE created_at >= :month AND created_at < :next_month)
         + (SELECT COALESCE(sum(cost), 0) FROM reservations) AS BIGINT) AS cost
"""

RESERVE = "INSERT INTO reservations ({reservations.columns}) VALUES ({reservations.params})"

HAS_RESERVATION = "SELECT 1 AS held FROM reservations WHERE job_id = :job_id"

UNRESERVE = "DELETE FROM reservations WHERE job_id = :job_id"

# The first settlement of a job stands.
SETTLE = "INSERT INTO usage_ledger ({ledger.columns}) VALUES ({ledger.params}) ON CONFLICT (job_id) DO NOTHING"

# This instance's own (from its previous run), and those from before instances were recorded.
OWN_RUNNING_JOBS = """
SELECT {jobs.columns} FROM jobs WHERE status = 'running' AND (owner = :instance OR owner IS NULL)
ORDER BY created_at, id {for_update}
"""

# Another instance's, when that instance has not been seen since :stale_before (or has left).
ORPHANED_JOBS = """
SELECT {jobs.columns} FROM jobs
WHERE status = 'running' AND NOT (owner {is} :instance)
  AND NOT EXISTS (SELECT 1 FROM instances WHERE name = jobs.owner AND seen_at >= :stale_before)
ORDER BY created_at, id {for_update}
"""

FAIL_JOBS = "UPDATE jobs SET status = 'failed', finished_at = :now WHERE id {in_ids}"

# Nothing delivered or billed, counted on the request's day. `WHERE true` keeps SQLite from reading ON CONFLICT as
# the join's ON.
INTERRUPT_RESERVATIONS = """
{taken_reservations}
INSERT INTO usage_ledger ({ledger.columns})
SELECT r.job_id, r.guild_id, r.user_id, COALESCE(j.model, ''), COALESCE(j.quality, '1k'), COALESCE(j.n, r.images),
       0, 0, 'interrupted', r.created_at, :now, NULL
FROM taken AS r LEFT JOIN jobs AS j ON j.id = r.job_id
WHERE true
ON CONFLICT (job_id) DO NOTHING
"""

CLEAR_RESERVATIONS = "DELETE FROM reservations WHERE job_id {in_ids}"

# The heartbeat: seen_at only moves forward.
SEEN = """
INSERT INTO instances (name, seen_at) VALUES (:instance, :now)
ON CONFLICT (name) DO UPDATE SET seen_at = excluded.seen_at WHERE excluded.seen_at > instances.seen_at
"""

FORGET_STALE = "DELETE FROM instances WHERE seen_at < :stale_before AND name <> :instance"

LEAVE = "DELETE FROM instances WHERE name = :instance"

LOAD_LIMITS = "SELECT name, value FROM guild_limits WHERE guild_id = :guild_id"

LIMIT_VALUE = "SELECT value FROM guild_limits WHERE guild_id = :guild_id AND name = :name"

SET_LIMIT = """
INSERT INTO guild_limits (guild_id, name, value, updated_by, updated_at)
VALUES (:guild_id, :name, :new_value, :changed_by, :changed_at)
ON CONFLICT (guild_id, name) DO UPDATE SET
    value = excluded.value, updated_by = excluded.updated_by, updated_at = excluded.updated_at
"""

RESET_LIMIT = "DELETE FROM guild_limits WHERE guild_id = :guild_id AND name = :name"

LOG_LIMIT_CHANGE = "INSERT INTO limit_changes ({changes.columns}) VALUES ({changes.params})"

LIMIT_CHANGES = """
SELECT {changes.columns} FROM limit_changes WHERE guild_id = :guild_id ORDER BY changed_at DESC, id DESC LIMIT :limit
"""

# A :guild of NULL is every server (and direct messages).
USAGE_TOTALS = """
SELECT count(*) FILTER (WHERE outcome = 'delivered') AS jobs,
       CAST(COALESCE(sum(images), 0) AS BIGINT) AS images, CAST(COALESCE(sum(cost), 0) AS BIGINT) AS cost
FROM usage_ledger
WHERE (CAST(:guild AS BIGINT) IS NULL OR guild_id = :guild) AND created_at >= :since AND created_at < :until
"""

USAGE_BY_DAY = """
SELECT {utc_day} AS day, model, CAST(sum(images) AS BIGINT) AS images
FROM usage_ledger
WHERE (CAST(:guild AS BIGINT) IS NULL OR guild_id = :guild) AND created_at >= :since AND outcome = 'delivered'
GROUP BY day, model ORDER BY day, model
"""

TOP_USERS = """
SELECT user_id, CAST(sum(images) AS BIGINT) AS images, CAST(sum(cost) AS BIGINT) AS cost
FROM usage_ledger
WHERE guild_id = :guild AND created_at >= :since AND outcome = 'delivered'
GROUP BY user_id ORDER BY images DESC, cost DESC, user_id LIMIT :limit
"""

USER_USAGE = """
SELECT count(*) FILTER (WHERE outcome = 'delivered') AS jobs,
       CAST(COALESCE(sum(images), 0) AS BIGINT) AS images, CAST(COALESCE(sum(cost), 0) AS BIGINT) AS cost
FROM usage_ledger
WHERE user_id = :user AND guild_id = :guild AND created_at >= :since AND created_at < :until
"""

USER_RESERVED = """
SELECT CAST(COALESCE(sum(images), 0) AS BIGINT) AS images
FROM reservations WHERE guild_id {is} :guild AND user_id = :user
"""

# The ledger's columns come through a subquery, so the jobs' need no prefix.
HISTORY = """
SELECT {jobs.columns}, images, outcome
FROM jobs LEFT JOIN (SELECT job_id, images, outcome FROM usage_ledger) AS l ON l.job_id = jobs.id
WHERE user_id = :user AND (CAST(:guild AS BIGINT) IS NULL OR guild_id = :guild)
ORDER BY created_at DESC, id DESC LIMIT :limit
"""

SET_BLOCK = "INSERT INTO blocks ({blocks.columns}) VALUES ({blocks.params}) ON CONFLICT (kind, target_id) DO NOTHING"

REMOVE_BLOCK = "DELETE FROM blocks WHERE kind = :kind AND target_id = :target_id"

BLOCKS = "SELECT {blocks.columns} FROM blocks ORDER BY created_at, kind, target_id"
