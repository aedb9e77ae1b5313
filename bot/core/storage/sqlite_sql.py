"""The SQLite backend's statements. Times are fixed-width ISO text, so comparing text compares times."""

SAVE_JOB = """
INSERT INTO jobs (id, kind, user_id, guild_id, channel_id, prompt, model, n, size, quality, style,
                  pictures, status, created_at, finished_at, message_id, owner)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    kind = excluded.kind, user_id = excluded.user_id, guild_id = excluded.guild_id,
    channel_id = excluded.channel_id, prompt = excluded.prompt, model = excluded.model, n = excluded.n,
    size = excluded.size, quality = excluded.quality, style = excluded.style, pictures = excluded.pictures,
    status = excluded.status, created_at = excluded.created_at, finished_at = excluded.finished_at,
    message_id = excluded.message_id, owner = excluded.owner
"""

LOAD_JOB = """
SELECT id, kind, user_id, guild_id, channel_id, prompt, model, n, size, quality, style,
       pictures, status, created_at, finished_at, message_id
FROM jobs WHERE id = ?
"""

# A message id of NULL keeps the one on record.
FINISH_JOB = "UPDATE jobs SET status = ?, finished_at = ?, message_id = COALESCE(?, message_id) WHERE id = ?"

# All counts in one statement. `guild_id IS :guild` matches direct messages (NULL) too.
BOOKED = """
SELECT
    (SELECT count(*) FROM reservations WHERE guild_id IS :guild AND user_id = :user) AS user_jobs,
    (SELECT max(created_at) FROM (
        SELECT max(created_at) AS created_at FROM reservations WHERE guild_id IS :guild AND user_id = :user
        UNION ALL
        SELECT max(created_at) FROM usage_ledger
        WHERE guild_id IS :guild AND user_id = :user AND outcome = 'delivered'
    )) AS last_start,
    (SELECT COALESCE(sum(images), 0) FROM usage_ledger
     WHERE guild_id IS :guild AND user_id = :user AND outcome = 'delivered'
       AND created_at >= :day AND created_at < :next_day)
    + (SELECT COALESCE(sum(images), 0) FROM reservations WHERE guild_id IS :guild AND user_id = :user)
        AS user_images,
    (SELECT COALESCE(sum(images), 0) FROM usage_ledger
     WHERE guild_id = :guild AND outcome = 'delivered' AND created_at >= :day AND created_at < :next_day)
    + (SELECT COALESCE(sum(images), 0) FROM reservations WHERE guild_id = :guild) AS server_images,
    (SELECT COALESCE(sum(cost), 0) FROM usage_ledger
     WHERE guild_id = :guild AND created_at >= :month AND created_at < :next_month)
    + (SELECT COALESCE(sum(cost), 0) FROM reservations WHERE guild_id = :guild) AS server_cost
"""

# The whole deployment's counts (every server and direct message), counted as BOOKED counts a server's.
GLOBAL_BOOKED = """
SELECT
    (SELECT COALESCE(sum(images), 0) FROM usage_ledger
     WHERE outcome = 'delivered' AND created_at >= :day AND created_at < :next_day)
    + (SELECT COALESCE(sum(images), 0) FROM reservations) AS images,
    (SELECT COALESCE(sum(cost), 0) FROM usage_ledger WHERE created_at >= :month AND created_at < :next_month)
    + (SELECT COALESCE(sum(cost), 0) FROM reservations) AS cost
"""

RESERVE = "INSERT INTO reservations (job_id, guild_id, user_id, images, cost, created_at) VALUES (?, ?, ?, ?, ?, ?)"

HAS_RESERVATION = "SELECT 1 FROM reservations WHERE job_id = ?"

UNRESERVE = "DELETE FROM reservations WHERE job_id = ?"

# The first settlement of a job stands.
SETTLE = """
INSERT INTO usage_ledger (job_id, guild_id, user_id, model, quality, n, images, cost, outcome, created_at, finished_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (job_id) DO NOTHING
"""

# This instance's own (from its previous run), and those from before instances were recorded.
OWN_RUNNING_JOBS = """
SELECT id, kind, user_id, guild_id, channel_id, prompt, model, n, size, quality, style,
       pictures, status, created_at, finished_at, message_id
FROM jobs WHERE status = 'running' AND (owner = ? OR owner IS NULL) ORDER BY created_at, id
"""

# Another instance's, when that instance has not been seen since the second parameter (or has left).
ORPHANED_JOBS = """
SELECT id, kind, user_id, guild_id, channel_id, prompt, model, n, size, quality, style,
       pictures, status, created_at, finished_at, message_id
FROM jobs
WHERE status = 'running' AND owner IS NOT ?
  AND NOT EXISTS (SELECT 1 FROM instances WHERE name = jobs.owner AND seen_at >= ?)
ORDER BY created_at, id
"""

# Ids come as one JSON array.
FAIL_JOBS = "UPDATE jobs SET status = 'failed', finished_at = ? WHERE id IN (SELECT value FROM json_each(?))"

# `WHERE true` keeps SQLite from reading ON CONFLICT as the join's ON.
INTERRUPT_RESERVATIONS = """
INSERT INTO usage_ledger (job_id, guild_id, user_id, model, quality, n, images, cost, outcome, created_at, finished_at)
SELECT r.job_id, r.guild_id, r.user_id, COALESCE(j.model, ''), COALESCE(j.quality, '1k'), COALESCE(j.n, r.images),
       0, 0, 'interrupted', r.created_at, ?
FROM reservations AS r LEFT JOIN jobs AS j ON j.id = r.job_id
WHERE r.job_id IN (SELECT value FROM json_each(?))
ON CONFLICT (job_id) DO NOTHING
"""

CLEAR_RESERVATIONS = "DELETE FROM reservations WHERE job_id IN (SELECT value FROM json_each(?))"

SEEN = """
INSERT INTO instances (name, seen_at) VALUES (?, ?)
ON CONFLICT (name) DO UPDATE SET seen_at = max(seen_at, excluded.seen_at)
"""

FORGET_STALE = "DELETE FROM instances WHERE seen_at < ? AND name <> ?"

LEAVE = "DELETE FROM instances WHERE name = ?"

LOAD_LIMITS = "SELECT name, value FROM guild_limits WHERE guild_id = ?"

LIMIT_VALUE = "SELECT value FROM guild_limits WHERE guild_id = ? AND name = ?"

SET_LIMIT = """
INSERT INTO guild_limits (guild_id, name, value, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (guild_id, name) DO UPDATE SET
    value = excluded.value, updated_by = excluded.updated_by, updated_at = excluded.updated_at
"""

RESET_LIMIT = "DELETE FROM guild_limits WHERE guild_id = ? AND name = ?"

LOG_LIMIT_CHANGE = """
INSERT INTO limit_changes (guild_id, name, old_value, new_value, changed_by, changed_at) VALUES (?, ?, ?, ?, ?, ?)
"""

LIMIT_CHANGES = """
SELECT guild_id, name, old_value, new_value, changed_by, changed_at FROM limit_changes
WHERE guild_id = ? ORDER BY changed_at DESC, id DESC LIMIT ?
"""

# :guild NULL is every server (and direct messages).
USAGE_TOTALS = """
SELECT count(*) FILTER (WHERE outcome = 'delivered') AS jobs,
       COALESCE(sum(images), 0) AS images, COALESCE(sum(cost), 0) AS cost
FROM usage_ledger
WHERE (:guild IS NULL OR guild_id = :guild) AND created_at >= :since AND created_at < :until
"""

USAGE_BY_DAY = """
SELECT substr(created_at, 1, 10) AS day, model, sum(images) AS images
FROM usage_ledger
WHERE (:guild IS NULL OR guild_id = :guild) AND created_at >= :since AND outcome = 'delivered'
GROUP BY day, model ORDER BY day, model
"""

TOP_USERS = """
SELECT user_id, sum(images) AS images, sum(cost) AS cost
FROM usage_ledger
WHERE guild_id = ? AND created_at >= ? AND outcome = 'delivered'
GROUP BY user_id ORDER BY images DESC, cost DESC, user_id LIMIT ?
"""

USER_USAGE = """
SELECT count(*) FILTER (WHERE outcome = 'delivered') AS jobs,
       COALESCE(sum(images), 0) AS images, COALESCE(sum(cost), 0) AS cost
FROM usage_ledger
WHERE user_id = ? AND guild_id = ? AND created_at >= ? AND created_at < ?
"""

USER_RESERVED = "SELECT COALESCE(sum(images), 0) FROM reservations WHERE guild_id IS ? AND user_id = ?"

HISTORY = """
SELECT j.id, j.kind, j.user_id, j.guild_id, j.channel_id, j.prompt, j.model, j.n, j.size, j.quality, j.style,
       j.pictures, j.status, j.created_at, j.finished_at, j.message_id, l.images, l.outcome
FROM jobs AS j LEFT JOIN usage_ledger AS l ON l.job_id = j.id
WHERE j.user_id = :user AND (:guild IS NULL OR j.guild_id = :guild)
ORDER BY j.created_at DESC, j.id DESC LIMIT :limit
"""

SET_BLOCK = """
INSERT INTO blocks (kind, target_id, reason, blocked_by, created_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (kind, target_id) DO NOTHING
"""

REMOVE_BLOCK = "DELETE FROM blocks WHERE kind = ? AND target_id = ?"

# A block of the user comes before one of the server.
BLOCKED = """
SELECT kind, target_id, reason, blocked_by, created_at FROM blocks
WHERE (kind = 'user' AND target_id = ?) OR (kind = 'guild' AND target_id = ?)
ORDER BY kind = 'user' DESC LIMIT 1
"""

BLOCKS = "SELECT kind, target_id, reason, blocked_by, created_at FROM blocks ORDER BY created_at, kind, target_id"
