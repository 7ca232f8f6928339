-- The records of SPEC C1 and the opportunity history.
-- Every row is keyed by organisation so that a multi-tenant deployment can shard by it.
-- The same tables, columns, names and constraints as the SQLite migration of the same name.
-- Times are timestamptz (microseconds, which timestamptz keeps exactly). Dates are date.
-- Money is an exact numeric kept at the currency's scale, beside a text ISO 4217 code.

CREATE TABLE organisation (
    organisation_id    BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name               TEXT        NOT NULL,
    reporting_currency TEXT        NOT NULL,
    -- The last history sequence number handed out; bumped in the writing transaction.
    history_seq        BIGINT      NOT NULL DEFAULT 0,
    created_at         TIMESTAMPTZ NOT NULL
);

-- The foreign key to app_user is added below, once that table exists.
CREATE TABLE team (
    team_id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id BIGINT NOT NULL REFERENCES organisation,
    name            TEXT   NOT NULL,
    -- The manager who leads the team.
    manager_id      BIGINT
);
CREATE INDEX team_organisation ON team (organisation_id);

-- "user" is reserved in PostgreSQL; both engines use the same name.
CREATE TABLE app_user (
    user_id         BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id BIGINT      NOT NULL REFERENCES organisation,
    email           TEXT        NOT NULL,
    name            TEXT        NOT NULL,
    role            TEXT        NOT NULL CHECK (role IN ('admin', 'ops', 'manager', 'rep', 'viewer')),
    manager_id      BIGINT      REFERENCES app_user,
    team_id         BIGINT      REFERENCES team,
    time_zone       TEXT        NOT NULL,
    locale          TEXT        NOT NULL CHECK (locale IN ('en', 'ko')),
    active          BOOLEAN     NOT NULL DEFAULT TRUE,
    created_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (organisation_id, email)
);

ALTER TABLE team ADD FOREIGN KEY (manager_id) REFERENCES app_user;

CREATE TABLE account (
    account_id      BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id BIGINT      NOT NULL REFERENCES organisation,
    name            TEXT        NOT NULL,
    industry        TEXT,
    employee_count  BIGINT,
    region          TEXT,
    owner_id        BIGINT      REFERENCES app_user,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX account_organisation ON account (organisation_id);

-- A domain belongs to one account, so mail from it matches one company.
CREATE TABLE account_domain (
    organisation_id BIGINT  NOT NULL REFERENCES organisation,
    domain          TEXT    NOT NULL,
    account_id      BIGINT  NOT NULL REFERENCES account,
    position        INTEGER NOT NULL,
    PRIMARY KEY (organisation_id, domain)
);
CREATE INDEX account_domain_account ON account_domain (account_id);

CREATE TABLE contact (
    contact_id      BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id BIGINT      NOT NULL REFERENCES organisation,
    name            TEXT        NOT NULL,
    phone           TEXT,
    title           TEXT,
    account_id      BIGINT      REFERENCES account,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX contact_organisation ON contact (organisation_id);
CREATE INDEX contact_account ON contact (account_id);

CREATE TABLE contact_email (
    organisation_id BIGINT  NOT NULL REFERENCES organisation,
    email           TEXT    NOT NULL,
    contact_id      BIGINT  NOT NULL REFERENCES contact,
    position        INTEGER NOT NULL,
    PRIMARY KEY (contact_id, email)
);
CREATE INDEX contact_email_address ON contact_email (organisation_id, email);

CREATE TABLE pipeline (
    pipeline_id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id BIGINT NOT NULL REFERENCES organisation,
    name            TEXT   NOT NULL,
    -- Set right after the stages are inserted; every pipeline has one.
    entry_stage_id  BIGINT
);
CREATE INDEX pipeline_organisation ON pipeline (organisation_id);

CREATE TABLE stage (
    stage_id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id   BIGINT  NOT NULL REFERENCES organisation,
    pipeline_id       BIGINT  NOT NULL REFERENCES pipeline,
    position          INTEGER NOT NULL,
    name_en           TEXT    NOT NULL,
    name_ko           TEXT    NOT NULL,
    kind              TEXT    NOT NULL CHECK (kind IN ('open', 'won', 'lost')),
    -- Percent, 0 to 100, as an exact decimal.
    win_probability   NUMERIC NOT NULL,
    forecast_category TEXT    NOT NULL,
    counts_in_metrics BOOLEAN NOT NULL,
    rotting_days      INTEGER,
    UNIQUE (pipeline_id, position)
);

CREATE TABLE opportunity (
    opportunity_id    BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id   BIGINT      NOT NULL REFERENCES organisation,
    name              TEXT        NOT NULL,
    account_id        BIGINT      REFERENCES account,
    owner_id          BIGINT      NOT NULL REFERENCES app_user,
    pipeline_id       BIGINT      NOT NULL REFERENCES pipeline,
    stage_id          BIGINT      NOT NULL REFERENCES stage,
    amount            NUMERIC,
    currency          TEXT,
    close_date        DATE,
    forecast_category TEXT        NOT NULL,
    next_step         TEXT,
    status            TEXT        NOT NULL CHECK (status IN ('open', 'won', 'lost')),
    created_at        TIMESTAMPTZ NOT NULL,
    closed_at         TIMESTAMPTZ,
    close_reason      TEXT,
    CHECK ((amount IS NULL) = (currency IS NULL))
);
CREATE INDEX opportunity_organisation ON opportunity (organisation_id, opportunity_id);
CREATE INDEX opportunity_owner ON opportunity (organisation_id, owner_id);
CREATE INDEX opportunity_account ON opportunity (account_id);

-- Append-only: one row per changed field. Nothing updates, deletes or truncates it (triggers below).
CREATE TABLE opportunity_history (
    organisation_id BIGINT      NOT NULL REFERENCES organisation,
    -- Per organisation, grows by one per row in commit order (see organisation.history_seq).
    seq             BIGINT      NOT NULL,
    opportunity_id  BIGINT      NOT NULL REFERENCES opportunity,
    field           TEXT        NOT NULL,
    old_value       TEXT,
    new_value       TEXT,
    at              TIMESTAMPTZ NOT NULL,
    actor_id        BIGINT      REFERENCES app_user,
    source          TEXT        NOT NULL,
    PRIMARY KEY (organisation_id, seq)
);
CREATE INDEX opportunity_history_deal ON opportunity_history (opportunity_id, seq);
CREATE INDEX opportunity_history_at ON opportunity_history (organisation_id, at);

CREATE FUNCTION opportunity_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'opportunity_history is append-only' USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER opportunity_history_no_update BEFORE UPDATE ON opportunity_history
    FOR EACH ROW EXECUTE FUNCTION opportunity_history_append_only();
CREATE TRIGGER opportunity_history_no_delete BEFORE DELETE ON opportunity_history
    FOR EACH ROW EXECUTE FUNCTION opportunity_history_append_only();
CREATE TRIGGER opportunity_history_no_truncate BEFORE TRUNCATE ON opportunity_history
    FOR EACH STATEMENT EXECUTE FUNCTION opportunity_history_append_only();

CREATE TABLE lead (
    lead_id         BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id BIGINT      NOT NULL REFERENCES organisation,
    name            TEXT        NOT NULL,
    company         TEXT,
    email           TEXT,
    phone           TEXT,
    title           TEXT,
    source          TEXT,
    status          TEXT        NOT NULL,
    owner_id        BIGINT      REFERENCES app_user,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX lead_organisation ON lead (organisation_id);

CREATE TABLE activity (
    activity_id     BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id BIGINT      NOT NULL REFERENCES organisation,
    kind            TEXT        NOT NULL,
    direction       TEXT        NOT NULL,
    occurred_at     TIMESTAMPTZ NOT NULL,
    logged_at       TIMESTAMPTZ NOT NULL,
    subject         TEXT        NOT NULL,
    body            TEXT,
    source          TEXT        NOT NULL,
    user_id         BIGINT      REFERENCES app_user,
    account_id      BIGINT      REFERENCES account,
    opportunity_id  BIGINT      REFERENCES opportunity
);
CREATE INDEX activity_organisation ON activity (organisation_id, occurred_at);
CREATE INDEX activity_opportunity ON activity (opportunity_id, occurred_at);

CREATE TABLE activity_contact (
    activity_id BIGINT NOT NULL REFERENCES activity,
    contact_id  BIGINT NOT NULL REFERENCES contact,
    PRIMARY KEY (activity_id, contact_id)
);
CREATE INDEX activity_contact_contact ON activity_contact (contact_id);

CREATE TABLE task (
    task_id         BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id BIGINT      NOT NULL REFERENCES organisation,
    title           TEXT        NOT NULL,
    owner_id        BIGINT      NOT NULL REFERENCES app_user,
    due_on          DATE,
    completed_at    TIMESTAMPTZ,
    account_id      BIGINT      REFERENCES account,
    opportunity_id  BIGINT      REFERENCES opportunity,
    lead_id         BIGINT      REFERENCES lead,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX task_owner ON task (organisation_id, owner_id);
CREATE INDEX task_opportunity ON task (opportunity_id);

-- Reference rates: units of `currency` per one unit of `base` on `rate_date`.
CREATE TABLE exchange_rate (
    organisation_id BIGINT  NOT NULL REFERENCES organisation,
    base            TEXT    NOT NULL,
    currency        TEXT    NOT NULL,
    rate_date       DATE    NOT NULL,
    per_base        NUMERIC NOT NULL,
    PRIMARY KEY (organisation_id, currency, rate_date)
);
