-- Per-server limits with their change log, exact usage accounting (reservations and a ledger), blocks,
-- and each job's result message for links in /history. Money is integer micro-dollars; times are
-- ISO 8601 UTC text with microseconds, so text order is time order and the first 10 characters the UTC day.
ALTER TABLE jobs ADD COLUMN message_id BIGINT;

CREATE INDEX jobs_by_user ON jobs (user_id, created_at);
CREATE INDEX jobs_running ON jobs (created_at) WHERE status = 'running';

CREATE TABLE guild_limits (
    guild_id   BIGINT NOT NULL,
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,  -- JSON text, read by the caller
    updated_by BIGINT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, name)
);

CREATE TABLE limit_changes (
    id         INTEGER PRIMARY KEY,
    guild_id   BIGINT NOT NULL,
    name       TEXT NOT NULL,
    old_value  TEXT,  -- NULL: the default
    new_value  TEXT,
    changed_by BIGINT NOT NULL,
    changed_at TEXT NOT NULL
);
CREATE INDEX limit_changes_by_guild ON limit_changes (guild_id, changed_at);

-- Images and cost held by running jobs; settling moves them to the ledger.
CREATE TABLE reservations (
    job_id     TEXT PRIMARY KEY,
    guild_id   BIGINT,
    user_id    BIGINT NOT NULL,
    images     INTEGER NOT NULL,
    cost       BIGINT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX reservations_by_member ON reservations (guild_id, user_id);

CREATE TABLE usage_ledger (
    job_id      TEXT PRIMARY KEY,
    guild_id    BIGINT,
    user_id     BIGINT NOT NULL,
    model       TEXT NOT NULL,
    quality     TEXT NOT NULL,
    n           INTEGER NOT NULL,
    images      INTEGER NOT NULL,  -- delivered
    cost        BIGINT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('delivered', 'failed', 'interrupted')),
    created_at  TEXT NOT NULL,  -- when the request was made: the day and month it counts in
    finished_at TEXT NOT NULL
);
CREATE INDEX usage_by_guild ON usage_ledger (guild_id, created_at);
CREATE INDEX usage_by_member ON usage_ledger (user_id, guild_id, created_at);
CREATE INDEX usage_by_time ON usage_ledger (created_at);

CREATE TABLE blocks (
    kind       TEXT NOT NULL CHECK (kind IN ('user', 'guild')),
    target_id  BIGINT NOT NULL,
    reason     TEXT,
    blocked_by BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (kind, target_id)
);
