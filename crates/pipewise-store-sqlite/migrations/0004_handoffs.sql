-- Inside-sales handoffs (SPEC C2): every time a deal is handed from one user to another, who
-- handed it over (its owner before), to whom, who performed it, in which stage, when, through
-- which edge, and a note. The same table, columns and names as the PostgreSQL migration of the
-- same name. Append-only: UPDATE and DELETE are refused by trigger, like opportunity_history.
CREATE TABLE handoff (
    handoff_id      INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisation,
    opportunity_id  INTEGER NOT NULL REFERENCES opportunity,
    from_user_id    INTEGER NOT NULL REFERENCES app_user,
    to_user_id      INTEGER NOT NULL REFERENCES app_user,
    actor_id        INTEGER REFERENCES app_user,
    stage_id        INTEGER NOT NULL REFERENCES stage,
    at              INTEGER NOT NULL,
    source          TEXT    NOT NULL,
    note            TEXT,
    CHECK (from_user_id <> to_user_id)
);
CREATE INDEX handoff_deal ON handoff (organisation_id, opportunity_id, handoff_id);
CREATE INDEX handoff_from ON handoff (organisation_id, from_user_id, at);

CREATE TRIGGER handoff_no_update BEFORE UPDATE ON handoff
BEGIN
    SELECT RAISE(ABORT, 'handoff is append-only');
END;
CREATE TRIGGER handoff_no_delete BEFORE DELETE ON handoff
BEGIN
    SELECT RAISE(ABORT, 'handoff is append-only');
END;
