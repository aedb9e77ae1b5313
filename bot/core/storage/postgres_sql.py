"""The PostgreSQL backend's statements. Sums of BIGINT are NUMERIC in PostgreSQL, so they are cast back."""

SAVE_JOB = """
INSERT INTO jobs (id, kind, user_id, guild_id, channel_id, prompt, model, n, size, quality, style,
                  pictures, status, created_at, finished_at, message_id, owner)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
ON CONFLICT (id) DO UPDATE SET
    kind = EXCLUDED.kind, user_id = EXCLUDED.user_id, guild_id = EXCLUDED.guild_id,
    channel_id = EXCLUDED.channel_id, prompt = EXCLUDED.prompt, model = EXCLUDED.model, n = EXCLUDED.n,
    size = EXCLUDED.size, quality = EXCLUDED.quality, style = EXCLUDED.style, pictures = EXCLUDED.pictures,
    status = EXCLUDED.status, created_at = EXCLUDED.created_at, finished_at = EXCLUDED.finished_at,
    message_id = EXCLUDED.message_id, owner = EXCLUDED.owner
"""

LOAD_JOB = """
SELECT id, kind, user_id, guild_id, channel_id, prompt, model, n, size, quality, style,
       pictures, status, created_at, finished_at, message_id
FROM jobs WHERE id = $1
"""

# A message id of NULL keeps the one on record.
FINISH_JOB = """
UPDATE jobs SET status = $1, finished_at = $2, message_id = COALESCE($3::bigint, message_id) WHERE id = $4
"""

LOCK = "SELECT pg_advisory_xact_lock($1::integer, $2::integer)"

GLOBAL_LOCK = "SELECT pg_advisory_xact_lock($1::bigint)"

# All counts in one statement, so in one snapshot. IS NOT DISTINCT FROM matches direct messages (NULL) too.
BOOKED = """
SELECT
    (SELECT count(*) FROM reservations WHERE guild_id IS NOT DISTINCT FROM $1 AND user_id = $2) AS user_jobs,
    GREATEST(
        (SELECT max(created_at) FROM reservations WHERE guild_id IS NOT DISTINCT FROM $1 AND user_id = $2),
        (SELECT max(created_at) FROM usage_ledger
         WHERE guild_id IS NOT DISTINCT FROM $1 AND user_id = $2 AND outcome = 'delivered')
    ) AS last_start,
    ((SELECT COALESCE(sum(images), 0) FROM usage_ledger
      WHERE guild_id IS NOT DISTINCT FROM $1 AND user_id = $2 AND outcome = 'delivered'
        AND created_at >= $3 AND created_at < $4)
     + (SELECT COALESCE(sum(images), 0) FROM reservations WHERE guild_id IS NOT DISTINCT FROM $1 AND user_id = $2)
    )::bigint AS user_images,
    ((SELECT COALESCE(sum(images), 0) FROM usage_ledger
      WHERE guild_id = $1 AND outcome = 'delivered' AND created_at >= $3 AND created_at < $4)
     + (SELECT COALESCE(sum(images), 0) FROM reservations WHERE guild_id = $1))::bigint AS server_images,
    ((SELECT COALESCE(sum(cost), 0) FROM usage_ledger WHERE guild_id = $1 AND created_at >= $5 AND created_at < $6)
     + (SELECT COALESCE(sum(cost), 0) FROM reservations WHERE guild_id = $1))::bigint AS server_cost
"""

# The whole deployment's counts (every server and direct message), counted as BOOKED counts a server's.
GLOBAL_BOOKED = """
SELECT
    ((SELECT COALESCE(sum(images), 0) FROM usage_ledger
      WHERE outcome = 'delivered' AND created_at >= $1 AND created_at < $2)
     + (SELECT COALESCE(sum(images), 0) FROM reservations))::bigint AS images,
    ((SELECT COALESCE(sum(cost), 0) FROM usage_ledger WHERE created_at >= $3 AND created_at < $4)
     + (SELECT COALESCE(sum(cost), 0) FROM reservations))::bigint AS cost
"""

RESERVE = """
INSERT INTO reservations (job_id, guild_id, user_id, images, cost, created_at) VALUES ($1, $2, $3, $4, $5, $6)
"""

HAS_RESERVATION = "SELECT true FROM reservations WHERE job_id = $1"

UNRESERVE = "DELETE FROM reservations WHERE job_id = $1"

# The first settlement of a job stands.
SETTLE = """
INSERT INTO usage_ledger (job_id, guild_id, user_id, model, quality, n, images, cost, outcome, created_at, finished_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (job_id) DO NOTHING
"""

# This instance's own (from its previous run), and those from before instances were recorded.
OWN_RUNNING_JOBS = """
SELECT id, kind, user_id, guild_id, channel_id, prompt, model, n, size, quality, style,
       pictures, status, created_at, finished_at, message_id
FROM jobs WHERE status = 'running' AND (owner = $1 OR owner IS NULL)
ORDER BY created_at, id FOR UPDATE
"""

# Another instance's, when that instance has not been seen since $2 (or has left).
ORPHANED_JOBS = """
SELECT id, kind, user_id, guild_id, channel_id, prompt, model, n, size, quality, style,
       pictures, status, created_at, finished_at, message_id
FROM jobs
WHERE status = 'running' AND owner IS DISTINCT FROM $1
  AND NOT EXISTS (SELECT 1 FROM instances WHERE name = jobs.owner AND seen_at >= $2)
ORDER BY created_at, id FOR UPDATE
"""

FAIL_JOBS = "UPDATE jobs SET status = 'failed', finished_at = $1 WHERE id = ANY($2::text[])"

# Deleting and settling in one statement leaves no window for a reservation to slip between them.
INTERRUPT_RESERVATIONS = """
WITH gone AS (
    DELETE FROM reservations WHERE job_id = ANY($2::text[])
    RETURNING job_id, guild_id, user_id, images, created_at
)
INSERT INTO usage_ledger (job_id, guild_id, user_id, model, quality, n, images, cost, outcome, created_at, finished_at)
SELECT g.job_id, g.guild_id, g.user_id, COALESCE(j.model, ''), COALESCE(j.quality, '1k'), COALESCE(j.n, g.images),
       0, 0, 'interrupted', g.created_at, $1
FROM gone AS g LEFT JOIN jobs AS j ON j.id = g.job_id
ON CONFLICT (job_id) DO NOTHING
"""

SEEN = """
INSERT INTO instances (name, seen_at) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET seen_at = GREATEST(instances.seen_at, EXCLUDED.seen_at)
"""

# The image API slots held by instances not seen since $2: they come free before their leases expire.
FREE_ORPHANED_SLOTS = """
UPDATE api_slots SET holder = NULL, lease = NULL, expires_at = NULL
WHERE holder IS NOT NULL AND holder <> $1
  AND NOT EXISTS (SELECT 1 FROM instances WHERE name = api_slots.holder AND seen_at >= $2)
"""

FORGET_STALE = "DELETE FROM instances WHERE seen_at < $1 AND name <> $2"

LEAVE = "DELETE FROM instances WHERE name = $1"

LOAD_LIMITS = "SELECT name, value FROM guild_limits WHERE guild_id = $1"

LIMIT_VALUE = "SELECT value FROM guild_limits WHERE guild_id = $1 AND name = $2"

SET_LIMIT = """
INSERT INTO guild_limits (guild_id, name, value, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (guild_id, name) DO UPDATE SET
    value = EXCLUDED.value, updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at
"""

RESET_LIMIT = "DELETE FROM guild_limits WHERE guild_id = $1 AND name = $2"

LOG_LIMIT_CHANGE = """
INSERT INTO limit_changes (guild_id, name, old_value, new_value, changed_by, changed_at)
VALUES ($1, $2, $3, $4, $5, $6)
"""

LIMIT_CHANGES = """
SELECT guild_id, name, old_value, new_value, changed_by, changed_at FROM limit_changes
WHERE guild_id = $1 ORDER BY changed_at DESC, id DESC LIMIT $2
"""

# $1 NULL is every server (and direct messages).
USAGE_TOTALS = """
SELECT count(*) FILTER (WHERE outcome = 'delivered') AS jobs,
       COALESCE(sum(images), 0)::bigint AS images, COALESCE(sum(cost), 0)::bigint AS cost
FROM usage_ledger
WHERE ($1::bigint IS NULL OR guild_id = $1) AND created_at >= $2 AND created_at < $3
"""

USAGE_BY_DAY = """
SELECT (created_at AT TIME ZONE 'UTC')::date AS day, model, sum(images)::bigint AS images
FROM usage_ledger
WHERE ($1::bigint IS NULL OR guild_id = $1) AND created_at >= $2 AND outcome = 'delivered'
GROUP BY day, model ORDER BY day, model
"""

TOP_USERS = """
SELECT user_id, sum(images)::bigint AS images, sum(cost)::bigint AS cost
FROM usage_ledger
WHERE guild_id = $1 AND created_at >= $2 AND outcome = 'delivered'
GROUP BY user_id ORDER BY images DESC, cost DESC, user_id LIMIT $3
"""

USER_USAGE = """
SELECT count(*) FILTER (WHERE outcome = 'delivered') AS jobs,
       COALESCE(sum(images), 0)::bigint AS images, COALESCE(sum(cost), 0)::bigint AS cost
FROM usage_ledger
WHERE user_id = $1 AND guild_id = $2 AND created_at >= $3 AND created_at < $4
"""

USER_RESERVED = """
SELECT COALESCE(sum(images), 0)::bigint FROM reservations WHERE guild_id IS NOT DISTINCT FROM $1 AND user_id = $2
"""

HISTORY = """
SELECT j.id, j.kind, j.user_id, j.guild_id, j.channel_id, j.prompt, j.model, j.n, j.size, j.quality, j.style,
       j.pictures, j.status, j.created_at, j.finished_at, j.message_id, l.images, l.outcome
FROM jobs AS j LEFT JOIN usage_ledger AS l ON l.job_id = j.id
WHERE j.user_id = $1 AND ($2::bigint IS NULL OR j.guild_id = $2)
ORDER BY j.created_at DESC, j.id DESC LIMIT $3
"""

SET_BLOCK = """
INSERT INTO blocks (kind, target_id, reason, blocked_by, created_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (kind, target_id) DO NOTHING
RETURNING true
"""

REMOVE_BLOCK = "DELETE FROM blocks WHERE kind = $1 AND target_id = $2 RETURNING true"

# A block of the user comes before one of the server.
BLOCKED = """
SELECT kind, target_id, reason, blocked_by, created_at FROM blocks
WHERE (kind = 'user' AND target_id = $1) OR (kind = 'guild' AND target_id = $2)
ORDER BY kind = 'user' DESC LIMIT 1
"""

BLOCKS = "SELECT kind, target_id, reason, blocked_by, created_at FROM blocks ORDER BY created_at, kind, target_id"
