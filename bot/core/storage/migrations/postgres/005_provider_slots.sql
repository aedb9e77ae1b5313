-- Slots in named pools: the image API queue's pool '' (the slots so far) and one per provider with a concurrency
-- of its own ('provider:<name>'), so that each provider's cap holds across processes too.
ALTER TABLE api_slots ADD COLUMN pool TEXT NOT NULL DEFAULT '';
ALTER TABLE api_slots DROP CONSTRAINT api_slots_pkey;
ALTER TABLE api_slots ADD PRIMARY KEY (pool, slot);
