-- Each deal's latest activity (the board's "last activity", the projection's activity facts)
-- read from one covering index instead of every activity row.
CREATE INDEX IF NOT EXISTS activity_latest ON activity (organisation_id, opportunity_id, occurred_at);
