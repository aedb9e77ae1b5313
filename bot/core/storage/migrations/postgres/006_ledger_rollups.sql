-- The ledger rolled up per server, UTC day and model, and per server, UTC month and member, kept in step with it as
-- jobs settle, so that quotas and usage read a few rows instead of the ledger's history; built here from the rows
-- already settled. guild_id 0 stands for direct messages (no Discord id is 0). Each measure sums ledger rows:
-- jobs counts those delivered, images and cost count every row, delivered_images and delivered_cost those delivered.
-- A month is its first day.
CREATE TABLE usage_daily (
    guild_id         BIGINT NOT NULL,
    day              DATE NOT NULL,
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
    month            DATE NOT NULL,
    user_id          BIGINT NOT NULL,
    jobs             BIGINT NOT NULL,
    images           BIGINT NOT NULL,
    cost             BIGINT NOT NULL,
    delivered_images BIGINT NOT NULL,
    delivered_cost   BIGINT NOT NULL,
    PRIMARY KEY (guild_id, month, user_id)
);

INSERT INTO usage_daily (guild_id, day, model, jobs, images, cost, delivered_images, delivered_cost)
SELECT COALESCE(guild_id, 0), CAST(created_at AT TIME ZONE 'UTC' AS DATE), model,
       count(*) FILTER (WHERE outcome = 'delivered'), sum(images), sum(cost),
       COALESCE(sum(images) FILTER (WHERE outcome = 'delivered'), 0),
       COALESCE(sum(cost) FILTER (WHERE outcome = 'delivered'), 0)
FROM usage_ledger GROUP BY 1, 2, 3;

INSERT INTO usage_monthly (guild_id, month, user_id, jobs, images, cost, delivered_images, delivered_cost)
SELECT COALESCE(guild_id, 0), CAST(date_trunc('month', created_at AT TIME ZONE 'UTC') AS DATE), user_id,
       count(*) FILTER (WHERE outcome = 'delivered'), sum(images), sum(cost),
       COALESCE(sum(images) FILTER (WHERE outcome = 'delivered'), 0),
       COALESCE(sum(cost) FILTER (WHERE outcome = 'delivered'), 0)
FROM usage_ledger GROUP BY 1, 2, 3;

-- A member's latest delivered request (the cooldown's last start) and their delivered images today, by index.
CREATE INDEX usage_delivered_by_member ON usage_ledger (user_id, guild_id, created_at) WHERE outcome = 'delivered';
-- /history in one server and everywhere, in its order (newest first, then by id), and retention walking the rows
-- by age.
CREATE INDEX jobs_by_member ON jobs (user_id, guild_id, created_at, id);
DROP INDEX jobs_by_user;
CREATE INDEX jobs_by_user ON jobs (user_id, created_at, id);
CREATE INDEX jobs_by_time ON jobs (created_at);
