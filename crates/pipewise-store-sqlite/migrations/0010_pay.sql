-- Pay (SPEC C9): commission plans by version, who is paid under which plan, statements per
-- person per fiscal period, and disputes. A plan's definition and a statement's lines are JSON
-- documents (pipewise_app::plan_codec, pipewise_app::pay). The same tables, columns and names
-- as the PostgreSQL migration of the same name.
CREATE TABLE comp_plan (
    comp_plan_id    INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisation,
    name            TEXT    NOT NULL,
    version         INTEGER NOT NULL CHECK (version >= 1),
    definition      TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    created_by      INTEGER REFERENCES app_user,
    UNIQUE (organisation_id, name, version)
);

CREATE TABLE comp_assignment (
    comp_assignment_id INTEGER PRIMARY KEY,
    organisation_id    INTEGER NOT NULL REFERENCES organisation,
    user_id            INTEGER NOT NULL REFERENCES app_user,
    plan_name          TEXT    NOT NULL,
    first_day          TEXT    NOT NULL,
    last_day           TEXT    CHECK (last_day IS NULL OR last_day >= first_day),
    UNIQUE (organisation_id, user_id, first_day)
);

CREATE TABLE pay_statement (
    pay_statement_id INTEGER PRIMARY KEY,
    organisation_id  INTEGER NOT NULL REFERENCES organisation,
    user_id          INTEGER NOT NULL REFERENCES app_user,
    period_kind      TEXT    NOT NULL CHECK (period_kind IN ('year', 'quarter', 'month', 'week')),
    period_first     TEXT    NOT NULL,
    period_last      TEXT    NOT NULL CHECK (period_last >= period_first),
    plan_name        TEXT    NOT NULL,
    plan_version     INTEGER NOT NULL,
    total            TEXT    NOT NULL,
    currency         TEXT    NOT NULL,
    document         TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('open', 'locked')),
    computed_at      INTEGER NOT NULL,
    locked_at        INTEGER,
    locked_by        INTEGER REFERENCES app_user,
    UNIQUE (organisation_id, user_id, period_kind, period_first)
);

CREATE TABLE pay_dispute (
    pay_dispute_id   INTEGER PRIMARY KEY,
    organisation_id  INTEGER NOT NULL REFERENCES organisation,
    pay_statement_id INTEGER NOT NULL REFERENCES pay_statement,
    line_index       INTEGER CHECK (line_index IS NULL OR line_index >= 0),
    status           TEXT    NOT NULL CHECK (status IN ('open', 'in_review', 'resolved', 'closed')),
    note             TEXT    NOT NULL,
    resolution       TEXT,
    opened_by        INTEGER NOT NULL REFERENCES app_user,
    opened_at        INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    updated_by       INTEGER REFERENCES app_user
);
CREATE INDEX pay_dispute_of_statement ON pay_dispute (organisation_id, pay_statement_id);
