-- Forecast calls (SPEC C7, issue 13): what each person calls for a fiscal period — their commit
-- and best case with a note — kept unchanged and never replaced (a new call is a new row), with
-- what they saw when they called: their direct reports' latest calls summed, their deals'
-- forecast categories, the statistical forecast. Amounts are minor units of the reporting
-- currency then. The same table, columns and names as the SQLite migration of the same name.
CREATE TABLE forecast_call (
    forecast_call_id       BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id        BIGINT      NOT NULL REFERENCES organisation,
    user_id                BIGINT      NOT NULL REFERENCES app_user,
    period_kind            TEXT        NOT NULL CHECK (period_kind IN ('year', 'quarter', 'month', 'week')),
    period_first           DATE        NOT NULL,
    period_last            DATE        NOT NULL CHECK (period_last >= period_first),
    currency               TEXT        NOT NULL,
    commit_minor           BIGINT      NOT NULL CHECK (commit_minor >= 0),
    best_case_minor        BIGINT      NOT NULL CHECK (best_case_minor >= commit_minor),
    note                   TEXT        NOT NULL,
    rollup_commit_minor    BIGINT,
    rollup_best_case_minor BIGINT,
    closed_minor           BIGINT      NOT NULL,
    system_commit_minor    BIGINT      NOT NULL,
    system_best_case_minor BIGINT      NOT NULL,
    pipeline_minor         BIGINT      NOT NULL,
    model_expected_minor   BIGINT,
    model_p10_minor        BIGINT,
    model_p90_minor        BIGINT,
    submitted_at           TIMESTAMPTZ NOT NULL
);
CREATE INDEX forecast_call_by_period ON forecast_call (organisation_id, period_kind, period_first, user_id, submitted_at);
