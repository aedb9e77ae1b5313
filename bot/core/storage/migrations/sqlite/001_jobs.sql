-- Jobs, so that result buttons find their request after a restart.
CREATE TABLE jobs (
    id          TEXT PRIMARY KEY,  -- 16 lowercase hex characters
    kind        TEXT NOT NULL,
    user_id     BIGINT NOT NULL,
    guild_id    BIGINT,
    channel_id  BIGINT,
    prompt      TEXT NOT NULL,
    model       TEXT NOT NULL,
    n           INTEGER NOT NULL,
    size        TEXT,
    quality     TEXT,
    style       TEXT,
    pictures    TEXT NOT NULL DEFAULT '[]',  -- JSON list of {"name", "url"}, in order
    status      TEXT NOT NULL,
    created_at  TEXT NOT NULL,  -- ISO 8601 UTC with microseconds, so text order is time order
    finished_at TEXT
);
