-- Several bot processes on one database: which process runs each job, when each process was last alive,
-- and the image API's slots, which processes lease so that the concurrency cap holds across all of them.
ALTER TABLE jobs ADD COLUMN owner TEXT;  -- the instance name of the process that runs (or ran) it
CREATE INDEX jobs_running_by_owner ON jobs (owner) WHERE status = 'running';

CREATE TABLE instances (
    name    TEXT PRIMARY KEY,
    seen_at TIMESTAMPTZ NOT NULL  -- the process's latest heartbeat
);

CREATE TABLE api_slots (
    slot       INTEGER PRIMARY KEY,  -- 0 … cap-1; a process uses the slots below its own cap
    holder     TEXT,                 -- the instance holding it, NULL when free
    lease      TEXT,                 -- one holding's token, so a late release can't free a newer holding
    expires_at TIMESTAMPTZ           -- renewed while held; an expired lease is free again
);
