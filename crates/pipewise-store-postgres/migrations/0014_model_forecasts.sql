-- The statistical forecast as it was made (SPEC C7, issue 13 point 4): each day, the model's
-- forecast of the running fiscal quarter for the organisation, each team and each owner, as of
-- the end of the day before, kept unchanged — so the model's track record is scored against
-- what it said then, not against what today's code would say of the past. One row per scope,
-- period and day: a second instance recording the same day adds nothing. Amounts are minor
-- units of the reporting currency then. scope_id is 0 for the organisation. The same table,
-- columns and names as the SQLite migration of the same name.
CREATE TABLE model_forecast (
    model_forecast_id    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id      BIGINT NOT NULL REFERENCES organisation,
    scope_kind           TEXT NOT NULL CHECK (scope_kind IN ('organisation', 'team', 'user')),
    scope_id             BIGINT NOT NULL,
    period_kind          TEXT NOT NULL CHECK (period_kind IN ('year', 'quarter', 'month', 'week')),
    period_first         DATE NOT NULL,
    period_last          DATE NOT NULL CHECK (period_last >= period_first),
    as_of                DATE NOT NULL,
    currency             TEXT NOT NULL,
    basis                TEXT NOT NULL CHECK (basis IN ('statistical', 'stage_weighted')),
    expected_minor       BIGINT NOT NULL,
    p10_minor            BIGINT,
    p50_minor            BIGINT,
    p90_minor            BIGINT,
    won_minor            BIGINT NOT NULL,
    stage_weighted_minor BIGINT NOT NULL,
    recorded_at          TIMESTAMPTZ NOT NULL,
    UNIQUE (organisation_id, period_kind, period_first, scope_kind, scope_id, as_of)
);
