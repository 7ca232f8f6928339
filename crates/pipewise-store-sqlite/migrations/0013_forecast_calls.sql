-- Forecast calls (SPEC C7, issue 13): what each person calls for a fiscal period — their commit
-- and best case with a note — kept unchanged and never replaced (a new call is a new row), with
-- what they saw when they called: their direct reports' latest calls summed, their deals'
-- forecast categories, the statistical forecast. Amounts are minor units of the reporting
-- currency then. The same table, columns and names as the PostgreSQL migration of the same name.
CREATE TABLE forecast_call (
    forecast_call_id       INTEGER PRIMARY KEY,
    organisation_id        INTEGER NOT NULL REFERENCES organisation,
    user_id                INTEGER NOT NULL REFERENCES app_user,
    period_kind            TEXT    NOT NULL CHECK (period_kind IN ('year', 'quarter', 'month', 'week')),
    period_first           TEXT    NOT NULL,
    period_last            TEXT    NOT NULL CHECK (period_last >= period_first),
    currency               TEXT    NOT NULL,
    commit_minor           INTEGER NOT NULL CHECK (commit_minor >= 0),
    best_case_minor        INTEGER NOT NULL CHECK (best_case_minor >= commit_minor),
    note                   TEXT    NOT NULL,
    rollup_commit_minor    INTEGER,
    rollup_best_case_minor INTEGER,
    closed_minor           INTEGER NOT NULL,
    system_commit_minor    INTEGER NOT NULL,
    system_best_case_minor INTEGER NOT NULL,
    pipeline_minor         INTEGER NOT NULL,
    model_expected_minor   INTEGER,
    model_p10_minor        INTEGER,
    model_p90_minor        INTEGER,
    submitted_at           INTEGER NOT NULL
);
CREATE INDEX forecast_call_by_period ON forecast_call (organisation_id, period_kind, period_first, user_id, submitted_at);
