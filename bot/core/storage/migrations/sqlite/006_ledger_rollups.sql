-- The ledger rolled up per server, UTC day and model, and per server, UTC month and member, kept in step with it as
-- jobs settle, so that quotas and usage read a few rows instead of the ledger's history; built here from the rows
-- already settled. guild_id 0 stands for direct messages (no Discord id is 0). Each measure sums ledger rows:
-- jobs counts those delivered, images and cost count every row, delivered_images and delivered_cost those delivered.
-- Days are 'YYYY-MM-DD'; a month is its first day.
CREATE TABLE usage_daily (
    guild_id         BIGINT NOT NULL,
    day              TEXT NOT NULL,
    model            TEXT NOT NULL,
    jobs             BIGINT NOT NULL,
    images           BIGINT NOT NULL,
    cost             BIGINT NOT NULL,
    delivered_images BIGINT NOT NULL,
    delivered_cost   BIGINT NOT NULL,
    PRIMARY KEY (guild_id, day, model)
);
CREATE INDEX usage_daily_by_day ON usage_daily (day);

CREATE TABLE usage_monthly (
    guild_id         BIGINT NOT NULL,
    month            TEXT NOT NULL,
    user_id          BIGINT NOT NULL,
    jobs             BIGINT NOT NULL,
    images           BIGINT NOT NULL,
    cost             BIGINT NOT NULL,
    delivered_images BIGINT NOT NULL,
    delivered_cost   BIGINT NOT NULL,
    PRIMARY KEY (guild_id, month, user_id)
);

INSERT INTO usage_daily (guild_id, day, model, jobs, images, cost, delivered_images, delivered_cost)
SELECT COALESCE(guild_id, 0), substr(created_at, 1, 10), model,
       sum(outcome = 'delivered'), sum(images), sum(cost),
       sum(CASE WHEN outcome = 'delivered' THEN images ELSE 0 END),
       sum(CASE WHEN outcome = 'delivered' THEN cost ELSE 0 END)
FROM usage_ledger GROUP BY 1, 2, 3;

INSERT INTO usage_monthly (guild_id, month, user_id, jobs, images, cost, delivered_images, delivered_cost)
SELECT COALESCE(guild_id, 0), substr(created_at, 1, 8) || '01', user_id,
       sum(outcome = 'delivered'), sum(images), sum(cost),
       sum(CASE WHEN outcome = 'delivered' THEN images ELSE 0 END),
       sum(CASE WHEN outcome = 'delivered' THEN cost ELSE 0 END)
FROM usage_ledger GROUP BY 1, 2, 3;

-- A member's latest delivered request (the cooldown's last start) and their delivered images today, by index.
CREATE INDEX usage_delivered_by_member ON usage_ledger (user_id, guild_id, created_at) WHERE outcome = 'delivered';
-- /history in one server and everywhere, in its order (newest first, then by id), and retention walking the rows
-- by age.
CREATE INDEX jobs_by_member ON jobs (user_id, guild_id, created_at, id);
DROP INDEX jobs_by_user;
CREATE INDEX jobs_by_user ON jobs (user_id, created_at, id);
CREATE INDEX jobs_by_time ON jobs (created_at);
