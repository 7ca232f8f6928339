-- Inside-sales handoffs (SPEC C2): every time a deal is handed from one user to another, who
-- handed it over (its owner before), to whom, who performed it, in which stage, when, through
-- which edge, and a note. The same table, columns and names as the SQLite migration of the
-- same name. Append-only: UPDATE, DELETE and TRUNCATE are refused by trigger, like
-- opportunity_history.
CREATE TABLE handoff (
    handoff_id      BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id BIGINT      NOT NULL REFERENCES organisation,
    opportunity_id  BIGINT      NOT NULL REFERENCES opportunity,
    from_user_id    BIGINT      NOT NULL REFERENCES app_user,
    to_user_id      BIGINT      NOT NULL REFERENCES app_user,
    actor_id        BIGINT      REFERENCES app_user,
    stage_id        BIGINT      NOT NULL REFERENCES stage,
    at              TIMESTAMPTZ NOT NULL,
    source          TEXT        NOT NULL,
    note            TEXT,
    CHECK (from_user_id <> to_user_id)
);
CREATE INDEX handoff_deal ON handoff (organisation_id, opportunity_id, handoff_id);
CREATE INDEX handoff_from ON handoff (organisation_id, from_user_id, at);

CREATE FUNCTION handoff_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER handoff_no_update BEFORE UPDATE ON handoff
    FOR EACH ROW EXECUTE FUNCTION handoff_append_only();
CREATE TRIGGER handoff_no_delete BEFORE DELETE ON handoff
    FOR EACH ROW EXECUTE FUNCTION handoff_append_only();
CREATE TRIGGER handoff_no_truncate BEFORE TRUNCATE ON handoff
    FOR EACH STATEMENT EXECUTE FUNCTION handoff_append_only();
