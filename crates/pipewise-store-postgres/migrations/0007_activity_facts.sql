-- Each deal's activity facts (last activity, last inbound, touchpoints, logging lag) read by
-- one grouped scan of a covering index instead of every activity row; it replaces
-- `activity_latest` (0005), of which it is an extension.
CREATE INDEX IF NOT EXISTS activity_facts ON activity (organisation_id, opportunity_id, occurred_at, logged_at, direction);
DROP INDEX IF EXISTS activity_latest;
