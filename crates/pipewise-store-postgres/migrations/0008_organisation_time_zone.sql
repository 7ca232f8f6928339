-- Each organisation's time zone (an IANA name): its days, periods, as-of bounds and "today" are
-- taken in it. UTC for every organisation until an admin sets it, which is what every figure
-- counted in before. The same column as the other engine's migration of the same name.
ALTER TABLE organisation ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
