-- The settings of a stage that figures read, from a day on (SPEC C6: a past day's weighted
-- pipeline and pipeline counts keep the probability and metrics flag the stage had that day).
-- The application writes a row when ops change either, on the organisation's day of the change
-- (a second change that day replaces it), after a row from 1900-01-01 with the settings before
-- the first change; a stage without rows has its settings every day. The same table, columns
-- and names in both engines.
CREATE TABLE stage_settings (
    organisation_id   BIGINT NOT NULL REFERENCES organisation,
    stage_id          BIGINT NOT NULL REFERENCES stage,
    from_day          DATE NOT NULL,
    win_probability   NUMERIC NOT NULL,
    counts_in_metrics BOOLEAN NOT NULL,
    PRIMARY KEY (organisation_id, stage_id, from_day)
);
