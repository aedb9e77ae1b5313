"""Every statement, written once for SQLite and PostgreSQL.

Parameters are named (`:name`), as SQLite takes them; the PostgreSQL dialect numbers them. Before use, `render`
fills in the `{fields}`: a table's columns (`{jobs.columns}`, `{jobs.params}`, `{jobs.updates}`) from the record
type whose fields they are, and these from the dialect:

    {is}                 equal, NULL to NULL included
    {in_ids}             is one of the ids in the parameter :ids
    {for_update}         lock the rows read until the transaction ends (SQLite: its writers exclude each other)
    {utc_day}            the UTC calendar day of `created_at`
    {taken_reservations} a `WITH taken AS (…)` of the reservations of :ids; PostgreSQL deletes them in it

A rollup's (`{daily.columns}`, `{daily.added}`, …) come from its key and MEASURES. A statement asked of one server
or of every server (or of direct messages) comes in one form for each (see `scoped`), so each uses its index.

Times compare as times in both: timestamptz in PostgreSQL, fixed-width ISO text in SQLite. Sums are cast to BIGINT,
as PostgreSQL sums BIGINT to NUMERIC.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Literal, Self

from bot.core.storage.records import (
    NO_SERVER,
    Block,
    JobRecord,
    LimitChange,
    MemberDefaults,
    Reservation,
    UsageRecord,
)
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


@dataclass(frozen=True, slots=True)
class Rollup:
    """A rollup of the ledger (see migration 006): the key of its rows and what each sums of the rows it stands for."""

    name: str
    key_names: tuple[str, ...]

    @property
    def key(self) -> str:
        """The key's columns, comma-separated."""
        return ", ".join(self.key_names)

    @property
    def columns(self) -> str:
        """The key's columns, then the measures."""
        return ", ".join((*self.key_names, *MEASURES))

    @property
    def params(self) -> str:
        """A named parameter per column, of the column's name."""
        return ", ".join(f":{name}" for name in (*self.key_names, *MEASURES))

    @property
    def added(self) -> str:
        """Each measure increased by the one an upsert proposed."""
        return ", ".join(f"{name} = {self.name}.{name} + excluded.{name}" for name in MEASURES)


# What a rollup row sums of its ledger rows: the jobs delivered, every row's images and cost, those delivered.
MEASURES = ("jobs", "images", "cost", "delivered_images", "delivered_cost")

TABLES: dict[str, Table | Rollup] = {
    "jobs": Table.of(JobRecord),  # and `owner`, the instance that runs the job
    "ledger": Table.of(UsageRecord),
    "reservations": Table.of(Reservation),
    "changes": Table.of(LimitChange),
    "blocks": Table.of(Block),
    "defaults": Table.of(MemberDefaults),
    "daily": Rollup("usage_daily", ("guild_id", "day", "model")),
    "monthly": Rollup("usage_monthly", ("guild_id", "month", "user_id")),
}


Scope = Literal["server", "direct", "everywhere", "servers"]

# A statement meant for several scopes has a form for each: its `<conditions>` on guild_id written out, so that each
# form can use the index on guild_id (an `:guild IS NULL OR …` would hide it). `<guild>` selects ledger, job or
# reservation rows, `<rolled_guild>` rollup rows; retention's `<old_guild>` selects the rows it considers, and
# `<same_guild>` the member's other rows in the same place.
_SCOPES: dict[Scope, dict[str, str]] = {
    "server": {"guild": "guild_id = :guild", "rolled_guild": "guild_id = :guild"},  # one server: :guild
    "direct": {  # direct messages
        "guild": "guild_id IS NULL",
        "rolled_guild": f"guild_id = {NO_SERVER}",
        "old_guild": "old.guild_id IS NULL",
        "same_guild": "newer.guild_id IS NULL",
    },
    "everywhere": {"guild": "true", "rolled_guild": "true"},  # every server and direct message
    "servers": {"old_guild": "old.guild_id IS NOT NULL", "same_guild": "newer.guild_id = old.guild_id"},
}
_CONDITION = re.compile(r"<([a-z_]+)>")


def scoped(statement: str, *scopes: Scope) -> dict[Scope, str]:
    """The statement's form for each of these scopes."""
    return {scope: _in_scope(statement, _SCOPES[scope]) for scope in scopes}


def _in_scope(statement: str, conditions: Mapping[str, str]) -> str:
    return _CONDITION.sub(lambda match: conditions[match[1]], statement)


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

# All counts in one statement, so in one snapshot. The member's figures come from their own rows (the last start and
# today's by the index of delivered rows), the server's from its rows of the daily rollup; reservations are few.
BOOKED = scoped(
    """
SELECT
    (SELECT count(*) FROM reservations WHERE <guild> AND user_id = :user) AS user_jobs,
    (SELECT max(created_at) FROM (
        SELECT max(created_at) AS created_at FROM reservations WHERE <guild> AND user_id = :user
        UNION ALL
        SELECT max(created_at) FROM usage_ledger WHERE user_id = :user AND <guild> AND outcome = 'delivered'
    ) AS latest) AS last_start,
    CAST((SELECT COALESCE(sum(images), 0) FROM usage_ledger
          WHERE user_id = :user AND <guild> AND outcome = 'delivered' AND created_at >= :day AND created_at < :next_day)
         + (SELECT COALESCE(sum(images), 0) FROM reservations WHERE <guild> AND user_id = :user)
    AS BIGINT) AS user_images,
    CAST((SELECT COALESCE(sum(delivered_images), 0) FROM usage_daily WHERE guild_id = :guild AND day = :today)
         + (SELECT COALESCE(sum(images), 0) FROM reservations WHERE guild_id = :guild)
    AS BIGINT) AS server_images,
    CAST((SELECT COALESCE(sum(cost), 0) FROM usage_daily
          WHERE guild_id = :guild AND day >= :this_month AND day < :next_month_day)
         + (SELECT COALESCE(sum(cost), 0) FROM reservations WHERE guild_id = :guild)
    AS BIGINT) AS server_cost
""",
    "server",
    "direct",
)

# The whole deployment's counts (every server and direct message), counted as BOOKED counts a server's: today's
# rows of the daily rollup (one per server and model) and this month's.
GLOBAL_BOOKED = """
SELECT
    CAST((SELECT COALESCE(sum(delivered_images), 0) FROM usage_daily WHERE day = :today)
         + (SELECT COALESCE(sum(images), 0) FROM reservations) AS BIGINT) AS images,
    CAST((SELECT COALESCE(sum(cost), 0) FROM usage_daily WHERE day >= :this_month AND day < :next_month_day)
         + (SELECT COALESCE(sum(cost), 0) FROM reservations) AS BIGINT) AS cost
"""

RESERVE = "INSERT INTO reservations ({reservations.columns}) VALUES ({reservations.params})"

HAS_RESERVATION = "SELECT 1 AS held FROM reservations WHERE job_id = :job_id"

UNRESERVE = "DELETE FROM reservations WHERE job_id = :job_id"

# The first settlement of a job stands: only a row this inserts is rolled up (ROLL_UPS).
SETTLE = "INSERT INTO usage_ledger ({ledger.columns}) VALUES ({ledger.params}) ON CONFLICT (job_id) DO NOTHING"

ROLL_UPS = (
    "INSERT INTO usage_daily ({daily.columns}) VALUES ({daily.params})"
    " ON CONFLICT ({daily.key}) DO UPDATE SET {daily.added}",
    "INSERT INTO usage_monthly ({monthly.columns}) VALUES ({monthly.params})"
    " ON CONFLICT ({monthly.key}) DO UPDATE SET {monthly.added}",
)

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
# the join's ON. Such a row adds nothing to any measure of the rollups (no images, no cost, not delivered), so they
# need no update.
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

# The usage figures of a window [:since, :until): its whole UTC days (or months) from a rollup, between a head
# [:since, :first) and a tail [:end, :until) of ledger rows (both empty when the window is whole days). In one server
# (:guild) or everywhere; usage counts every row's images and cost, and the jobs delivered.
USAGE_TOTALS = scoped(
    """
SELECT CAST(COALESCE(sum(jobs), 0) AS BIGINT) AS jobs, CAST(COALESCE(sum(images), 0) AS BIGINT) AS images,
       CAST(COALESCE(sum(cost), 0) AS BIGINT) AS cost
FROM (
    SELECT jobs, images, cost FROM usage_daily WHERE <rolled_guild> AND day >= :first_day AND day < :end_day
    UNION ALL
    SELECT CASE WHEN outcome = 'delivered' THEN 1 ELSE 0 END, images, cost FROM usage_ledger
    WHERE <guild> AND created_at >= :since AND created_at < :first
    UNION ALL
    SELECT CASE WHEN outcome = 'delivered' THEN 1 ELSE 0 END, images, cost FROM usage_ledger
    WHERE <guild> AND created_at >= :end AND created_at < :until
) AS parts
""",
    "server",
    "everywhere",
)

# Images delivered per UTC day and model since :since: whole days from :first_day on, the head before from the ledger.
USAGE_BY_DAY = scoped(
    """
SELECT day, model, CAST(sum(images) AS BIGINT) AS images
FROM (
    SELECT day, model, jobs, delivered_images AS images FROM usage_daily WHERE <rolled_guild> AND day >= :first_day
    UNION ALL
    SELECT {utc_day}, model, 1, images FROM usage_ledger
    WHERE <guild> AND outcome = 'delivered' AND created_at >= :since AND created_at < :first
) AS parts
GROUP BY day, model HAVING sum(jobs) > 0 ORDER BY day, model
""",
    "server",
    "everywhere",
)

# Members by images delivered since :since: whole months from :first_day on, the head before from the ledger.
TOP_USERS = """
SELECT user_id, CAST(sum(images) AS BIGINT) AS images, CAST(sum(cost) AS BIGINT) AS cost
FROM (
    SELECT user_id, jobs, delivered_images AS images, delivered_cost AS cost FROM usage_monthly
    WHERE guild_id = :guild AND month >= :first_day
    UNION ALL
    SELECT user_id, 1, images, cost FROM usage_ledger
    WHERE guild_id = :guild AND outcome = 'delivered' AND created_at >= :since AND created_at < :first
) AS parts
GROUP BY user_id HAVING sum(jobs) > 0 ORDER BY images DESC, cost DESC, user_id LIMIT :limit
"""

# As USAGE_TOTALS, for one member in one server: whole months from the monthly rollup, the rest from their rows.
USER_USAGE = """
SELECT CAST(COALESCE(sum(jobs), 0) AS BIGINT) AS jobs, CAST(COALESCE(sum(images), 0) AS BIGINT) AS images,
       CAST(COALESCE(sum(cost), 0) AS BIGINT) AS cost
FROM (
    SELECT jobs, images, cost FROM usage_monthly
    WHERE guild_id = :guild AND user_id = :user AND month >= :first_day AND month < :end_day
    UNION ALL
    SELECT CASE WHEN outcome = 'delivered' THEN 1 ELSE 0 END, images, cost FROM usage_ledger
    WHERE user_id = :user AND guild_id = :guild AND created_at >= :since AND created_at < :first
    UNION ALL
    SELECT CASE WHEN outcome = 'delivered' THEN 1 ELSE 0 END, images, cost FROM usage_ledger
    WHERE user_id = :user AND guild_id = :guild AND created_at >= :end AND created_at < :until
) AS parts
"""

USER_RESERVED = scoped(
    """
SELECT CAST(COALESCE(sum(images), 0) AS BIGINT) AS images
FROM reservations WHERE <guild> AND user_id = :user
""",
    "server",
    "direct",
)

# The ledger's columns come through a subquery, so the jobs' need no prefix.
HISTORY = scoped(
    """
SELECT {jobs.columns}, images, outcome
FROM jobs LEFT JOIN (SELECT job_id, images, outcome FROM usage_ledger) AS l ON l.job_id = jobs.id
WHERE user_id = :user AND <guild>
ORDER BY created_at DESC, id DESC LIMIT :limit
""",
    "server",
    "everywhere",
)

# Retention walks the ledger and the jobs oldest first, a batch at a time: a batch ends where the :batch-th row from
# :start is (or at :cutoff).
LEDGER_BATCH_END = """
SELECT created_at FROM usage_ledger WHERE created_at >= :start AND created_at < :cutoff
ORDER BY created_at LIMIT 1 OFFSET :batch
"""

JOBS_BATCH_END = """
SELECT created_at FROM jobs WHERE created_at >= :start AND created_at < :cutoff
ORDER BY created_at LIMIT 1 OFFSET :batch
"""

OLDEST_LEDGER_ROW = "SELECT min(created_at) AS created_at FROM usage_ledger"

OLDEST_JOB = "SELECT min(created_at) AS created_at FROM jobs"

# Rows of [:start, :stop), of requests in servers or in direct messages, that are neither among their member's latest
# :keep (what /history shows) nor the member's latest delivered one (the cooldown's last start). Rollups stay.
PRUNE_LEDGER = scoped(
    """
DELETE FROM usage_ledger WHERE job_id IN (
    SELECT job_id FROM usage_ledger AS old
    WHERE created_at >= :start AND created_at < :stop AND <old_guild>
      AND (SELECT count(*) FROM (
               SELECT 1 FROM usage_ledger AS newer
               WHERE newer.user_id = old.user_id AND <same_guild> AND newer.created_at > old.created_at LIMIT :keep
           ) AS kept) >= :keep
      AND (old.outcome <> 'delivered' OR EXISTS (
               SELECT 1 FROM usage_ledger AS newer
               WHERE newer.user_id = old.user_id AND <same_guild> AND newer.outcome = 'delivered'
                 AND newer.created_at > old.created_at))
)
""",
    "servers",
    "direct",
)

# The same for jobs, but never one still running.
PRUNE_JOBS = scoped(
    """
DELETE FROM jobs WHERE id IN (
    SELECT id FROM jobs AS old
    WHERE created_at >= :start AND created_at < :stop AND <old_guild> AND status <> 'running'
      AND (SELECT count(*) FROM (
               SELECT 1 FROM jobs AS newer
               WHERE newer.user_id = old.user_id AND <same_guild> AND newer.created_at > old.created_at LIMIT :keep
           ) AS kept) >= :keep
)
""",
    "servers",
    "direct",
)

SET_BLOCK = "INSERT INTO blocks ({blocks.columns}) VALUES ({blocks.params}) ON CONFLICT (kind, target_id) DO NOTHING"

REMOVE_BLOCK = "DELETE FROM blocks WHERE kind = :kind AND target_id = :target_id"

BLOCKS = "SELECT {blocks.columns} FROM blocks ORDER BY created_at, kind, target_id"

LOAD_DEFAULTS = "SELECT {defaults.columns} FROM member_defaults WHERE user_id = :user_id"

SAVE_DEFAULTS = """
INSERT INTO member_defaults ({defaults.columns}) VALUES ({defaults.params})
ON CONFLICT (user_id) DO UPDATE SET {defaults.updates}
"""
