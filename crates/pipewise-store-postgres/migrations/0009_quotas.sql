-- The organisation's fiscal calendar: the month its fiscal years start in (1 is January, the
-- calendar year, which is what every period counted in before). Every period in the product —
-- dashboards, the API, quotas — is a fiscal one (pipewise_core::fiscal).
ALTER TABLE organisation ADD COLUMN fiscal_year_start_month INTEGER NOT NULL DEFAULT 1
    CHECK (fiscal_year_start_month BETWEEN 1 AND 12);

-- Quotas (SPEC C8): one amount per person or team per fiscal period, in the organisation's
-- reporting currency. A period is kept by its kind and its first and last day, so a quota keeps
-- its days when the fiscal calendar later changes. Setting a quota again replaces it (the audit
-- log keeps what it was). The same table, columns and names as the SQLite migration of the
-- same name.
CREATE TABLE quota (
    quota_id        BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id BIGINT      NOT NULL REFERENCES organisation,
    user_id         BIGINT      REFERENCES app_user,
    team_id         BIGINT      REFERENCES team,
    period_kind     TEXT        NOT NULL CHECK (period_kind IN ('year', 'quarter', 'month', 'week')),
    period_first    DATE        NOT NULL,
    period_last     DATE        NOT NULL CHECK (period_last >= period_first),
    amount          NUMERIC     NOT NULL,
    currency        TEXT        NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    updated_by      BIGINT      REFERENCES app_user,
    CHECK ((user_id IS NULL) <> (team_id IS NULL))
);
CREATE UNIQUE INDEX quota_of_user ON quota (organisation_id, user_id, period_kind, period_first) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX quota_of_team ON quota (organisation_id, team_id, period_kind, period_first) WHERE team_id IS NOT NULL;
CREATE INDEX quota_by_period ON quota (organisation_id, period_first);
