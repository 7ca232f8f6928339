-- Each organisation's health thresholds (SPEC C5 "configurable thresholds"): one row per
-- organisation that changed any (an organisation's settings, hence the name). `thresholds` is a
-- JSON object of only the thresholds that differ from the defaults, by name
-- (`{"untouched_days": 10}`); one left out takes the running release's default. One JSON column
-- rather than a column per threshold: adding or retiring a threshold needs no migration, and
-- instances of different releases on one database each read the names they know
-- (pipewise_store::ops::health_thresholds). Ops validates every write. Text, not jsonb, so the
-- document reads back exactly as written, as on SQLite. The same table, columns and names as the
-- SQLite migration of the same name.
CREATE TABLE health_settings (
    organisation_id BIGINT      PRIMARY KEY REFERENCES organisation,
    thresholds      TEXT        NOT NULL CHECK (jsonb_typeof(thresholds::jsonb) = 'object'),
    updated_at      TIMESTAMPTZ NOT NULL,
    updated_by      BIGINT      REFERENCES app_user
);
