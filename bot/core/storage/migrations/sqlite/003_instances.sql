-- Which process runs each job and when each process was last alive, as in PostgreSQL. (The image API's
-- slots need no table here: an SQLite file is one process's, whose own queue holds the cap.)
ALTER TABLE jobs ADD COLUMN owner TEXT;  -- the instance name of the process that runs (or ran) it

CREATE TABLE instances (
    name    TEXT PRIMARY KEY,
    seen_at TEXT NOT NULL  -- the process's latest heartbeat, ISO 8601 UTC
);
