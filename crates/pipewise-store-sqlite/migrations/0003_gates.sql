-- Stage gates and the deal workspace (SPEC C2, C3).
-- The same tables, columns, names and constraints as the PostgreSQL migration of the same name.
-- Append-only tables (criterion_check, gate_override, workspace_history) refuse UPDATE and
-- DELETE with triggers, like opportunity_history. Criteria and stages are archived, never deleted.

-- A team's own average sales cycle in days; NULL means "computed from the team's won deals".
ALTER TABLE team ADD COLUMN average_cycle_days INTEGER CHECK (average_cycle_days IS NULL OR average_cycle_days BETWEEN 1 AND 3650);

-- An archived stage keeps its deals but takes no new ones.
ALTER TABLE stage ADD COLUMN archived_at INTEGER;

-- When the deal passed gate 1 (left a stage that does not count in metrics for one that does).
ALTER TABLE opportunity ADD COLUMN sql_at INTEGER;
-- When the deal was dropped (closed as lost from a stage that does not count: not a loss), and
-- the code of the stage-1 drop reason its close reason matched, if any. Cleared on reopening.
ALTER TABLE opportunity ADD COLUMN dropped_at INTEGER;
ALTER TABLE opportunity ADD COLUMN drop_reason TEXT;

-- One exit criterion of one stage. A stage's gate is its unarchived criteria in id order.
-- kind/argument: 'checklist' (no argument), 'required_field' (the field's name) or 'derived'
-- (the predicate's text form, see pipewise_core::gates::Predicate).
CREATE TABLE exit_criterion (
    exit_criterion_id     INTEGER PRIMARY KEY,
    organisation_id       INTEGER NOT NULL REFERENCES organisation,
    stage_id              INTEGER NOT NULL REFERENCES stage,
    label_en              TEXT    NOT NULL,
    label_ko              TEXT    NOT NULL,
    kind                  TEXT    NOT NULL CHECK (kind IN ('checklist', 'required_field', 'derived')),
    argument              TEXT,
    origin                TEXT    NOT NULL CHECK (origin IN ('template', 'ops', 'loss_review')),
    -- The lost deal whose review taught the item, for origin 'loss_review'.
    origin_opportunity_id INTEGER REFERENCES opportunity,
    created_at            INTEGER NOT NULL,
    archived_at           INTEGER,
    CHECK ((kind = 'checklist') = (argument IS NULL)),
    CHECK ((origin = 'loss_review') = (origin_opportunity_id IS NOT NULL))
);
CREATE INDEX exit_criterion_stage ON exit_criterion (organisation_id, stage_id);

-- The checklist log of each deal: a tick with its evidence, or an uncheck. The latest row of a
-- criterion on a deal (by id) counts. Append-only.
CREATE TABLE criterion_check (
    criterion_check_id INTEGER PRIMARY KEY,
    organisation_id    INTEGER NOT NULL REFERENCES organisation,
    opportunity_id     INTEGER NOT NULL REFERENCES opportunity,
    exit_criterion_id  INTEGER NOT NULL REFERENCES exit_criterion,
    checked            INTEGER NOT NULL CHECK (checked IN (0, 1)),
    evidence           TEXT,
    at                 INTEGER NOT NULL,
    actor_id           INTEGER REFERENCES app_user,
    source             TEXT    NOT NULL,
    CHECK ((checked = 1) = (evidence IS NOT NULL))
);
CREATE INDEX criterion_check_deal ON criterion_check (organisation_id, opportunity_id, criterion_check_id);

CREATE TRIGGER criterion_check_no_update BEFORE UPDATE ON criterion_check
BEGIN
    SELECT RAISE(ABORT, 'criterion_check is append-only');
END;
CREATE TRIGGER criterion_check_no_delete BEFORE DELETE ON criterion_check
BEGIN
    SELECT RAISE(ABORT, 'criterion_check is append-only');
END;

-- A stage move pushed past unmet exit criteria: who, when, why, the move, and every unmet
-- criterion as a JSON array (see pipewise_store::workspace_codec::unmet_to_json). Append-only.
CREATE TABLE gate_override (
    gate_override_id INTEGER PRIMARY KEY,
    organisation_id  INTEGER NOT NULL REFERENCES organisation,
    opportunity_id   INTEGER NOT NULL REFERENCES opportunity,
    actor_id         INTEGER REFERENCES app_user,
    at               INTEGER NOT NULL,
    reason           TEXT    NOT NULL,
    from_stage_id    INTEGER NOT NULL REFERENCES stage,
    to_stage_id      INTEGER NOT NULL REFERENCES stage,
    unmet_json       TEXT    NOT NULL,
    source           TEXT    NOT NULL
);
CREATE INDEX gate_override_deal ON gate_override (organisation_id, opportunity_id, gate_override_id);

CREATE TRIGGER gate_override_no_update BEFORE UPDATE ON gate_override
BEGIN
    SELECT RAISE(ABORT, 'gate_override is append-only');
END;
CREATE TRIGGER gate_override_no_delete BEFORE DELETE ON gate_override
BEGIN
    SELECT RAISE(ABORT, 'gate_override is append-only');
END;

-- The current workspace of a deal, one JSON document (pipewise_store::workspace_codec).
CREATE TABLE deal_workspace (
    opportunity_id  INTEGER PRIMARY KEY REFERENCES opportunity,
    organisation_id INTEGER NOT NULL REFERENCES organisation,
    document        TEXT    NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- Every workspace edit: the part, its JSON before (NULL for the deal's first edit) and after.
-- Replaying the rows with at <= t gives the workspace as of t. Append-only.
CREATE TABLE workspace_history (
    workspace_history_id INTEGER PRIMARY KEY,
    organisation_id      INTEGER NOT NULL REFERENCES organisation,
    opportunity_id       INTEGER NOT NULL REFERENCES opportunity,
    part                 TEXT    NOT NULL CHECK (part IN ('bant', 'four_box', 'stakeholders', 'competitors', 'close_plan', 'approval')),
    old_json             TEXT,
    new_json             TEXT    NOT NULL,
    at                   INTEGER NOT NULL,
    actor_id             INTEGER REFERENCES app_user,
    source               TEXT    NOT NULL
);
CREATE INDEX workspace_history_deal ON workspace_history (organisation_id, opportunity_id, workspace_history_id);

CREATE TRIGGER workspace_history_no_update BEFORE UPDATE ON workspace_history
BEGIN
    SELECT RAISE(ABORT, 'workspace_history is append-only');
END;
CREATE TRIGGER workspace_history_no_delete BEFORE DELETE ON workspace_history
BEGIN
    SELECT RAISE(ABORT, 'workspace_history is append-only');
END;
